//! Benchmarks of the node registry (`frame_benchmarking` v2).

use super::*;
use crate::pallet::{Call, Config, Nodes, Pallet};
use alloc::{vec, vec::Vec};
use frame_benchmarking::v2::*;
use frame_support::{
	pallet_prelude::TransactionSource,
	traits::{
		fungible::{Inspect, Mutate},
		Authorize, EnsureOrigin, Get, Hooks,
	},
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use pallet_model_registry::{ModelFormat, ModelId, ModelInspect};
use sp_runtime::{traits::Saturating, RuntimeAppPublic};

fn capabilities() -> Capabilities {
	Capabilities {
		cpu_cores: 16,
		ram_mib: 131_072,
		gpu_memory_mib: 81_920,
		accelerators: vec![
			Accelerator::Cpu,
			Accelerator::Cuda,
			Accelerator::Rocm,
			Accelerator::Vulkan,
		]
		.try_into()
		.unwrap_or_default(),
		model_formats: vec![ModelFormat::Gguf].try_into().unwrap_or_default(),
	}
}

/// `MAX_ENDPOINTS` endpoints of maximal length.
fn endpoints() -> Vec<Vec<u8>> {
	let mut e = vec![b'/'];
	e.resize(MAX_ENDPOINT_LEN as usize, b'a');
	vec![e; MAX_ENDPOINTS as usize]
}

fn models<T: Config>(n: u32) -> Vec<ModelId> {
	(0..n)
		.map(|i| T::Models::benchmark_model(1_000 + i))
		.collect()
}

fn funded<T: Config>(name: &'static str, i: u32) -> T::AccountId {
	let who: T::AccountId = account(name, i, 0);
	let amount = T::MinBond::get().saturating_mul(1_000u32.into());
	let _ = T::Currency::set_balance(&who, amount.max(T::Currency::minimum_balance()));
	who
}

/// Registers a node serving `n` models; returns its account and key.
fn registered<T: Config>(i: u32, n: u32) -> Result<(T::AccountId, InferenceKey), BenchmarkError> {
	let who = funded::<T>("node", i);
	let key = InferenceKey::generate_pair(None);
	Pallet::<T>::register(
		RawOrigin::Signed(who.clone()).into(),
		capabilities(),
		models::<T>(n),
		endpoints(),
		key.clone(),
		T::MinBond::get(),
	)
	.map_err(|_| BenchmarkError::Stop("register failed"))?;
	Ok((who, key))
}

fn heartbeat_call<T: Config>(
	who: T::AccountId,
	key: &InferenceKey,
) -> Result<Call<T>, BenchmarkError> {
	// Move into a period the node was not yet seen alive in.
	let next = frame_system::Pallet::<T>::block_number().saturating_add(T::HeartbeatPeriod::get());
	frame_system::Pallet::<T>::set_block_number(next);
	let heartbeat = Heartbeat {
		node: who,
		period: Pallet::<T>::current_period(),
	};
	let signature = key
		.sign(&heartbeat_payload(&heartbeat))
		.ok_or(BenchmarkError::Stop("no keystore"))?;
	Ok(Call::heartbeat {
		heartbeat,
		signature,
	})
}

fn unbonded<T: Config>(who: &T::AccountId) -> Result<(), BenchmarkError> {
	Pallet::<T>::unregister(RawOrigin::Signed(who.clone()).into())
		.map_err(|_| BenchmarkError::Stop("unregister failed"))?;
	let later = frame_system::Pallet::<T>::block_number()
		.saturating_add(T::UnbondingPeriod::get())
		.saturating_add(1u32.into());
	frame_system::Pallet::<T>::set_block_number(later);
	Ok(())
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register(n: Linear<0, MAX_SERVED_MODELS>) {
		let who = funded::<T>("node", 0);
		let served = models::<T>(n);
		let key = InferenceKey::generate_pair(None);
		#[extrinsic_call]
		_(
			RawOrigin::Signed(who.clone()),
			capabilities(),
			served,
			endpoints(),
			key,
			T::MinBond::get(),
		);
		assert!(Nodes::<T>::contains_key(&who));
	}

	#[benchmark]
	fn update_capabilities() -> Result<(), BenchmarkError> {
		let (who, _) = registered::<T>(0, 0)?;
		#[extrinsic_call]
		_(RawOrigin::Signed(who), capabilities());
		Ok(())
	}

	/// Replaces `MAX_SERVED_MODELS` served models by `n` others.
	#[benchmark]
	fn set_served_models(n: Linear<0, MAX_SERVED_MODELS>) -> Result<(), BenchmarkError> {
		let (who, _) = registered::<T>(0, MAX_SERVED_MODELS)?;
		let new: Vec<ModelId> = (0..n)
			.map(|i| T::Models::benchmark_model(5_000 + i))
			.collect();
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), new);
		assert_eq!(
			Nodes::<T>::get(&who).map(|r| r.served_models.len() as u32),
			Some(n)
		);
		Ok(())
	}

	#[benchmark]
	fn set_endpoints() -> Result<(), BenchmarkError> {
		let (who, _) = registered::<T>(0, 0)?;
		#[extrinsic_call]
		_(RawOrigin::Signed(who), endpoints());
		Ok(())
	}

	#[benchmark]
	fn heartbeat() -> Result<(), BenchmarkError> {
		let (who, key) = registered::<T>(0, 0)?;
		let Call::heartbeat {
			heartbeat: statement,
			signature: proof,
		} = heartbeat_call::<T>(who.clone(), &key)?
		else {
			return Err(BenchmarkError::Stop("not a heartbeat"));
		};
		#[extrinsic_call]
		_(RawOrigin::Authorized, statement, proof);
		assert_eq!(
			Nodes::<T>::get(&who).map(|r| r.last_alive),
			Some(Pallet::<T>::current_period())
		);
		Ok(())
	}

	#[benchmark]
	fn authorize_heartbeat() -> Result<(), BenchmarkError> {
		let (who, key) = registered::<T>(0, 0)?;
		let call = heartbeat_call::<T>(who, &key)?;
		#[block]
		{
			call.authorize(TransactionSource::External)
				.ok_or(BenchmarkError::Stop("not authorizable"))?
				.map_err(|_| BenchmarkError::Stop("rejected"))?;
		}
		Ok(())
	}

	#[benchmark]
	fn unregister() -> Result<(), BenchmarkError> {
		let (who, _) = registered::<T>(0, MAX_SERVED_MODELS)?;
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert!(Pallet::<T>::voting_units(&who).is_none());
		Ok(())
	}

	#[benchmark]
	fn withdraw_unbonded(n: Linear<0, MAX_SERVED_MODELS>) -> Result<(), BenchmarkError> {
		let (who, _) = registered::<T>(0, n)?;
		unbonded::<T>(&who)?;
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert!(!Nodes::<T>::contains_key(&who));
		Ok(())
	}

	#[benchmark]
	fn ban(n: Linear<0, MAX_SERVED_MODELS>) -> Result<(), BenchmarkError> {
		let origin =
			T::BanOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let (who, _) = registered::<T>(0, n)?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone());
		assert!(!Nodes::<T>::contains_key(&who));
		Ok(())
	}

	/// The per-block cost of looking for the block author. Without a consensus digest no author
	/// is found; `on_initialize` adds the storage access of crediting one.
	#[benchmark]
	fn note_author() -> Result<(), BenchmarkError> {
		registered::<T>(0, 0)?;
		let n: BlockNumberFor<T> = 1u32.into();
		#[block]
		{
			Pallet::<T>::on_initialize(n);
		}
		Ok(())
	}

	/// End of a period with `n` registered nodes that all missed it.
	#[benchmark]
	fn check_liveness(n: Linear<0, 64>) -> Result<(), BenchmarkError> {
		let max = T::MaxNodes::get().min(n);
		for i in 0..max {
			registered::<T>(i, 0)?;
		}
		let period = T::HeartbeatPeriod::get();
		let end = period.saturating_mul(2u32.into());
		frame_system::Pallet::<T>::set_block_number(end);
		#[block]
		{
			Pallet::<T>::check_liveness(Pallet::<T>::current_period().saturating_sub(1));
		}
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
