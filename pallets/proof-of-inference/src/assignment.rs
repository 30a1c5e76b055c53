//! Assignment: which nodes run a job.
//!
//! Candidates come from the registry's one eligibility rule (active, serving the model, ready
//! for it, of its determinism class); the job's owner is never one of them, nor a node whose
//! pending jobs would exceed `MaxPendingPerNode` or, with this job, `MaxPendingWork` units: more
//! than it can finish within a commit period. `R` of them are drawn without replacement, each with weight
//! `max(score, newcomer_weight)` in parts per billion: reputation is zero without verified work,
//! so a new node is drawn rarely until it earns evidence, but never never.
//!
//! The seed is [`Pallet::assignment_seed`], the only place that knows where randomness comes
//! from ([`Config::Randomness`]). The runtime's source today is the parent block hash, which its
//! author can bias by choosing what to include or by withholding the block.

use crate::{Config, Error, Pallet, Params, PendingJobs, LOG_TARGET};
use alloc::vec::Vec;
use codec::Encode;
use frame_support::traits::{Get, Randomness};
use inference_primitives::JobId;
use pallet_model_registry::{DeterminismClass, ModelId};
use pallet_node_registry::NodeInspect;
use pallet_reputation::ReputationInspect;

/// Domain separator of the assignment randomness.
pub const ASSIGNMENT_CONTEXT: &[u8] = b"cognitive-internet/poi/assign/v2";

/// Domain separator of a sampled job's seed.
pub const SAMPLING_SEED_CONTEXT: &[u8] = b"cognitive-internet/poi/sampling-seed/v1";

impl<T: Config> Pallet<T> {
	/// The seed of `job_id`'s assignment: `blake2_256(SCALE((ASSIGNMENT_CONTEXT, randomness,
	/// job_id)))` with `randomness` from [`Config::Randomness`] for the subject
	/// `(ASSIGNMENT_CONTEXT, job_id)`.
	pub fn assignment_seed(job_id: JobId) -> [u8; 32] {
		let (randomness, _) = T::Randomness::random(&(ASSIGNMENT_CONTEXT, job_id).encode());
		sp_io::hashing::blake2_256(&(ASSIGNMENT_CONTEXT, randomness, job_id).encode())
	}

	/// The seed of a sampled job's draws: the first 8 bytes (little endian) of
	/// `blake2_256(SCALE((SAMPLING_SEED_CONTEXT, assignment_seed(job_id))))`. Fixed with the
	/// assignment and stored in the job, so every assignee (and any later auditor) draws the same
	/// tokens; the owner cannot choose it, so it cannot steer the output towards an answer it
	/// prepared.
	pub fn sampling_seed(job_id: JobId) -> u64 {
		let digest = sp_io::hashing::blake2_256(
			&(SAMPLING_SEED_CONTEXT, Self::assignment_seed(job_id)).encode(),
		);
		let mut bytes = [0u8; 8];
		bytes.copy_from_slice(&digest[..8]);
		u64::from_le_bytes(bytes)
	}

	/// Picks `r` distinct nodes for `job_id`, a job of `work` units (see the module
	/// documentation). O(nodes × r).
	pub(crate) fn assign(
		job_id: JobId,
		owner: &T::AccountId,
		model: ModelId,
		class: &DeterminismClass,
		r: u8,
		work: u32,
	) -> Result<Vec<T::AccountId>, Error<T>> {
		let seed = Self::assignment_seed(job_id);
		Self::draw(seed, model, class, r, work, &[owner]).ok_or_else(|| {
			log::debug!(target: LOG_TARGET, "job {job_id}: fewer eligible nodes than R = {r}");
			Error::<T>::NotEnoughNodes
		})
	}

	/// `r` distinct candidates for `model` in `class` with room for `work` more units, none in
	/// `exclude`, drawn without replacement by weight from `seed`; `None` if fewer are
	/// eligible. O(nodes × r).
	pub(crate) fn draw(
		seed: [u8; 32],
		model: ModelId,
		class: &DeterminismClass,
		r: u8,
		work: u32,
		exclude: &[&T::AccountId],
	) -> Option<Vec<T::AccountId>> {
		let room = T::MaxPendingPerNode::get() as usize;
		let capacity = T::MaxPendingWork::get();
		let floor = Params::<T>::get().newcomer_weight;
		let has_room = |who: &T::AccountId| {
			let pending = PendingJobs::<T>::get(who);
			pending.jobs.len() < room && pending.work.saturating_add(work) <= capacity
		};
		let mut candidates: Vec<(T::AccountId, u64)> = T::Nodes::candidates(model, class)
			.into_iter()
			.filter(|who| !exclude.contains(&who) && has_room(who))
			.map(|who| {
				let weight = T::Reputation::score(&who).max(floor).deconstruct();
				(who, u64::from(weight).max(1))
			})
			.collect();
		if candidates.len() < r as usize {
			return None;
		}
		let mut total = candidates
			.iter()
			.fold(0u64, |acc, (_, w)| acc.saturating_add(*w));
		let mut chosen = Vec::with_capacity(r as usize);
		for round in 0..r {
			if candidates.is_empty() || total == 0 {
				break;
			}
			let digest = sp_io::hashing::blake2_256(&(seed, round).encode());
			let mut bytes = [0u8; 8];
			bytes.copy_from_slice(&digest[..8]);
			let draw = u64::from_le_bytes(bytes) % total;
			let mut acc = 0u64;
			let mut pick = candidates.len().saturating_sub(1);
			for (i, (_, w)) in candidates.iter().enumerate() {
				acc = acc.saturating_add(*w);
				if draw < acc {
					pick = i;
					break;
				}
			}
			let (who, w) = candidates.swap_remove(pick);
			total = total.saturating_sub(w);
			chosen.push(who);
		}
		(chosen.len() == r as usize).then_some(chosen)
	}
}
