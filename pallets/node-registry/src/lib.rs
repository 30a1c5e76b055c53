//! # Node registry pallet
//!
//! Inference nodes join the network here. An operator [`register`](Pallet::register)s by holding a
//! bond of at least [`Config::MinBond`] from its free balance and declaring its [`Capabilities`]
//! (hardware, and the engine build it runs: its determinism class), the whitelisted models it
//! serves, its network endpoints and its inference key (ed25519, key type `infr`,
//! [`crypto::Public`]) with a proof that it holds that key. The key signs the node's heartbeats
//! here and its inference results in the proof-of-inference pallet.
//!
//! ## Keys
//! `register` and [`set_inference_key`](Pallet::set_inference_key) carry the key's signature
//! over [`key_ownership_payload`] `(context, genesis hash, account)`: nobody can register a key
//! they do not hold, so a node's off-chain workers always act for its own operator, and a proof
//! made for one chain is worthless on another.
//!
//! ## Liveness and readiness
//! Time is cut into heartbeat periods of [`Config::HeartbeatPeriod`] blocks. A node is alive in
//! a period if it registered in it, authored a block in it (found through [`Config::FindAuthor`])
//! or sent a [`heartbeat`](Pallet::heartbeat). The heartbeat is sent by this pallet's off-chain
//! worker, on every node whose keystore holds a registered inference key, as a general
//! transaction authorised by `#[pallet::authorize]`: the inference key's signature over
//! [`heartbeat_payload`] (which includes the genesis hash) replaces an account signature, so it
//! costs the operator no fee. It also lists the served models the node's engine is ready for
//! (asked through the `inference_host_api` host functions); jobs go only to ready nodes
//! ([`NodeInspect::candidates`]). One heartbeat lands per period, plus one more each time the
//! ready set grows. At the first block of a period every node not seen alive in the previous one
//! becomes [`NodeStatus::Offline`] and is reported to [`Config::Reputation`].
//!
//! ## Leaving
//! [`unregister`](Pallet::unregister) starts an unbonding delay of [`Config::UnbondingPeriod`]
//! and tells [`Config::OnLeave`] (governance drops the node's votes from running polls);
//! [`withdraw_unbonded`](Pallet::withdraw_unbonded) then releases the bond, once the node has no
//! unsettled jobs left ([`Config::Obligations`]). The governance origin [`Config::BanOrigin`]
//! (the emergency track) can [`ban`](Pallet::ban) a node at any time: it burns
//! [`Config::BanPenalty`] of the bond, releases the rest and removes the node. A node's
//! reputation stays with its account ([`ReputationSink::departed`]).
//!
//! ## Voting units
//! Governance weighs a node's vote by its reputation and by its *voting units*
//! `clamp(bond / MinBond, 1, MaxVotingUnits)`, see [`Pallet::voting_units`]. The pallet keeps the
//! sum over nodes that are not leaving in [`TotalVotingUnits`].

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use traits::*;
pub use types::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod liveness;
#[cfg(test)]
mod mock;
pub mod offchain;
#[cfg(test)]
mod tests;
mod traits;
#[cfg(any(feature = "try-runtime", feature = "test-utils", test))]
mod try_state;
mod types;
pub mod weights;

/// The key type of inference keys: `infr`.
pub const KEY_TYPE: sp_core::crypto::KeyTypeId = sp_core::crypto::KeyTypeId(*b"infr");

/// Inference keys: ed25519 application crypto under [`KEY_TYPE`].
pub mod crypto {
	use super::KEY_TYPE;
	use sp_application_crypto::{app_crypto, ed25519};
	app_crypto!(ed25519, KEY_TYPE);
}

/// Public inference key of a node.
pub type InferenceKey = crypto::Public;
/// Signature by an inference key.
pub type InferenceSignature = crypto::Signature;

/// `InvalidTransaction::Custom` code: the heartbeat names a node that is not registered.
pub const INVALID_UNKNOWN_NODE: u8 = 1;
/// `InvalidTransaction::Custom` code: the node is unbonding and sends no more heartbeats.
pub const INVALID_NODE_LEAVING: u8 = 2;
/// `InvalidTransaction::Custom` code: the heartbeat says the node is ready for a model it does
/// not serve (or lists one twice).
pub const INVALID_NOT_SERVED: u8 = 3;

/// Log target of this pallet.
pub const LOG_TARGET: &str = "runtime::node-registry";

/// The genesis hash of the chain `T` runs, as signed statements include it.
///
/// `frame_system` keeps block 0's hash for good; until block 1 starts it holds a placeholder,
/// which only genesis-time code could observe.
pub fn genesis_hash<T: frame_system::Config>() -> [u8; 32] {
	let hash = frame_system::Pallet::<T>::block_hash(
		<frame_system::pallet_prelude::BlockNumberFor<T> as sp_runtime::traits::Zero>::zero(),
	);
	let mut out = [0u8; 32];
	let bytes = hash.as_ref();
	let n = bytes.len().min(32);
	out[..n].copy_from_slice(&bytes[..n]);
	out
}

