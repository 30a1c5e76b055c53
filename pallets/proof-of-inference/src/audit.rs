//! Audits: re-execution of a completed job by nodes that were not assigned to it.
//!
//! A majority of `R` assignees settles a job, but nothing in the settlement itself tells an
//! honest majority from a colluding or lazy one. Because every model pins a determinism class,
//! any other node of that class reproduces the job's tokens exactly — so the chain can check.
//!
//! - **Challenge** ([`Pallet::do_challenge`]): while a completed job's fee is still held (its
//!   challenge window, `challenge_period` blocks from settlement), its owner or any registered
//!   node that was not assigned to it may challenge it, holding `challenge_deposit`.
//! - **Automatic audit** ([`Pallet::audit_drawn`]): at settlement, a completed job is audited
//!   with probability `audit_rate`, drawn from the randomness of the settling block, which
//!   did not exist when the assignees committed.
//! - **Auditors**: `auditors` (`K`) nodes drawn by the assignment's weighted draw among the
//!   model's candidates, never an assignee, the owner or the challenger. They run the job with
//!   the same digest and commit and reveal with the same calls, within their own
//!   `commit_period` and `reveal_period` ([`crate::Audit::round`]).
//! - **Verdict** ([`Pallet::conclude_audit`]) on the last auditor's reveal or at the audit's
//!   reveal deadline, from the hash more than half of the auditors revealed:
//!
//! | verdict | settled majority | fee | challenger | agreeing auditors |
//! |---|---|---|---|---|
//! | overturned | slashed `audit_slash_fraction`, reputation wrong | back to the owner | deposit back + a share of the slash | a share of the slash each |
//! | confirmed, challenged | — | paid to the majority | deposit lost | the deposit, shared |
//! | confirmed, automatic | — | shared by the majority and the auditors | — | a fee share each |
//! | inconclusive | — | paid to the majority | deposit back | — |
//!
//! Auditors themselves are judged like assignees against the auditors' majority: a
//! contradicting or unopened one is slashed `slash_fraction`, a silent one misses. After an
//! overturn, assignees that had revealed the auditors' hash (and were slashed as contradicting)
//! get a success on record.

use crate::{
	settlement::majority_hash, Assignment, Audit, Audits, BalanceOf, Config, Deadlines, Error,
	Escrow, Event, HoldReason, Job, JobState, Jobs, Pallet, Params, PendingJobs, SlashReason,
	Verdict, LOG_TARGET, MIN_VERIFIED_REPLICATION,
};
use alloc::vec::Vec;
use codec::Encode;
use frame_support::{
	ensure,
	traits::{fungible::MutateHold, Randomness},
	BoundedVec,
};
use frame_system::pallet_prelude::BlockNumberFor;
use inference_primitives::JobId;
use pallet_node_registry::NodeInspect;
use pallet_reputation::{Outcome, ReputationSink};
use sp_runtime::{
	traits::{Saturating, Zero},
	DispatchResult,
};

/// Domain separator of the auditors' draw.
pub const AUDIT_CONTEXT: &[u8] = b"cognitive-internet/poi/audit/v1";

/// Domain separator of the automatic-audit lottery.
pub const AUTO_AUDIT_CONTEXT: &[u8] = b"cognitive-internet/poi/auto-audit/v1";

impl<T: Config> Pallet<T> {
	/// The seed of the draw of `job_id`'s auditors: `blake2_256(SCALE((AUDIT_CONTEXT,
	/// randomness, job_id)))`, with `randomness` from [`Config::Randomness`] at the audit's
	/// start.
	pub fn audit_seed(job_id: JobId) -> [u8; 32] {
		let (randomness, _) = T::Randomness::random(&(AUDIT_CONTEXT, job_id).encode());
		sp_io::hashing::blake2_256(&(AUDIT_CONTEXT, randomness, job_id).encode())
	}

	/// Whether `job_id`, settling now, is drawn for an automatic audit: the first 4 bytes of
	/// `blake2_256(SCALE((AUTO_AUDIT_CONTEXT, randomness, job_id)))`, as a little-endian
	/// number modulo 10⁹, fall below `audit_rate` in parts per billion.
	pub fn audit_drawn(job_id: JobId) -> bool {
		let rate = Params::<T>::get().audit_rate.deconstruct();
		if rate == 0 {
			return false;
		}
		let (randomness, _) = T::Randomness::random(&(AUTO_AUDIT_CONTEXT, job_id).encode());
		let digest = sp_io::hashing::blake2_256(&(AUTO_AUDIT_CONTEXT, randomness, job_id).encode());
		// 64 bits reduced modulo 10⁹ (Perbill's denominator): the remainder's bias is below
		// 10⁹ / 2⁶⁴ ≈ 5 × 10⁻¹¹. (32 bits would favour remainders below 2³² mod 10⁹ five to
		// four, drawing a 5% rate 5.8% of the time.)
		let mut bytes = [0u8; 8];
		bytes.copy_from_slice(&digest[..8]);
		u64::from_le_bytes(bytes) % 1_000_000_000 < u64::from(rate)
	}

