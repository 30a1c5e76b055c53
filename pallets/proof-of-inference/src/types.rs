//! Types of the proof-of-inference pallet: jobs, assignments, the signed commit and reveal
//! statements, the governance parameters, and what the off-chain worker keeps locally.

use crate::{BalanceOf, Config};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound};
use frame_system::pallet_prelude::BlockNumberFor;
#[cfg(doc)]
use inference_primitives::JobPrompt;
use inference_primitives::{
	ExecutionProfile, Hash256, JobId, JobOutput, JobSampling, PromptFormat, Sha256,
};
use pallet_model_registry::{DeterminismClass, ModelId};
use scale_info::TypeInfo;
use sp_runtime::Perbill;

/// Domain separator of a signed [`CommitPayload`].
pub const COMMIT_CONTEXT: &[u8] = b"cognitive-internet/commit/v3";
/// Domain separator of a signed [`RevealPayload`].
pub const REVEAL_CONTEXT: &[u8] = b"cognitive-internet/reveal/v2";

/// Offchain-storage (persistent) prefix under which a node keeps the output of a job it ran:
/// the key is `OUTPUT_KEY_PREFIX ++ SCALE(job_id)` (the job id as 8 little-endian bytes), the
/// value is `SCALE(`[`StoredOutput`]`)`, which names the job's digest. The node's JSON-RPC
/// `inference_jobResult(job_id)` reads it from the local offchain database (`PERSISTENT` kind)
/// and serves it only when the digest is the job's on chain.
pub const OUTPUT_KEY_PREFIX: &[u8] = b"cognitive-internet/poi/output/";

/// Offchain-storage prefix of the [`LocalResult`] an off-chain worker keeps per job and node:
/// `RESULT_KEY_PREFIX ++ job_digest ++ SCALE(node)`.
pub const RESULT_KEY_PREFIX: &[u8] = b"cognitive-internet/poi/result/";

/// Offchain-storage prefix of the per-job lock of the off-chain worker.
pub const LOCK_KEY_PREFIX: &[u8] = b"cognitive-internet/poi/lock/";

/// Offchain-storage prefix of the resend rate limit of commits and reveals.
pub const SENT_KEY_PREFIX: &[u8] = b"cognitive-internet/poi/sent/";

/// Offchain-storage key of the index of everything the off-chain worker stored, so that it can
/// delete it once the job is long settled.
pub const LOCAL_INDEX_KEY: &[u8] = b"cognitive-internet/poi/local-index";

/// Replication from which a job's outcome counts as evidence for reputation. With fewer
/// assignees a "majority" is one node (or two nodes that may be one operator): nothing was
/// verified, so nobody gains or loses reputation.
pub const MIN_VERIFIED_REPLICATION: usize = 3;

/// Largest `slash_fraction` governance may set.
pub const MAX_SLASH_FRACTION: Perbill = Perbill::from_percent(50);

/// Smallest `newcomer_weight` governance may set: a new node must keep a chance to be drawn,
/// or it could never earn the reputation that makes it likely to be drawn.
pub const MIN_NEWCOMER_WEIGHT: Perbill = Perbill::from_percent(1);

/// The persistent offchain-storage key of a job's [`StoredOutput`].
pub fn output_key(job_id: JobId) -> alloc::vec::Vec<u8> {
	let mut key = OUTPUT_KEY_PREFIX.to_vec();
	job_id.encode_to(&mut key);
	key
}

/// The persistent offchain-storage key of the [`LocalResult`] of `node` for the job with
/// `digest`.
pub fn result_key<AccountId: Encode>(digest: &Hash256, node: &AccountId) -> alloc::vec::Vec<u8> {
	let mut key = RESULT_KEY_PREFIX.to_vec();
	key.extend_from_slice(digest);
	node.encode_to(&mut key);
	key
}

/// How the owner of a job asks for its tokens to be chosen (`submit_job`'s `sampling`). The
/// chain adds the seed of a sampled job ([`crate::Pallet::sampling_seed`]).
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
pub enum SamplingRequest {
	/// The most likely token at every step.
	Greedy,
	/// Temperature and nucleus (top-p) sampling.
	Sampled {
		/// Temperature in thousandths (700 = 0.7), from 1 to
		/// [`inference_primitives::MAX_TEMPERATURE_MILLI`]; temperature 0 is `Greedy`.
		temperature_milli: u16,
		/// `top_p` in millionths (950 000 = 0.95), from 1 to 1 000 000 (every token kept).
		top_p_ppm: u32,
	},
}

