//! # Model registry pallet
//!
//! The whitelist of models inference nodes may serve and jobs may name. A model is identified on
//! chain by a [`ModelId`] and described by a [`ModelInfo`]: its IPFS CIDv1 (how nodes fetch it),
//! sha256 and size (how they verify it), format, architecture, quantisation, licence, and the
//! [`DeterminismProfile`] under which results from different nodes are comparable.
//!
//! Only [`Config::GovernanceOrigin`] (the model-whitelist track) changes the list:
//! [`Pallet::whitelist_model`], [`Pallet::deprecate_model`] (stays readable, takes no new jobs)
//! and [`Pallet::remove_model`] (only deprecated models that no node serves, so the registry
//! never leaves a dangling reference). Two entries never share a sha256.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
pub mod migrations;
#[cfg(test)]
mod mock;
#[cfg(any(test, feature = "test-utils", feature = "runtime-benchmarks"))]
pub mod testing;
#[cfg(test)]
mod tests;
mod types;
pub mod weights;

/// Read access to the whitelist for other pallets.
pub trait ModelInspect {
	/// The model exists (active or deprecated).
	fn exists(id: ModelId) -> bool;
	/// The model exists and takes new work.
	fn is_active(id: ModelId) -> bool;
	/// What a job on the model needs: sha256, determinism profile, whether it is active.
	fn job_spec(id: ModelId) -> Option<JobSpec>;
	/// Whitelists a sample model derived from `seed`, for other pallets' benchmarks.
	#[cfg(feature = "runtime-benchmarks")]
	fn benchmark_model(seed: u32) -> ModelId;
}

/// Tells the registry whether anything still refers to a model. The node registry implements it
/// (nodes serving the model); `()` says nothing does.
pub trait ModelUsage {
	/// Number of references to `id` held elsewhere.
	fn users(id: ModelId) -> u32;
}

impl ModelUsage for () {
	fn users(_: ModelId) -> u32 {
		0
	}
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::{boxed::Box, vec::Vec};
	use frame_support::pallet_prelude::*;
	use frame_system::pallet_prelude::*;

