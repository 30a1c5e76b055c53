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
//!
//! A completed job's fee stays held from the owner for `challenge_period` blocks (its
//! *escrow*, [`crate::Escrow`]): long enough for anyone to challenge the result
//! ([`crate::audit`]), and drawn for an automatic audit with probability `audit_rate`. When the
//! window has closed and no audit is running, `on_initialize` pays it out ([`Pallet::release`]).

use crate::{
	pallet::WeightsOf, Audits, BalanceOf, Config, Deadlines, Escrow, EscrowQueue, EscrowQueueRange,
	Event, FailureReason, HoldReason, Job, JobState, Jobs, Pallet, Params, PendingJobs, PruneQueue,
	PruneQueueRange, SlashReason, Verdict, WeightInfo, LOG_TARGET, MIN_VERIFIED_REPLICATION,
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
pub(crate) fn majority_hash<'a>(
	hashes: impl Iterator<Item = Option<&'a Hash256>> + Clone,
) -> Option<Hash256> {
	let r = hashes.clone().count();
	hashes.clone().flatten().find_map(|h| {
		let votes = hashes.clone().filter(|other| *other == Some(h)).count();
		(votes.saturating_mul(2) > r).then_some(*h)
	})
}

impl<T: Config> Pallet<T> {
	/// Settles a pending job in O(R): pays, refunds or escrows the fee, slashes and reports
	/// outcomes (see the module documentation), unindexes the job and queues it for pruning.
	/// Returns whether it started an automatic audit (a draw over the registry's nodes, which
	/// the caller accounts for).
	pub(crate) fn settle(job_id: JobId, mut job: Job<T>) -> bool {
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
		let challenge_period = Params::<T>::get().challenge_period;
		let mut escrowed = false;
		match majority {
			Some(result_hash) => {
				let winners: Vec<T::AccountId> = job
					.assignees
					.iter()
					.filter(|a| a.revealed == Some(result_hash))
					.map(|a| a.node.clone())
					.collect();
				let (shares, release_at) = if challenge_period.is_zero() {
					(Self::pay(&reason, &job.owner, job.fee, &winners), None)
				} else {
					let release_at = now.saturating_add(challenge_period);
					Escrow::<T>::insert(job_id, release_at);
					let (head, tail) = EscrowQueueRange::<T>::get();
					EscrowQueue::<T>::insert(tail, job_id);
					EscrowQueueRange::<T>::put((head, tail.saturating_add(1)));
					escrowed = true;
					(split(job.fee, &winners), Some(release_at))
				};
				job.status = JobState::Completed { result_hash };
				Self::deposit_event(Event::JobCompleted {
					job_id,
					result_hash,
					shares,
					release_at,
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
		let work = Self::job_work(job.billed_prompt_len(), job.max_tokens);
		Self::unindex(job_id, work, job.reveal_deadline, &job.assignees);
		let (head, tail) = PruneQueueRange::<T>::get();
		PruneQueue::<T>::insert(
			tail,
			(now.saturating_add(T::RetentionPeriod::get()), job_id),
		);
		PruneQueueRange::<T>::put((head, tail.saturating_add(1)));
		let mut audited = false;
		if escrowed && Self::audit_drawn(job_id) {
			match Self::start_audit(job_id, &job, None) {
				Ok(_) => audited = true,
				Err(e) => {
					log::debug!(target: LOG_TARGET, "job {job_id}: no automatic audit: {e:?}")
				},
			}
		}
		Jobs::<T>::insert(job_id, job);
		audited
	}

	/// Removes `job_id` (of `work` units) from the pending index of each of `members` and from
	/// the deadline bucket of `deadline`.
	pub(crate) fn unindex(
		job_id: JobId,
		work: u32,
		deadline: BlockNumberFor<T>,
		members: &[crate::Assignment<T::AccountId>],
	) {
		for a in members {
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
		Deadlines::<T>::mutate_exists(deadline, |bucket| {
			if let Some(list) = bucket {
				list.retain(|id| *id != job_id);
				if list.is_empty() {
					*bucket = None;
				}
			}
		});
	}

	/// Pays out the held fee of completed job `job_id`: in equal shares to the assignees that
	/// revealed the agreed hash and, after an automatic audit that confirmed it, to the
	/// auditors that revealed it too (they did the same work for the same job). Nothing for a
	/// job no longer escrowed.
	pub(crate) fn release(job_id: JobId, job: &Job<T>) {
		if Escrow::<T>::take(job_id).is_none() {
			return;
		}
		let JobState::Completed { result_hash } = job.status else {
			return;
		};
		let mut nodes: Vec<T::AccountId> = job
			.assignees
			.iter()
			.filter(|a| a.revealed == Some(result_hash))
			.map(|a| a.node.clone())
			.collect();
		if let Some(audit) = Audits::<T>::get(job_id) {
			if audit.challenger.is_none() && audit.verdict == Some(Verdict::Confirmed) {
				nodes.extend(
					audit
						.auditors
						.iter()
						.filter(|a| a.revealed == Some(result_hash))
						.map(|a| a.node.clone()),
				);
			}
		}
		let reason: <T as Config>::RuntimeHoldReason = HoldReason::JobFee.into();
		let paid = Self::pay(&reason, &job.owner, job.fee, &nodes);
		Self::deposit_event(Event::FeeReleased { job_id, paid });
	}

	/// Gives the whole held fee of `job_id` back to its owner (an audit overturned the
	/// result); returns the amount.
	pub(crate) fn refund_escrow(job_id: JobId, job: &Job<T>) -> BalanceOf<T> {
		if Escrow::<T>::take(job_id).is_none() {
			return Zero::zero();
		}
		Self::refund(&HoldReason::JobFee.into(), &job.owner, job.fee);
		job.fee
	}

	/// Pays out the escrowed jobs whose window closed by `now`, from the head of the queue,
	/// at most `MaxJobsPerBlock` of them. A job under audit leaves the queue and is paid when
	/// the audit concludes.
	pub(crate) fn release_due(now: BlockNumberFor<T>) -> Weight {
		let mut weight = T::DbWeight::get().reads(1);
		let (mut head, tail) = EscrowQueueRange::<T>::get();
		let start = head;
		let per_job = WeightsOf::<T>::release(T::MaxReplication::get().saturating_mul(2));
		for _ in 0..T::MaxJobsPerBlock::get() {
			if head >= tail {
				break;
			}
			weight.saturating_accrue(T::DbWeight::get().reads(2));
			let Some(job_id) = EscrowQueue::<T>::get(head) else {
				head = head.saturating_add(1);
				continue;
			};
			match Escrow::<T>::get(job_id) {
				Some(at) if at > now => break,
				Some(_) => {
					let audit_open = Audits::<T>::get(job_id).is_some_and(|a| a.verdict.is_none());
					if !audit_open {
						if let Some(job) = Jobs::<T>::get(job_id) {
							weight.saturating_accrue(per_job);
							Self::release(job_id, &job);
						}
					}
				},
				None => {},
			}
			EscrowQueue::<T>::remove(head);
			head = head.saturating_add(1);
		}
		if head != start {
			EscrowQueueRange::<T>::put((head, tail));
			weight.saturating_accrue(T::DbWeight::get().writes(1));
		}
		weight
	}

	/// Moves `amount` held from `owner` under `reason` to `nodes` in equal shares, the
	/// remainder to the first ([`split`]). A share that cannot be transferred goes back to the
	/// owner.
	pub(crate) fn pay(
		reason: &<T as Config>::RuntimeHoldReason,
		owner: &T::AccountId,
		amount: BalanceOf<T>,
		nodes: &[T::AccountId],
	) -> Vec<(T::AccountId, BalanceOf<T>)> {
		let mut paid = Vec::with_capacity(nodes.len());
		for (node, due) in split(amount, nodes) {
			let moved = if due.is_zero() {
				Zero::zero()
			} else if &node == owner {
				// Assignment never picks the owner; keep the books right if it ever did.
				Self::refund(reason, owner, due);
				due
			} else {
				match T::Currency::transfer_on_hold(
					reason,
					owner,
					&node,
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
			paid.push((node, moved));
		}
		paid
	}

	pub(crate) fn refund(
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
					// The parameters' bounds make an audit conclude and the escrow end before
					// the retention does; should they not have, finish both first.
					if let Some(job) = Jobs::<T>::get(job_id) {
						if let Some(audit) =
							Audits::<T>::get(job_id).filter(|a| a.verdict.is_none())
						{
							Self::conclude_audit(job_id, job.clone(), audit);
						}
						if let Some(job) = Jobs::<T>::get(job_id) {
							Self::release(job_id, &job);
						}
					}
					Audits::<T>::remove(job_id);
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

/// `amount` in equal shares among `nodes`, the remainder to the first.
pub(crate) fn split<AccountId: Clone, Balance: sp_runtime::traits::AtLeast32BitUnsigned + Copy>(
	amount: Balance,
	nodes: &[AccountId],
) -> Vec<(AccountId, Balance)> {
	let count: Balance = (nodes.len() as u32).max(1).into();
	let share = amount / count;
	let remainder = amount.saturating_sub(share.saturating_mul(count));
	nodes
		.iter()
		.enumerate()
		.map(|(i, node)| {
			let due = if i == 0 {
				share.saturating_add(remainder)
			} else {
				share
			};
			(node.clone(), due)
		})
		.collect()
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
