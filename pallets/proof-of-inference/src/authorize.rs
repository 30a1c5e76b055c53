//! Authorisation of commits and reveals: the checks shared by `#[pallet::authorize]` (pool
//! validity) and dispatch, and the inference-key signature.

use crate::{
	commit_payload, reveal_payload, Audit, Audits, CommitPayload, Config, Error, Job, JobState,
	Jobs, Pallet, RevealPayload, Round,
};
use alloc::vec::Vec;
use codec::Encode;
use frame_support::{
	pallet_prelude::{
		InvalidTransaction, TransactionSource, TransactionValidityError,
		TransactionValidityWithRefund, ValidTransaction,
	},
	traits::Get,
	weights::Weight,
};
use frame_system::pallet_prelude::BlockNumberFor;
use inference_primitives::{Hash256, JobId};
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

/// The pool tag a commit provides, and an early reveal requires: one per job and node.
pub fn commit_tag<AccountId: Encode>(job_id: JobId, node: &AccountId) -> Vec<u8> {
	(b"PoiCommit", job_id, node).encode()
}

/// The pool tag a reveal provides: one per job and node.
pub fn reveal_tag<AccountId: Encode>(job_id: JobId, node: &AccountId) -> Vec<u8> {
	(b"PoiReveal", job_id, node).encode()
}

impl<T: Config> Pallet<T> {
	/// The audit of `job_id` whose round is open for commits and reveals, or `None` when the
	/// job itself is still pending (its assignment's round is open); `JobSettled` when neither.
	pub(crate) fn open_audit(job_id: JobId, job: &Job<T>) -> Result<Option<Audit<T>>, Error<T>> {
		if job.status == JobState::Pending {
			return Ok(None);
		}
		Audits::<T>::get(job_id)
			.filter(|a| a.verdict.is_none())
			.map(Some)
			.ok_or(Error::<T>::JobSettled)
	}

	/// The index of the committing node among the members of `round` if `commit`, for the job
	/// with `digest`, is acceptable at `now`.
	pub(crate) fn check_commit(
		round: &Round<'_, T::AccountId, BlockNumberFor<T>>,
		digest: &Hash256,
		commit: &CommitPayload<T::AccountId>,
		now: BlockNumberFor<T>,
	) -> Result<usize, Error<T>> {
		frame_support::ensure!(digest == &commit.job_digest, Error::<T>::WrongJob);
		let (index, slot) = round.member(&commit.node).ok_or(Error::<T>::NotAssigned)?;
		frame_support::ensure!(slot.commitment.is_none(), Error::<T>::AlreadyCommitted);
		frame_support::ensure!(now < round.commit_deadline, Error::<T>::CommitPhaseClosed);
		Ok(index)
	}

	/// The index of the revealing node among the members of `round` if `reveal` is acceptable
	/// at `now`.
	pub(crate) fn check_reveal(
		round: &Round<'_, T::AccountId, BlockNumberFor<T>>,
		reveal: &RevealPayload<T::AccountId>,
		now: BlockNumberFor<T>,
	) -> Result<usize, Error<T>> {
		let (index, slot) = round.member(&reveal.node).ok_or(Error::<T>::NotAssigned)?;
		frame_support::ensure!(slot.revealed.is_none(), Error::<T>::AlreadyRevealed);
		frame_support::ensure!(now < round.reveal_deadline, Error::<T>::RevealPhaseClosed);
		let commitment = slot.commitment.ok_or(Error::<T>::NoCommit)?;
		frame_support::ensure!(round.commit_phase_over(&now), Error::<T>::CommitPhaseOpen);
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
		provides: Vec<u8>,
		requires: Vec<Vec<u8>>,
		deadline: BlockNumberFor<T>,
	) -> TransactionValidityWithRefund {
		let now = frame_system::Pallet::<T>::block_number();
		let left: u64 = deadline.saturating_sub(now).saturated_into();
		let validity = ValidTransaction {
			priority: T::UnsignedPriority::get(),
			requires,
			provides: alloc::vec![provides],
			longevity: left.max(1),
			propagate: true,
		};
		Ok((validity, Weight::zero()))
	}

