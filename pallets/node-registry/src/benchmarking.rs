//! Benchmarks of the node registry (`frame_benchmarking` v2).

use super::*;
use crate::pallet::{Call, Config, Nodes, Pallet};
use alloc::{vec, vec::Vec};
use frame_benchmarking::v2::*;
use frame_support::{
	pallet_prelude::TransactionSource,
	traits::{
		fungible::{Inspect, Mutate},
		Authorize, EnsureOrigin, Get, Hooks, UnfilteredDispatchable,
	},
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use pallet_model_registry::{DeterminismClass, ModelFormat, ModelId, ModelInspect};
use sp_runtime::{traits::Saturating, RuntimeAppPublic};

/// The class of the sample models (`pallet_model_registry::testing::sample_model`).
fn class() -> DeterminismClass {
	let text = |s: &[u8]| s.to_vec().try_into().unwrap_or_default();
	DeterminismClass {
		engine: text(b"llama.cpp"),
		engine_version: text(b"llama-cpp-2 0.1.160"),
		cpu_target: text(b"x86-64-v3"),
	}
}

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
		class: class(),
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

/// A new key in the keystore and its ownership proof for `who`.
fn key_and_proof<T: Config>(
	who: &T::AccountId,
) -> Result<(InferenceKey, InferenceSignature), BenchmarkError> {
	let key = InferenceKey::generate_pair(None);
	let proof = key
		.sign(&key_ownership_payload(&genesis_hash::<T>(), who))
		.ok_or(BenchmarkError::Stop("no keystore"))?;
	Ok((key, proof))
}

/// Registers a node serving `served`; returns its account and key.
fn registered_serving<T: Config>(
	i: u32,
	served: Vec<ModelId>,
) -> Result<(T::AccountId, InferenceKey), BenchmarkError> {
	let who = funded::<T>("node", i);
	let (key, proof) = key_and_proof::<T>(&who)?;
	Pallet::<T>::register(
		RawOrigin::Signed(who.clone()).into(),
		capabilities(),
		served,
		endpoints(),
		key.clone(),
		proof,
		T::MinBond::get(),
	)
	.map_err(|_| BenchmarkError::Stop("register failed"))?;
	Ok((who, key))
}

/// Registers a node serving `n` models; returns its account and key.
fn registered<T: Config>(i: u32, n: u32) -> Result<(T::AccountId, InferenceKey), BenchmarkError> {
	registered_serving::<T>(i, models::<T>(n))
}

/// A heartbeat of `who` for the current period declaring `ready`.
fn heartbeat_at<T: Config>(
	who: T::AccountId,
	key: &InferenceKey,
	ready: Vec<ModelId>,
) -> Result<Call<T>, BenchmarkError> {
	let heartbeat = Heartbeat {
		node: who,
		period: Pallet::<T>::current_period(),
		ready_models: ready
			.try_into()
			.map_err(|_| BenchmarkError::Stop("too many"))?,
	};
	let signature = key
		.sign(&heartbeat_payload(&genesis_hash::<T>(), &heartbeat))
		.ok_or(BenchmarkError::Stop("no keystore"))?;
	Ok(Call::heartbeat {
		heartbeat,
		signature,
	})
}

/// A heartbeat in the next period (the node not yet seen alive in it), ready for everything it
/// serves.
fn heartbeat_call<T: Config>(
	who: T::AccountId,
	key: &InferenceKey,
) -> Result<Call<T>, BenchmarkError> {
	let next = frame_system::Pallet::<T>::block_number().saturating_add(T::HeartbeatPeriod::get());
	frame_system::Pallet::<T>::set_block_number(next);
	let served = Nodes::<T>::get(&who)
		.map(|r| r.served_models.into_inner())
		.ok_or(BenchmarkError::Stop("not registered"))?;
	heartbeat_at::<T>(who, key, served)
}

/// A registered node serving `model` and ready for it, with its key in the keystore (the
/// proof-of-inference benchmarks' assignees).
pub(crate) fn ready_node<T: Config>(
	seed: u32,
	model: ModelId,
) -> Result<(T::AccountId, InferenceKey), BenchmarkError> {
	let (who, key) = registered_serving::<T>(seed, vec![model])?;
	let call = heartbeat_at::<T>(who.clone(), &key, vec![model])?;
	call.dispatch_bypass_filter(RawOrigin::Authorized.into())
		.map_err(|_| BenchmarkError::Stop("heartbeat failed"))?;
	Ok((who, key))
}

/// Ratings of the first `n` models `who` serves.
fn ratings_of<T: Config>(who: &T::AccountId, n: u32) -> Result<Vec<ModelRating>, BenchmarkError> {
	let served = Nodes::<T>::get(who)
		.map(|r| r.served_models.into_inner())
		.ok_or(BenchmarkError::Stop("not registered"))?;
	Ok(served
		.into_iter()
		.take(n as usize)
		.map(|model| ModelRating {
			model,
			prompt_milli_tps: 249_200,
			generation_milli_tps: 96_700,
			first_token_ms: 449,
			memory_mib: 167,
		})
		.collect())
}

/// `who` publishes ratings of all the models it serves.
fn rated<T: Config>(who: &T::AccountId) -> Result<(), BenchmarkError> {
	let ratings = ratings_of::<T>(who, MAX_SERVED_MODELS)?;
	Pallet::<T>::rate_models(RawOrigin::Signed(who.clone()).into(), ratings)
		.map_err(|_| BenchmarkError::Stop("rate_models failed"))
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
	fn register(n: Linear<0, MAX_SERVED_MODELS>) -> Result<(), BenchmarkError> {
		let who = funded::<T>("node", 0);
		let served = models::<T>(n);
		let (key, proof) = key_and_proof::<T>(&who)?;
		#[extrinsic_call]
		_(
			RawOrigin::Signed(who.clone()),
			capabilities(),
			served,
			endpoints(),
			key,
			proof,
			T::MinBond::get(),
		);
		assert!(Nodes::<T>::contains_key(&who));
		Ok(())
	}

	/// A new engine class: the ready models and the ratings (of `MAX_SERVED_MODELS`) go.
	#[benchmark]
	fn update_capabilities() -> Result<(), BenchmarkError> {
		let (who, _) = registered::<T>(0, MAX_SERVED_MODELS)?;
		rated::<T>(&who)?;
		let mut upgraded = capabilities();
		upgraded.class.engine_version =
			b"llama-cpp-2 0.2.0".to_vec().try_into().unwrap_or_default();
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), upgraded);
		assert!(!Ratings::<T>::contains_key(&who));
		Ok(())
	}

	/// Replaces `MAX_SERVED_MODELS` served and rated models by `n` others.
	#[benchmark]
	fn set_served_models(n: Linear<0, MAX_SERVED_MODELS>) -> Result<(), BenchmarkError> {
		let (who, _) = registered::<T>(0, MAX_SERVED_MODELS)?;
		rated::<T>(&who)?;
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

	/// A heartbeat declaring every one of `MAX_SERVED_MODELS` models ready.
	#[benchmark]
	fn heartbeat() -> Result<(), BenchmarkError> {
		let (who, key) = registered::<T>(0, MAX_SERVED_MODELS)?;
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
		let (who, key) = registered::<T>(0, MAX_SERVED_MODELS)?;
		let call = heartbeat_call::<T>(who, &key)?;
		#[block]
		{
			call.authorize(TransactionSource::External)
				.ok_or(BenchmarkError::Stop("not authorizable"))?
				.map_err(|_| BenchmarkError::Stop("rejected"))?;
		}
		Ok(())
	}

	/// Leaving, without the runtime's [`Config::OnLeave`] (added to the call's weight apart).
	#[benchmark]
	fn unregister() -> Result<(), BenchmarkError> {
		let (who, _) = registered::<T>(0, MAX_SERVED_MODELS)?;
		rated::<T>(&who)?;
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
		rated::<T>(&who)?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone());
		assert!(!Nodes::<T>::contains_key(&who));
		Ok(())
	}

	/// `n` ratings replacing `MAX_SERVED_MODELS` published before.
	#[benchmark]
	fn rate_models(n: Linear<0, MAX_SERVED_MODELS>) -> Result<(), BenchmarkError> {
		let (who, _) = registered::<T>(0, MAX_SERVED_MODELS)?;
		rated::<T>(&who)?;
		let ratings = ratings_of::<T>(&who, n)?;
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), ratings);
		assert_eq!(
			Ratings::<T>::get(&who).map_or(0, |r| r.ratings.len() as u32),
			n
		);
		Ok(())
	}

	#[benchmark]
	fn set_inference_key() -> Result<(), BenchmarkError> {
		let (who, _) = registered::<T>(0, 0)?;
		let (key, proof) = key_and_proof::<T>(&who)?;
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), key.clone(), proof);
		assert_eq!(NodeByKey::<T>::get(&key), Some(who));
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
