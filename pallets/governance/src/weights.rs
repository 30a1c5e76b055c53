//! Weights for `pallet_governance`.
//!
//! Regenerate with `scripts/bench-weights.sh governance` (see `docs/benchmarks.md`).

#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::RocksDbWeight, Weight},
};

/// Weight functions needed for `pallet_governance`.
pub trait WeightInfo {
	fn vote(v: u32) -> Weight;
	fn remove_vote(v: u32) -> Weight;
}

/// Weights measured for the Cognitive runtime.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	/// Storage: `NodeRegistry::Nodes` (r:1 w:0), `Reputation::Reputations` (r:1 w:0),
	/// `Reputation::Parameters` (r:1 w:0), `Referenda::ReferendumInfoFor` (r:1 w:1),
	/// `Governance::VotingFor` (r:1 w:1), `Scheduler::Agenda` (r:2 w:2),
	/// `NodeRegistry::TotalVotingUnits` (r:1 w:0)
	fn vote(v: u32) -> Weight {
		Weight::from_parts(60_000_000, 10_000)
			.saturating_add(Weight::from_parts(150_000, 0).saturating_mul(v.into()))
			.saturating_add(T::DbWeight::get().reads(8_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
	}
	/// Storage: `Governance::VotingFor` (r:1 w:1), `Referenda::ReferendumInfoFor` (r:1 w:1),
	/// `Scheduler::Agenda` (r:2 w:2), `NodeRegistry::TotalVotingUnits` (r:1 w:0)
	fn remove_vote(v: u32) -> Weight {
		Weight::from_parts(45_000_000, 10_000)
			.saturating_add(Weight::from_parts(150_000, 0).saturating_mul(v.into()))
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
	}
}

// For tests and for runtimes that do not measure.
impl WeightInfo for () {
	fn vote(v: u32) -> Weight {
		Weight::from_parts(60_000_000, 10_000)
			.saturating_add(Weight::from_parts(150_000, 0).saturating_mul(v.into()))
			.saturating_add(RocksDbWeight::get().reads(8_u64))
			.saturating_add(RocksDbWeight::get().writes(4_u64))
	}
	fn remove_vote(v: u32) -> Weight {
		Weight::from_parts(45_000_000, 10_000)
			.saturating_add(Weight::from_parts(150_000, 0).saturating_mul(v.into()))
			.saturating_add(RocksDbWeight::get().reads(5_u64))
			.saturating_add(RocksDbWeight::get().writes(4_u64))
	}
}
