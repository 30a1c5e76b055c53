//! Benchmarks of the reputation pallet (`frame_benchmarking` v2).

use super::*;
use frame_benchmarking::v2::*;
use frame_support::traits::EnsureOrigin;
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::Perbill;

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
			max_units_per_report: 50,
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
		<Pallet<T> as ReputationSink<_>>::record_success(&who, 10);
		let later = frame_system::Pallet::<T>::block_number() + 10_000u32.into();
		frame_system::Pallet::<T>::set_block_number(later);
		#[block]
		{
			<Pallet<T> as ReputationSink<_>>::record_failure(&who, 5);
		}
		assert_eq!(Reputations::<T>::get(&who).map(|r| r.failures), Some(1));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