	/// The block before which `job_id` may be challenged: the end of its escrow, if its fee is
	/// still held.
	pub fn challenge_window_end(job_id: JobId) -> Option<BlockNumberFor<T>> {
		Escrow::<T>::get(job_id)
	}

	/// `challenge` for `who` (see [`crate::Pallet::challenge`]).
	pub(crate) fn do_challenge(who: T::AccountId, job_id: JobId) -> DispatchResult {
		let job = Jobs::<T>::get(job_id).ok_or(Error::<T>::UnknownJob)?;
		ensure!(
			matches!(job.status, JobState::Completed { .. }),
			Error::<T>::NotCompleted
		);
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(
			Self::challenge_window_end(job_id).is_some_and(|end| now < end),
			Error::<T>::ChallengeWindowClosed
		);
		ensure!(
			!Audits::<T>::contains_key(job_id),
			Error::<T>::AlreadyAudited
		);
		let assignee = job.assignees.iter().any(|a| a.node == who);
		ensure!(
			who == job.owner || (T::Nodes::is_registered(&who) && !assignee),
			Error::<T>::NotAllowedToChallenge
		);
		let deposit = Params::<T>::get().challenge_deposit;
		T::Currency::hold(&HoldReason::ChallengeDeposit.into(), &who, deposit)
			.map_err(|_| Error::<T>::InsufficientDeposit)?;
		let auditors = Self::start_audit(job_id, &job, Some((who.clone(), deposit)))?;
		Self::deposit_event(Event::Challenged {
			job_id,
			challenger: who,
			deposit,
			auditors,
		});
		Ok(())
	}

	/// Draws the auditors of completed job `job_id`, indexes their work and stores the audit.
	/// `challenger` is `None` for an automatic audit (which emits [`Event::AuditStarted`]).
	pub(crate) fn start_audit(
		job_id: JobId,
		job: &Job<T>,
		challenger: Option<(T::AccountId, BalanceOf<T>)>,
	) -> Result<Vec<T::AccountId>, Error<T>> {
		let params = Params::<T>::get();
		let mut exclude: Vec<&T::AccountId> = job.assignees.iter().map(|a| &a.node).collect();
		exclude.push(&job.owner);
		if let Some((who, _)) = &challenger {
			exclude.push(who);
		}
		let work = Self::job_work(job.billed_prompt_len(), job.max_tokens);
		let nodes = Self::draw(
			Self::audit_seed(job_id),
			job.model,
			&job.class,
			params.auditors,
			work,
			&exclude,
		)
		.ok_or(Error::<T>::NotEnoughAuditors)?;
		let now = frame_system::Pallet::<T>::block_number();
		let commit_deadline = now.saturating_add(params.commit_period);
		let reveal_deadline = commit_deadline.saturating_add(params.reveal_period);
		Deadlines::<T>::try_mutate(reveal_deadline, |bucket| bucket.try_push(job_id))
			.map_err(|_| Error::<T>::TooManyJobs)?;
		let mut auditors = BoundedVec::<_, T::MaxReplication>::new();
		for node in &nodes {
			// `draw` only picks nodes with room in their index.
			PendingJobs::<T>::try_mutate(node, |pending| {
				pending.jobs.try_push(job_id)?;
				pending.work = pending.work.saturating_add(work);
				Ok::<_, JobId>(())
			})
			.map_err(|_| Error::<T>::NotEnoughAuditors)?;
			auditors
				.try_push(Assignment {
					node: node.clone(),
					commitment: None,
					revealed: None,
				})
				.map_err(|_| Error::<T>::NotEnoughAuditors)?;
		}
		let automatic = challenger.is_none();
		Audits::<T>::insert(
			job_id,
			Audit {
				challenger,
				auditors,
				commit_deadline,
				reveal_deadline,
				verdict: None,
			},
		);
		if automatic {
			Self::deposit_event(Event::AuditStarted {
				job_id,
				auditors: nodes.clone(),
			});
		}
		Ok(nodes)
	}

