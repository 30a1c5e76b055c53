//! # Proof-of-inference pallet
//!
//! Clients pay for deterministic LLM inference; replicated validators run it off chain and agree
//! on the result by commit-reveal of result hashes.
//!
//! 1. **Submit** — [`submit_job`](Pallet::submit_job) (signed): a whitelisted, active model, a
//!    UTF-8 prompt of at most [`Config::MaxPromptBytes`], `max_tokens` and a replication factor
//!    `R`. The fee `R × (base_fee + price_per_token × (prompt bytes + max_tokens))` is held
//!    ([`HoldReason::JobFee`]): every assignee processes the prompt and the output, so the price
//!    follows the work the network does, not only what the client reads.
//! 2. **Assign** ([`assignment`]) — `R` distinct nodes among the registry's candidates
//!    ([`pallet_node_registry::NodeInspect::candidates`]: active, serving the model, engine
//!    ready for it, of its determinism class), never the job's owner, with room in their pending
//!    index, drawn without replacement with weight `max(score, newcomer_weight)`: a new node
//!    starts low and gains weight with verified work. The seed comes from
//!    [`Config::Randomness`] through one function, [`Pallet::assignment_seed`].
//! 3. **Execute** ([`offchain`]) — each assigned node's off-chain worker hands the job to the
//!    node's inference engine through [`inference_primitives::inference_host_api`], keyed by the
//!    job's digest and with its commit deadline, keeps the output in offchain storage
//!    ([`OUTPUT_KEY_PREFIX`]) and computes
//!    `result_hash = blake2_256(SCALE(job_id, model_sha256, prompt_tokens, output_tokens))`.
//! 4. **Commit** — [`commit`](Pallet::commit), a general transaction authorised by the node's
//!    inference key (`#[pallet::authorize]`, [`authorize`]), carrying
//!    `commitment = blake2_256(result_hash ‖ salt ‖ SCALE(node))`.
//! 5. **Reveal** — once every assignee committed or the commit deadline passed,
//!    [`reveal`](Pallet::reveal) discloses `result_hash` and `salt`; it must open the commitment.
//!    Commits and reveals are signed over the genesis hash too, so they cannot be replayed on
//!    another chain.
//! 6. **Settle** ([`settlement`]) — on the last reveal, or in `on_initialize` of the
//!    reveal-deadline block. A hash revealed by more than `R / 2` assignees completes the job
//!    and the whole fee is split equally among that majority. Without a majority the work part
//!    is refunded and the base part goes to the nodes that revealed (burnt if none did). A node
//!    that revealed another hash, or committed and never revealed, loses `slash_fraction` of its
//!    bond. Reputation counts only for jobs with `R ≥ 3` ([`MIN_VERIFIED_REPLICATION`]) and only
//!    for nodes still registered: agreement is a success, a contradiction or unopened
//!    commitment is a wrong result, silence while others delivered is a miss, and silence when
//!    nobody delivered is a timeout, which weighs far less.
//! 7. **Prune** — settled jobs stay readable for [`Config::RetentionPeriod`] blocks, then
//!    `on_idle` removes them; the off-chain worker deletes its own records later still.
//!
//! A node with unsettled jobs cannot withdraw its bond or switch keys
//! ([`pallet_node_registry::NodeObligations`]).

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

pub use inference_primitives::{
	ChatRole, ChatTurn, Hash256, JobId, JobPrompt, JobSampling, PromptFormat, Sha256,
};
pub use pallet_node_registry::{InferenceKey, InferenceSignature};

pub mod assignment;
pub mod audit;
pub mod authorize;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
pub mod migrations;
#[cfg(test)]
mod mock;
pub mod offchain;
pub mod runtime_api;
pub mod settlement;
mod submission;
#[cfg(test)]
mod tests;
#[cfg(any(feature = "try-runtime", test))]
mod try_state;
mod types;
pub mod weights;