impl SamplingRequest {
	/// The job's sampling with `seed` for a sampled request.
	pub fn with_seed(self, seed: u64) -> JobSampling {
		match self {
			SamplingRequest::Greedy => JobSampling::Greedy,
			SamplingRequest::Sampled {
				temperature_milli,
				top_p_ppm,
			} => JobSampling::Sampled {
				temperature_milli,
				top_p_ppm,
				seed,
			},
		}
	}
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
	/// No result hash was revealed by more than half of the assignees. The work part of the fee
	/// is refunded; the base part goes to the nodes that revealed (burnt if none did).
	NoMajority,
}

/// Why a node's bond was slashed.
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
pub enum SlashReason {
	/// It revealed a hash contradicting the majority.
	Contradicted,
	/// It committed and never opened its commitment: silence after a commit is no cheaper than
	/// a wrong reveal, so a node cannot commit a guess and reveal only if it matches.
	Unopened,
	/// It was in a job's majority that an audit overturned: it revealed a hash the auditors'
	/// majority contradicted (slashed by `audit_slash_fraction`).
	Overturned,
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
	/// Settled without an agreed result.
	Failed(FailureReason),
	/// A majority agreed on `settled_hash`, and an audit's majority re-executed the job to
	/// `audited_hash`: the settled majority was slashed and the fee went back to the owner.
	Overturned {
		/// The hash the job's majority revealed.
		settled_hash: Hash256,
		/// The hash the auditors' majority revealed.
		audited_hash: Hash256,
	},
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

/// Records the commitment of the member at `index` of a round (an index `check_commit` gave).
pub(crate) fn record_commitment<A, S>(
	members: &mut BoundedVec<Assignment<A>, S>,
	index: usize,
	commitment: Hash256,
) {
	if let Some(member) = members.get_mut(index) {
		member.commitment = Some(commitment);
	}
}

/// Records the revealed hash of the member at `index` of a round (an index `check_reveal`
/// gave); whether every member has now revealed, so the round can be decided.
pub(crate) fn record_reveal<A, S>(
	members: &mut BoundedVec<Assignment<A>, S>,
	index: usize,
	hash: Hash256,
) -> bool {
	if let Some(member) = members.get_mut(index) {
		member.revealed = Some(hash);
	}
	members.iter().all(|m| m.revealed.is_some())
}

/// Which commit-reveal round of a job: its assignment, or an audit of its result.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RoundKind {
	/// The job's assignees.
	Assignment,
	/// The auditors re-executing a settled job.
	Audit,
}

/// One commit-reveal round: its members and deadlines. Both the job's assignment and an audit
/// of it run the same protocol — the same job digest, commit and reveal payloads and
/// signatures — so the checks and the off-chain worker see only this.
#[derive(Clone, Copy, Debug)]
pub struct Round<'a, AccountId, BlockNumber> {
	/// Assignment or audit.
	pub kind: RoundKind,
	/// The members and what they sent.
	pub members: &'a [Assignment<AccountId>],
	/// Commits are accepted in blocks before this one.
	pub commit_deadline: BlockNumber,
	/// Reveals are accepted in blocks before this one.
	pub reveal_deadline: BlockNumber,
}

impl<AccountId: PartialEq, BlockNumber: PartialOrd> Round<'_, AccountId, BlockNumber> {
	/// The position and slot of `node` among the members.
	pub fn member(&self, node: &AccountId) -> Option<(usize, &Assignment<AccountId>)> {
		self.members
			.iter()
			.enumerate()
			.find(|(_, a)| &a.node == node)
	}

	/// Whether reveals may begin at `now`: every member committed, or the commit deadline
	/// passed.
	pub fn commit_phase_over(&self, now: &BlockNumber) -> bool {
		now >= &self.commit_deadline || self.members.iter().all(|a| a.commitment.is_some())
	}
}

/// What an audit found.
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
pub enum Verdict {
	/// The auditors' majority revealed the settled hash.
	Confirmed,
	/// The auditors' majority revealed another hash.
	Overturned {
		/// The hash the auditors agreed on.
		audited_hash: Hash256,
	},
	/// No hash was revealed by more than half of the auditors: the settlement stands.
	Inconclusive,
}

/// A re-execution of a completed job by nodes that were not assigned to it, after a challenge
/// or drawn at random at settlement.
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
pub struct Audit<T: Config> {
	/// Who challenged and the deposit held from them; `None` for an automatic audit.
	pub challenger: Option<(T::AccountId, BalanceOf<T>)>,
	/// The auditors and what they sent (`Params::auditors` of them).
	pub auditors: BoundedVec<Assignment<T::AccountId>, T::MaxReplication>,
	/// Auditors' commits are accepted in blocks before this one.
	pub commit_deadline: BlockNumberFor<T>,
	/// Auditors' reveals are accepted in blocks before this one; the audit concludes at the
	/// start of this block at the latest.
	pub reveal_deadline: BlockNumberFor<T>,
	/// The outcome, once concluded.
	pub verdict: Option<Verdict>,
}

