//! Benchmarks of the reputation pallet (`frame_benchmarking` v2).

use super::*;
use frame_benchmarking::v2::*;
use frame_support::traits::{EnsureOrigin, Get};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::Perbill;

/// Gives `who` a record and marks it departed.
fn departed_record<T: Config>(who: &T::AccountId) {
	<Pallet<T> as ReputationSink<_>>::record(who, Outcome::Missed, 1);
	<Pallet<T> as ReputationSink<_>>::departed(who);
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn set_parameters() -> Result<(), BenchmarkError> {
		let origin =
			T::ParametersOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let params = FormulaParameters::<BlockNumberFor<T>> {
			decay_period: 100u32.into(),
			decay_factor: Perbill::from_percent(90),
			offline_units: 2,
			timeout_units: 1,
			max_units_per_report: 50,
			confidence_units: 500,
		};
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, params.clone());
		assert_eq!(Parameters::<T>::get(), params);
		Ok(())
	}

	/// The cost of one report through [`ReputationSink`], on an existing record that must be
	/// decayed first (the expensive path).
	#[benchmark]
	fn record() {
		let who: T::AccountId = account("node", 0, 0);
		<Pallet<T> as ReputationSink<_>>::record(&who, Outcome::Success, 10);
		let later = frame_system::Pallet::<T>::block_number() + 10_000u32.into();
		frame_system::Pallet::<T>::set_block_number(later);
		#[block]
		{
			<Pallet<T> as ReputationSink<_>>::record(&who, Outcome::Wrong, 5);
		}
		assert_eq!(Reputations::<T>::get(&who).map(|r| r.wrong), Some(1));
	}

	/// A node leaves while the departed ring is full: the oldest record is dropped.
	#[benchmark]
	fn departed() {
		for i in 0..T::MaxDeparted::get() {
			departed_record::<T>(&account("old", i, 0));
		}
		let who: T::AccountId = account("node", 0, 0);
		<Pallet<T> as ReputationSink<_>>::record(&who, Outcome::Success, 10);
		#[block]
		{
			<Pallet<T> as ReputationSink<_>>::departed(&who);
		}
		assert!(Departed::<T>::contains_key(&who));
		assert!(!Reputations::<T>::contains_key(account::<T::AccountId>(
			"old", 0, 0
		)));
	}

	/// A departed account from the front of a full ring registers again: the newest entry
	/// moves into its place.
	#[benchmark]
	fn returned() {
		for i in 0..T::MaxDeparted::get() {
			departed_record::<T>(&account("old", i, 0));
		}
		let who: T::AccountId = account("old", 0, 0);
		#[block]
		{
			<Pallet<T> as ReputationSink<_>>::returned(&who);
		}
		assert!(!Departed::<T>::contains_key(&who));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
