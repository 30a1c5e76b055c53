//! # Proof-of-inference pallet
//!
//! Clients pay for deterministic LLM inference; replicated validators run it off chain and agree
//! on the result by commit-reveal of result hashes.
//!
//! 1. **Submit** — [`submit_job`](Pallet::submit_job) (signed): a whitelisted, active model, a
//!    UTF-8 prompt of at most [`Config::MaxPromptBytes`], `max_tokens` and a replication factor
//!    `R`. The fee `base_fee + price_per_token × max_tokens` is held ([`HoldReason::JobFee`]).
//! 2. **Assign** — `R` distinct nodes that are registered, [`NodeStatus::Active`], serve the model
//!    and have room in their pending index, drawn by reputation-weighted sampling without
//!    replacement. The job records the model's sha256 and determinism profile, a commit deadline
//!    (`now + commit_period`) and a reveal deadline (`commit deadline + reveal_period`).
//! 3. **Execute** — each assigned node's off-chain worker hands the job to the node's inference
//!    engine through [`inference_primitives::inference_host`], keeps the output in offchain
//!    storage ([`OUTPUT_KEY_PREFIX`]) and computes
//!    `result_hash = blake2_256(SCALE(job_id, model_sha256, prompt_tokens, output_tokens))`.
//! 4. **Commit** — [`commit`](Pallet::commit), a general transaction authorised by the node's
//!    inference key (`#[pallet::authorize]`), carrying
//!    `commitment = blake2_256(result_hash ‖ salt ‖ SCALE(node))`.
//! 5. **Reveal** — once every assignee committed or the commit deadline passed,
//!    [`reveal`](Pallet::reveal) discloses `result_hash` and `salt`; it must open the commitment.
//! 6. **Settle** — on the last reveal, or in `on_initialize` of the reveal-deadline block: a hash
//!    revealed by more than `R / 2` assignees completes the job. The fee is split equally among
//!    that majority (the rounding remainder goes to the first majority node in assignment order),
//!    the majority gains reputation, minority revealers and silent nodes lose it, and each
//!    minority revealer is slashed `slash_fraction` of its node bond (burnt). Without a majority
//!    the fee is refunded and only silent nodes lose reputation.
//! 7. **Prune** — settled jobs stay readable for [`Config::RetentionPeriod`] blocks, then
//!    `on_idle` removes them.
//!
//! Assignment randomness is `blake2_256(SCALE(ASSIGNMENT_CONTEXT, parent_hash, job_id))`. The
//! runtime has no randomness beacon: the author of the parent block (an Aura validator) can bias
//! it by choosing what to include or by withholding a block. A VRF-based source (BABE or a
//! randomness pallet) would replace it without changing anything else.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

pub use inference_primitives::{Hash256, JobId, Sha256};
pub use pallet_node_registry::{InferenceKey, InferenceSignature};

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
pub mod runtime_api;
#[cfg(test)]
mod tests;
mod types;
pub mod weights;

/// `InvalidTransaction::Custom` code: the job does not exist (or was pruned).
pub const INVALID_UNKNOWN_JOB: u8 = 1;
/// `InvalidTransaction::Custom` code: the node is not assigned to the job.
pub const INVALID_NOT_ASSIGNED: u8 = 2;
/// `InvalidTransaction::Custom` code: the node is not registered.
pub const INVALID_UNKNOWN_NODE: u8 = 3;
/// `InvalidTransaction::Custom` code: a reveal from a node that did not commit.
pub const INVALID_NO_COMMIT: u8 = 4;
/// `InvalidTransaction::Custom` code: the reveal does not open the node's commitment.
pub const INVALID_REVEAL_MISMATCH: u8 = 5;

/// Domain separator of the assignment randomness.
pub const ASSIGNMENT_CONTEXT: &[u8] = b"cognitive-internet/poi/assign/v1";

/// Log target of this pallet.
pub const LOG_TARGET: &str = "runtime::proof-of-inference";

/// Blocks after which the off-chain worker re-sends a commit or reveal that has not landed.
pub const RESEND_BLOCKS: u32 = 3;

