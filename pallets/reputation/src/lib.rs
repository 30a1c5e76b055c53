//! # Reputation pallet
//!
//! Keeps the evidence about every account that runs, or ran, an inference node: `alpha` counts
//! verified successes and `beta` failures, both weighted by the size of the work. The score is
//! `alpha / (alpha + beta + confidence_units)` as a [`Perbill`] ([`Record::score`]): **zero for
//! an account without verified work** (no prior counts), one half for a flawless node with
//! `confidence_units` of evidence, approaching one as verified work accumulates. Old evidence
//! fades: at every `decay_period` both counters are multiplied by `decay_factor`, so a score
//! follows recent behaviour. Decay is applied lazily, when a record is touched or read, which
//! keeps every operation O(1).
//!
//! Other pallets feed it through [`ReputationSink`] (proof of inference reports settled jobs,
//! the node registry missed heartbeats) and read it through [`ReputationInspect`] (governance
//! weighs votes with it, proof of inference weighs job assignment). The formula's parameters are
//! set at genesis and changed by [`Config::ParametersOrigin`] (the reputation-formula track).
//!
//! ## Records belong to accounts
//! A record survives its node leaving the registry: re-registering the same account finds its
//! evidence, so a node cannot wash away its failures by leaving and coming back. Storage stays
//! bounded: at most [`Config::MaxNodes`] registered accounts plus [`Config::MaxDeparted`]
//! departed ones keep a record; when more nodes have left, the record of the account that left
//! first is dropped ([`Event::RecordDropped`]). A fresh account starts at score zero, below any
//! node with verified work, so dropping an old record never helps anyone.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod departed;
#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod mock;
pub mod runtime_api;
#[cfg(test)]
mod tests;
mod types;
pub mod weights;

/// Log target of this pallet.
pub const LOG_TARGET: &str = "runtime::reputation";

/// Receives the outcome of work and the node lifecycle. Implemented by this pallet; `()` ignores
/// everything (for pallets tested without reputation).
pub trait ReputationSink<AccountId> {
	/// Adds one piece of evidence about `who`; `units` is the size of the work (ignored for
	/// [`Outcome::Timeout`] and [`Outcome::Offline`], which weigh what the formula says).
	fn record(who: &AccountId, outcome: Outcome, units: u32);
	/// `who`'s node left the registry: its record is kept as a departed account's.
	fn departed(who: &AccountId);
	/// `who` registered a node (again): its record, if any, is a registered account's.
	fn returned(who: &AccountId);
}

impl<AccountId> ReputationSink<AccountId> for () {
	fn record(_: &AccountId, _: Outcome, _: u32) {}
	fn departed(_: &AccountId) {}
	fn returned(_: &AccountId) {}
}

/// Reads scores.
pub trait ReputationInspect<AccountId> {
	/// The current score of `who` (decay applied): zero for an account without verified work.
	fn score(who: &AccountId) -> sp_runtime::Perbill;
}

impl<AccountId> ReputationInspect<AccountId> for () {
	fn score(_: &AccountId) -> sp_runtime::Perbill {
		sp_runtime::Perbill::zero()
	}
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::pallet_prelude::*;
	use frame_system::pallet_prelude::*;
	use sp_runtime::Perbill;

