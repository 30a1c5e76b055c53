//! Authorisation of commits and reveals: the checks shared by `#[pallet::authorize]` (pool
//! validity) and dispatch, and the inference-key signature.

use crate::{
	commit_payload, reveal_payload, CommitPayload, Config, Error, Job, JobState, Jobs, Pallet,
	RevealPayload,
};
use frame_support::{
	pallet_prelude::{
		InvalidTransaction, TransactionSource, TransactionValidityError,
		TransactionValidityWithRefund, ValidTransaction,
	},
	traits::Get,
	weights::Weight,
};
use frame_system::pallet_prelude::BlockNumberFor;
use pallet_node_registry::{genesis_hash, InferenceSignature, NodeInspect};
use sp_runtime::{traits::Saturating, RuntimeAppPublic, SaturatedConversion};

// `InvalidTransaction::Custom` codes are unique across the chain's pallets: the node registry
// uses 1..=3, this pallet 11 and up, and both say 1 for an unknown node.

/// `InvalidTransaction::Custom` code: the node is not registered (the node registry's code).
pub const INVALID_UNKNOWN_NODE: u8 = pallet_node_registry::INVALID_UNKNOWN_NODE;
/// `InvalidTransaction::Custom` code: the job does not exist (or was pruned).
pub const INVALID_UNKNOWN_JOB: u8 = 11;
/// `InvalidTransaction::Custom` code: the node is not assigned to the job.
pub const INVALID_NOT_ASSIGNED: u8 = 12;
/// `InvalidTransaction::Custom` code: a reveal from a node that did not commit.
pub const INVALID_NO_COMMIT: u8 = 13;
/// `InvalidTransaction::Custom` code: the reveal does not open the node's commitment.
pub const INVALID_REVEAL_MISMATCH: u8 = 14;
/// `InvalidTransaction::Custom` code: the commit names another job's digest (a job of the same
/// id on another fork).
pub const INVALID_WRONG_JOB: u8 = 15;

impl<T: Config> Pallet<T> {
	/// The index of the committing node in `job`'s assignees if `commit` is acceptable at
	/// `now`.
	pub(crate) fn check_commit(
		job: &Job<T>,
		commit: &CommitPayload<T::AccountId>,
		now: BlockNumberFor<T>,
	) -> Result<usize, Error<T>> {
		let node = &commit.node;
		frame_support::ensure!(job.status == JobState::Pending, Error::<T>::JobSettled);
		frame_support::ensure!(
			job.digest(commit.job_id) == commit.job_digest,
			Error::<T>::WrongJob
		);
		let index = job
			.assignees
			.iter()
			.position(|a| &a.node == node)
			.ok_or(Error::<T>::NotAssigned)?;
		let slot = job.assignees.get(index).ok_or(Error::<T>::NotAssigned)?;
		frame_support::ensure!(slot.commitment.is_none(), Error::<T>::AlreadyCommitted);
		frame_support::ensure!(now < job.commit_deadline, Error::<T>::CommitPhaseClosed);
		Ok(index)
	}

	/// The index of the revealing node in `job`'s assignees if `reveal` is acceptable at
	/// `now`.
	pub(crate) fn check_reveal(
		job: &Job<T>,
		reveal: &RevealPayload<T::AccountId>,
		now: BlockNumberFor<T>,
	) -> Result<usize, Error<T>> {
		frame_support::ensure!(job.status == JobState::Pending, Error::<T>::JobSettled);
		let index = job
			.assignees
			.iter()
			.position(|a| a.node == reveal.node)
			.ok_or(Error::<T>::NotAssigned)?;
		let slot = job.assignees.get(index).ok_or(Error::<T>::NotAssigned)?;
		frame_support::ensure!(slot.revealed.is_none(), Error::<T>::AlreadyRevealed);
		frame_support::ensure!(now < job.reveal_deadline, Error::<T>::RevealPhaseClosed);
		let commitment = slot.commitment.ok_or(Error::<T>::NoCommit)?;
		frame_support::ensure!(
			Self::commit_phase_over(job, now),
			Error::<T>::CommitPhaseOpen
		);
		frame_support::ensure!(
			inference_primitives::commitment(&reveal.result_hash, &reveal.salt, &reveal.node)
				== commitment,
			Error::<T>::RevealMismatch
		);
		Ok(index)
	}