/// How long the off-chain worker's per-job lock lasts (blocks, and milliseconds) if a worker
/// dies holding it.
const LOCK_BLOCKS: u32 = 2;
const LOCK_MILLIS: u64 = 20_000;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, InspectHold, Mutate, MutateHold},
			tokens::{Fortitude, Precision, Restriction},
		},
	};
	use frame_system::{
		offchain::{CreateAuthorizedTransaction, SubmitTransaction},
		pallet_prelude::*,
	};
	use inference_primitives::{inference_host, ExecutionProfile, JobRequest, JobStatus};
	use pallet_model_registry::{ModelId, ModelStatus};
	use pallet_node_registry::{NodeByKey, NodeStatus, Nodes};
	use pallet_reputation::{ReputationInspect, ReputationSink};
	use sp_runtime::{
		offchain::{
			storage::StorageValueRef,
			storage_lock::{BlockAndTime, StorageLock},
			Duration,
		},
		traits::{CheckedAdd, CheckedMul, Saturating, Zero},
		RuntimeAppPublic, SaturatedConversion,
	};

	/// Balance type of job fees.
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
	/// Balance type of node bonds (the node registry's).
	pub type BondBalanceOf<T> = pallet_node_registry::BalanceOf<T>;
	/// The network parameters of this runtime.
	pub type ParametersOf<T> = Parameters<BalanceOf<T>, BlockNumberFor<T>>;
	/// What the runtime API returns for a job.
	pub type JobViewOf<T> =
		JobView<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>>;
	type WeightsOf<T> = <T as Config>::WeightInfo;
	type ReputationOf<T> = <T as pallet_node_registry::Config>::Reputation;

	const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Configuration. The pallet reads the model registry's storage (sha256 and determinism
	/// profile of a model) and the node registry's (status, served models and inference key of
	/// a node), so the runtime must use those two pallets; it reports outcomes to the node
	/// registry's `Reputation` sink and slashes through [`pallet_node_registry::Pallet::slash_bond`].
	#[pallet::config]
	pub trait Config:
		frame_system::Config
		+ pallet_model_registry::Config
		+ pallet_node_registry::Config
		+ CreateAuthorizedTransaction<Call<Self>>
	{
		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;
		/// Where job fees are held.
		type Currency: InspectHold<Self::AccountId, Reason = <Self as Config>::RuntimeHoldReason>
			+ MutateHold<Self::AccountId, Reason = <Self as Config>::RuntimeHoldReason>
			+ Mutate<Self::AccountId>;
		/// Reputation scores, the weights of assignment sampling.
		type Scores: ReputationInspect<Self::AccountId>;
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
		/// Most unsettled jobs one node can be assigned; a node with this many is skipped.
		#[pallet::constant]
		type MaxPendingPerNode: Get<u32>;
		/// Blocks a settled job stays readable before `on_idle` prunes it.
		#[pallet::constant]
		type RetentionPeriod: Get<BlockNumberFor<Self>>;
		/// Transaction-pool priority of commits and reveals.
		#[pallet::constant]
		type UnsignedPriority: Get<TransactionPriority>;
		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The fee of an unsettled job, held from its owner.
		#[codec(index = 0)]
		JobFee,
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

	/// Unsettled jobs of each node, oldest first (at most [`Config::MaxPendingPerNode`]).
	#[pallet::storage]
	pub type PendingJobs<T: Config> = StorageMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		BoundedVec<JobId, T::MaxPendingPerNode>,
		ValueQuery,
	>;

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
				self.parameters.is_valid(),
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
			job_id: JobId,
			owner: T::AccountId,
			model: ModelId,
			assignees: Vec<T::AccountId>,
			fee: BalanceOf<T>,
		},
		/// An assignee committed to a result.
		Committed { job_id: JobId, node: T::AccountId },
		/// An assignee revealed a result hash that opens its commitment.
		Revealed {
			job_id: JobId,
			node: T::AccountId,
			result_hash: Hash256,
		},
		/// A majority agreed on `result_hash`; `paid` lists what each majority node received.
		JobCompleted {
			job_id: JobId,
			result_hash: Hash256,
			paid: Vec<(T::AccountId, BalanceOf<T>)>,
		},
		/// The job settled without an agreed result; the fee was refunded.
		JobFailed {
			job_id: JobId,
			reason: FailureReason,
		},
		/// A node revealed a hash contradicting the majority; `amount` of its bond was burnt.
		NodeSlashed {
			job_id: JobId,
			node: T::AccountId,
			amount: BondBalanceOf<T>,
		},
		/// Governance replaced the network parameters.
		ParametersSet { parameters: ParametersOf<T> },
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
		/// The prompt is longer than `MaxPromptBytes`.
		PromptTooLong,
		/// `max_tokens` is zero or above `MaxTokens`.
		InvalidMaxTokens,
		/// `MaxPromptBytes + 1 + max_tokens` exceeds the model's context size.
		ContextOverflow,
		/// The replication factor is zero or above `MaxReplication`.
		InvalidReplication,
		/// Fewer eligible nodes than the replication factor.
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
		/// Zero periods, or periods longer than `MAX_JOB_LIFETIME` in total.
		InvalidParameters,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			let mut weight = T::DbWeight::get().reads_writes(1, 1);
			let due = Deadlines::<T>::take(now);
			let settle = WeightsOf::<T>::settle(T::MaxReplication::get());
			for job_id in due {
				weight.saturating_accrue(T::DbWeight::get().reads(1));
				if let Some(job) = Jobs::<T>::get(job_id).filter(|j| j.status == JobState::Pending)
				{
					weight.saturating_accrue(settle);
					Self::settle(job_id, job);
				}
			}
			weight
		}

		fn on_idle(now: BlockNumberFor<T>, remaining: Weight) -> Weight {
			Self::prune(now, remaining)
		}

		fn offchain_worker(now: BlockNumberFor<T>) {
			if sp_io::offchain::is_validator() {
				Self::work(now);
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
		/// The model must be whitelisted and active; the prompt non-empty UTF-8 of at most
		/// `MaxPromptBytes`; `1 <= max_tokens <= MaxTokens` with
		/// `MaxPromptBytes + 1 + max_tokens <= n_ctx` of the model;
		/// `1 <= replication <= MaxReplication`.
		///
		/// Emits [`Event::JobSubmitted`].
		#[pallet::call_index(0)]
		#[pallet::weight(WeightsOf::<T>::submit_job(
			<T as pallet_node_registry::Config>::MaxNodes::get()
		))]
		pub fn submit_job(
			origin: OriginFor<T>,
			model: ModelId,
			prompt: Vec<u8>,
			max_tokens: u32,
			replication: u8,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			let entry =
				pallet_model_registry::Models::<T>::get(model).ok_or(Error::<T>::UnknownModel)?;
			ensure!(
				entry.status == ModelStatus::Active,
				Error::<T>::ModelNotActive
			);
			ensure!(!prompt.is_empty(), Error::<T>::EmptyPrompt);
			let prompt: BoundedVec<u8, T::MaxPromptBytes> =
				prompt.try_into().map_err(|_| Error::<T>::PromptTooLong)?;
			ensure!(
				core::str::from_utf8(&prompt).is_ok(),
				Error::<T>::InvalidPrompt
			);
			ensure!(
				max_tokens >= 1 && max_tokens <= T::MaxTokens::get(),
				Error::<T>::InvalidMaxTokens
			);
			ensure!(
				replication >= 1 && u32::from(replication) <= T::MaxReplication::get(),
				Error::<T>::InvalidReplication
			);
			let profile = &entry.info.profile;
			let needed = T::MaxPromptBytes::get()
				.saturating_add(1)
				.saturating_add(max_tokens);
			ensure!(needed <= profile.n_ctx, Error::<T>::ContextOverflow);

			let params = Params::<T>::get();
			let fee = params
				.price_per_token
				.checked_mul(&max_tokens.into())
				.and_then(|f| f.checked_add(&params.base_fee))
				.ok_or(Error::<T>::FeeOverflow)?;
			let job_id = NextJobId::<T>::get();
			let next = job_id.checked_add(1).ok_or(Error::<T>::TooManyJobs)?;
			let nodes = Self::assign(job_id, model, replication)?;

			let now = frame_system::Pallet::<T>::block_number();
			let commit_deadline = now.saturating_add(params.commit_period);
			let reveal_deadline = commit_deadline.saturating_add(params.reveal_period);
			Deadlines::<T>::try_mutate(reveal_deadline, |bucket| bucket.try_push(job_id))
				.map_err(|_| Error::<T>::TooManyJobs)?;
			<T as Config>::Currency::hold(&HoldReason::JobFee.into(), &owner, fee)
				.map_err(|_| Error::<T>::InsufficientBalance)?;
			let mut assignees = BoundedVec::<_, T::MaxReplication>::new();
			for node in &nodes {
				// `assign` only picks nodes with room in their index.
				PendingJobs::<T>::try_mutate(node, |pending| pending.try_push(job_id))
					.map_err(|_| Error::<T>::NotEnoughNodes)?;
				assignees
					.try_push(Assignment {
						node: node.clone(),
						commitment: None,
						revealed: None,
					})
					.map_err(|_| Error::<T>::InvalidReplication)?;
			}
			Jobs::<T>::insert(
				job_id,
				Job {
					owner: owner.clone(),
					model,
					model_sha256: entry.info.sha256,
					profile: ExecutionProfile {
						n_ctx: profile.n_ctx,
						n_batch: profile.n_batch,
						n_ubatch: profile.n_ubatch,
					},
					prompt,
					max_tokens,
					fee,
					assignees,
					submitted_at: now,
					commit_deadline,
					reveal_deadline,
					status: JobState::Pending,
					settled_at: None,
				},
			);
			NextJobId::<T>::put(next);
			Self::deposit_event(Event::JobSubmitted {
				job_id,
				owner,
				model,
				assignees: nodes,
				fee,
			});
			Ok(())
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
			Jobs::<T>::try_mutate(commit.job_id, |job| {
				let job = job.as_mut().ok_or(Error::<T>::UnknownJob)?;
				let index = Self::check_commit(job, &commit.node, now)?;
				if let Some(slot) = job.assignees.get_mut(index) {
					slot.commitment = Some(commit.commitment);
				}
				Ok::<_, Error<T>>(())
			})?;
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
		#[pallet::weight(WeightsOf::<T>::reveal()
			.saturating_add(WeightsOf::<T>::settle(T::MaxReplication::get())))]
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
			let mut job = Jobs::<T>::get(reveal.job_id).ok_or(Error::<T>::UnknownJob)?;
			let index = Self::check_reveal(&job, &reveal, now)?;
			if let Some(slot) = job.assignees.get_mut(index) {
				slot.revealed = Some(reveal.result_hash);
			}
			Self::deposit_event(Event::Revealed {
				job_id: reveal.job_id,
				node: reveal.node,
				result_hash: reveal.result_hash,
			});
			let mut weight = WeightsOf::<T>::reveal();
			if job.assignees.iter().all(|a| a.revealed.is_some()) {
				weight.saturating_accrue(WeightsOf::<T>::settle(job.assignees.len() as u32));
				Self::settle(reveal.job_id, job);
			} else {
				Jobs::<T>::insert(reveal.job_id, job);
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
			ensure!(parameters.is_valid(), Error::<T>::InvalidParameters);
			Params::<T>::put(parameters.clone());
			Self::deposit_event(Event::ParametersSet { parameters });
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// Whether the commit phase of `job` is over at `now`: every assignee committed or the
		/// commit deadline passed.
		pub fn commit_phase_over(job: &Job<T>, now: BlockNumberFor<T>) -> bool {
			now >= job.commit_deadline || job.assignees.iter().all(|a| a.commitment.is_some())
		}

		/// Picks `r` distinct eligible nodes for `job_id` by reputation-weighted sampling
		/// without replacement. Eligible: registered, `Active`, serving `model`, with room in
		/// its pending index. O(nodes × r).
		pub(crate) fn assign(
			job_id: JobId,
			model: ModelId,
			r: u8,
		) -> Result<Vec<T::AccountId>, Error<T>> {
			let room = T::MaxPendingPerNode::get() as usize;
			let mut candidates: Vec<(T::AccountId, u64)> = Nodes::<T>::iter()
				.filter(|(who, record)| {
					record.status == NodeStatus::Active
						&& record.served_models.contains(&model)
						&& PendingJobs::<T>::decode_len(who).unwrap_or(0) < room
				})
				.map(|(who, _)| {
					// +1: a node with score zero keeps a (tiny) chance and weights stay positive.
					let weight = u64::from(T::Scores::score(&who).deconstruct()).saturating_add(1);
					(who, weight)
				})
				.collect();
			ensure!(candidates.len() >= r as usize, Error::<T>::NotEnoughNodes);
			let seed = sp_io::hashing::blake2_256(
				&(
					ASSIGNMENT_CONTEXT,
					frame_system::Pallet::<T>::parent_hash(),
					job_id,
				)
					.encode(),
			);
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
			ensure!(chosen.len() == r as usize, Error::<T>::NotEnoughNodes);
			Ok(chosen)
		}

		/// The index of `node` in `job`'s assignees if it may commit at `now`.
		fn check_commit(
			job: &Job<T>,
			node: &T::AccountId,
			now: BlockNumberFor<T>,
		) -> Result<usize, Error<T>> {
			ensure!(job.status == JobState::Pending, Error::<T>::JobSettled);
			let index = job
				.assignees
				.iter()
				.position(|a| &a.node == node)
				.ok_or(Error::<T>::NotAssigned)?;
			let slot = job.assignees.get(index).ok_or(Error::<T>::NotAssigned)?;
			ensure!(slot.commitment.is_none(), Error::<T>::AlreadyCommitted);
			ensure!(now < job.commit_deadline, Error::<T>::CommitPhaseClosed);
			Ok(index)
		}

		/// The index of the revealing node in `job`'s assignees if `reveal` is acceptable at
		/// `now`.
		fn check_reveal(
			job: &Job<T>,
			reveal: &RevealPayload<T::AccountId>,
			now: BlockNumberFor<T>,
		) -> Result<usize, Error<T>> {
			ensure!(job.status == JobState::Pending, Error::<T>::JobSettled);
			let index = job
				.assignees
				.iter()
				.position(|a| a.node == reveal.node)
				.ok_or(Error::<T>::NotAssigned)?;
			let slot = job.assignees.get(index).ok_or(Error::<T>::NotAssigned)?;
			ensure!(slot.revealed.is_none(), Error::<T>::AlreadyRevealed);
			ensure!(now < job.reveal_deadline, Error::<T>::RevealPhaseClosed);
			let commitment = slot.commitment.ok_or(Error::<T>::NoCommit)?;
			ensure!(
				Self::commit_phase_over(job, now),
				Error::<T>::CommitPhaseOpen
			);
			ensure!(
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
			let record =
				Nodes::<T>::get(node).ok_or(InvalidTransaction::Custom(INVALID_UNKNOWN_NODE))?;
			if !record.inference_key.verify(&payload, signature) {
				return Err(InvalidTransaction::BadProof.into());
			}
			Ok(())
		}

		fn validity(
			prefix: &'static str,
			tag: impl Encode,
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

		/// Validity of a commit transaction (see [`Pallet::commit`]): the job is pending, the
		/// node assigned and not yet committed, the commit deadline not passed, and the
		/// signature valid. Provides the tag `(b"poi-commit", job_id, node)`.
		pub fn authorize_commit(
			_source: TransactionSource,
			commit: &CommitPayload<T::AccountId>,
			signature: &InferenceSignature,
		) -> TransactionValidityWithRefund {
			let now = frame_system::Pallet::<T>::block_number();
			let job = Jobs::<T>::get(commit.job_id)
				.ok_or(InvalidTransaction::Custom(INVALID_UNKNOWN_JOB))?;
			Self::check_commit(&job, &commit.node, now).map_err(Self::invalid)?;
			Self::check_signature(&commit.node, &commit_payload(commit), signature)?;
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
			let job = Jobs::<T>::get(reveal.job_id)
				.ok_or(InvalidTransaction::Custom(INVALID_UNKNOWN_JOB))?;
			Self::check_reveal(&job, reveal, now).map_err(Self::invalid)?;
			Self::check_signature(&reveal.node, &reveal_payload(reveal), signature)?;
			Self::validity(
				"PoiReveal",
				(b"poi-reveal", reveal.job_id, &reveal.node),
				job.reveal_deadline,
			)
		}

		/// Settles a pending job in O(R): pays or refunds the fee, reports to reputation,
		/// slashes minority revealers, unindexes the job and queues it for pruning.
		pub(crate) fn settle(job_id: JobId, mut job: Job<T>) {
			let now = frame_system::Pallet::<T>::block_number();
			let r = job.assignees.len();
			let majority = job.assignees.iter().find_map(|a| {
				let hash = a.revealed?;
				let votes = job
					.assignees
					.iter()
					.filter(|b| b.revealed == Some(hash))
					.count();
				(votes.saturating_mul(2) > r).then_some(hash)
			});
			let reason: <T as Config>::RuntimeHoldReason = HoldReason::JobFee.into();
			let units = job.max_tokens;
			match majority {
				Some(result_hash) => {
					let winners: Vec<T::AccountId> = job
						.assignees
						.iter()
						.filter(|a| a.revealed == Some(result_hash))
						.map(|a| a.node.clone())
						.collect();
					let paid = Self::pay(&reason, &job.owner, job.fee, &winners);
					let slash_fraction = Params::<T>::get().slash_fraction;
					for a in &job.assignees {
						match a.revealed {
							Some(h) if h == result_hash => {
								ReputationOf::<T>::record_success(&a.node, units)
							},
							Some(_) => {
								ReputationOf::<T>::record_failure(&a.node, units);
								let amount = pallet_node_registry::Pallet::<T>::slash_bond(
									&a.node,
									slash_fraction,
								);
								Self::deposit_event(Event::NodeSlashed {
									job_id,
									node: a.node.clone(),
									amount,
								});
							},
							None => ReputationOf::<T>::record_failure(&a.node, units),
						}
					}
					job.status = JobState::Completed { result_hash };
					Self::deposit_event(Event::JobCompleted {
						job_id,
						result_hash,
						paid,
					});
				},
				None => {
					Self::refund(&reason, &job.owner, job.fee);
					for a in job.assignees.iter().filter(|a| a.revealed.is_none()) {
						ReputationOf::<T>::record_failure(&a.node, units);
					}
					job.status = JobState::Failed(FailureReason::NoMajority);
					Self::deposit_event(Event::JobFailed {
						job_id,
						reason: FailureReason::NoMajority,
					});
				},
			}
			job.settled_at = Some(now);
			for a in &job.assignees {
				PendingJobs::<T>::mutate_exists(&a.node, |pending| {
					if let Some(list) = pending {
						list.retain(|id| *id != job_id);
						if list.is_empty() {
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

		/// Moves the held `fee` from `owner` to `winners` in equal shares, the remainder to the
		/// first. A share that cannot be transferred goes back to the owner.
		fn pay(
			reason: &<T as Config>::RuntimeHoldReason,
			owner: &T::AccountId,
			fee: BalanceOf<T>,
			winners: &[T::AccountId],
		) -> Vec<(T::AccountId, BalanceOf<T>)> {
			let count: BalanceOf<T> = (winners.len() as u32).max(1).into();
			let share = fee / count;
			let remainder = fee.saturating_sub(share.saturating_mul(count));
			let mut paid = Vec::with_capacity(winners.len());
			for (i, node) in winners.iter().enumerate() {
				let amount = if i == 0 {
					share.saturating_add(remainder)
				} else {
					share
				};
				let moved = if amount.is_zero() {
					Zero::zero()
				} else if node == owner {
					Self::refund(reason, owner, amount);
					amount
				} else {
					match <T as Config>::Currency::transfer_on_hold(
						reason,
						owner,
						node,
						amount,
						Precision::BestEffort,
						Restriction::Free,
						Fortitude::Polite,
					) {
						Ok(moved) => moved,
						Err(e) => {
							log::warn!(target: LOG_TARGET, "fee share not paid: {e:?}");
							Self::refund(reason, owner, amount);
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
			if let Err(e) =
				<T as Config>::Currency::release(reason, owner, amount, Precision::BestEffort)
			{
				log::error!(target: LOG_TARGET, "fee not released: {e:?}");
			}
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

		/// Everything about a job, for the runtime API.
		pub fn job_view(job_id: JobId) -> Option<JobViewOf<T>> {
			let job = Jobs::<T>::get(job_id)?;
			Some(JobView {
				job_id,
				owner: job.owner,
				model: job.model,
				model_sha256: job.model_sha256,
				profile: job.profile,
				prompt: job.prompt.into_inner(),
				max_tokens: job.max_tokens,
				replication: job.assignees.len().saturated_into(),
				fee: job.fee,
				status: job.status,
				assignees: job
					.assignees
					.into_iter()
					.map(|a| AssigneeView {
						node: a.node,
						commitment: a.commitment,
						result_hash: a.revealed,
					})
					.collect(),
				submitted_at: job.submitted_at,
				commit_deadline: job.commit_deadline,
				reveal_deadline: job.reveal_deadline,
				settled_at: job.settled_at,
			})
		}

		/// The unsettled jobs assigned to `node`, oldest first, for the runtime API.
		pub fn pending_jobs(node: &T::AccountId) -> Vec<JobId> {
			PendingJobs::<T>::get(node).into_inner()
		}

		/// Off-chain worker: for every local inference key of a registered node, advance each
		/// pending job assigned to it (run → commit → reveal). Idempotent: the result is kept in
		/// offchain storage, each step checks the chain, sends are rate-limited.
		pub(crate) fn work(now: BlockNumberFor<T>) {
			for key in InferenceKey::all() {
				let Some(node) = NodeByKey::<T>::get(&key) else {
					continue;
				};
				for job_id in PendingJobs::<T>::get(&node) {
					let Some(job) = Jobs::<T>::get(job_id) else {
						continue;
					};
					if job.status == JobState::Pending {
						Self::work_on(now, &key, &node, job_id, &job);
					}
				}
			}
		}

		fn work_on(
			now: BlockNumberFor<T>,
			key: &InferenceKey,
			node: &T::AccountId,
			job_id: JobId,
			job: &Job<T>,
		) {
			let Some(slot) = job.assignees.iter().find(|a| &a.node == node) else {
				return;
			};
			let stored = StorageValueRef::persistent(&result_key(job_id, node))
				.get::<LocalResult>()
				.ok()
				.flatten();
			let local = match stored {
				Some(local) => local,
				// Without a result there is nothing to do once the commit phase closed.
				None if slot.commitment.is_none() && now < job.commit_deadline => {
					match Self::run_job(job_id, node, job) {
						Some(local) => local,
						None => return,
					}
				},
				None => return,
			};
			if slot.commitment.is_none() {
				if now >= job.commit_deadline || !Self::claim_send(job_id, node, 0, now) {
					return;
				}
				let commit = CommitPayload {
					job_id,
					node: node.clone(),
					commitment: inference_primitives::commitment(
						&local.result_hash,
						&local.salt,
						node,
					),
				};
				let Some(signature) = key.sign(&commit_payload(&commit)) else {
					log::warn!(target: LOG_TARGET, "inference key vanished from the keystore");
					return;
				};
				Self::submit(Call::commit { commit, signature }, "commit", job_id);
			} else if slot.revealed.is_none()
				&& Self::commit_phase_over(job, now)
				&& now < job.reveal_deadline
			{
				if !Self::claim_send(job_id, node, 1, now) {
					return;
				}
				let reveal = RevealPayload {
					job_id,
					node: node.clone(),
					result_hash: local.result_hash,
					salt: local.salt,
				};
				let Some(signature) = key.sign(&reveal_payload(&reveal)) else {
					log::warn!(target: LOG_TARGET, "inference key vanished from the keystore");
					return;
				};
				Self::submit(Call::reveal { reveal, signature }, "reveal", job_id);
			}
		}

		/// Polls the engine for a job under a per-job offchain lock; stores and returns the
		/// result once it is done.
		fn run_job(job_id: JobId, node: &T::AccountId, job: &Job<T>) -> Option<LocalResult> {
			let lock_key = (b"cognitive-internet/poi/lock/", job_id, node).encode();
			let mut lock =
				StorageLock::<BlockAndTime<frame_system::Pallet<T>>>::with_block_and_time_deadline(
					&lock_key,
					LOCK_BLOCKS,
					Duration::from_millis(LOCK_MILLIS),
				);
			let Ok(_guard) = lock.try_lock() else {
				log::debug!(target: LOG_TARGET, "job {job_id} is being polled by another worker");
				return None;
			};
			let result_storage_key = result_key(job_id, node);
			let result_ref = StorageValueRef::persistent(&result_storage_key);
			if let Ok(Some(local)) = result_ref.get::<LocalResult>() {
				return Some(local);
			}
			let request = JobRequest {
				job_id,
				model_sha256: job.model_sha256,
				prompt: job.prompt.to_vec(),
				max_tokens: job.max_tokens,
				profile: job.profile,
			};
			match inference_host::poll_job(request) {
				JobStatus::Done(output) => {
					let result_hash = inference_primitives::result_hash(
						job_id,
						&job.model_sha256,
						&output.prompt_tokens,
						&output.output_tokens,
					);
					let local = LocalResult {
						result_hash,
						salt: sp_io::offchain::random_seed(),
					};
					StorageValueRef::persistent(&output_key(job_id)).set(&StoredOutput {
						model_sha256: job.model_sha256,
						output,
						result_hash,
					});
					result_ref.set(&local);
					inference_host::release_job(job_id);
					log::info!(target: LOG_TARGET, "job {job_id} done");
					Some(local)
				},
				JobStatus::Queued | JobStatus::Running => None,
				JobStatus::Failed(failure) => {
					log::warn!(target: LOG_TARGET, "job {job_id} failed: {failure:?}");
					None
				},
				JobStatus::Unavailable => {
					log::warn!(target: LOG_TARGET, "no inference engine; job {job_id} not run");
					None
				},
			}
		}

		/// Rate limit of sends: true (and recorded) if nothing was sent for this job, node and
		/// phase (0 commit, 1 reveal) in the last [`RESEND_BLOCKS`] blocks.
		fn claim_send(
			job_id: JobId,
			node: &T::AccountId,
			phase: u8,
			now: BlockNumberFor<T>,
		) -> bool {
			let key = (b"cognitive-internet/poi/sent/", job_id, node, phase).encode();
			StorageValueRef::persistent(&key)
				.mutate(|last: Result<Option<BlockNumberFor<T>>, _>| match last {
					Ok(Some(at)) if now < at.saturating_add(RESEND_BLOCKS.into()) => Err(()),
					_ => Ok(now),
				})
				.is_ok()
		}

		fn submit(call: Call<T>, what: &str, job_id: JobId) {
			let xt = <T as CreateAuthorizedTransaction<Call<T>>>::create_authorized_transaction(
				call.into(),
			);
			match SubmitTransaction::<T, Call<T>>::submit_transaction(xt) {
				Ok(()) => log::debug!(target: LOG_TARGET, "{what} sent for job {job_id}"),
				Err(()) => {
					log::warn!(target: LOG_TARGET, "{what} for job {job_id} rejected by the pool")
				},
			}
		}

		/// Invariants: the fee held from each owner equals the fees of its pending jobs; the
		/// per-node, deadline and prune indexes match the jobs; assignees are distinct and
		/// within `MaxReplication`; reveals imply commits.
		#[cfg(any(feature = "try-runtime", test))]
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			use alloc::collections::{BTreeMap, BTreeSet};
			let reason: <T as Config>::RuntimeHoldReason = HoldReason::JobFee.into();
			let next = NextJobId::<T>::get();
			let mut held = BTreeMap::<T::AccountId, BalanceOf<T>>::new();
			let mut per_node = BTreeMap::<T::AccountId, BTreeSet<JobId>>::new();
			let mut pending = 0usize;
			let mut settled = BTreeSet::<JobId>::new();
			for (id, job) in Jobs::<T>::iter() {
				ensure!(id < next, "job id not below NextJobId");
				let r = job.assignees.len();
				ensure!(
					r >= 1 && r as u32 <= T::MaxReplication::get(),
					"replication out of bounds"
				);
				for (i, a) in job.assignees.iter().enumerate() {
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
			}
			for (owner, sum) in held {
				ensure!(
					<T as Config>::Currency::balance_on_hold(&reason, &owner) == sum,
					"held fee differs from the pending jobs' fees"
				);
			}
			let mut indexed = BTreeMap::<T::AccountId, BTreeSet<JobId>>::new();
			for (node, list) in PendingJobs::<T>::iter() {
				ensure!(!list.is_empty(), "empty pending index stored");
				let set: BTreeSet<JobId> = list.iter().copied().collect();
				ensure!(set.len() == list.len(), "duplicate in pending index");
				indexed.insert(node, set);
			}
			ensure!(indexed == per_node, "pending index out of sync");
			let mut bucketed = 0usize;
			for (at, list) in Deadlines::<T>::iter() {
				ensure!(!list.is_empty(), "empty deadline bucket stored");
				for id in list.iter() {
					ensure!(
						Jobs::<T>::get(id).is_some_and(
							|j| j.status == JobState::Pending && j.reveal_deadline == at
						),
						"deadline bucket holds a job that is not pending there"
					);
					bucketed += 1;
				}
			}
			ensure!(bucketed == pending, "deadline buckets out of sync");
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
}
