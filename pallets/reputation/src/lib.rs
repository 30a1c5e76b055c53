//! # Reputation pallet
//!
//! Keeps a Beta reputation for every inference node: `alpha` counts verified successes and `beta`
//! failures, both weighted by the size of the work, and the score is the mean of the Beta
//! posterior with a uniform prior, `(alpha + 1) / (alpha + beta + 2)`, as a [`Perbill`]. Old
//! evidence fades: at every `decay_period` both counters are multiplied by `decay_factor`, so a
//! node's score follows its recent behaviour. Decay is applied lazily, when a record is touched or
//! read, which keeps every operation O(1).
//!
//! Other pallets feed it through [`ReputationSink`] (proof of inference reports settled jobs, the
//! node registry reports missed heartbeats) and read it through [`ReputationInspect`] (governance
//! weighs votes with it). The formula's parameters are changed by the governance origin
//! configured as [`Config::ParametersOrigin`] (the "reputation formula" track).
//!
//! Storage is bounded: a record exists only for a node the registry knows ([`Config::MaxNodes`]
//! records at most); the registry calls [`ReputationSink::forget`] when a node leaves.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
pub mod runtime_api;
#[cfg(test)]
mod tests;
mod types;
pub mod weights;

/// Receives the outcome of verified work. Implemented by this pallet; `()` ignores everything
/// (for pallets tested without reputation).
pub trait ReputationSink<AccountId> {
	/// `who` completed work of the given size (in work units) in agreement with the majority.
	fn record_success(who: &AccountId, units: u32);
	/// `who` produced a wrong or no result for work of the given size.
	fn record_failure(who: &AccountId, units: u32);
	/// `who` missed a heartbeat period.
	fn record_offline(who: &AccountId);
	/// `who` left the registry; its record is dropped.
	fn forget(who: &AccountId);
}

impl<AccountId> ReputationSink<AccountId> for () {
	fn record_success(_: &AccountId, _: u32) {}
	fn record_failure(_: &AccountId, _: u32) {}
	fn record_offline(_: &AccountId) {}
	fn forget(_: &AccountId) {}
}

/// Reads scores.
pub trait ReputationInspect<AccountId> {
	/// The current score of `who` (decay applied); the prior `1/2` for a node with no evidence.
	fn score(who: &AccountId) -> sp_runtime::Perbill;
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::pallet_prelude::*;
	use frame_system::pallet_prelude::*;
	use sp_runtime::Perbill;