impl<T: Config> Audit<T> {
	/// The audit's commit-reveal round.
	pub fn round(&self) -> Round<'_, T::AccountId, BlockNumberFor<T>> {
		Round {
			kind: RoundKind::Audit,
			members: &self.auditors,
			commit_deadline: self.commit_deadline,
			reveal_deadline: self.reveal_deadline,
		}
	}
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
	/// Who submitted (and pays for) the job; never one of its assignees.
	pub owner: T::AccountId,
	/// The whitelisted model.
	pub model: ModelId,
	/// sha256 of the model file, copied at submission.
	pub model_sha256: Sha256,
	/// The model's determinism settings, copied at submission.
	pub profile: ExecutionProfile,
	/// The engine class the model's results are compared under, copied at submission.
	pub class: DeterminismClass,
	/// How `prompt` is read: text, or chat messages with the template they are rendered with.
	pub format: PromptFormat,
	/// The prompt as [`JobPrompt::stored_bytes`] stores it: UTF-8 text, or the SCALE encoding of
	/// the chat messages.
	pub prompt: BoundedVec<u8, T::MaxPromptBytes>,
	/// Most tokens to generate.
	pub max_tokens: u32,
	/// How tokens are chosen; a sampled job's seed was fixed at assignment.
	pub sampling: JobSampling,
	/// The whole fee, held from `owner` until settlement:
	/// `R × (base_fee + price_per_token × (prompt bytes + max_tokens))`.
	pub fee: BalanceOf<T>,
	/// The part of `fee` that is never refunded: `R × base_fee`.
	pub base_fee: BalanceOf<T>,
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

impl<T: Config> Job<T> {
	/// The assignment's commit-reveal round.
	pub fn round(&self) -> Round<'_, T::AccountId, BlockNumberFor<T>> {
		Round {
			kind: RoundKind::Assignment,
			members: &self.assignees,
			commit_deadline: self.commit_deadline,
			reveal_deadline: self.reveal_deadline,
		}
	}

	/// The prompt length the job was charged for and its work counts
	/// ([`JobPrompt::billed_len`]).
	pub fn billed_prompt_len(&self) -> u32 {
		self.format.billed_len(&self.prompt)
	}

	/// [`inference_primitives::job_digest`] of this job: what results and host slots are keyed
	/// by, so a job id that names another job after a reorg is never answered with this one's
	/// result.
	pub fn digest(&self, job_id: JobId) -> Hash256 {
		inference_primitives::job_digest(
			job_id,
			&self.owner,
			&self.model_sha256,
			&self.profile,
			&self.format,
			&self.prompt,
			self.max_tokens,
			&self.sampling,
			&self.submitted_at,
		)
	}
}

/// The unsettled jobs of one node and the work they add up to.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	frame_support::DefaultNoBound,
	TypeInfo,
	MaxEncodedLen,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct Pending<T: Config> {
	/// The jobs, oldest first (at most `MaxPendingPerNode`).
	pub jobs: BoundedVec<JobId, T::MaxPendingPerNode>,
	/// The sum of their [`crate::Pallet::job_work`] (at most `MaxPendingWork`).
	pub work: u32,
}

