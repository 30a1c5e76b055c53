//! Types of the proof-of-inference pallet: jobs, assignments, the signed commit and reveal
//! statements, the governance parameters, and what the off-chain worker keeps locally.

use crate::{BalanceOf, Config};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound};
use frame_system::pallet_prelude::BlockNumberFor;
use inference_primitives::{ExecutionProfile, Hash256, JobId, JobOutput, Sha256};
use pallet_model_registry::ModelId;
use scale_info::TypeInfo;

/// Domain separator of a signed [`CommitPayload`].
pub const COMMIT_CONTEXT: &[u8] = b"cognitive-internet/commit/v1";
/// Domain separator of a signed [`RevealPayload`].
pub const REVEAL_CONTEXT: &[u8] = b"cognitive-internet/reveal/v1";

/// Offchain-storage (persistent) prefix under which a node keeps the output of a job it ran:
/// the key is `OUTPUT_KEY_PREFIX ++ SCALE(job_id)` (the job id as 8 little-endian bytes), the
/// value is `SCALE(`[`StoredOutput`]`)`. The node's JSON-RPC `inference_jobResult(job_id)` reads
/// it from the local offchain database (`PERSISTENT` kind).
pub const OUTPUT_KEY_PREFIX: &[u8] = b"cognitive-internet/poi/output/";

/// Offchain-storage prefix of the [`LocalResult`] an off-chain worker keeps per job and node:
/// `RESULT_KEY_PREFIX ++ SCALE(job_id) ++ SCALE(node)`.
pub const RESULT_KEY_PREFIX: &[u8] = b"cognitive-internet/poi/result/";

/// The persistent offchain-storage key of a job's [`StoredOutput`].
pub fn output_key(job_id: JobId) -> alloc::vec::Vec<u8> {
	let mut key = OUTPUT_KEY_PREFIX.to_vec();
	job_id.encode_to(&mut key);
	key
}

/// The persistent offchain-storage key of the [`LocalResult`] of `node` for `job_id`.
pub fn result_key<AccountId: Encode>(job_id: JobId, node: &AccountId) -> alloc::vec::Vec<u8> {
	let mut key = RESULT_KEY_PREFIX.to_vec();
	job_id.encode_to(&mut key);
	node.encode_to(&mut key);
	key
}

/// Why a job failed.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum FailureReason {
	/// No result hash was revealed by more than half of the assignees (the fee is refunded).
	NoMajority,
}

/// Where a job is in its life.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum JobState {
	/// Waiting for commits and reveals.
	Pending,
	/// A strict majority revealed `result_hash`; the fee went to it.
	Completed {
		/// The agreed result hash.
		result_hash: Hash256,
	},
	/// Settled without an agreed result; the fee was refunded.
	Failed(FailureReason),
}

/// One assigned node and what it sent.
#[derive(
	Encode, Decode, DecodeWithMemTracking, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen,
)]
pub struct Assignment<AccountId> {
	/// The node's operator account.
	pub node: AccountId,
	/// Its commitment, once committed.
	pub commitment: Option<Hash256>,
	/// Its result hash, once revealed (a reveal matching the commitment).
	pub revealed: Option<Hash256>,
}

/// An inference job.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	TypeInfo,
	MaxEncodedLen,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct Job<T: Config> {
	/// Who submitted (and pays for) the job.
	pub owner: T::AccountId,
	/// The whitelisted model.
	pub model: ModelId,
	/// sha256 of the model file, copied at submission.
	pub model_sha256: Sha256,
	/// The model's determinism settings, copied at submission.
	pub profile: ExecutionProfile,
	/// The prompt (UTF-8).
	pub prompt: BoundedVec<u8, T::MaxPromptBytes>,
	/// Most tokens to generate.
	pub max_tokens: u32,
	/// The fee, held from `owner` until settlement.
	pub fee: BalanceOf<T>,
	/// The `R` distinct assigned nodes, in assignment order.
	pub assignees: BoundedVec<Assignment<T::AccountId>, T::MaxReplication>,
	/// Block of submission.
	pub submitted_at: BlockNumberFor<T>,
	/// Commits are accepted in blocks before this one.
	pub commit_deadline: BlockNumberFor<T>,
	/// Reveals are accepted in blocks before this one; the job is settled at the start of this
	/// block at the latest.
	pub reveal_deadline: BlockNumberFor<T>,
	/// Pending, completed or failed.
	pub status: JobState,
	/// Block of settlement.
	pub settled_at: Option<BlockNumberFor<T>>,
}

/// The statement an inference key signs to commit to a result.
#[derive(
	Encode, Decode, DecodeWithMemTracking, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen,
)]
pub struct CommitPayload<AccountId> {
	/// The job.
	pub job_id: JobId,
	/// The assigned node (operator account) committing.
	pub node: AccountId,
	/// `inference_primitives::commitment(result_hash, salt, node)`.
	pub commitment: Hash256,
}

/// The statement an inference key signs to reveal its result.
#[derive(
	Encode, Decode, DecodeWithMemTracking, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen,
)]
pub struct RevealPayload<AccountId> {
	/// The job.
	pub job_id: JobId,
	/// The assigned node (operator account) revealing.
	pub node: AccountId,
	/// `inference_primitives::result_hash(job_id, model_sha256, prompt_tokens, output_tokens)`.
	pub result_hash: Hash256,
	/// The salt the commitment was made with.
	pub salt: Hash256,
}