	/// The commit tags a reveal that arrives early must wait for, or `None` if it is not early
	/// but invalid.
	///
	/// A reveal is early when the commit phase is still open on the block the pool checks it
	/// against (its own commit or another assignee's not yet in it) but could still close with
	/// this reveal acceptable: the round open, its commit deadline not passed, and the reveal
	/// opening the node's commitment if that is already known. Peers typically receive an honest
	/// reveal before the block with the last commit: the revealing node sends it as soon as it
	/// imports that block. Refused as invalid, the reveal would be banned from their pools and
	/// could only land in a block its own node authors; held back by `requires`, it becomes ready
	/// the moment the block that provides those commits is imported.
	fn early_reveal(
		round: &Round<'_, T::AccountId, BlockNumberFor<T>>,
		reveal: &RevealPayload<T::AccountId>,
		now: BlockNumberFor<T>,
	) -> Result<Option<Vec<Vec<u8>>>, Error<T>> {
		if now >= round.commit_deadline {
			return Ok(None);
		}
		let Some((_, own)) = round.member(&reveal.node) else {
			return Ok(None);
		};
		if let Some(commitment) = own.commitment {
			frame_support::ensure!(
				inference_primitives::commitment(&reveal.result_hash, &reveal.salt, &reveal.node)
					== commitment,
				Error::<T>::RevealMismatch
			);
		}
		Ok(Some(
			round
				.members
				.iter()
				.filter(|a| a.commitment.is_none())
				.map(|a| commit_tag(reveal.job_id, &a.node))
				.collect(),
		))
	}

	/// Validity of a commit transaction (see [`Pallet::commit`]): the job is pending (or under
	/// an open audit) and is the one the commit names (its digest), the node a member of that
	/// round and not yet committed, the commit deadline not passed, and the signature valid for
	/// this chain. Provides [`commit_tag`].
	pub fn authorize_commit(
		_source: TransactionSource,
		commit: &CommitPayload<T::AccountId>,
		signature: &InferenceSignature,
	) -> TransactionValidityWithRefund {
		let now = frame_system::Pallet::<T>::block_number();
		let job =
			Jobs::<T>::get(commit.job_id).ok_or(InvalidTransaction::Custom(INVALID_UNKNOWN_JOB))?;
		let audit = Self::open_audit(commit.job_id, &job).map_err(Self::invalid)?;
		let round = audit.as_ref().map_or_else(|| job.round(), |a| a.round());
		Self::check_commit(&round, &job.digest(commit.job_id), commit, now)
			.map_err(Self::invalid)?;
		Self::check_signature(
			&commit.node,
			&commit_payload(&genesis_hash::<T>(), commit),
			signature,
		)?;
		Self::validity(
			commit_tag(commit.job_id, &commit.node),
			Vec::new(),
			round.commit_deadline,
		)
	}

	/// Validity of a reveal transaction (see [`Pallet::reveal`]): everything the call
	/// checks (phase, commitment opened) and the signature. Provides [`reveal_tag`].
	///
	/// In the pool (any source but `InBlock`), an early reveal (see `early_reveal`) is
	/// valid with the tags of the missing commits as `requires`, so the pool holds it until
	/// they are in. In a block it is invalid: `requires` binds only the pool, and an author
	/// could otherwise put an early reveal in its block, where it would fail and leave the
	/// pools as included.
	pub fn authorize_reveal(
		source: TransactionSource,
		reveal: &RevealPayload<T::AccountId>,
		signature: &InferenceSignature,
	) -> TransactionValidityWithRefund {
		let now = frame_system::Pallet::<T>::block_number();
		let job =
			Jobs::<T>::get(reveal.job_id).ok_or(InvalidTransaction::Custom(INVALID_UNKNOWN_JOB))?;
		let audit = Self::open_audit(reveal.job_id, &job).map_err(Self::invalid)?;
		let round = audit.as_ref().map_or_else(|| job.round(), |a| a.round());
		let requires = match Self::check_reveal(&round, reveal, now) {
			Ok(_) => Vec::new(),
			Err(e @ (Error::<T>::NoCommit | Error::<T>::CommitPhaseOpen))
				if source != TransactionSource::InBlock =>
			{
				Self::early_reveal(&round, reveal, now)
					.map_err(Self::invalid)?
					.ok_or_else(|| Self::invalid(e))?
			},
			Err(e) => return Err(Self::invalid(e)),
		};
		Self::check_signature(
			&reveal.node,
			&reveal_payload(&genesis_hash::<T>(), reveal),
			signature,
		)?;
		Self::validity(
			reveal_tag(reveal.job_id, &reveal.node),
			requires,
			round.reveal_deadline,
		)
	}
}