/// The engine class of a whitelist profile, as the host functions take it.
pub fn host_class(
	class: &pallet_model_registry::DeterminismClass,
) -> inference_primitives::EngineClass {
	inference_primitives::EngineClass {
		engine: class.engine.to_vec(),
		engine_version: class.engine_version.to_vec(),
		cpu_target: class.cpu_target.to_vec(),
	}
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, InspectHold, Mutate, MutateHold},
			tokens::{Fortitude, Precision, Restriction},
			FindAuthor,
		},
	};
	use frame_system::{offchain::CreateAuthorizedTransaction, pallet_prelude::*};
	use pallet_model_registry::{ModelId, ModelInspect};
	use pallet_reputation::ReputationSink;
	use sp_runtime::{
		traits::{Saturating, Zero},
		Perbill, RuntimeAppPublic, SaturatedConversion,
	};

	/// Balance type of the bond.
	pub type BalanceOf<T> =
		<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;
	/// A node record of this runtime.
	pub type NodeRecordOf<T> = NodeRecord<BalanceOf<T>, BlockNumberFor<T>, InferenceKey>;

	const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config + CreateAuthorizedTransaction<Call<Self>> {
		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;
		/// Where bonds are held.
		type Currency: InspectHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ Mutate<Self::AccountId>;
		/// The model whitelist.
		type Models: ModelInspect;
		/// Receives missed heartbeats; told when a node leaves and returns.
		type Reputation: ReputationSink<Self::AccountId>;
		/// Unsettled work of nodes (proof of inference), which keeps their bond.
		type Obligations: NodeObligations<Self::AccountId>;
		/// Told when a node leaves (governance removes its votes from running polls).
		type OnLeave: OnNodeLeave<Self::AccountId>;
		/// Finds the author of the current block, who counts as alive.
		type FindAuthor: FindAuthor<Self::AccountId>;
		/// Origin that bans nodes (the emergency track).
		type BanOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// Smallest bond a node can register with.
		#[pallet::constant]
		type MinBond: Get<BalanceOf<Self>>;
		/// Share of the bond burnt by a ban.
		#[pallet::constant]
		type BanPenalty: Get<Perbill>;
		/// Blocks between `unregister` and `withdraw_unbonded`.
		#[pallet::constant]
		type UnbondingPeriod: Get<BlockNumberFor<Self>>;
		/// Length of a heartbeat period in blocks (non-zero).
		#[pallet::constant]
		type HeartbeatPeriod: Get<BlockNumberFor<Self>>;
		/// Most nodes the registry holds.
		#[pallet::constant]
		type MaxNodes: Get<u32>;
		/// Cap on a node's voting units (`bond / MinBond`).
		#[pallet::constant]
		type MaxVotingUnits: Get<u32>;
		/// Transaction-pool priority of heartbeats.
		#[pallet::constant]
		type HeartbeatPriority: Get<TransactionPriority>;
		/// Weights of this pallet's calls, from its benchmarks.
		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The bond of a registered node.
		#[codec(index = 0)]
		NodeBond,
	}

	/// Registered nodes by operator account. At most [`Config::MaxNodes`].
	#[pallet::storage]
	pub type Nodes<T: Config> =
		CountedStorageMap<_, Blake2_128Concat, T::AccountId, NodeRecordOf<T>>;

	/// Operator account of each registered inference key (one node per key).
	#[pallet::storage]
	pub type NodeByKey<T: Config> = StorageMap<_, Blake2_128Concat, InferenceKey, T::AccountId>;

	/// Number of registered nodes serving each model (entries only for models in use).
	#[pallet::storage]
	pub type ModelServers<T: Config> = StorageMap<_, Twox64Concat, ModelId, u32, ValueQuery>;

	/// The ratings each node published of the models it serves (`rate_models`). Entries only
	/// for registered nodes that are not unbonding (at most [`Config::MaxNodes`]); a rating
	/// goes with its model when the node stops serving it, and all of them go when the node
	/// changes its engine class (they were measured on another build) or leaves.
	#[pallet::storage]
	pub type Ratings<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, NodeRatings<BlockNumberFor<T>>>;

	/// Sum of [`Pallet::voting_units`] over nodes that are not unbonding.
	#[pallet::storage]
	pub type TotalVotingUnits<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// Nodes registered from genesis, each as if it had called `register` in block 0 (bond held,
	/// models counted, inference key indexed; a chain spec is trusted, so no key proof). A local
	/// test network uses it so its validators take jobs from the first blocks.
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The nodes, registered in this order.
		pub nodes: Vec<GenesisNode<T::AccountId, BalanceOf<T>, InferenceKey>>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			for node in &self.nodes {
				let endpoints = node
					.endpoints
					.iter()
					.map(|e| e.as_bytes().to_vec())
					.collect();
				// A bad genesis is a broken chain spec: refusing to build it is the only option.
				assert!(
					Pallet::<T>::do_register(
						node.account.clone(),
						node.capabilities.clone(),
						node.served_models.clone(),
						endpoints,
						node.inference_key.clone(),
						node.bond,
					)
					.is_ok(),
					"bad genesis node"
				);
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A node registered and its bond is held.
		NodeRegistered {
			/// Operator account.
			node: T::AccountId,
			/// The bond held.
			bond: BalanceOf<T>,
			/// Its inference key.
			inference_key: InferenceKey,
		},
		/// A node replaced its capability declaration (its ready models are cleared until its
		/// next heartbeat if its engine class changed).
		CapabilitiesUpdated {
			/// Operator account.
			node: T::AccountId,
		},
		/// A node replaced its endpoints.
		EndpointsUpdated {
			/// Operator account.
			node: T::AccountId,
		},
		/// A node replaced the list of models it serves.
		ServedModelsSet {
			/// Operator account.
			node: T::AccountId,
			/// The new list.
			models: ServedModels,
		},
		/// A node published its ratings of the models it serves (an empty list withdraws them).
		ModelsRated {
			/// Operator account.
			node: T::AccountId,
			/// The ratings.
			ratings: ModelRatings,
		},
		/// A node switched to another inference key.
		InferenceKeyChanged {
			/// Operator account.
			node: T::AccountId,
			/// The new key.
			inference_key: InferenceKey,
		},
		/// A heartbeat landed; the node is alive in `period` and ready for `ready_models`.
		HeartbeatReceived {
			/// Operator account.
			node: T::AccountId,
			/// The period.
			period: PeriodIndex,
			/// The models its engine is ready for.
			ready_models: ServedModels,
		},
		/// A node missed the whole of `period` (reported to reputation).
		NodeOffline {
			/// Operator account.
			node: T::AccountId,
			/// The period missed.
			period: PeriodIndex,
		},
		/// A node left; its bond can be withdrawn from `unlock_at`.
		UnbondingStarted {
			/// Operator account.
			node: T::AccountId,
			/// First block of withdrawal.
			unlock_at: BlockNumberFor<T>,
		},
		/// An unbonded node was removed and its bond released.
		NodeRemoved {
			/// Operator account.
			node: T::AccountId,
			/// The bond released.
			released: BalanceOf<T>,
		},
		/// Governance banned a node: `slashed` burnt, `released` returned, node removed.
		NodeBanned {
			/// Operator account.
			node: T::AccountId,
			/// Burnt.
			slashed: BalanceOf<T>,
			/// Returned.
			released: BalanceOf<T>,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account already runs a registered node.
		AlreadyRegistered,
		/// The account runs no registered node.
		NotRegistered,
		/// The bond is below `MinBond`.
		BondTooLow,
		/// The free balance cannot cover the bond.
		InsufficientBalance,
		/// The registry holds `MaxNodes` nodes.
		TooManyNodes,
		/// Another node registered this inference key.
		InferenceKeyInUse,
		/// The key-ownership proof is not the key's signature over `key_ownership_payload`
		/// for this chain and the caller.
		InvalidKeyProof,
		/// More than `MAX_SERVED_MODELS` models.
		TooManyServedModels,
		/// A model appears twice in the list.
		DuplicateServedModel,
		/// A model id that is not in the whitelist.
		UnknownModel,
		/// A whitelisted model that is deprecated and takes no new nodes.
		ModelDeprecated,
		/// More than `MAX_ENDPOINTS` endpoints.
		TooManyEndpoints,
		/// An endpoint longer than `MAX_ENDPOINT_LEN` bytes.
		EndpointTooLong,
		/// An endpoint that is not a printable-ASCII multiaddr starting with `/`.
		InvalidEndpoint,
		/// Zero CPU cores, an accelerator or model format listed twice, or an empty engine
		/// class.
		InvalidCapabilities,
		/// The node is already unbonding.
		AlreadyUnbonding,
		/// The node is not unbonding.
		NotUnbonding,
		/// The unbonding delay has not passed yet.
		StillUnbonding,
		/// The node still has unsettled jobs; try again once they settled.
		PendingJobs,
		/// The heartbeat is not for the current period.
		WrongPeriod,
		/// The heartbeat lists a model the node does not serve, or one twice.
		NotServed,
		/// The node was already seen alive in this period and its ready set did not grow.
		NothingNew,
		/// More than `MAX_SERVED_MODELS` ratings.
		TooManyRatings,
		/// A rating of a model the node does not serve.
		RatedModelNotServed,
		/// A model rated twice, or a rating with no generation speed.
		InvalidRating,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			let period = Self::period_of(now);
			// The benchmark cannot fake a block author generically (it depends on the runtime's
			// `FindAuthor`), so it measures the lookup without one; the storage an author costs
			// (the consensus authority set and the author's node record) is added here.
			let mut weight =
				T::WeightInfo::note_author().saturating_add(T::DbWeight::get().reads_writes(2, 1));
			Self::note_author(period);
			let len = T::HeartbeatPeriod::get();
			if !len.is_zero() && (now % len).is_zero() && period > 0 {
				weight.saturating_accrue(T::WeightInfo::check_liveness(Nodes::<T>::count()));
				Self::check_liveness(period - 1);
			}
			weight
		}

		fn offchain_worker(now: BlockNumberFor<T>) {
			if sp_io::offchain::is_validator() {
				offchain::send_heartbeats::<T>(now);
			}
		}

		fn integrity_test() {
			assert!(
				!T::HeartbeatPeriod::get().is_zero(),
				"HeartbeatPeriod must be non-zero"
			);
			assert!(!T::MinBond::get().is_zero(), "MinBond must be non-zero");
			assert!(
				T::MaxVotingUnits::get() > 0,
				"MaxVotingUnits must be non-zero"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Register the caller's node: hold `bond` (at least `MinBond`) and record its
		/// capabilities, served models (whitelisted, active, no repeats), endpoints and
		/// inference key. `key_proof` is the key's signature over
		/// [`key_ownership_payload`]`(genesis hash, caller)`. The node counts as alive in the
		/// current period; it takes jobs once a heartbeat reported its engine ready.
		///
		/// Emits [`Event::NodeRegistered`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register((served_models.len() as u32).min(MAX_SERVED_MODELS)))]
		pub fn register(
			origin: OriginFor<T>,
			capabilities: Capabilities,
			served_models: Vec<ModelId>,
			endpoints: Vec<Vec<u8>>,
			inference_key: InferenceKey,
			key_proof: InferenceSignature,
			bond: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::check_key_proof(&who, &inference_key, &key_proof)?;
			Self::do_register(
				who,
				capabilities,
				served_models,
				endpoints,
				inference_key,
				bond,
			)
		}

		/// Replace the caller's capability declaration. A new engine class clears the node's
		/// ready models until its next heartbeat, and its ratings (measured on the old build).
		///
		/// Emits [`Event::CapabilitiesUpdated`].
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::update_capabilities())]
		pub fn update_capabilities(
			origin: OriginFor<T>,
			capabilities: Capabilities,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::validate_capabilities(&capabilities)?;
			Self::mutate_serving_node(&who, |record| {
				if record.capabilities.class != capabilities.class {
					record.ready_models = Default::default();
					Ratings::<T>::remove(&who);
				}
				record.capabilities = capabilities;
				Ok(())
			})?;
			Self::deposit_event(Event::CapabilitiesUpdated { node: who });
			Ok(())
		}

		/// Replace the models the caller's node serves. Every model must be whitelisted and
		/// active (a deprecated model cannot be added, nor kept by a new list). Ready models and
		/// ratings of models no longer served are dropped.
		///
		/// Emits [`Event::ServedModelsSet`].
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::set_served_models(MAX_SERVED_MODELS))]
		pub fn set_served_models(origin: OriginFor<T>, models: Vec<ModelId>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let models = Self::validate_models(models)?;
			Self::mutate_serving_node(&who, |record| {
				for old in &record.served_models {
					Self::unserve(*old);
				}
				for new in &models {
					ModelServers::<T>::mutate(new, |n| n.saturating_inc());
				}
				record.served_models = models.clone();
				record.ready_models.retain(|m| models.contains(m));
				Self::keep_ratings_of(&who, &models);
				Ok(())
			})?;
			Self::deposit_event(Event::ServedModelsSet { node: who, models });
			Ok(())
		}

		/// Replace the caller's endpoints (multiaddrs in text form).
		///
		/// Emits [`Event::EndpointsUpdated`].
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::set_endpoints())]
		pub fn set_endpoints(origin: OriginFor<T>, endpoints: Vec<Vec<u8>>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let endpoints = Self::validate_endpoints(endpoints)?;
			Self::mutate_serving_node(&who, |record| {
				record.endpoints = endpoints;
				Ok(())
			})?;
			Self::deposit_event(Event::EndpointsUpdated { node: who });
			Ok(())
		}

		/// Proof that a node is alive in the current period, with the served models its engine
		/// is ready for, signed by its inference key. Sent by the off-chain worker; needs no
		/// account and pays no fee. Validity: registered, not unbonding, `heartbeat.period` is
		/// the current period, the ready models are served, the node was not yet seen alive
		/// in the period or its ready set grew, and `signature` verifies over
		/// [`heartbeat_payload`] for this chain.
		///
		/// Emits [`Event::HeartbeatReceived`].
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::heartbeat())]
		#[pallet::authorize(Pallet::<T>::authorize_heartbeat)]
		#[pallet::weight_of_authorize(T::WeightInfo::authorize_heartbeat())]
		pub fn heartbeat(
			origin: OriginFor<T>,
			heartbeat: Heartbeat<T::AccountId>,
			signature: InferenceSignature,
		) -> DispatchResult {
			ensure_authorized(origin)?;
			// `authorize_heartbeat` already checked the signature for this transaction.
			let _ = signature;
			let period = Self::current_period();
			ensure!(heartbeat.period == period, Error::<T>::WrongPeriod);
			Nodes::<T>::try_mutate(&heartbeat.node, |record| {
				let record = record.as_mut().ok_or(Error::<T>::NotRegistered)?;
				ensure!(!record.status.is_leaving(), Error::<T>::AlreadyUnbonding);
				liveness::heartbeat_news::<T>(record, &heartbeat.ready_models, period)?;
				record.last_alive = period;
				record.status = NodeStatus::Active;
				record.ready_models = heartbeat.ready_models.clone();
				Ok::<_, Error<T>>(())
			})?;
			Self::deposit_event(Event::HeartbeatReceived {
				node: heartbeat.node,
				period,
				ready_models: heartbeat.ready_models,
			});
			Ok(())
		}

		/// Leave: the node stops counting (jobs, votes: its votes leave running polls, its
		/// ratings are withdrawn) and its bond can be withdrawn after `UnbondingPeriod` blocks, once its jobs are settled.
		///
		/// Emits [`Event::UnbondingStarted`].
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::unregister().saturating_add(T::OnLeave::weight()))]
		pub fn unregister(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let unlock_at =
				frame_system::Pallet::<T>::block_number().saturating_add(T::UnbondingPeriod::get());
			Self::mutate_serving_node(&who, |record| {
				TotalVotingUnits::<T>::mutate(|t| t.saturating_reduce(Self::units_of(record)));
				record.status = NodeStatus::Unbonding { unlock_at };
				Ok(())
			})?;
			Ratings::<T>::remove(&who);
			T::OnLeave::on_leave(&who);
			Self::deposit_event(Event::UnbondingStarted {
				node: who,
				unlock_at,
			});
			Ok(())
		}

		/// Release the bond of an unbonded node without unsettled jobs and remove it.
		///
		/// Emits [`Event::NodeRemoved`].
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::withdraw_unbonded(MAX_SERVED_MODELS))]
		pub fn withdraw_unbonded(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let record = Nodes::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
			let NodeStatus::Unbonding { unlock_at } = record.status else {
				return Err(Error::<T>::NotUnbonding.into());
			};
			ensure!(
				frame_system::Pallet::<T>::block_number() >= unlock_at,
				Error::<T>::StillUnbonding
			);
			// A node that could withdraw with jobs outstanding would escape their slashing.
			ensure!(!T::Obligations::has_pending(&who), Error::<T>::PendingJobs);
			let released = T::Currency::release(
				&HoldReason::NodeBond.into(),
				&who,
				record.bond,
				Precision::BestEffort,
			)?;
			Self::remove_node(&who, &record);
			Self::deposit_event(Event::NodeRemoved {
				node: who,
				released,
			});
			Ok(())
		}

		/// Ban a node: burn `BanPenalty` of its bond, release the rest, remove it and its votes
		/// from running polls (also while it is unbonding: the delay exists so a misbehaving
		/// node cannot run from a ban).
		///
		/// Origin: [`Config::BanOrigin`]. Emits [`Event::NodeBanned`].
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::ban(MAX_SERVED_MODELS).saturating_add(T::OnLeave::weight()))]
		pub fn ban(origin: OriginFor<T>, node: T::AccountId) -> DispatchResult {
			T::BanOrigin::ensure_origin(origin)?;
			let record = Nodes::<T>::get(&node).ok_or(Error::<T>::NotRegistered)?;
			let reason = HoldReason::NodeBond.into();
			let penalty = T::BanPenalty::get().mul_floor(record.bond);
			let slashed = T::Currency::burn_held(
				&reason,
				&node,
				penalty,
				Precision::BestEffort,
				Fortitude::Force,
			)?;
			let released = T::Currency::release(
				&reason,
				&node,
				record.bond.saturating_sub(slashed),
				Precision::BestEffort,
			)?;
			if !record.status.is_leaving() {
				TotalVotingUnits::<T>::mutate(|t| t.saturating_reduce(Self::units_of(&record)));
				T::OnLeave::on_leave(&node);
			}
			Self::remove_node(&node, &record);
			Self::deposit_event(Event::NodeBanned {
				node,
				slashed,
				released,
			});
			Ok(())
		}

		/// Switch the caller's node to another inference key, with the new key's proof of
		/// ownership. Refused while the node has unsettled jobs (their commits and reveals are
		/// checked against the key they were assigned under).
		///
		/// Emits [`Event::InferenceKeyChanged`].
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::set_inference_key())]
		pub fn set_inference_key(
			origin: OriginFor<T>,
			inference_key: InferenceKey,
			key_proof: InferenceSignature,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(
				!NodeByKey::<T>::contains_key(&inference_key),
				Error::<T>::InferenceKeyInUse
			);
			Self::check_key_proof(&who, &inference_key, &key_proof)?;
			ensure!(!T::Obligations::has_pending(&who), Error::<T>::PendingJobs);
			let old = Self::mutate_serving_node(&who, |record| {
				Ok(core::mem::replace(
					&mut record.inference_key,
					inference_key.clone(),
				))
			})?;
			NodeByKey::<T>::remove(&old);
			NodeByKey::<T>::insert(&inference_key, &who);
			Self::deposit_event(Event::InferenceKeyChanged {
				node: who,
				inference_key,
			});
			Ok(())
		}

		/// Publish the caller's own measurements of the models its node serves (from
		/// `cognitive-node bench`; `inference_nodeInfo` reports them ready for this call), at
		/// most one per model, replacing what it published before; an empty list withdraws
		/// them. Self-reported, like the capabilities: gateways weigh nodes by them.
		///
		/// Emits [`Event::ModelsRated`].
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::rate_models((ratings.len() as u32).min(MAX_SERVED_MODELS)))]
		pub fn rate_models(origin: OriginFor<T>, ratings: Vec<ModelRating>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let record = Nodes::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
			ensure!(!record.status.is_leaving(), Error::<T>::AlreadyUnbonding);
			let ratings = Self::validate_ratings(&record, ratings)?;
			if ratings.is_empty() {
				Ratings::<T>::remove(&who);
			} else {
				let rated_at = frame_system::Pallet::<T>::block_number();
				Ratings::<T>::insert(
					&who,
					NodeRatings {
						rated_at,
						ratings: ratings.clone(),
					},
				);
			}
			Self::deposit_event(Event::ModelsRated { node: who, ratings });
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// Heartbeat period that contains block `n`.
		pub fn period_of(n: BlockNumberFor<T>) -> PeriodIndex {
			let len = T::HeartbeatPeriod::get();
			if len.is_zero() {
				return 0;
			}
			(n / len).saturated_into()
		}

		/// The current heartbeat period.
		pub fn current_period() -> PeriodIndex {
			Self::period_of(frame_system::Pallet::<T>::block_number())
		}

		/// Voting units of a node that is registered and not leaving:
		/// `clamp(bond / MinBond, 1, MaxVotingUnits)`.
		pub fn voting_units(who: &T::AccountId) -> Option<u32> {
			Nodes::<T>::get(who)
				.filter(|r| !r.status.is_leaving())
				.map(|r| Self::units_of(&r))
		}

		/// Voting units and registration block of a node that is registered and not leaving.
		pub fn voter(who: &T::AccountId) -> Option<(u32, BlockNumberFor<T>)> {
			Nodes::<T>::get(who)
				.filter(|r| !r.status.is_leaving())
				.map(|r| (Self::units_of(&r), r.registered_at))
		}

		/// Every node that is registered and not leaving, with its voting units and
		/// registration block. O(nodes), at most `MaxNodes`.
		pub fn voters() -> Vec<(T::AccountId, u32, BlockNumberFor<T>)> {
			Nodes::<T>::iter()
				.filter(|(_, r)| !r.status.is_leaving())
				.map(|(who, r)| {
					let units = Self::units_of(&r);
					(who, units, r.registered_at)
				})
				.collect()
		}

		/// Burns `fraction` of `who`'s bond (rounded down) from its `NodeBond` hold, for other
		/// pallets that punish provably wrong work (proof of inference). The bond record and the
		/// voting-unit total follow, so the registry's invariants keep holding; the node stays
		/// registered, possibly below `MinBond`. Returns the amount burnt (zero for an unknown
		/// node).
		pub fn slash_bond(who: &T::AccountId, fraction: Perbill) -> BalanceOf<T> {
			Self::slash_bond_to(who, fraction, &[]).0
		}

		/// [`Pallet::slash_bond`], paying the slashed amount to `beneficiaries` in equal shares
		/// (the remainder to the first) instead of burning it; a share that cannot be paid (an
		/// account the transfer would leave below the existential deposit) is burnt. Returns the
		/// amount slashed and what each beneficiary received.
		pub fn slash_bond_to(
			who: &T::AccountId,
			fraction: Perbill,
			beneficiaries: &[T::AccountId],
		) -> Slashed<T::AccountId, BalanceOf<T>> {
			let Some(mut record) = Nodes::<T>::get(who) else {
				return (Zero::zero(), Vec::new());
			};
			let amount = fraction.mul_floor(record.bond);
			if amount.is_zero() {
				return (amount, Vec::new());
			}
			let reason: T::RuntimeHoldReason = HoldReason::NodeBond.into();
			let count: BalanceOf<T> = (beneficiaries.len() as u32).max(1).into();
			let share = amount / count;
			let remainder = amount.saturating_sub(share.saturating_mul(count));
			let mut paid = Vec::with_capacity(beneficiaries.len());
			let mut moved = BalanceOf::<T>::zero();
			for (i, to) in beneficiaries.iter().enumerate() {
				let due = if i == 0 {
					share.saturating_add(remainder)
				} else {
					share
				};
				let got = if due.is_zero() || to == who {
					Zero::zero()
				} else {
					T::Currency::transfer_on_hold(
						&reason,
						who,
						to,
						due,
						Precision::BestEffort,
						Restriction::Free,
						Fortitude::Force,
					)
					.unwrap_or_else(|_| Zero::zero())
				};
				moved = moved.saturating_add(got);
				paid.push((to.clone(), got));
			}
			let burnt = T::Currency::burn_held(
				&reason,
				who,
				amount.saturating_sub(moved),
				Precision::BestEffort,
				Fortitude::Force,
			)
			.unwrap_or_else(|_| Zero::zero());
			let taken = moved.saturating_add(burnt);
			let old_units = Self::units_of(&record);
			record.bond = record.bond.saturating_sub(taken);
			if !record.status.is_leaving() {
				let new_units = Self::units_of(&record);
				TotalVotingUnits::<T>::mutate(|t| {
					*t = t.saturating_sub(old_units).saturating_add(new_units)
				});
			}
			Nodes::<T>::insert(who, record);
			(taken, paid)
		}

		pub(crate) fn units_of(record: &NodeRecordOf<T>) -> u32 {
			let min = T::MinBond::get();
			let ratio: u32 = if min.is_zero() {
				1
			} else {
				(record.bond / min).saturated_into::<u32>()
			};
			ratio.clamp(1, T::MaxVotingUnits::get().max(1))
		}

		/// Checks `proof`, the signature by `key` over [`key_ownership_payload`] for this chain
		/// and `who`.
		pub(crate) fn check_key_proof(
			who: &T::AccountId,
			key: &InferenceKey,
			proof: &InferenceSignature,
		) -> Result<(), Error<T>> {
			let payload = key_ownership_payload(&genesis_hash::<T>(), who);
			ensure!(key.verify(&payload, proof), Error::<T>::InvalidKeyProof);
			Ok(())
		}

		/// `register` for `who` once the key proof is checked: checks, holds the bond and
		/// records the node. Shared by the call and the genesis build.
		pub(crate) fn do_register(
			who: T::AccountId,
			capabilities: Capabilities,
			served_models: Vec<ModelId>,
			endpoints: Vec<Vec<u8>>,
			inference_key: InferenceKey,
			bond: BalanceOf<T>,
		) -> DispatchResult {
			ensure!(
				!Nodes::<T>::contains_key(&who),
				Error::<T>::AlreadyRegistered
			);
			ensure!(bond >= T::MinBond::get(), Error::<T>::BondTooLow);
			ensure!(
				Nodes::<T>::count() < T::MaxNodes::get(),
				Error::<T>::TooManyNodes
			);
			ensure!(
				!NodeByKey::<T>::contains_key(&inference_key),
				Error::<T>::InferenceKeyInUse
			);
			Self::validate_capabilities(&capabilities)?;
			let served_models = Self::validate_models(served_models)?;
			let endpoints = Self::validate_endpoints(endpoints)?;
			T::Currency::hold(&HoldReason::NodeBond.into(), &who, bond)
				.map_err(|_| Error::<T>::InsufficientBalance)?;

			let now = frame_system::Pallet::<T>::block_number();
			for model in &served_models {
				ModelServers::<T>::mutate(model, |n| n.saturating_inc());
			}
			NodeByKey::<T>::insert(&inference_key, &who);
			let record = NodeRecord {
				bond,
				capabilities,
				served_models,
				endpoints,
				inference_key: inference_key.clone(),
				status: NodeStatus::Active,
				registered_at: now,
				last_alive: Self::period_of(now),
				ready_models: Default::default(),
			};
			TotalVotingUnits::<T>::mutate(|t| t.saturating_accrue(Self::units_of(&record)));
			Nodes::<T>::insert(&who, record);
			T::Reputation::returned(&who);
			Self::deposit_event(Event::NodeRegistered {
				node: who,
				bond,
				inference_key,
			});
			Ok(())
		}

		fn validate_capabilities(c: &Capabilities) -> Result<(), Error<T>> {
			ensure!(
				c.cpu_cores > 0
					&& all_distinct(&c.accelerators)
					&& all_distinct(&c.model_formats)
					&& !c.class.engine.is_empty()
					&& !c.class.engine_version.is_empty()
					&& !c.class.cpu_target.is_empty(),
				Error::<T>::InvalidCapabilities
			);
			Ok(())
		}

		fn validate_models(models: Vec<ModelId>) -> Result<ServedModels, Error<T>> {
			let models: ServedModels = models
				.try_into()
				.map_err(|_| Error::<T>::TooManyServedModels)?;
			for (i, model) in models.iter().enumerate() {
				ensure!(
					!models[..i].contains(model),
					Error::<T>::DuplicateServedModel
				);
				ensure!(T::Models::exists(*model), Error::<T>::UnknownModel);
				ensure!(T::Models::is_active(*model), Error::<T>::ModelDeprecated);
			}
			Ok(models)
		}

		fn validate_endpoints(endpoints: Vec<Vec<u8>>) -> Result<Endpoints, Error<T>> {
			ensure!(
				endpoints.len() <= MAX_ENDPOINTS as usize,
				Error::<T>::TooManyEndpoints
			);
			let mut out = Endpoints::default();
			for raw in endpoints {
				let endpoint: Endpoint = raw.try_into().map_err(|_| Error::<T>::EndpointTooLong)?;
				ensure!(
					endpoint.len() > 1
						&& endpoint[0] == b'/'
						&& endpoint.iter().all(|c| c.is_ascii_graphic()),
					Error::<T>::InvalidEndpoint
				);
				out.try_push(endpoint)
					.map_err(|_| Error::<T>::TooManyEndpoints)?;
			}
			Ok(out)
		}

		/// Applies `f` to the record of a registered node that is not unbonding.
		fn mutate_serving_node<R>(
			who: &T::AccountId,
			f: impl FnOnce(&mut NodeRecordOf<T>) -> Result<R, Error<T>>,
		) -> Result<R, Error<T>> {
			Nodes::<T>::try_mutate(who, |record| {
				let record = record.as_mut().ok_or(Error::<T>::NotRegistered)?;
				ensure!(!record.status.is_leaving(), Error::<T>::AlreadyUnbonding);
				f(record)
			})
		}

		/// Drops the ratings of `who` for models not in `served`.
		fn keep_ratings_of(who: &T::AccountId, served: &ServedModels) {
			Ratings::<T>::mutate_exists(who, |entry| {
				if let Some(published) = entry {
					published.ratings.retain(|r| served.contains(&r.model));
					if published.ratings.is_empty() {
						*entry = None;
					}
				}
			});
		}

		fn validate_ratings(
			record: &NodeRecordOf<T>,
			ratings: Vec<ModelRating>,
		) -> Result<ModelRatings, Error<T>> {
			let ratings: ModelRatings =
				ratings.try_into().map_err(|_| Error::<T>::TooManyRatings)?;
			for (i, rating) in ratings.iter().enumerate() {
				ensure!(
					record.served_models.contains(&rating.model),
					Error::<T>::RatedModelNotServed
				);
				ensure!(
					rating.generation_milli_tps > 0
						&& !ratings[..i].iter().any(|r| r.model == rating.model),
					Error::<T>::InvalidRating
				);
			}
			Ok(ratings)
		}

		fn unserve(model: ModelId) {
			ModelServers::<T>::mutate_exists(model, |n| {
				*n = n.map(|n| n.saturating_sub(1)).filter(|n| *n > 0);
			});
		}

		/// Drops every trace of a node whose hold was already settled; its reputation record
		/// stays with the account.
		fn remove_node(who: &T::AccountId, record: &NodeRecordOf<T>) {
			for model in &record.served_models {
				Self::unserve(*model);
			}
			NodeByKey::<T>::remove(&record.inference_key);
			Ratings::<T>::remove(who);
			Nodes::<T>::remove(who);
			T::Reputation::departed(who);
		}

		/// Validity of a heartbeat transaction (see [`Pallet::heartbeat`]). Provides the tag
		/// `(node, period, ready_models)`.
		pub fn authorize_heartbeat(
			_source: TransactionSource,
			heartbeat: &Heartbeat<T::AccountId>,
			signature: &InferenceSignature,
		) -> TransactionValidityWithRefund {
			let record = Nodes::<T>::get(&heartbeat.node)
				.ok_or(InvalidTransaction::Custom(INVALID_UNKNOWN_NODE))?;
			if record.status.is_leaving() {
				return Err(InvalidTransaction::Custom(INVALID_NODE_LEAVING).into());
			}
			let now = frame_system::Pallet::<T>::block_number();
			let current = Self::period_of(now);
			if heartbeat.period > current {
				return Err(InvalidTransaction::Future.into());
			}
			if heartbeat.period < current {
				return Err(InvalidTransaction::Stale.into());
			}
			liveness::heartbeat_news::<T>(&record, &heartbeat.ready_models, current).map_err(
				|e| match e {
					Error::<T>::NotServed => InvalidTransaction::Custom(INVALID_NOT_SERVED),
					_ => InvalidTransaction::Stale,
				},
			)?;
			let payload = heartbeat_payload(&genesis_hash::<T>(), heartbeat);
			if !record.inference_key.verify(&payload, signature) {
				return Err(InvalidTransaction::BadProof.into());
			}
			// Valid until the period ends.
			let len = T::HeartbeatPeriod::get();
			let left: u64 = len.saturating_sub(now % len).saturated_into();
			let validity = ValidTransaction::with_tag_prefix("NodeRegistryHeartbeat")
				.priority(T::HeartbeatPriority::get())
				.and_provides((&heartbeat.node, heartbeat.period, &heartbeat.ready_models))
				.longevity(left.max(1))
				.propagate(true)
				.build()?;
			Ok((validity, Weight::zero()))
		}
	}

	/// No element appears twice (lists are at most a few entries long).
	pub(crate) fn all_distinct<X: PartialEq>(v: &[X]) -> bool {
		v.iter().enumerate().all(|(i, a)| !v[..i].contains(a))
	}

	/// Lets the runtime list the inference key among its session keys, so `author_rotateKeys`
	/// and `--alice`-style dev keys create it.
	impl<T: Config> sp_runtime::BoundToRuntimeAppPublic for Pallet<T> {
		type Public = InferenceKey;
	}

	/// The inference key rides along in the session keys only so that one key rotation creates
	/// it: the registry's own record ([`Pallet::register`], [`Pallet::set_inference_key`], with
	/// their proof of ownership) is what counts, so session changes need no action here.
	impl<T: Config> frame_support::traits::OneSessionHandler<T::AccountId> for Pallet<T> {
		type Key = InferenceKey;

		fn on_genesis_session<'a, I>(_validators: I)
		where
			I: 'a + Iterator<Item = (&'a T::AccountId, InferenceKey)>,
		{
		}

		fn on_new_session<'a, I>(_changed: bool, _validators: I, _queued: I)
		where
			I: 'a + Iterator<Item = (&'a T::AccountId, InferenceKey)>,
		{
		}

		fn on_disabled(_validator_index: u32) {}
	}

	impl<T: Config> pallet_model_registry::ModelUsage for Pallet<T> {
		fn users(id: ModelId) -> u32 {
			ModelServers::<T>::get(id)
		}
	}

	impl<T: Config> NodeInspect<T::AccountId> for Pallet<T> {
		type Balance = BalanceOf<T>;

		fn candidates(
			model: ModelId,
			class: &pallet_model_registry::DeterminismClass,
		) -> Vec<T::AccountId> {
			Nodes::<T>::iter()
				.filter(|(_, r)| {
					r.status == NodeStatus::Active
						&& r.served_models.contains(&model)
						&& r.ready_models.contains(&model)
						&& &r.capabilities.class == class
				})
				.map(|(who, _)| who)
				.collect()
		}

		fn is_registered(who: &T::AccountId) -> bool {
			Nodes::<T>::contains_key(who)
		}

		fn inference_key(who: &T::AccountId) -> Option<InferenceKey> {
			Nodes::<T>::get(who).map(|r| r.inference_key)
		}

		fn node_of_key(key: &InferenceKey) -> Option<T::AccountId> {
			NodeByKey::<T>::get(key)
		}

		fn slash(who: &T::AccountId, fraction: Perbill) -> BalanceOf<T> {
			Self::slash_bond(who, fraction)
		}

		fn slash_to(
			who: &T::AccountId,
			fraction: Perbill,
			beneficiaries: &[T::AccountId],
		) -> Slashed<T::AccountId, BalanceOf<T>> {
			Self::slash_bond_to(who, fraction, beneficiaries)
		}

		fn max_nodes() -> u32 {
			T::MaxNodes::get()
		}

		#[cfg(feature = "runtime-benchmarks")]
		fn benchmark_node(seed: u32, model: ModelId) -> Option<(T::AccountId, InferenceKey)> {
			benchmarking::ready_node::<T>(seed, model).ok()
		}
	}
}