	const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// Origin allowed to change the formula's parameters (the governance track for the
		/// reputation formula).
		type ParametersOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// Upper bound on the number of records; matches the node registry's capacity.
		#[pallet::constant]
		type MaxNodes: Get<u32>;
		/// Weights of this pallet's calls, from its benchmarks.
		type WeightInfo: WeightInfo;
	}

	/// The parameters of the formula; see [`FormulaParameters`].
	#[pallet::storage]
	pub type Parameters<T: Config> =
		StorageValue<_, FormulaParameters<BlockNumberFor<T>>, ValueQuery>;

	/// Evidence per node. At most [`Config::MaxNodes`] entries.
	#[pallet::storage]
	pub type Reputations<T: Config> =
		CountedStorageMap<_, Blake2_128Concat, T::AccountId, Record<BlockNumberFor<T>>>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Initial parameters of the formula.
		pub parameters: FormulaParameters<BlockNumberFor<T>>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			assert!(self.parameters.is_valid(), "invalid reputation parameters");
			Parameters::<T>::put(self.parameters.clone());
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// The formula's parameters were replaced.
		ParametersSet {
			parameters: FormulaParameters<BlockNumberFor<T>>,
		},
		/// New evidence changed a node's score.
		ReputationUpdated {
			who: T::AccountId,
			outcome: Outcome,
			score: Perbill,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// `decay_period` is zero, or a weight is zero.
		InvalidParameters,
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
		/// Replace the formula's parameters. Existing evidence is first decayed with the old
		/// parameters lazily, on its next touch, using the new ones (documented in the README).
		///
		/// Origin: [`Config::ParametersOrigin`]. Emits [`Event::ParametersSet`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::set_parameters())]
		pub fn set_parameters(
			origin: OriginFor<T>,
			parameters: FormulaParameters<BlockNumberFor<T>>,
		) -> DispatchResult {
			T::ParametersOrigin::ensure_origin(origin)?;
			ensure!(parameters.is_valid(), Error::<T>::InvalidParameters);
			Parameters::<T>::put(parameters.clone());
			Self::deposit_event(Event::ParametersSet { parameters });
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// The record of `who` with decay applied up to now, without writing it.
		pub fn current_record(who: &T::AccountId) -> Option<Record<BlockNumberFor<T>>> {
			let now = frame_system::Pallet::<T>::block_number();
			Reputations::<T>::get(who).map(|r| r.decayed(now, &Parameters::<T>::get()))
		}

		/// All scored nodes, best first, at most `limit` (ties broken by account for a stable
		/// order). Used by the runtime API; not called from dispatchables.
		pub fn top_nodes(limit: u32) -> alloc::vec::Vec<(T::AccountId, Perbill)> {
			let now = frame_system::Pallet::<T>::block_number();
			let params = Parameters::<T>::get();
			let mut all: alloc::vec::Vec<_> = Reputations::<T>::iter()
				.map(|(who, r)| (who, r.decayed(now, &params).score()))
				.collect();
			all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
			all.truncate(limit.min(T::MaxNodes::get()) as usize);
			all
		}

		fn update(who: &T::AccountId, outcome: Outcome, units: u32) {
			let now = frame_system::Pallet::<T>::block_number();
			let params = Parameters::<T>::get();
			let existing = Reputations::<T>::get(who);
			if existing.is_none() && Reputations::<T>::count() >= T::MaxNodes::get() {
				// Cannot happen while the registry's capacity equals ours; keep the bound anyway.
				log::warn!(target: LOG_TARGET, "reputation table full; evidence dropped");
				return;
			}
			let mut record = existing
				.map(|r| r.decayed(now, &params))
				.unwrap_or(Record::new(now));
			record.add(outcome, units, &params);
			let score = record.score();
			Reputations::<T>::insert(who, record);
			Self::deposit_event(Event::ReputationUpdated {
				who: who.clone(),
				outcome,
				score,
			});
		}

		#[cfg(any(feature = "try-runtime", test))]
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(Parameters::<T>::get().is_valid(), "invalid parameters");
			let mut n = 0u32;
			for (_, r) in Reputations::<T>::iter() {
				ensure!(r.updated_at <= now, "record updated in the future");
				ensure!(r.score() <= Perbill::one(), "score out of bounds");
				n += 1;
			}
			ensure!(n == Reputations::<T>::count(), "counter out of sync");
			ensure!(n <= T::MaxNodes::get(), "more records than MaxNodes");
			Ok(())
		}
	}

	impl<T: Config> ReputationSink<T::AccountId> for Pallet<T> {
		fn record_success(who: &T::AccountId, units: u32) {
			Self::update(who, Outcome::Success, units)
		}
		fn record_failure(who: &T::AccountId, units: u32) {
			Self::update(who, Outcome::Failure, units)
		}
		fn record_offline(who: &T::AccountId) {
			Self::update(who, Outcome::Offline, 0)
		}
		fn forget(who: &T::AccountId) {
			Reputations::<T>::remove(who);
		}
	}

	impl<T: Config> ReputationInspect<T::AccountId> for Pallet<T> {
		fn score(who: &T::AccountId) -> Perbill {
			Self::current_record(who)
				.map(|r| r.score())
				.unwrap_or(Perbill::from_percent(50))
		}
	}
}

/// Log target of this pallet.
pub const LOG_TARGET: &str = "runtime::reputation";