/// The statement an inference key signs to commit to a result.
#[derive(
	Encode, Decode, DecodeWithMemTracking, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen,
)]
pub struct CommitPayload<AccountId> {
	/// The job.
	pub job_id: JobId,
	/// The job's [`Job::digest`]: the result was computed for exactly this job. Job ids are
	/// reused across forks (BABE forks whenever two authors claim one slot), and a commit made
	/// for a job on a losing fork must not land on another fork's job of the same id, whose
	/// result the node would then be unable to open.
	pub job_digest: Hash256,
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

/// The bytes an inference key signs for a commit on the chain with `genesis_hash`:
/// `SCALE((COMMIT_CONTEXT, genesis_hash, payload))`.
pub fn commit_payload<AccountId: Encode>(
	genesis_hash: &Hash256,
	payload: &CommitPayload<AccountId>,
) -> alloc::vec::Vec<u8> {
	inference_primitives::signing_payload(COMMIT_CONTEXT, genesis_hash, payload)
}

/// The bytes an inference key signs for a reveal on the chain with `genesis_hash`:
/// `SCALE((REVEAL_CONTEXT, genesis_hash, payload))`.
pub fn reveal_payload<AccountId: Encode>(
	genesis_hash: &Hash256,
	payload: &RevealPayload<AccountId>,
) -> alloc::vec::Vec<u8> {
	inference_primitives::signing_payload(REVEAL_CONTEXT, genesis_hash, payload)
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
	/// Fixed fee per assignee; never refunded (at most `Config::MaxBaseFee`).
	pub base_fee: Balance,
	/// Fee per assignee per unit of work: each prompt byte and each requested token (at most
	/// `Config::MaxPricePerToken`).
	pub price_per_token: Balance,
	/// Blocks from submission to the commit deadline (at least `Config::MinCommitPeriod`: the
	/// runtime sizes `MaxPendingWork` for it).
	pub commit_period: BlockNumber,
	/// Blocks from the commit deadline to the reveal deadline (non-zero).
	pub reveal_period: BlockNumber,
	/// Share of its node bond a node loses for a result contradicting the majority or a
	/// commitment it never opened (at most [`MAX_SLASH_FRACTION`]).
	pub slash_fraction: Perbill,
	/// Assignment weight of a node without verified work (a score below it counts as it;
	/// at least [`MIN_NEWCOMER_WEIGHT`]).
	pub newcomer_weight: Perbill,
	/// Blocks after settlement during which a completed job may be challenged; its fee stays
	/// held from the owner until then (0: no challenges and no automatic audits, the fee is
	/// paid at settlement). When non-zero, `challenge_period + commit_period + reveal_period`
	/// is at most `RetentionPeriod`, so an audit always concludes before the job is pruned.
	pub challenge_period: BlockNumber,
	/// Deposit held from a challenger until the verdict (at most
	/// `Config::MaxChallengeDeposit`): returned, with a share of the slash, if the auditors
	/// overturn the result; paid to the auditors if they confirm it.
	pub challenge_deposit: Balance,
	/// Auditors drawn per audit (`K`, from 1 to `MaxReplication`).
	pub auditors: u8,
	/// Probability that a completed job is audited without a challenge.
	pub audit_rate: Perbill,
	/// Share of its bond a node loses when an audit overturns the majority it was in (at least
	/// `slash_fraction`: a lie that got through costs more than one that did not).
	pub audit_slash_fraction: Perbill,
}

/// The bounds [`Parameters::is_valid`] checks against, from the runtime's constants.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ParameterBounds<Balance, BlockNumber> {
	/// `Config::MinCommitPeriod`.
	pub min_commit_period: BlockNumber,
	/// `Config::MaxBaseFee`.
	pub max_base_fee: Balance,
	/// `Config::MaxPricePerToken`.
	pub max_price_per_token: Balance,
	/// `Config::MaxChallengeDeposit`.
	pub max_challenge_deposit: Balance,
	/// `Config::RetentionPeriod`.
	pub retention_period: BlockNumber,
	/// `Config::MaxReplication`.
	pub max_replication: u32,
}

/// Longest commit period plus reveal period [`Parameters::is_valid`] accepts (12 hours of
/// 3-second blocks), so a fee can never be locked for long.
pub const MAX_JOB_LIFETIME: u32 = 14_400;

impl<Balance: Default, BlockNumber: From<u32>> Default for Parameters<Balance, BlockNumber> {
	fn default() -> Self {
		Self {
			base_fee: Balance::default(),
			price_per_token: Balance::default(),
			// 2 minutes to run the job and commit, 1 minute to reveal, at 6 s blocks.
			commit_period: 20u32.into(),
			reveal_period: 10u32.into(),
			slash_fraction: Perbill::from_percent(1),
			newcomer_weight: Perbill::from_percent(10),
			// Off unless a runtime chooses a window: it must fit the runtime's retention.
			challenge_period: 0u32.into(),
			challenge_deposit: Balance::default(),
			auditors: 3,
			audit_rate: Perbill::from_percent(5),
			audit_slash_fraction: Perbill::from_percent(10),
		}
	}
}

