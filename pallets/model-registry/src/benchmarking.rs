//! Benchmarks of the model registry (`frame_benchmarking` v2).

use super::*;
use alloc::boxed::Box;
use frame_benchmarking::v2::*;
use frame_support::traits::EnsureOrigin;
use testing::sample_model;

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn whitelist_model() -> Result<(), BenchmarkError> {
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let id = NextModelId::<T>::get();
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, Box::new(sample_model(1)));
		assert!(Models::<T>::contains_key(id));
		Ok(())
	}

	#[benchmark]
	fn deprecate_model() -> Result<(), BenchmarkError> {
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let id = Pallet::<T>::insert(sample_model(1), 0u32.into())
			.map_err(|_| BenchmarkError::Stop("insert"))?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, id);
		assert!(!Pallet::<T>::is_active(id));
		Ok(())
	}

	#[benchmark]
	fn remove_model() -> Result<(), BenchmarkError> {
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let id = Pallet::<T>::insert(sample_model(1), 0u32.into())
			.map_err(|_| BenchmarkError::Stop("insert"))?;
		Models::<T>::mutate(id, |e| {
			if let Some(e) = e {
				e.status = ModelStatus::Deprecated
			}
		});
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, id);
		assert!(!Pallet::<T>::exists(id));
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