	/// Maps a rejected commit or reveal to a transaction-validity error.
	fn invalid(error: Error<T>) -> TransactionValidityError {
		match error {
			Error::<T>::UnknownJob => InvalidTransaction::Custom(INVALID_UNKNOWN_JOB),
			Error::<T>::NotAssigned => InvalidTransaction::Custom(INVALID_NOT_ASSIGNED),
			Error::<T>::NoCommit => InvalidTransaction::Custom(INVALID_NO_COMMIT),
			Error::<T>::RevealMismatch => InvalidTransaction::Custom(INVALID_REVEAL_MISMATCH),
			Error::<T>::WrongJob => InvalidTransaction::Custom(INVALID_WRONG_JOB),
			Error::<T>::CommitPhaseOpen => InvalidTransaction::Future,
			// Settled, already done, or past the deadline.
			_ => InvalidTransaction::Stale,
		}
		.into()
	}

	/// Checks `signature` by `node`'s inference key over `payload`.
	fn check_signature(
		node: &T::AccountId,
		payload: &[u8],
		signature: &InferenceSignature,
	) -> Result<(), TransactionValidityError> {
		let key = T::Nodes::inference_key(node)
			.ok_or(InvalidTransaction::Custom(INVALID_UNKNOWN_NODE))?;
		if !key.verify(&payload, signature) {
			return Err(InvalidTransaction::BadProof.into());
		}
		Ok(())
	}

	fn validity(
		prefix: &'static str,
		tag: impl codec::Encode,
		deadline: BlockNumberFor<T>,
	) -> TransactionValidityWithRefund {
		let now = frame_system::Pallet::<T>::block_number();
		let left: u64 = deadline.saturating_sub(now).saturated_into();
		let validity = ValidTransaction::with_tag_prefix(prefix)
			.priority(T::UnsignedPriority::get())
			.and_provides(tag)
			.longevity(left.max(1))
			.propagate(true)
			.build()?;
		Ok((validity, Weight::zero()))
	}

	/// Validity of a commit transaction (see [`Pallet::commit`]): the job is pending and is the
	/// one the commit names (its digest), the node assigned and not yet committed, the commit
	/// deadline not passed, and the
	/// signature valid for this chain. Provides the tag `(b"poi-commit", job_id, node)`.
	pub fn authorize_commit(
		_source: TransactionSource,
		commit: &CommitPayload<T::AccountId>,
		signature: &InferenceSignature,
	) -> TransactionValidityWithRefund {
		let now = frame_system::Pallet::<T>::block_number();
		let job =
			Jobs::<T>::get(commit.job_id).ok_or(InvalidTransaction::Custom(INVALID_UNKNOWN_JOB))?;
		Self::check_commit(&job, commit, now).map_err(Self::invalid)?;
		Self::check_signature(
			&commit.node,
			&commit_payload(&genesis_hash::<T>(), commit),
			signature,
		)?;
		Self::validity(
			"PoiCommit",
			(b"poi-commit", commit.job_id, &commit.node),
			job.commit_deadline,
		)
	}

	/// Validity of a reveal transaction (see [`Pallet::reveal`]): everything the call
	/// checks (phase, commitment opened) and the signature. Provides the tag
	/// `(b"poi-reveal", job_id, node)`.
	pub fn authorize_reveal(
		_source: TransactionSource,
		reveal: &RevealPayload<T::AccountId>,
		signature: &InferenceSignature,
	) -> TransactionValidityWithRefund {
		let now = frame_system::Pallet::<T>::block_number();
		let job =
			Jobs::<T>::get(reveal.job_id).ok_or(InvalidTransaction::Custom(INVALID_UNKNOWN_JOB))?;
		Self::check_reveal(&job, reveal, now).map_err(Self::invalid)?;
		Self::check_signature(
			&reveal.node,
			&reveal_payload(&genesis_hash::<T>(), reveal),
			signature,
		)?;
		Self::validity(
			"PoiReveal",
			(b"poi-reveal", reveal.job_id, &reveal.node),
			job.reveal_deadline,
		)
	}
}
