//! Settlement: who agreed, who is paid, who is slashed, what reputation learns; and pruning of
//! settled jobs.
//!
//! Each assignee's part in a settled job is one of
//!
//! | it sent | majority exists | money | bond | reputation (`R ≥ 3`) |
//! |---|---|---|---|---|
//! | the majority's hash | yes | a share of the whole fee | — | success |
//! | another hash | yes | — | slashed (`Contradicted`) | wrong |
//! | a hash | no | a share of the base fee | — | — |
//! | a commitment it never opened | either | — | slashed (`Unopened`) | wrong |
//! | nothing, while others committed | either | — | — | missed |
//! | nothing, and neither did anyone | no | — | — | timeout |
//!
//! Without a majority the owner gets the work part of the fee back; the base part pays the
//! nodes that revealed, or is burnt when none did, so a flood of jobs that nobody can answer
//! costs its sender. Outcomes of nodes that left the registry meanwhile are not reported.

use crate::{
	pallet::WeightsOf, BalanceOf, Config, Deadlines, Event, FailureReason, HoldReason, Job,
	JobState, Jobs, Pallet, Params, PendingJobs, PruneQueue, PruneQueueRange, SlashReason,
	WeightInfo, LOG_TARGET, MIN_VERIFIED_REPLICATION,
};
use alloc::vec::Vec;
use frame_support::{
	traits::{
		fungible::MutateHold,
		tokens::{Fortitude, Precision, Restriction},
		Get,
	},
	weights::Weight,
};
use frame_system::pallet_prelude::BlockNumberFor;
use inference_primitives::{Hash256, JobId};
use pallet_node_registry::NodeInspect;
use pallet_reputation::{Outcome, ReputationSink};
use sp_runtime::traits::{Saturating, Zero};

/// The hash more than half of `hashes` revealed, if any.
fn majority_hash<'a>(hashes: impl Iterator<Item = Option<&'a Hash256>> + Clone) -> Option<Hash256> {
	let r = hashes.clone().count();
	hashes.clone().flatten().find_map(|h| {
		let votes = hashes.clone().filter(|other| *other == Some(h)).count();
		(votes.saturating_mul(2) > r).then_some(*h)
	})
}

impl<T: Config> Pallet<T> {
	/// Settles a pending job in O(R): pays, refunds or burns the fee, slashes and reports
	/// outcomes (see the module documentation), unindexes the job and queues it for pruning.
	pub(crate) fn settle(job_id: JobId, mut job: Job<T>) {
		let now = frame_system::Pallet::<T>::block_number();
		let majority = majority_hash(job.assignees.iter().map(|a| a.revealed.as_ref()));
		let slash_fraction = Params::<T>::get().slash_fraction;
		let verified = job.assignees.len() >= MIN_VERIFIED_REPLICATION;
		let anyone_delivered = job.assignees.iter().any(|a| a.commitment.is_some());
		for a in &job.assignees {
			let slash = |reason| {
				let amount = T::Nodes::slash(&a.node, slash_fraction);
				Self::deposit_event(Event::NodeSlashed {
					job_id,
					node: a.node.clone(),
					reason,
					amount,
				});
			};
			let outcome = match (a.commitment, a.revealed, majority) {
				(_, Some(h), Some(m)) if h == m => Some(Outcome::Success),
				(_, Some(_), Some(_)) => {
					slash(SlashReason::Contradicted);
					Some(Outcome::Wrong)
				},
				// Revealed, but nobody can tell who was right.
				(_, Some(_), None) => None,
				(Some(_), None, _) => {
					slash(SlashReason::Unopened);
					Some(Outcome::Wrong)
				},
				(None, None, _) if anyone_delivered => Some(Outcome::Missed),
				(None, None, _) => Some(Outcome::Timeout),
			};
			if let Some(outcome) = outcome {
				if verified && T::Nodes::is_registered(&a.node) {
					T::Reputation::record(&a.node, outcome, job.max_tokens);
				}
			}
		}

		let reason: <T as Config>::RuntimeHoldReason = HoldReason::JobFee.into();
		match majority {
			Some(result_hash) => {
				let winners: Vec<T::AccountId> = job
					.assignees
					.iter()
					.filter(|a| a.revealed == Some(result_hash))
					.map(|a| a.node.clone())
					.collect();
				let paid = Self::pay(&reason, &job.owner, job.fee, &winners);
				job.status = JobState::Completed { result_hash };
				Self::deposit_event(Event::JobCompleted {
					job_id,
					result_hash,
					paid,
				});
			},
			None => {
				let revealers: Vec<T::AccountId> = job
					.assignees
					.iter()
					.filter(|a| a.revealed.is_some())
					.map(|a| a.node.clone())
					.collect();
				let refunded = job.fee.saturating_sub(job.base_fee);
				Self::refund(&reason, &job.owner, refunded);
				let (paid, burnt) = if revealers.is_empty() {
					(Vec::new(), Self::burn(&reason, &job.owner, job.base_fee))
				} else {
					(
						Self::pay(&reason, &job.owner, job.base_fee, &revealers),
						Zero::zero(),
					)
				};
				job.status = JobState::Failed(FailureReason::NoMajority);
				Self::deposit_event(Event::JobFailed {
					job_id,
					reason: FailureReason::NoMajority,
					refunded,
					paid,
					burnt,
				});
			},
		}
		job.settled_at = Some(now);
		let work = Self::job_work(job.prompt.len() as u32, job.max_tokens);
		for a in &job.assignees {
			PendingJobs::<T>::mutate_exists(&a.node, |pending| {
				if let Some(p) = pending {
					p.jobs.retain(|id| *id != job_id);
					p.work = p.work.saturating_sub(work);
					if p.jobs.is_empty() {
						*pending = None;
					}
				}
			});
		}
		Deadlines::<T>::mutate_exists(job.reveal_deadline, |bucket| {
			if let Some(list) = bucket {
				list.retain(|id| *id != job_id);
				if list.is_empty() {
					*bucket = None;
				}
			}
		});
		let (head, tail) = PruneQueueRange::<T>::get();
		PruneQueue::<T>::insert(
			tail,
			(now.saturating_add(T::RetentionPeriod::get()), job_id),
		);
		PruneQueueRange::<T>::put((head, tail.saturating_add(1)));
		Jobs::<T>::insert(job_id, job);
	}