	const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// Origin that whitelists, deprecates and removes models (the model-whitelist track).
		type GovernanceOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// Who else refers to models (the node registry).
		type ModelUsage: ModelUsage;
		/// Maximum number of entries.
		#[pallet::constant]
		type MaxModels: Get<u32>;
		/// Weights of this pallet's calls, from its benchmarks.
		type WeightInfo: WeightInfo;
	}

	/// The registry, by id. At most [`Config::MaxModels`] entries.
	#[pallet::storage]
	pub type Models<T: Config> =
		CountedStorageMap<_, Twox64Concat, ModelId, ModelEntry<BlockNumberFor<T>>>;

	/// Index from a file's sha256 to its id (rejects duplicates, lets nodes look a file up).
	#[pallet::storage]
	pub type ModelBySha256<T: Config> = StorageMap<_, Identity, [u8; 32], ModelId>;

	/// The id the next whitelisted model gets.
	#[pallet::storage]
	pub type NextModelId<T: Config> = StorageValue<_, ModelId, ValueQuery>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Models whitelisted from genesis, ids 0, 1, … in this order.
		pub models: Vec<ModelInfo>,
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			for info in &self.models {
				assert!(
					Pallet::<T>::insert(info.clone(), Zero::zero()).is_ok(),
					"bad genesis model"
				);
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A model was added to the whitelist.
		ModelWhitelisted {
			id: ModelId,
			sha256: [u8; 32],
			cid: CidText,
		},
		/// A model takes no new jobs any more.
		ModelDeprecated { id: ModelId },
		/// A deprecated, unused model was removed.
		ModelRemoved { id: ModelId },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// A model with the same sha256 is already registered.
		DuplicateModel,
		/// The registry holds `MaxModels` entries.
		TooManyModels,
		/// No model with this id.
		UnknownModel,
		/// The model is already deprecated.
		AlreadyDeprecated,
		/// Only a deprecated model can be removed.
		NotDeprecated,
		/// Nodes still serve the model.
		ModelInUse,
		/// Empty name, architecture or quantisation.
		MissingField,
		/// The CID is not a base32 CIDv1 text.
		InvalidCid,
		/// The file size is zero.
		EmptyFile,
		/// Flash attention on, non-greedy sampler, or inconsistent context/batch sizes.
		NondeterministicProfile,
		/// A context size the engine does not support, or an empty engine class.
		UnsupportedProfile,
	}

	impl<T> From<InvalidModel> for Error<T> {
		fn from(e: InvalidModel) -> Self {
			match e {
				InvalidModel::MissingField => Error::MissingField,
				InvalidModel::InvalidCid => Error::InvalidCid,
				InvalidModel::EmptyFile => Error::EmptyFile,
				InvalidModel::NondeterministicProfile => Error::NondeterministicProfile,
				InvalidModel::UnsupportedProfile => Error::UnsupportedProfile,
			}
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Add a model to the whitelist; it gets the next [`ModelId`].
		///
		/// Origin: [`Config::GovernanceOrigin`]. Emits [`Event::ModelWhitelisted`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::whitelist_model())]
		pub fn whitelist_model(origin: OriginFor<T>, info: Box<ModelInfo>) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::insert(*info, frame_system::Pallet::<T>::block_number())?;
			Ok(())
		}

		/// Stop new jobs for a model. It stays readable and nodes may keep serving it.
		///
		/// Origin: [`Config::GovernanceOrigin`]. Emits [`Event::ModelDeprecated`].
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::deprecate_model())]
		pub fn deprecate_model(origin: OriginFor<T>, id: ModelId) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Models::<T>::try_mutate(id, |entry| {
				let entry = entry.as_mut().ok_or(Error::<T>::UnknownModel)?;
				ensure!(
					entry.status == ModelStatus::Active,
					Error::<T>::AlreadyDeprecated
				);
				entry.status = ModelStatus::Deprecated;
				Ok::<_, Error<T>>(())
			})?;
			Self::deposit_event(Event::ModelDeprecated { id });
			Ok(())
		}

		/// Delete a deprecated model that no node serves any more.
		///
		/// Origin: [`Config::GovernanceOrigin`]. Emits [`Event::ModelRemoved`].
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::remove_model())]
		pub fn remove_model(origin: OriginFor<T>, id: ModelId) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			let entry = Models::<T>::get(id).ok_or(Error::<T>::UnknownModel)?;
			ensure!(
				entry.status == ModelStatus::Deprecated,
				Error::<T>::NotDeprecated
			);
			ensure!(T::ModelUsage::users(id) == 0, Error::<T>::ModelInUse);
			Models::<T>::remove(id);
			ModelBySha256::<T>::remove(entry.info.sha256);
			Self::deposit_event(Event::ModelRemoved { id });
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// Validates and stores a new entry; shared by the call and genesis.
		pub(crate) fn insert(info: ModelInfo, now: BlockNumberFor<T>) -> Result<ModelId, Error<T>> {
			info.validate()?;
			ensure!(
				!ModelBySha256::<T>::contains_key(info.sha256),
				Error::<T>::DuplicateModel
			);
			ensure!(
				Models::<T>::count() < T::MaxModels::get(),
				Error::<T>::TooManyModels
			);
			let id = NextModelId::<T>::get();
			let next = id.checked_add(1).ok_or(Error::<T>::TooManyModels)?;
			let (sha256, cid) = (info.sha256, info.cid.clone());
			Models::<T>::insert(
				id,
				ModelEntry {
					info,
					status: ModelStatus::Active,
					whitelisted_at: now,
				},
			);
			ModelBySha256::<T>::insert(sha256, id);
			NextModelId::<T>::put(next);
			Self::deposit_event(Event::ModelWhitelisted { id, sha256, cid });
			Ok(id)
		}

		/// Invariants: the sha256 index matches the entries one to one, ids are below
		/// `NextModelId`, the count is within `MaxModels`, every entry is valid.
		#[cfg(any(feature = "try-runtime", test))]
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			let next = NextModelId::<T>::get();
			let mut n = 0u32;
			for (id, entry) in Models::<T>::iter() {
				ensure!(id < next, "model id not below NextModelId");
				ensure!(entry.info.validate().is_ok(), "invalid model entry");
				ensure!(
					ModelBySha256::<T>::get(entry.info.sha256) == Some(id),
					"sha256 index misses an entry"
				);
				n += 1;
			}
			ensure!(n == Models::<T>::count(), "model counter out of sync");
			ensure!(n <= T::MaxModels::get(), "more models than MaxModels");
			ensure!(
				ModelBySha256::<T>::iter().count() as u32 == n,
				"dangling sha256 index"
			);
			Ok(())
		}
	}

	impl<T: Config> ModelInspect for Pallet<T> {
		fn exists(id: ModelId) -> bool {
			Models::<T>::contains_key(id)
		}
		fn is_active(id: ModelId) -> bool {
			Models::<T>::get(id).is_some_and(|e| e.status == ModelStatus::Active)
		}
		fn job_spec(id: ModelId) -> Option<JobSpec> {
			Models::<T>::get(id).map(|e| JobSpec {
				sha256: e.info.sha256,
				profile: e.info.profile,
				active: e.status == ModelStatus::Active,
			})
		}
		#[cfg(feature = "runtime-benchmarks")]
		fn benchmark_model(seed: u32) -> ModelId {
			let info = crate::testing::sample_model(seed);
			match ModelBySha256::<T>::get(info.sha256) {
				Some(id) => id,
				None => Self::insert(info, Zero::zero()).unwrap_or_default(),
			}
		}
	}
}
