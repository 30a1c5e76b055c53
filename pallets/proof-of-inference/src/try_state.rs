//! Invariants of the pallet, checked by `try_state` and after every unit test.

use crate::{
	Audits, BalanceOf, Config, Deadlines, Escrow, HoldReason, JobState, Jobs, NextJobId, Pallet,
	PendingJobs, PruneQueue, PruneQueueRange,
};
use alloc::collections::{BTreeMap, BTreeSet};
use frame_support::{
	ensure,
	traits::{fungible::InspectHold, Get},
};
use inference_primitives::JobId;
use sp_runtime::traits::Saturating;

impl<T: Config> Pallet<T> {
	/// Invariants: the fee held from each owner equals the fees of its pending and escrowed
	/// jobs, and the deposit held from each challenger those of its open audits; the base part
	/// never exceeds the fee; owners are never assignees; auditors are distinct and never the
	/// job's assignees or owner; the per-node, deadline and prune indexes match the jobs and
	/// open audits; only completed jobs are escrowed; assignees are distinct and within
	/// `MaxReplication`; reveals imply commits.
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let reason: <T as Config>::RuntimeHoldReason = HoldReason::JobFee.into();
		let next = NextJobId::<T>::get();
		let mut held = BTreeMap::<T::AccountId, BalanceOf<T>>::new();
		let mut per_node = BTreeMap::<T::AccountId, BTreeSet<JobId>>::new();
		let mut pending = 0usize;
		let mut settled = BTreeSet::<JobId>::new();
		for (id, job) in Jobs::<T>::iter() {
			ensure!(id < next, "job id not below NextJobId");
			ensure!(job.base_fee <= job.fee, "base fee above the fee");
			let r = job.assignees.len();
			ensure!(
				r >= 1 && r as u32 <= T::MaxReplication::get(),
				"replication out of bounds"
			);
			for (i, a) in job.assignees.iter().enumerate() {
				ensure!(a.node != job.owner, "owner assigned to its own job");
				ensure!(
					job.assignees.iter().skip(i + 1).all(|b| b.node != a.node),
					"assignees not distinct"
				);
				ensure!(
					a.revealed.is_none() || a.commitment.is_some(),
					"reveal without commit"
				);
			}
			ensure!(
				job.commit_deadline <= job.reveal_deadline,
				"deadlines out of order"
			);
			if job.status == JobState::Pending {
				ensure!(job.settled_at.is_none(), "pending job with settled_at");
				pending += 1;
				let sum = held.entry(job.owner.clone()).or_default();
				*sum = sum.saturating_add(job.fee);
				for a in &job.assignees {
					per_node.entry(a.node.clone()).or_default().insert(id);
				}
				ensure!(
					Deadlines::<T>::get(job.reveal_deadline).contains(&id),
					"pending job missing from its deadline bucket"
				);
			} else {
				ensure!(job.settled_at.is_some(), "settled job without settled_at");
				settled.insert(id);
			}
			if Escrow::<T>::contains_key(id) {
				ensure!(
					matches!(job.status, JobState::Completed { .. }),
					"escrow of a job that is not completed"
				);
				let sum = held.entry(job.owner.clone()).or_default();
				*sum = sum.saturating_add(job.fee);
			}
		}
		ensure!(
			Escrow::<T>::iter_keys().all(Jobs::<T>::contains_key),
			"escrow of a missing job"
		);
		let deposit_reason: <T as Config>::RuntimeHoldReason = HoldReason::ChallengeDeposit.into();
		let mut deposits = BTreeMap::<T::AccountId, BalanceOf<T>>::new();
		let mut open_audits = BTreeMap::<JobId, _>::new();
		for (id, audit) in Audits::<T>::iter() {
			let job = Jobs::<T>::get(id).ok_or("audit of a missing job")?;
			ensure!(job.status != JobState::Pending, "audit of a pending job");
			ensure!(
				!audit.auditors.is_empty()
					&& audit.auditors.len() as u32 <= T::MaxReplication::get(),
				"auditors out of bounds"
			);
			for (i, a) in audit.auditors.iter().enumerate() {
				ensure!(
					a.node != job.owner && job.assignees.iter().all(|b| b.node != a.node),
					"an auditor was an assignee or the owner"
				);
				ensure!(
					audit.auditors.iter().skip(i + 1).all(|b| b.node != a.node),
					"auditors not distinct"
				);
				ensure!(
					a.revealed.is_none() || a.commitment.is_some(),
					"auditor reveal without commit"
				);
			}
			if audit.verdict.is_none() {
				for a in &audit.auditors {
					per_node.entry(a.node.clone()).or_default().insert(id);
				}
				if let Some((who, deposit)) = &audit.challenger {
					let sum = deposits.entry(who.clone()).or_default();
					*sum = sum.saturating_add(*deposit);
				}
				open_audits.insert(id, audit.reveal_deadline);
			}
		}
		for (who, sum) in deposits {
			ensure!(
				T::Currency::balance_on_hold(&deposit_reason, &who) == sum,
				"held deposit differs from the open challenges' deposits"
			);
		}
		for (owner, sum) in held {
			ensure!(
				T::Currency::balance_on_hold(&reason, &owner) == sum,
				"held fee differs from the pending and escrowed jobs' fees"
			);
		}
		let mut indexed = BTreeMap::<T::AccountId, BTreeSet<JobId>>::new();
		for (node, pending) in PendingJobs::<T>::iter() {
			ensure!(!pending.jobs.is_empty(), "empty pending index stored");
			let set: BTreeSet<JobId> = pending.jobs.iter().copied().collect();
			ensure!(
				set.len() == pending.jobs.len(),
				"duplicate in pending index"
			);
			let work = set.iter().try_fold(0u32, |sum, id| {
				Jobs::<T>::get(id).map(|j| {
					sum.saturating_add(Self::job_work(j.billed_prompt_len(), j.max_tokens))
				})
			});
			ensure!(
				work == Some(pending.work),
				"pending work differs from its jobs'"
			);
			ensure!(
				pending.work <= T::MaxPendingWork::get(),
				"pending work above its bound"
			);
			indexed.insert(node, set);
		}
		ensure!(indexed == per_node, "pending index out of sync");
		let mut bucketed = 0usize;
		for (at, list) in Deadlines::<T>::iter() {
			ensure!(!list.is_empty(), "empty deadline bucket stored");
			for id in list.iter() {
				let pending_there = Jobs::<T>::get(id)
					.is_some_and(|j| j.status == JobState::Pending && j.reveal_deadline == at);
				let audited_there = open_audits.get(id) == Some(&at);
				ensure!(
					pending_there || audited_there,
					"deadline bucket holds a job that is neither pending nor audited there"
				);
				bucketed += 1;
			}
		}
		ensure!(
			bucketed == pending + open_audits.len(),
			"deadline buckets out of sync"
		);
		let (head, tail) = PruneQueueRange::<T>::get();
		ensure!(head <= tail, "prune queue range inverted");
		let mut queued = BTreeSet::<JobId>::new();
		for (pos, (_, id)) in PruneQueue::<T>::iter() {
			ensure!(pos >= head && pos < tail, "prune entry outside the range");
			queued.insert(id);
		}
		ensure!(
			queued == settled,
			"prune queue out of sync with settled jobs"
		);
		ensure!(
			tail.saturating_sub(head) as usize == settled.len(),
			"prune queue has holes"
		);
		Ok(())
	}
}