impl<Balance: PartialOrd, BlockNumber: sp_runtime::traits::AtLeast32BitUnsigned + Copy>
	Parameters<Balance, BlockNumber>
{
	/// A commit period of at least `min_commit_period` blocks, a non-zero reveal period, both
	/// summing to at most [`MAX_JOB_LIFETIME`] and, with a non-zero challenge period, to at most
	/// the retention period (an audit, which lasts a commit and a reveal period and starts
	/// within the challenge period, then ends before the job is pruned); between 1 and `max_replication` auditors; an audit slash at least the
	/// ordinary one; and every other value inside its bound.
	pub fn is_valid(&self, bounds: &ParameterBounds<Balance, BlockNumber>) -> bool {
		let lifetime = self.commit_period.saturating_add(self.reveal_period);
		self.commit_period >= bounds.min_commit_period
			&& !self.commit_period.is_zero()
			&& !self.reveal_period.is_zero()
			&& lifetime <= MAX_JOB_LIFETIME.into()
			&& (self.challenge_period.is_zero()
				|| lifetime.saturating_add(self.challenge_period) <= bounds.retention_period)
			&& self.slash_fraction <= MAX_SLASH_FRACTION
			&& self.audit_slash_fraction >= self.slash_fraction
			&& self.newcomer_weight >= MIN_NEWCOMER_WEIGHT
			&& self.base_fee <= bounds.max_base_fee
			&& self.price_per_token <= bounds.max_price_per_token
			&& self.challenge_deposit <= bounds.max_challenge_deposit
			&& self.auditors >= 1
			&& u32::from(self.auditors) <= bounds.max_replication
	}
}

/// What an off-chain worker keeps per job digest and node under [`result_key`] once the engine
/// has produced the output (the output itself is under [`output_key`]).
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub struct LocalResult {
	/// The result hash committed to and revealed.
	pub result_hash: Hash256,
	/// The salt of the commitment (from the node's offchain randomness).
	pub salt: Hash256,
}

/// One entry of the off-chain worker's [`LOCAL_INDEX_KEY`] list.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub struct LocalEntry<AccountId, BlockNumber> {
	/// The job.
	pub job_id: JobId,
	/// Its digest.
	pub digest: Hash256,
	/// The local node that ran it.
	pub node: AccountId,
	/// From this block on, everything stored for it may go: the job has long settled and was
	/// pruned on chain.
	pub expires_at: BlockNumber,
}

/// A job's output as a node stores it for JSON-RPC, under [`output_key`].
///
/// A client checks it by recomputing
/// `inference_primitives::result_hash(job_id, model_sha256, output.prompt_tokens,
/// output.output_tokens)` and comparing it with the job's `Completed { result_hash }` on chain.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub struct StoredOutput {
	/// The digest of the job it answers (a reused job id names another job).
	pub job_digest: Hash256,
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
	pub revealed: Option<Hash256>,
}

/// Everything a client needs to know about a job (runtime API `ProofOfInferenceApi::job`).
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub struct JobView<AccountId, Balance, BlockNumber> {
	/// The job.
	pub job_id: JobId,
	/// Its [`inference_primitives::job_digest`].
	pub digest: Hash256,
	/// Who submitted it.
	pub owner: AccountId,
	/// The model id.
	pub model: ModelId,
	/// sha256 of the model file.
	pub model_sha256: Sha256,
	/// The determinism settings the job runs with.
	pub profile: ExecutionProfile,
	/// How `prompt` is read (text, or chat messages and their template's sha256).
	pub format: PromptFormat,
	/// The prompt as stored: UTF-8 text, or SCALE-encoded chat messages
	/// ([`JobPrompt::from_stored`] reads either).
	pub prompt: alloc::vec::Vec<u8>,
	/// Most tokens to generate.
	pub max_tokens: u32,
	/// How tokens are chosen (with the seed of a sampled job).
	pub sampling: JobSampling,
	/// Replication factor `R` (number of assignees).
	pub replication: u8,
	/// The whole fee.
	pub fee: Balance,
	/// Its non-refundable part.
	pub base_fee: Balance,
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
	/// A completed job may be challenged in blocks before this one (`None` when it cannot be:
	/// not completed, already audited, or the window closed).
	pub challengeable_until: Option<BlockNumber>,
	/// Whether the fee is still held from the owner (a completed job until its challenge
	/// window closes and any audit concluded).
	pub fee_held: bool,
	/// The audit of the job, if one was started.
	pub audit: Option<AuditView<AccountId, Balance, BlockNumber>>,
}

/// An audit as the runtime API shows it.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub struct AuditView<AccountId, Balance, BlockNumber> {
	/// Who challenged and the deposit held; `None` for an automatic audit.
	pub challenger: Option<(AccountId, Balance)>,
	/// The auditors with their commitments and revealed hashes.
	pub auditors: alloc::vec::Vec<AssigneeView<AccountId>>,
	/// Auditors' commits are accepted in blocks before this one.
	pub commit_deadline: BlockNumber,
	/// Auditors' reveals are accepted in blocks before this one.
	pub reveal_deadline: BlockNumber,
	/// The outcome, once concluded.
	pub verdict: Option<Verdict>,
}