	/// Moves `amount` of the fee held from `owner` to `nodes` in equal shares, the remainder to
	/// the first. A share that cannot be transferred goes back to the owner.
	fn pay(
		reason: &<T as Config>::RuntimeHoldReason,
		owner: &T::AccountId,
		amount: BalanceOf<T>,
		nodes: &[T::AccountId],
	) -> Vec<(T::AccountId, BalanceOf<T>)> {
		let count: BalanceOf<T> = (nodes.len() as u32).max(1).into();
		let share = amount / count;
		let remainder = amount.saturating_sub(share.saturating_mul(count));
		let mut paid = Vec::with_capacity(nodes.len());
		for (i, node) in nodes.iter().enumerate() {
			let due = if i == 0 {
				share.saturating_add(remainder)
			} else {
				share
			};
			let moved = if due.is_zero() {
				Zero::zero()
			} else if node == owner {
				// Assignment never picks the owner; keep the books right if it ever did.
				Self::refund(reason, owner, due);
				due
			} else {
				match T::Currency::transfer_on_hold(
					reason,
					owner,
					node,
					due,
					Precision::BestEffort,
					Restriction::Free,
					Fortitude::Polite,
				) {
					Ok(moved) => moved,
					Err(e) => {
						log::warn!(target: LOG_TARGET, "fee share not paid: {e:?}");
						Self::refund(reason, owner, due);
						Zero::zero()
					},
				}
			};
			paid.push((node.clone(), moved));
		}
		paid
	}

	fn refund(
		reason: &<T as Config>::RuntimeHoldReason,
		owner: &T::AccountId,
		amount: BalanceOf<T>,
	) {
		if amount.is_zero() {
			return;
		}
		if let Err(e) = T::Currency::release(reason, owner, amount, Precision::BestEffort) {
			log::error!(target: LOG_TARGET, "fee not released: {e:?}");
		}
	}

	/// Burns `amount` of the fee held from `owner`; returns what was burnt.
	fn burn(
		reason: &<T as Config>::RuntimeHoldReason,
		owner: &T::AccountId,
		amount: BalanceOf<T>,
	) -> BalanceOf<T> {
		if amount.is_zero() {
			return amount;
		}
		T::Currency::burn_held(
			reason,
			owner,
			amount,
			Precision::BestEffort,
			Fortitude::Force,
		)
		.unwrap_or_else(|e| {
			log::error!(target: LOG_TARGET, "base fee not burnt: {e:?}");
			Zero::zero()
		})
	}

	/// Removes settled jobs whose retention ended, oldest first, within `remaining`.
	pub(crate) fn prune(now: BlockNumberFor<T>, remaining: Weight) -> Weight {
		let mut used = T::DbWeight::get().reads_writes(1, 1);
		if remaining.any_lt(used) {
			return Weight::zero();
		}
		let per_job = WeightsOf::<T>::prune_job();
		let (mut head, tail) = PruneQueueRange::<T>::get();
		let start = head;
		while head < tail && used.saturating_add(per_job).all_lte(remaining) {
			used.saturating_accrue(per_job);
			match PruneQueue::<T>::get(head) {
				Some((at, _)) if at > now => break,
				Some((_, job_id)) => {
					PruneQueue::<T>::remove(head);
					Jobs::<T>::remove(job_id);
				},
				None => {},
			}
			head = head.saturating_add(1);
		}
		if head != start {
			PruneQueueRange::<T>::put((head, tail));
		}
		used
	}
}

#[cfg(test)]
mod tests {
	use super::majority_hash;

	#[test]
	fn majority_needs_more_than_half() {
		let a = [1u8; 32];
		let b = [2u8; 32];
		let m = |v: &[Option<[u8; 32]>]| majority_hash(v.iter().map(|h| h.as_ref()));
		assert_eq!(m(&[Some(a), Some(a), Some(b)]), Some(a));
		assert_eq!(m(&[Some(a), None, Some(b)]), None);
		assert_eq!(m(&[Some(a), Some(b)]), None);
		assert_eq!(m(&[Some(a)]), Some(a));
		assert_eq!(m(&[None, None, None]), None);
		assert_eq!(m(&[Some(a), Some(a), None, None]), None);
	}
}
