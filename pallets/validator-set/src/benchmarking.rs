//! Benchmarks of the validator set (`frame_benchmarking` v2). Every call runs with
//! `MaxCandidates - 1` candidates already in place, the fullest list a call can find.

use super::*;
use crate::pallet::{Call, Candidates, Config, Pallet, Parameters};
use frame_benchmarking::v2::*;
use frame_support::traits::{EnsureOrigin, Get};
use frame_system::RawOrigin;
use sp_runtime::Perbill;

/// A node that may opt in: registered, online, bonded and with session keys.
fn ready<T: Config>(name: &'static str, i: u32) -> T::AccountId {
	let who: T::AccountId = account(name, i, 0);
	T::Nodes::make_node(&who);
	T::Session::set_keys(&who);
	who
}

fn opted_in<T: Config>(who: &T::AccountId) -> Result<(), BenchmarkError> {
	Pallet::<T>::opt_in(RawOrigin::Signed(who.clone()).into())
		.map_err(|_| BenchmarkError::Stop("opt_in failed"))
}

/// Adds candidates until there are `MaxCandidates - 1` (genesis validators count).
fn fill<T: Config>() -> Result<(), BenchmarkError> {
	let target = T::MaxCandidates::get().saturating_sub(1);
	for i in Candidates::<T>::count()..target {
		opted_in::<T>(&ready::<T>("candidate", i))?;
	}
	Ok(())
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// Opting in as the last candidate that fits.
	#[benchmark]
	fn opt_in() -> Result<(), BenchmarkError> {
		fill::<T>()?;
		let who = ready::<T>("node", 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert!(Candidates::<T>::contains_key(&who));
		Ok(())
	}

	#[benchmark]
	fn opt_out() -> Result<(), BenchmarkError> {
		fill::<T>()?;
		let who = ready::<T>("node", 0);
		opted_in::<T>(&who)?;
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert!(!Candidates::<T>::contains_key(&who));
		Ok(())
	}

	#[benchmark]
	fn set_parameters() -> Result<(), BenchmarkError> {
		let origin =
			T::ParametersOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let parameters = ValidatorSetParameters {
			max_validators: T::MaxValidators::get(),
			equivocation_slash: Perbill::from_percent(5),
		};
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, parameters);
		assert_eq!(Parameters::<T>::get(), parameters);
		Ok(())
	}

	/// The runtime telling the pallet that a candidate's node left the registry.
	#[benchmark]
	fn on_node_left() -> Result<(), BenchmarkError> {
		fill::<T>()?;
		let who = ready::<T>("node", 0);
		opted_in::<T>(&who)?;
		#[block]
		{
			Pallet::<T>::on_node_left(&who);
		}
		assert!(!Candidates::<T>::contains_key(&who));
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
