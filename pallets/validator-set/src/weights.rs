
//! Weights for `pallet_validator_set`, estimated by hand from the storage the benchmarks in
//! `benchmarking.rs` touch — replace by running `scripts/bench-weights.sh validator-set`.
//!
//! Not measured yet: the execution times below are conservative guesses of the same order as
//! comparable calls of `pallet_node_registry` (one map lookup and insert each), and the storage
//! accesses are counted from the code paths the benchmarks take. Storage access is priced by the
//! runtime's `DbWeight` (ParityDB); `()` prices it as RocksDB for tests.

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::RocksDbWeight, Weight},
};

/// Weight functions needed for `pallet_validator_set`.
pub trait WeightInfo {
	fn opt_in() -> Weight;
	fn opt_out() -> Weight;
	fn set_parameters() -> Weight;
	fn on_node_left() -> Weight;
}

/// Weights estimated for the Cognitive runtime (see the module docs).
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	/// Storage: `ValidatorSet::Candidates` (r:1 w:1)
	/// Proof: `ValidatorSet::Candidates` (`max_values`: None, `max_size`: Some(52), added: 2527, mode: `MaxEncodedLen`)
	/// Storage: `NodeRegistry::Nodes` (r:1 w:0)
	/// Proof: `NodeRegistry::Nodes` (`max_values`: None, `max_size`: Some(978), added: 3453, mode: `MaxEncodedLen`)
	/// Storage: `Session::NextKeys` (r:1 w:0)
	/// Proof: `Session::NextKeys` (`max_values`: None, `max_size`: None, mode: `Measured`)
	/// Storage: `ValidatorSet::CounterForCandidates` (r:1 w:1)
	/// Proof: `ValidatorSet::CounterForCandidates` (`max_values`: Some(1), `max_size`: Some(4), added: 499, mode: `MaxEncodedLen`)
	/// Storage: `Session::CurrentIndex` (r:1 w:0)
	/// Proof: `Session::CurrentIndex` (`max_values`: Some(1), `max_size`: Some(4), added: 499, mode: `MaxEncodedLen`)
	fn opt_in() -> Weight {
		// Proof size: estimated `4443`.
		Weight::from_parts(40_000_000, 4443)
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	/// Storage: `ValidatorSet::Candidates` (r:1 w:1)
	/// Proof: `ValidatorSet::Candidates` (`max_values`: None, `max_size`: Some(52), added: 2527, mode: `MaxEncodedLen`)
	/// Storage: `ValidatorSet::CounterForCandidates` (r:1 w:1)
	/// Proof: `ValidatorSet::CounterForCandidates` (`max_values`: Some(1), `max_size`: Some(4), added: 499, mode: `MaxEncodedLen`)
	fn opt_out() -> Weight {
		// Proof size: estimated `3517`.
		Weight::from_parts(25_000_000, 3517)
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	/// Storage: `ValidatorSet::Parameters` (r:0 w:1)
	/// Proof: `ValidatorSet::Parameters` (`max_values`: Some(1), `max_size`: Some(8), added: 503, mode: `MaxEncodedLen`)
	fn set_parameters() -> Weight {
		// Proof size: estimated `0`.
		Weight::from_parts(10_000_000, 0)
			.saturating_add(T::DbWeight::get().reads(0_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: `ValidatorSet::Candidates` (r:1 w:1)
	/// Proof: `ValidatorSet::Candidates` (`max_values`: None, `max_size`: Some(52), added: 2527, mode: `MaxEncodedLen`)
	/// Storage: `ValidatorSet::CounterForCandidates` (r:1 w:1)
	/// Proof: `ValidatorSet::CounterForCandidates` (`max_values`: Some(1), `max_size`: Some(4), added: 499, mode: `MaxEncodedLen`)
	fn on_node_left() -> Weight {
		// Proof size: estimated `3517`.
		Weight::from_parts(25_000_000, 3517)
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
}

// For tests and runtimes that do not measure: the same figures, storage priced as RocksDB.
impl WeightInfo for () {
	fn opt_in() -> Weight {
		Weight::from_parts(40_000_000, 4443)
			.saturating_add(RocksDbWeight::get().reads(5_u64))
			.saturating_add(RocksDbWeight::get().writes(2_u64))
	}
	fn opt_out() -> Weight {
		Weight::from_parts(25_000_000, 3517)
			.saturating_add(RocksDbWeight::get().reads(2_u64))
			.saturating_add(RocksDbWeight::get().writes(2_u64))
	}
	fn set_parameters() -> Weight {
		Weight::from_parts(10_000_000, 0)
			.saturating_add(RocksDbWeight::get().reads(0_u64))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
	}
	fn on_node_left() -> Weight {
		Weight::from_parts(25_000_000, 3517)
			.saturating_add(RocksDbWeight::get().reads(2_u64))
			.saturating_add(RocksDbWeight::get().writes(2_u64))
	}
}
