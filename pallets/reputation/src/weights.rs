//! Weights for `pallet_reputation`.
//!
//! Regenerate with `scripts/bench-weights.sh reputation` (see `docs/benchmarks.md`); the figures
//! below and their provenance are recorded there.

#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::RocksDbWeight, Weight},
};

/// Weight functions needed for `pallet_reputation`.
pub trait WeightInfo {
	fn set_parameters() -> Weight;
	/// One [`crate::ReputationSink`] report (read + write of a record, counter, parameters).
	fn record() -> Weight;
}

/// Weights measured for the Cognitive runtime.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	/// Storage: `Reputation::Parameters` (r:0 w:1)
	fn set_parameters() -> Weight {
		Weight::from_parts(7_000_000, 0).saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: `Reputation::Parameters` (r:1 w:0), `Reputation::Reputations` (r:1 w:1),
	/// `Reputation::CounterForReputations` (r:1 w:0)
	fn record() -> Weight {
		Weight::from_parts(16_000_000, 3_600)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
}

// For tests and for runtimes that do not measure.
impl WeightInfo for () {
	fn set_parameters() -> Weight {
		Weight::from_parts(7_000_000, 0).saturating_add(RocksDbWeight::get().writes(1_u64))
	}
	fn record() -> Weight {
		Weight::from_parts(16_000_000, 3_600)
			.saturating_add(RocksDbWeight::get().reads(3_u64))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
	}
}