	/// Concludes the audit of `job_id` (see the module documentation): judges the auditors,
	/// applies the verdict to the settled majority, the fee and the deposit, unindexes the
	/// audit and, if the job's window has already closed, pays out its fee. O(R + K).
	pub(crate) fn conclude_audit(job_id: JobId, mut job: Job<T>, mut audit: Audit<T>) {
		let now = frame_system::Pallet::<T>::block_number();
		let params = Params::<T>::get();
		let audited = majority_hash(audit.auditors.iter().map(|a| a.revealed.as_ref()));
		let settled = match job.status {
			JobState::Completed { result_hash } => Some(result_hash),
			_ => None,
		};
		let verdict = match (audited, settled) {
			(Some(a), Some(s)) if a == s => Verdict::Confirmed,
			(Some(audited_hash), Some(_)) => Verdict::Overturned { audited_hash },
			_ => Verdict::Inconclusive,
		};

		// The auditors, judged against their own majority like assignees.
		let verified = audit.auditors.len() >= MIN_VERIFIED_REPLICATION;
		let anyone_delivered = audit.auditors.iter().any(|a| a.commitment.is_some());
		for a in &audit.auditors {
			let outcome = match (a.commitment, a.revealed, audited) {
				(_, Some(h), Some(m)) if h == m => Some(Outcome::Success),
				(_, Some(_), Some(_)) => {
					Some(Self::slash_for(job_id, &a.node, SlashReason::Contradicted))
				},
				(_, Some(_), None) => None,
				(Some(_), None, _) => Some(Self::slash_for(job_id, &a.node, SlashReason::Unopened)),
				(None, None, _) if anyone_delivered => Some(Outcome::Missed),
				(None, None, _) => Some(Outcome::Timeout),
			};
			if let Some(outcome) = outcome {
				if verified && T::Nodes::is_registered(&a.node) {
					T::Reputation::record(&a.node, outcome, job.max_tokens);
				}
			}
		}
		let agreeing: Vec<T::AccountId> = audit
			.auditors
			.iter()
			.filter(|a| audited.is_some() && a.revealed == audited)
			.map(|a| a.node.clone())
			.collect();

		let deposit_reason: <T as Config>::RuntimeHoldReason = HoldReason::ChallengeDeposit.into();
		let mut refunded = Zero::zero();
		let mut rewarded = Vec::new();
		match (verdict, settled) {
			(Verdict::Overturned { audited_hash }, Some(settled_hash)) => {
				let mut beneficiaries = Vec::with_capacity(agreeing.len().saturating_add(1));
				if let Some((challenger, deposit)) = &audit.challenger {
					Self::refund(&deposit_reason, challenger, *deposit);
					beneficiaries.push(challenger.clone());
				}
				beneficiaries.extend(agreeing.iter().cloned());
				let judged = job.assignees.len() >= MIN_VERIFIED_REPLICATION;
				for a in &job.assignees {
					let registered = T::Nodes::is_registered(&a.node);
					if a.revealed == Some(settled_hash) {
						let (amount, paid) = T::Nodes::slash_to(
							&a.node,
							params.audit_slash_fraction,
							&beneficiaries,
						);
						Self::deposit_event(Event::NodeSlashed {
							job_id,
							node: a.node.clone(),
							reason: SlashReason::Overturned,
							amount,
						});
						rewarded.extend(paid);
						if judged && registered {
							T::Reputation::record(&a.node, Outcome::Wrong, job.max_tokens);
						}
					} else if a.revealed == Some(audited_hash) && judged && registered {
						// It told the truth and was slashed as the minority: its record says so.
						T::Reputation::record(&a.node, Outcome::Success, job.max_tokens);
					}
				}
				refunded = Self::refund_escrow(job_id, &job);
				job.status = JobState::Overturned {
					settled_hash,
					audited_hash,
				};
			},
			(Verdict::Confirmed, _) => {
				if let Some((challenger, deposit)) = &audit.challenger {
					rewarded = Self::pay(&deposit_reason, challenger, *deposit, &agreeing);
				}
			},
			_ => {
				if let Some((challenger, deposit)) = &audit.challenger {
					Self::refund(&deposit_reason, challenger, *deposit);
				}
			},
		}

		let work = Self::job_work(job.billed_prompt_len(), job.max_tokens);
		Self::unindex(job_id, work, audit.reveal_deadline, &audit.auditors);
		audit.verdict = Some(verdict);
		Audits::<T>::insert(job_id, audit);
		if Escrow::<T>::get(job_id).is_some_and(|end| end <= now) {
			Self::release(job_id, &job);
		}
		Jobs::<T>::insert(job_id, job);
		log::debug!(target: LOG_TARGET, "job {job_id}: audit concluded {verdict:?}");
		Self::deposit_event(Event::AuditConcluded {
			job_id,
			verdict,
			refunded,
			rewarded,
		});
	}

	/// Slashes `node` by `slash_fraction` for `reason` in job `job_id`; the outcome to record.
	fn slash_for(job_id: JobId, node: &T::AccountId, reason: SlashReason) -> Outcome {
		let amount = T::Nodes::slash(node, Params::<T>::get().slash_fraction);
		Self::deposit_event(Event::NodeSlashed {
			job_id,
			node: node.clone(),
			reason,
			amount,
		});
		Outcome::Wrong
	}
}