/// The bytes an inference key signs for a commit: `SCALE((COMMIT_CONTEXT, payload))`.
pub fn commit_payload<AccountId: Encode>(
	payload: &CommitPayload<AccountId>,
) -> alloc::vec::Vec<u8> {
	(COMMIT_CONTEXT, payload).encode()
}

/// The bytes an inference key signs for a reveal: `SCALE((REVEAL_CONTEXT, payload))`.
pub fn reveal_payload<AccountId: Encode>(
	payload: &RevealPayload<AccountId>,
) -> alloc::vec::Vec<u8> {
	(REVEAL_CONTEXT, payload).encode()
}

/// Network parameters of the protocol, set at genesis and by governance.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
	serde::Serialize,
	serde::Deserialize,
)]
#[serde(rename_all = "camelCase")]
pub struct Parameters<Balance, BlockNumber> {
	/// Fixed part of a job's fee.
	pub base_fee: Balance,
	/// Fee per requested token (`max_tokens`).
	pub price_per_token: Balance,
	/// Blocks from submission to the commit deadline (non-zero).
	pub commit_period: BlockNumber,
	/// Blocks from the commit deadline to the reveal deadline (non-zero).
	pub reveal_period: BlockNumber,
	/// Share of its node bond a revealer contradicting the majority loses.
	pub slash_fraction: sp_runtime::Perbill,
}

/// Longest commit period plus reveal period [`Parameters::is_valid`] accepts (one day of
/// 6-second blocks), so a fee can never be locked for long.
pub const MAX_JOB_LIFETIME: u32 = 14_400;

impl<Balance: Default, BlockNumber: From<u32>> Default for Parameters<Balance, BlockNumber> {
	fn default() -> Self {
		Self {
			base_fee: Balance::default(),
			price_per_token: Balance::default(),
			// 2 minutes to run the job and commit, 1 minute to reveal, at 6 s blocks.
			commit_period: 20u32.into(),
			reveal_period: 10u32.into(),
			slash_fraction: sp_runtime::Perbill::from_percent(1),
		}
	}
}

impl<Balance, BlockNumber: sp_runtime::traits::AtLeast32BitUnsigned + Copy>
	Parameters<Balance, BlockNumber>
{
	/// Non-zero periods whose sum is at most [`MAX_JOB_LIFETIME`].
	pub fn is_valid(&self) -> bool {
		!self.commit_period.is_zero()
			&& !self.reveal_period.is_zero()
			&& self.commit_period.saturating_add(self.reveal_period) <= MAX_JOB_LIFETIME.into()
	}
}

/// What an off-chain worker keeps per job and node under [`result_key`] once the engine has
/// produced the output (the output itself is under [`output_key`]).
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub struct LocalResult {
	/// The result hash committed to and revealed.
	pub result_hash: Hash256,
	/// The salt of the commitment (from the node's offchain randomness).
	pub salt: Hash256,
}

/// A job's output as a node stores it for JSON-RPC, under [`output_key`].
///
/// A client checks it by recomputing
/// `inference_primitives::result_hash(job_id, model_sha256, output.prompt_tokens,
/// output.output_tokens)` and comparing it with the job's `Completed { result_hash }` on chain.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub struct StoredOutput {
	/// sha256 of the model that produced it.
	pub model_sha256: Sha256,
	/// Tokens and text.
	pub output: JobOutput,
	/// The result hash of `output`.
	pub result_hash: Hash256,
}

/// One assignee as the runtime API shows it.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub struct AssigneeView<AccountId> {
	/// The node's operator account.
	pub node: AccountId,
	/// Its commitment, if committed.
	pub commitment: Option<Hash256>,
	/// Its revealed result hash, if revealed.
	pub result_hash: Option<Hash256>,
}

/// Everything a client needs to know about a job (runtime API `ProofOfInferenceApi::job`).
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub struct JobView<AccountId, Balance, BlockNumber> {
	/// The job.
	pub job_id: JobId,
	/// Who submitted it.
	pub owner: AccountId,
	/// The model id.
	pub model: ModelId,
	/// sha256 of the model file.
	pub model_sha256: Sha256,
	/// The determinism settings the job runs with.
	pub profile: ExecutionProfile,
	/// The prompt bytes (UTF-8).
	pub prompt: alloc::vec::Vec<u8>,
	/// Most tokens to generate.
	pub max_tokens: u32,
	/// Replication factor `R` (number of assignees).
	pub replication: u8,
	/// The fee.
	pub fee: Balance,
	/// Pending, completed (with the agreed hash) or failed.
	pub status: JobState,
	/// Assignees with their commitments and revealed hashes.
	pub assignees: alloc::vec::Vec<AssigneeView<AccountId>>,
	/// Block of submission.
	pub submitted_at: BlockNumber,
	/// Commits are accepted in blocks before this one.
	pub commit_deadline: BlockNumber,
	/// Reveals are accepted in blocks before this one.
	pub reveal_deadline: BlockNumber,
	/// Block of settlement, once settled.
	pub settled_at: Option<BlockNumber>,
}