	const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// Origin allowed to change the formula's parameters (the governance track for the
		/// reputation formula).
		type ParametersOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// Records of registered accounts; matches the node registry's capacity.
		#[pallet::constant]
		type MaxNodes: Get<u32>;
		/// Records kept for accounts whose node left (non-zero).
		#[pallet::constant]
		type MaxDeparted: Get<u32>;
		/// Weights of this pallet's calls and hooks, from its benchmarks.
		type WeightInfo: WeightInfo;
	}

	/// The parameters of the formula; see [`FormulaParameters`].
	#[pallet::storage]
	pub type Parameters<T: Config> =
		StorageValue<_, FormulaParameters<BlockNumberFor<T>>, ValueQuery>;

	/// Evidence per account. At most `MaxNodes + MaxDeparted` entries.
	#[pallet::storage]
	pub type Reputations<T: Config> =
		CountedStorageMap<_, Blake2_128Concat, T::AccountId, Record<BlockNumberFor<T>>>;

	/// Accounts whose node left while they had a record, with their position in
	/// [`DepartedQueue`]. At most [`Config::MaxDeparted`] entries.
	#[pallet::storage]
	pub type Departed<T: Config> = CountedStorageMap<_, Blake2_128Concat, T::AccountId, u32>;

	/// Ring of departed accounts, oldest at `DepartedRange.0`: position → account.
	#[pallet::storage]
	pub type DepartedQueue<T: Config> = StorageMap<_, Twox64Concat, u32, T::AccountId>;

	/// `(head, len)` of the ring [`DepartedQueue`] of capacity [`Config::MaxDeparted`].
	#[pallet::storage]
	pub type DepartedRange<T: Config> = StorageValue<_, (u32, u32), ValueQuery>;

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
			/// The new parameters.
			parameters: FormulaParameters<BlockNumberFor<T>>,
		},
		/// New evidence changed an account's score.
		ReputationUpdated {
			/// The account.
			who: T::AccountId,
			/// What the evidence says.
			outcome: Outcome,
			/// The score after it.
			score: Perbill,
		},
		/// More than `MaxDeparted` nodes have left: the record of the account that left first
		/// was dropped.
		RecordDropped {
			/// The account.
			who: T::AccountId,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// A parameter outside its bounds (see [`FormulaParameters::is_valid`]).
		InvalidParameters,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxDeparted::get() > 0, "MaxDeparted must be non-zero");
			assert!(T::MaxNodes::get() > 0, "MaxNodes must be non-zero");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Replace the formula's parameters. Records not yet brought up to date are decayed
		/// with the new parameters for the periods that passed (documented in the README).
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

		/// The score of `who` now, `None` without a record.
		pub fn score_of(who: &T::AccountId) -> Option<Perbill> {
			Self::current_record(who).map(|r| r.score(&Parameters::<T>::get()))
		}

		/// All scored accounts, best first, at most `limit` (ties broken by account for a
		/// stable order). Used by the runtime API; not called from dispatchables.
		pub fn top_nodes(limit: u32) -> alloc::vec::Vec<(T::AccountId, Perbill)> {
			let now = frame_system::Pallet::<T>::block_number();
			let params = Parameters::<T>::get();
			let mut all: alloc::vec::Vec<_> = Reputations::<T>::iter()
				.map(|(who, r)| (who, r.decayed(now, &params).score(&params)))
				.collect();
			all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
			all.truncate(limit.min(Self::max_records()) as usize);
			all
		}

		/// Most records the table holds: registered plus departed accounts.
		pub fn max_records() -> u32 {
			T::MaxNodes::get().saturating_add(T::MaxDeparted::get())
		}

		fn update(who: &T::AccountId, outcome: Outcome, units: u32) {
			let now = frame_system::Pallet::<T>::block_number();
			let params = Parameters::<T>::get();
			let existing = Reputations::<T>::get(who);
			if existing.is_none() && Reputations::<T>::count() >= Self::max_records() {
				// Callers report only registered nodes, whose records always fit; keep the
				// bound anyway.
				log::warn!(target: LOG_TARGET, "reputation table full; evidence dropped");
				return;
			}
			let mut record = existing
				.map(|r| r.decayed(now, &params))
				.unwrap_or(Record::new(now));
			record.add(outcome, units, &params);
			let score = record.score(&params);
			Reputations::<T>::insert(who, record);
			Self::deposit_event(Event::ReputationUpdated {
				who: who.clone(),
				outcome,
				score,
			});
		}

		/// Invariants: valid parameters, no record from the future, the counters match the
		/// maps, the bounds hold, and the departed ring and index agree.
		#[cfg(any(feature = "try-runtime", feature = "test-utils", test))]
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(Parameters::<T>::get().is_valid(), "invalid parameters");
			let mut n = 0u32;
			for (_, r) in Reputations::<T>::iter() {
				ensure!(r.updated_at <= now, "record updated in the future");
				n += 1;
			}
			ensure!(n == Reputations::<T>::count(), "counter out of sync");
			ensure!(
				n <= Self::max_records(),
				"more records than MaxNodes + MaxDeparted"
			);
			departed::check::<T>()
		}
	}

	impl<T: Config> ReputationSink<T::AccountId> for Pallet<T> {
		fn record(who: &T::AccountId, outcome: Outcome, units: u32) {
			Self::update(who, outcome, units)
		}

		fn departed(who: &T::AccountId) {
			departed::push::<T>(who)
		}

		fn returned(who: &T::AccountId) {
			departed::remove::<T>(who)
		}
	}

	impl<T: Config> ReputationInspect<T::AccountId> for Pallet<T> {
		fn score(who: &T::AccountId) -> Perbill {
			Self::score_of(who).unwrap_or_else(Perbill::zero)
		}
	}
}