/// Log target of this pallet.
pub const LOG_TARGET: &str = "runtime::proof-of-inference";

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, InspectHold, Mutate, MutateHold},
			Randomness,
		},
	};
	use frame_system::{offchain::CreateAuthorizedTransaction, pallet_prelude::*};
	use pallet_model_registry::{ModelId, ModelInspect};
	use pallet_node_registry::NodeInspect;
	use pallet_reputation::{ReputationInspect, ReputationSink};

	/// Balance type of job fees (and of node bonds: the runtime holds both in one currency).
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
	/// The network parameters of this runtime.
	pub type ParametersOf<T> = Parameters<BalanceOf<T>, BlockNumberFor<T>>;
	/// What the runtime API returns for a job.
	pub type JobViewOf<T> =
		JobView<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;
	pub(crate) type WeightsOf<T> = <T as Config>::WeightInfo;

	const STORAGE_VERSION: StorageVersion = StorageVersion::new(4);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Configuration. The pallet sees its siblings only through traits: the registry's nodes
	/// ([`Config::Nodes`]), the whitelist ([`Config::Models`]) and reputation
	/// ([`Config::Reputation`]).
	#[pallet::config]
	pub trait Config: frame_system::Config + CreateAuthorizedTransaction<Call<Self>> {
		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;
		/// Where job fees are held.
		type Currency: InspectHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ Mutate<Self::AccountId>;
		/// Registered nodes: candidates for a job, inference keys, slashing.
		type Nodes: NodeInspect<Self::AccountId, Balance = BalanceOf<Self>>;
		/// The model whitelist.
		type Models: ModelInspect;
		/// Reputation: assignment weights, and where outcomes go.
		type Reputation: ReputationSink<Self::AccountId> + ReputationInspect<Self::AccountId>;
		/// Randomness of job assignment (see [`Pallet::assignment_seed`]).
		type Randomness: Randomness<Self::Hash, BlockNumberFor<Self>>;
		/// Origin that sets [`Parameters`] (the network-parameters track).
		type ParametersOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// Longest prompt in bytes.
		#[pallet::constant]
		type MaxPromptBytes: Get<u32>;
		/// Largest `max_tokens`.
		#[pallet::constant]
		type MaxTokens: Get<u32>;
		/// Largest replication factor `R` (and bound of a job's assignee list).
		#[pallet::constant]
		type MaxReplication: Get<u32>;
		/// Most jobs sharing one reveal-deadline block.
		#[pallet::constant]
		type MaxJobsPerBlock: Get<u32>;
		/// Most unsettled jobs one node can be assigned (the storage bound of its index).
		#[pallet::constant]
		type MaxPendingPerNode: Get<u32>;
		/// Most unsettled work one node can be assigned, in work units ([`Pallet::job_work`]):
		/// what a node finishes within a commit period, from measured throughput (see the
		/// runtime). A node whose pending work plus a job's would exceed it is skipped.
		#[pallet::constant]
		type MaxPendingWork: Get<u32>;
		/// Shortest commit period governance may set: `MaxPendingWork` is what a node finishes
		/// within it.
		#[pallet::constant]
		type MinCommitPeriod: Get<BlockNumberFor<Self>>;
		/// Work units of one generated token, relative to one prompt byte (a generated token
		/// costs a full forward pass; prompt tokens are evaluated in batches).
		#[pallet::constant]
		type TokenWork: Get<u32>;
		/// Blocks a settled job stays readable before `on_idle` prunes it.
		#[pallet::constant]
		type RetentionPeriod: Get<BlockNumberFor<Self>>;
		/// Expected milliseconds per block: turns the commit deadline into the host's clock.
		#[pallet::constant]
		type BlockTimeMs: Get<u64>;
		/// Largest `base_fee` governance may set.
		#[pallet::constant]
		type MaxBaseFee: Get<BalanceOf<Self>>;
		/// Largest `price_per_token` governance may set.
		#[pallet::constant]
		type MaxPricePerToken: Get<BalanceOf<Self>>;
		/// Largest `challenge_deposit` governance may set.
		#[pallet::constant]
		type MaxChallengeDeposit: Get<BalanceOf<Self>>;
		/// Transaction-pool priority of commits and reveals.
		#[pallet::constant]
		type UnsignedPriority: Get<TransactionPriority>;
		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The fee of a job, held from its owner until it is settled — or, for a completed
		/// job, until its challenge window closed and any audit concluded.
		#[codec(index = 0)]
		JobFee,
		/// A challenger's deposit, held until the audit's verdict.
		#[codec(index = 1)]
		ChallengeDeposit,
	}

	/// The network parameters.
	#[pallet::storage]
	pub type Params<T: Config> = StorageValue<_, ParametersOf<T>, ValueQuery>;

	/// The id the next job gets.
	#[pallet::storage]
	pub type NextJobId<T: Config> = StorageValue<_, JobId, ValueQuery>;

	/// Jobs, pending or settled (settled ones until pruned).
	#[pallet::storage]
	pub type Jobs<T: Config> = StorageMap<_, Twox64Concat, JobId, Job<T>>;

	/// Unsettled jobs of each node, oldest first, and their work (at most
	/// [`Config::MaxPendingPerNode`] jobs and [`Config::MaxPendingWork`] units).
	#[pallet::storage]
	pub type PendingJobs<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, Pending<T>, ValueQuery>;

	/// Unsettled jobs by reveal deadline; `on_initialize` of that block settles them.
	#[pallet::storage]
	pub type Deadlines<T: Config> = StorageMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		BoundedVec<JobId, T::MaxJobsPerBlock>,
		ValueQuery,
	>;

	/// Queue of settled jobs: position → (block from which it may be pruned, job). Positions
	/// `PruneQueueRange.0 .. PruneQueueRange.1` are occupied; blocks are non-decreasing.
	#[pallet::storage]
	pub type PruneQueue<T: Config> = StorageMap<_, Twox64Concat, u64, (BlockNumberFor<T>, JobId)>;

	/// `(head, tail)` of [`PruneQueue`].
	#[pallet::storage]
	pub type PruneQueueRange<T: Config> = StorageValue<_, (u64, u64), ValueQuery>;

	/// Audits of completed jobs, kept until the job is pruned.
	#[pallet::storage]
	pub type Audits<T: Config> = StorageMap<_, Twox64Concat, JobId, Audit<T>>;

	/// Completed jobs whose fee is still held from the owner → the block from which it is
	/// paid out (the end of the challenge window).
	#[pallet::storage]
	pub type Escrow<T: Config> = StorageMap<_, Twox64Concat, JobId, BlockNumberFor<T>>;

	/// Queue of escrowed jobs in settlement order: position → job. Positions
	/// `EscrowQueueRange.0 .. EscrowQueueRange.1` are occupied; `on_initialize` pays out from
	/// the head those whose [`Escrow`] block has come.
	#[pallet::storage]
	pub type EscrowQueue<T: Config> = StorageMap<_, Twox64Concat, u64, JobId>;

	/// `(head, tail)` of [`EscrowQueue`].
	#[pallet::storage]
	pub type EscrowQueueRange<T: Config> = StorageValue<_, (u64, u64), ValueQuery>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Initial network parameters.
		pub parameters: ParametersOf<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			assert!(
				self.parameters.is_valid(&Pallet::<T>::parameter_bounds()),
				"invalid proof-of-inference parameters"
			);
			Params::<T>::put(self.parameters.clone());
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A job was accepted, its fee held and `assignees` chosen.
		JobSubmitted {
			/// The job.
			job_id: JobId,
			/// Who pays.
			owner: T::AccountId,
			/// The model.
			model: ModelId,
			/// The assigned nodes.
			assignees: Vec<T::AccountId>,
			/// The fee held.
			fee: BalanceOf<T>,
		},
		/// An assignee committed to a result.
		Committed {
			/// The job.
			job_id: JobId,
			/// The assignee.
			node: T::AccountId,
		},
		/// An assignee revealed a result hash that opens its commitment.
		Revealed {
			/// The job.
			job_id: JobId,
			/// The assignee.
			node: T::AccountId,
			/// The revealed hash.
			result_hash: Hash256,
		},
		/// A majority agreed on `result_hash`. `shares` lists each majority node's share of the
		/// fee: paid now when `release_at` is `None`, else held from the owner until that block
		/// (the end of the challenge window) and then paid with [`Event::FeeReleased`].
		JobCompleted {
			/// The job.
			job_id: JobId,
			/// The agreed hash.
			result_hash: Hash256,
			/// Fee shares of the majority.
			shares: Vec<(T::AccountId, BalanceOf<T>)>,
			/// Block from which the shares are paid, if they are held until then.
			release_at: Option<BlockNumberFor<T>>,
		},
		/// The held fee of a completed job was paid: `paid` lists what each node received (the
		/// majority's assignees and, after an automatic audit that confirmed the result, the
		/// agreeing auditors).
		FeeReleased {
			/// The job.
			job_id: JobId,
			/// Fee shares paid.
			paid: Vec<(T::AccountId, BalanceOf<T>)>,
		},
		/// A completed job was challenged: `deposit` is held from `challenger` and `auditors`
		/// re-execute the job.
		Challenged {
			/// The job.
			job_id: JobId,
			/// Who challenged.
			challenger: T::AccountId,
			/// The deposit held.
			deposit: BalanceOf<T>,
			/// The auditors drawn.
			auditors: Vec<T::AccountId>,
		},
		/// A completed job was drawn for an automatic audit; `auditors` re-execute it.
		AuditStarted {
			/// The job.
			job_id: JobId,
			/// The auditors drawn.
			auditors: Vec<T::AccountId>,
		},
		/// An audit concluded. On [`Verdict::Overturned`] the settled majority was slashed
		/// (`NodeSlashed` events), `refunded` went back to the owner and `rewarded` lists the
		/// slash's shares paid to the challenger and the agreeing auditors; on
		/// [`Verdict::Confirmed`] after a challenge, `rewarded` lists the deposit's shares paid
		/// to the agreeing auditors.
		AuditConcluded {
			/// The job.
			job_id: JobId,
			/// What the auditors found.
			verdict: Verdict,
			/// Fee returned to the job's owner.
			refunded: BalanceOf<T>,
			/// Rewards paid.
			rewarded: Vec<(T::AccountId, BalanceOf<T>)>,
		},
		/// The job settled without an agreed result: `refunded` went back to the owner, `paid`
		/// lists the base-fee shares of the nodes that revealed, `burnt` is the base fee nobody
		/// earned.
		JobFailed {
			/// The job.
			job_id: JobId,
			/// Why.
			reason: FailureReason,
			/// Refunded to the owner (the work part).
			refunded: BalanceOf<T>,
			/// Base-fee shares paid.
			paid: Vec<(T::AccountId, BalanceOf<T>)>,
			/// Base fee burnt.
			burnt: BalanceOf<T>,
		},
		/// A node's bond was slashed for `reason`; `amount` was burnt.
		NodeSlashed {
			/// The job.
			job_id: JobId,
			/// The node.
			node: T::AccountId,
			/// Why.
			reason: SlashReason,
			/// Burnt from its bond.
			amount: BalanceOf<T>,
		},
		/// Governance replaced the network parameters.
		ParametersSet {
			/// The new parameters.
			parameters: ParametersOf<T>,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The model is not in the whitelist.
		UnknownModel,
		/// The model is deprecated and takes no new jobs.
		ModelNotActive,
		/// The prompt is empty.
		EmptyPrompt,
		/// The prompt is not valid UTF-8.
		InvalidPrompt,
		/// The prompt's billed length ([`JobPrompt::billed_len`]) is above `MaxPromptBytes`.
		PromptTooLong,
		/// `max_tokens` is zero or above `MaxTokens`.
		InvalidMaxTokens,
		/// `MaxPromptBytes + 1 + max_tokens` exceeds the model's context size.
		ContextOverflow,
		/// The replication factor is zero or above `MaxReplication`.
		InvalidReplication,
		/// Fewer eligible nodes than the replication factor (the owner's own node never counts).
		NotEnoughNodes,
		/// The fee overflows the balance type.
		FeeOverflow,
		/// The free balance cannot cover the fee.
		InsufficientBalance,
		/// The reveal-deadline block already has `MaxJobsPerBlock` jobs (or job ids ran out).
		TooManyJobs,
		/// No such job (or it was pruned).
		UnknownJob,
		/// The job is already settled.
		JobSettled,
		/// The node is not assigned to the job.
		NotAssigned,
		/// The node already committed.
		AlreadyCommitted,
		/// The commit deadline has passed.
		CommitPhaseClosed,
		/// A reveal before the commit phase ends (not all assignees committed and the commit
		/// deadline has not passed).
		CommitPhaseOpen,
		/// The reveal deadline has passed.
		RevealPhaseClosed,
		/// A reveal from a node that did not commit.
		NoCommit,
		/// The node already revealed.
		AlreadyRevealed,
		/// `commitment(result_hash, salt, node)` differs from the node's commitment.
		RevealMismatch,
		/// A commit period below `MinCommitPeriod`, a zero reveal period, periods longer than
		/// `MAX_JOB_LIFETIME` in total, or a fee, slash fraction or newcomer weight outside its
		/// bounds.
		InvalidParameters,
		/// The commit names another job than the one of this id: its digest differs (a job of
		/// the same id on another fork).
		WrongJob,
		/// A sampled job's temperature is 0 or above `MAX_TEMPERATURE_MILLI`, or its `top_p` is 0
		/// or above 1 000 000 millionths.
		InvalidSampling,
		/// Only a completed job can be challenged.
		NotCompleted,
		/// The job's challenge window has closed (or challenges are off: a zero period).
		ChallengeWindowClosed,
		/// The job was already audited, or is being audited.
		AlreadyAudited,
		/// Only the job's owner or a registered node may challenge, and never one of the
		/// job's assignees.
		NotAllowedToChallenge,
		/// Fewer eligible nodes than `auditors` outside the job's assignees, owner and
		/// challenger.
		NotEnoughAuditors,
		/// The challenger's free balance cannot cover the deposit.
		InsufficientDeposit,
		/// A chat job has more than `MAX_CHAT_TURNS` messages.
		TooManyChatTurns,
		/// A chat job names a model whose whitelist entry records no chat template.
		NoChatTemplate,
	}

	#[pallet::extra_constants]
	impl<T: Config> Pallet<T> {
		/// Most messages in a chat job (`inference_primitives::MAX_CHAT_TURNS`).
		#[pallet::constant_name(MaxChatTurns)]
		fn max_chat_turns() -> u32 {
			inference_primitives::MAX_CHAT_TURNS
		}

		/// Prompt bytes a chat job is charged per message and once more for the assistant's
		/// turn, for the template's own markers (`inference_primitives::CHAT_TURN_ALLOWANCE`).
		#[pallet::constant_name(ChatTurnAllowance)]
		fn chat_turn_allowance() -> u32 {
			inference_primitives::CHAT_TURN_ALLOWANCE
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			let mut weight = T::DbWeight::get().reads_writes(1, 1);
			let due = Deadlines::<T>::take(now);
			let settle = WeightsOf::<T>::settle(T::MaxReplication::get());
			let conclude = WeightsOf::<T>::conclude_audit(T::MaxReplication::get());
			for job_id in due {
				weight.saturating_accrue(T::DbWeight::get().reads(2));
				let Some(job) = Jobs::<T>::get(job_id) else {
					continue;
				};
				if job.status == JobState::Pending {
					weight.saturating_accrue(settle);
					if Self::settle(job_id, job) {
						weight.saturating_accrue(WeightsOf::<T>::challenge(T::Nodes::max_nodes()));
					}
				} else if let Some(audit) = Audits::<T>::get(job_id)
					.filter(|a| a.verdict.is_none() && a.reveal_deadline == now)
				{
					weight.saturating_accrue(conclude);
					Self::conclude_audit(job_id, job, audit);
				}
			}
			weight.saturating_add(Self::release_due(now))
		}

		fn on_idle(now: BlockNumberFor<T>, remaining: Weight) -> Weight {
			Self::prune(now, remaining)
		}

		fn offchain_worker(now: BlockNumberFor<T>) {
			if sp_io::offchain::is_validator() {
				offchain::work::<T>(now);
			}
		}

		fn integrity_test() {
			assert!(
				T::MaxReplication::get() > 0 && T::MaxReplication::get() <= u8::MAX as u32,
				"MaxReplication must be in 1..=255"
			);
			assert!(T::MaxTokens::get() > 0, "MaxTokens must be non-zero");
			assert!(
				T::MaxPromptBytes::get() > 0,
				"MaxPromptBytes must be non-zero"
			);
			assert!(
				T::MaxJobsPerBlock::get() > 0,
				"MaxJobsPerBlock must be non-zero"
			);
			assert!(
				T::MaxPendingPerNode::get() > 0,
				"MaxPendingPerNode must be non-zero"
			);
			assert!(T::BlockTimeMs::get() > 0, "BlockTimeMs must be non-zero");
			assert!(
				Self::job_work(T::MaxPromptBytes::get(), T::MaxTokens::get())
					<= T::MaxPendingWork::get(),
				"MaxPendingWork must hold the largest job, or it could never be assigned"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Submit an inference job: hold the fee and assign `replication` nodes.
		///
		/// The model must be whitelisted and active. The prompt is text (non-empty UTF-8, the
		/// model continues it) or chat messages (1 to `MAX_CHAT_TURNS`, each non-empty UTF-8;
		/// the model's chat template, whose hash its whitelist entry records, renders them with
		/// the assistant's turn opened, so the model answers; a model without a template takes
		/// no chat). Its billed length ([`JobPrompt::billed_len`]: the bytes, plus
		/// `CHAT_TURN_ALLOWANCE` per message and once more for a chat) is at most
		/// `MaxPromptBytes`; `1 <= max_tokens <= MaxTokens` with
		/// `MaxPromptBytes + 1 + max_tokens <= n_ctx` of the model;
		/// `1 <= replication <= MaxReplication`. `sampling` is greedy, or a temperature (in
		/// thousandths, `1..=MAX_TEMPERATURE_MILLI`) and `top_p` (in millionths,
		/// `1..=1_000_000`): the chain adds the seed ([`Pallet::sampling_seed`]), so every
		/// assignee draws the same tokens and the result stays verifiable.
		///
		/// Emits [`Event::JobSubmitted`].
		#[pallet::call_index(0)]
		#[pallet::weight(WeightsOf::<T>::submit_job(T::Nodes::max_nodes()))]
		pub fn submit_job(
			origin: OriginFor<T>,
			model: ModelId,
			prompt: JobPrompt,
			max_tokens: u32,
			replication: u8,
			sampling: SamplingRequest,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			Self::do_submit_job(owner, model, prompt, max_tokens, replication, sampling)
		}

		/// Commit to a result: an assigned node's `commitment =
		/// blake2_256(result_hash ‖ salt ‖ SCALE(node))`, signed by its inference key over
		/// [`commit_payload`]. Sent by the off-chain worker as a general transaction; needs no
		/// account and pays no fee. Accepted once per node, before the commit deadline.
		///
		/// Emits [`Event::Committed`].
		#[pallet::call_index(1)]
		#[pallet::weight(WeightsOf::<T>::commit())]
		#[pallet::authorize(Pallet::<T>::authorize_commit)]
		#[pallet::weight_of_authorize(WeightsOf::<T>::authorize_commit())]
		pub fn commit(
			origin: OriginFor<T>,
			commit: CommitPayload<T::AccountId>,
			signature: InferenceSignature,
		) -> DispatchResult {
			ensure_authorized(origin)?;
			// `authorize_commit` already checked the signature for this transaction.
			let _ = signature;
			let now = frame_system::Pallet::<T>::block_number();
			let mut job = Jobs::<T>::get(commit.job_id).ok_or(Error::<T>::UnknownJob)?;
			let digest = job.digest(commit.job_id);
			match Self::open_audit(commit.job_id, &job)? {
				None => {
					let index = Self::check_commit(&job.round(), &digest, &commit, now)?;
					record_commitment(&mut job.assignees, index, commit.commitment);
					Jobs::<T>::insert(commit.job_id, job);
				},
				Some(mut audit) => {
					let index = Self::check_commit(&audit.round(), &digest, &commit, now)?;
					record_commitment(&mut audit.auditors, index, commit.commitment);
					Audits::<T>::insert(commit.job_id, audit);
				},
			}
			Self::deposit_event(Event::Committed {
				job_id: commit.job_id,
				node: commit.node,
			});
			Ok(())
		}

		/// Reveal a result: the `result_hash` and `salt` that open the node's commitment, signed
		/// by its inference key over [`reveal_payload`]. Accepted once every assignee committed
		/// or the commit deadline passed, and before the reveal deadline. The last reveal
		/// settles the job.
		///
		/// Emits [`Event::Revealed`], and the settlement's events on the last reveal.
		#[pallet::call_index(2)]
		#[pallet::weight(WeightsOf::<T>::reveal().saturating_add(
			// The last reveal settles (and may start an automatic audit) or concludes an audit.
			WeightsOf::<T>::settle(T::MaxReplication::get())
				.saturating_add(WeightsOf::<T>::challenge(T::Nodes::max_nodes()))
				.max(WeightsOf::<T>::conclude_audit(T::MaxReplication::get()))
		))]
		#[pallet::authorize(Pallet::<T>::authorize_reveal)]
		#[pallet::weight_of_authorize(WeightsOf::<T>::authorize_reveal())]
		pub fn reveal(
			origin: OriginFor<T>,
			reveal: RevealPayload<T::AccountId>,
			signature: InferenceSignature,
		) -> DispatchResultWithPostInfo {
			ensure_authorized(origin)?;
			// `authorize_reveal` already checked the signature for this transaction.
			let _ = signature;
			let now = frame_system::Pallet::<T>::block_number();
			let job_id = reveal.job_id;
			let mut job = Jobs::<T>::get(job_id).ok_or(Error::<T>::UnknownJob)?;
			let mut weight = WeightsOf::<T>::reveal();
			let revealed = Event::Revealed {
				job_id,
				node: reveal.node.clone(),
				result_hash: reveal.result_hash,
			};
			match Self::open_audit(job_id, &job)? {
				None => {
					let index = Self::check_reveal(&job.round(), &reveal, now)?;
					let all = record_reveal(&mut job.assignees, index, reveal.result_hash);
					Self::deposit_event(revealed);
					if all {
						weight
							.saturating_accrue(WeightsOf::<T>::settle(job.assignees.len() as u32));
						if Self::settle(job_id, job) {
							weight.saturating_accrue(WeightsOf::<T>::challenge(
								T::Nodes::max_nodes(),
							));
						}
					} else {
						Jobs::<T>::insert(job_id, job);
					}
				},
				Some(mut audit) => {
					let index = Self::check_reveal(&audit.round(), &reveal, now)?;
					let all = record_reveal(&mut audit.auditors, index, reveal.result_hash);
					Self::deposit_event(revealed);
					if all {
						weight.saturating_accrue(WeightsOf::<T>::conclude_audit(
							audit.auditors.len() as u32,
						));
						Self::conclude_audit(job_id, job, audit);
					} else {
						Audits::<T>::insert(job_id, audit);
					}
				},
			}
			Ok(Some(weight).into())
		}

		/// Replace the network parameters (fees apply to jobs submitted afterwards; running
		/// jobs keep their deadlines).
		///
		/// Origin: [`Config::ParametersOrigin`]. Emits [`Event::ParametersSet`].
		#[pallet::call_index(3)]
		#[pallet::weight(WeightsOf::<T>::set_parameters())]
		pub fn set_parameters(origin: OriginFor<T>, parameters: ParametersOf<T>) -> DispatchResult {
			T::ParametersOrigin::ensure_origin(origin)?;
			ensure!(
				parameters.is_valid(&Self::parameter_bounds()),
				Error::<T>::InvalidParameters
			);
			Params::<T>::put(parameters.clone());
			Self::deposit_event(Event::ParametersSet { parameters });
			Ok(())
		}

		/// Challenge a completed job's result: hold `challenge_deposit` and draw `auditors`
		/// nodes of the model's determinism class that were not assigned to it, which re-execute
		/// it and commit and reveal like assignees. Allowed to the job's owner and to any
		/// registered node that is not one of its assignees, within `challenge_period` blocks
		/// of settlement, once per job (an automatic audit counts).
		///
		/// Emits [`Event::Challenged`]; the verdict comes with [`Event::AuditConcluded`].
		#[pallet::call_index(4)]
		#[pallet::weight(WeightsOf::<T>::challenge(T::Nodes::max_nodes()))]
		pub fn challenge(origin: OriginFor<T>, job_id: JobId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_challenge(who, job_id)
		}
	}

	impl<T: Config> Pallet<T> {
		/// Work units of a job: `prompt_len + TokenWork × max_tokens`.
		pub fn job_work(prompt_len: u32, max_tokens: u32) -> u32 {
			prompt_len.saturating_add(T::TokenWork::get().saturating_mul(max_tokens))
		}

		/// The bounds of [`Parameters`] in this runtime.
		pub fn parameter_bounds() -> ParameterBounds<BalanceOf<T>, BlockNumberFor<T>> {
			ParameterBounds {
				min_commit_period: T::MinCommitPeriod::get(),
				max_base_fee: T::MaxBaseFee::get(),
				max_price_per_token: T::MaxPricePerToken::get(),
				max_challenge_deposit: T::MaxChallengeDeposit::get(),
				retention_period: T::RetentionPeriod::get(),
				max_replication: T::MaxReplication::get(),
			}
		}

		/// Everything about a job, for the runtime API.
		pub fn job_view(job_id: JobId) -> Option<JobViewOf<T>> {
			let job = Jobs::<T>::get(job_id)?;
			let audit = Audits::<T>::get(job_id);
			let now = frame_system::Pallet::<T>::block_number();
			let challengeable_until = Self::challenge_window_end(job_id).filter(|end| {
				audit.is_none() && now < *end && matches!(job.status, JobState::Completed { .. })
			});
			Some(JobView {
				job_id,
				digest: job.digest(job_id),
				owner: job.owner,
				model: job.model,
				model_sha256: job.model_sha256,
				profile: job.profile,
				format: job.format,
				prompt: job.prompt.into_inner(),
				max_tokens: job.max_tokens,
				sampling: job.sampling,
				replication: job.assignees.len().try_into().unwrap_or(u8::MAX),
				fee: job.fee,
				base_fee: job.base_fee,
				status: job.status,
				assignees: job
					.assignees
					.into_iter()
					.map(|a| AssigneeView {
						node: a.node,
						commitment: a.commitment,
						revealed: a.revealed,
					})
					.collect(),
				submitted_at: job.submitted_at,
				commit_deadline: job.commit_deadline,
				reveal_deadline: job.reveal_deadline,
				settled_at: job.settled_at,
				challengeable_until,
				fee_held: Escrow::<T>::contains_key(job_id) || job.status == JobState::Pending,
				audit: audit.map(|a| AuditView {
					challenger: a.challenger,
					auditors: a
						.auditors
						.into_iter()
						.map(|a| AssigneeView {
							node: a.node,
							commitment: a.commitment,
							revealed: a.revealed,
						})
						.collect(),
					commit_deadline: a.commit_deadline,
					reveal_deadline: a.reveal_deadline,
					verdict: a.verdict,
				}),
			})
		}

		/// The unsettled jobs assigned to `node`, oldest first, for the runtime API.
		pub fn pending_jobs(node: &T::AccountId) -> Vec<JobId> {
			PendingJobs::<T>::get(node).jobs.into_inner()
		}
	}

	/// A node with unsettled jobs keeps its bond and its key.
	impl<T: Config> pallet_node_registry::NodeObligations<T::AccountId> for Pallet<T> {
		fn has_pending(who: &T::AccountId) -> bool {
			PendingJobs::<T>::contains_key(who)
		}
	}
}
