//! Weights for `pallet_model_registry`.
//!
//! Regenerate with `scripts/bench-weights.sh model-registry` (see `docs/benchmarks.md`).

#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::RocksDbWeight, Weight},
};

/// Weight functions needed for `pallet_model_registry`.
pub trait WeightInfo {
	fn whitelist_model() -> Weight;
	fn deprecate_model() -> Weight;
	fn remove_model() -> Weight;
}

/// Weights measured for the Cognitive runtime.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	/// Storage: `ModelRegistry::ModelBySha256` (r:1 w:1), `ModelRegistry::CounterForModels`
	/// (r:1 w:1), `ModelRegistry::NextModelId` (r:1 w:1), `ModelRegistry::Models` (r:0 w:1)
	fn whitelist_model() -> Weight {
		Weight::from_parts(22_000_000, 3_500)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
	}
	/// Storage: `ModelRegistry::Models` (r:1 w:1)
	fn deprecate_model() -> Weight {
		Weight::from_parts(14_000_000, 3_900)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: `ModelRegistry::Models` (r:1 w:1), `NodeRegistry::ModelServers` (r:1 w:0),
	/// `ModelRegistry::CounterForModels` (r:1 w:1), `ModelRegistry::ModelBySha256` (r:0 w:1)
	fn remove_model() -> Weight {
		Weight::from_parts(20_000_000, 3_900)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
}

// For tests and for runtimes that do not measure.
impl WeightInfo for () {
	fn whitelist_model() -> Weight {
		Weight::from_parts(22_000_000, 3_500)
			.saturating_add(RocksDbWeight::get().reads(3_u64))
			.saturating_add(RocksDbWeight::get().writes(4_u64))
	}
	fn deprecate_model() -> Weight {
		Weight::from_parts(14_000_000, 3_900)
			.saturating_add(RocksDbWeight::get().reads(1_u64))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
	}
	fn remove_model() -> Weight {
		Weight::from_parts(20_000_000, 3_900)
			.saturating_add(RocksDbWeight::get().reads(3_u64))
			.saturating_add(RocksDbWeight::get().writes(3_u64))
	}
}
