//! Weights for `pallet_node_registry`.
//!
//! Regenerate with `scripts/bench-weights.sh node-registry` (see `docs/benchmarks.md`).

#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::RocksDbWeight, Weight},
};

/// Weight functions needed for `pallet_node_registry`.
pub trait WeightInfo {
	fn register(n: u32) -> Weight;
	fn update_capabilities() -> Weight;
	fn set_served_models(n: u32) -> Weight;
	fn set_endpoints() -> Weight;
	fn heartbeat() -> Weight;
	fn authorize_heartbeat() -> Weight;
	fn unregister() -> Weight;
	fn withdraw_unbonded(n: u32) -> Weight;
	fn ban(n: u32) -> Weight;
	fn note_author() -> Weight;
	fn check_liveness(n: u32) -> Weight;
}
/// Weights measured for the Cognitive runtime.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	/// Storage: `NodeRegistry::Nodes` (r:1 w:1), `NodeRegistry::CounterForNodes` (r:1 w:1), `NodeRegistry::NodeByKey` (r:1 w:1), `ModelRegistry::Models` (r:n w:0), `Balances::Holds` (r:1 w:1), `System::Account` (r:1 w:1), `NodeRegistry::ModelServers` (r:n w:n), `NodeRegistry::TotalVotingUnits` (r:1 w:1)
	fn register(n: u32) -> Weight {
		Weight::from_parts(60_000_000, 4_000)
			.saturating_add(Weight::from_parts(3_000_000, 0).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads(6_u64))
			.saturating_add(T::DbWeight::get().writes(6_u64))
			.saturating_add(T::DbWeight::get().reads((2_u64).saturating_mul(n.into())))
			.saturating_add(T::DbWeight::get().writes((1_u64).saturating_mul(n.into())))
	}
	/// Storage: `NodeRegistry::Nodes` (r:1 w:1)
	fn update_capabilities() -> Weight {
		Weight::from_parts(16_000_000, 3_900)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: `NodeRegistry::Nodes` (r:1 w:1), `ModelRegistry::Models` (r:n w:0), `NodeRegistry::ModelServers` (r:2n w:2n)
	fn set_served_models(n: u32) -> Weight {
		Weight::from_parts(18_000_000, 3_900)
			.saturating_add(Weight::from_parts(4_000_000, 0).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
			.saturating_add(T::DbWeight::get().reads((3_u64).saturating_mul(n.into())))
			.saturating_add(T::DbWeight::get().writes((2_u64).saturating_mul(n.into())))
	}
	/// Storage: `NodeRegistry::Nodes` (r:1 w:1)
	fn set_endpoints() -> Weight {
		Weight::from_parts(17_000_000, 3_900)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: `NodeRegistry::Nodes` (r:1 w:1)
	fn heartbeat() -> Weight {
		Weight::from_parts(15_000_000, 3_900)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: `NodeRegistry::Nodes` (r:1 w:0); one ed25519 verification
	fn authorize_heartbeat() -> Weight {
		Weight::from_parts(60_000_000, 3_900)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(0_u64))
	}
	/// Storage: `NodeRegistry::Nodes` (r:1 w:1), `NodeRegistry::TotalVotingUnits` (r:1 w:1)
	fn unregister() -> Weight {
		Weight::from_parts(18_000_000, 3_900)
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	/// Storage: `NodeRegistry::Nodes` (r:1 w:1), `Balances::Holds` (r:1 w:1), `System::Account` (r:1 w:1), `NodeRegistry::NodeByKey` (r:0 w:1), `NodeRegistry::CounterForNodes` (r:1 w:1), `Reputation::Reputations` (r:1 w:1), `NodeRegistry::ModelServers` (r:n w:n)
	fn withdraw_unbonded(n: u32) -> Weight {
		Weight::from_parts(55_000_000, 4_000)
			.saturating_add(Weight::from_parts(2_500_000, 0).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().writes(6_u64))
			.saturating_add(T::DbWeight::get().reads((1_u64).saturating_mul(n.into())))
			.saturating_add(T::DbWeight::get().writes((1_u64).saturating_mul(n.into())))
	}
	/// Storage: as `withdraw_unbonded`, plus `Balances::TotalIssuance` (r:1 w:1) and `NodeRegistry::TotalVotingUnits` (r:1 w:1)
	fn ban(n: u32) -> Weight {
		Weight::from_parts(75_000_000, 4_000)
			.saturating_add(Weight::from_parts(2_500_000, 0).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads(7_u64))
			.saturating_add(T::DbWeight::get().writes(8_u64))
			.saturating_add(T::DbWeight::get().reads((1_u64).saturating_mul(n.into())))
			.saturating_add(T::DbWeight::get().writes((1_u64).saturating_mul(n.into())))
	}
	/// Storage: `System::Digest` (r:1 w:0), `NodeRegistry::Nodes` (r:1 w:1)
	fn note_author() -> Weight {
		Weight::from_parts(9_000_000, 3_900)
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: `NodeRegistry::Nodes` (r:n w:n), `Reputation::Reputations` (r:n w:n), `Reputation::Parameters` (r:1 w:0), `Reputation::CounterForReputations` (r:n w:0)
	fn check_liveness(n: u32) -> Weight {
		Weight::from_parts(5_000_000, 0)
			.saturating_add(Weight::from_parts(30_000_000, 0).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(0_u64))
			.saturating_add(T::DbWeight::get().reads((3_u64).saturating_mul(n.into())))
			.saturating_add(T::DbWeight::get().writes((2_u64).saturating_mul(n.into())))
	}
}

// For tests and for runtimes that do not measure.
impl WeightInfo for () {
	fn register(n: u32) -> Weight {
		Weight::from_parts(60_000_000, 4_000)
			.saturating_add(Weight::from_parts(3_000_000, 0).saturating_mul(n.into()))
			.saturating_add(RocksDbWeight::get().reads(6_u64))
			.saturating_add(RocksDbWeight::get().writes(6_u64))
			.saturating_add(RocksDbWeight::get().reads((2_u64).saturating_mul(n.into())))
			.saturating_add(RocksDbWeight::get().writes((1_u64).saturating_mul(n.into())))
	}
	fn update_capabilities() -> Weight {
		Weight::from_parts(16_000_000, 3_900)
			.saturating_add(RocksDbWeight::get().reads(1_u64))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
	}
	fn set_served_models(n: u32) -> Weight {
		Weight::from_parts(18_000_000, 3_900)
			.saturating_add(Weight::from_parts(4_000_000, 0).saturating_mul(n.into()))
			.saturating_add(RocksDbWeight::get().reads(1_u64))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
			.saturating_add(RocksDbWeight::get().reads((3_u64).saturating_mul(n.into())))
			.saturating_add(RocksDbWeight::get().writes((2_u64).saturating_mul(n.into())))
	}
	fn set_endpoints() -> Weight {
		Weight::from_parts(17_000_000, 3_900)
			.saturating_add(RocksDbWeight::get().reads(1_u64))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
	}
	fn heartbeat() -> Weight {
		Weight::from_parts(15_000_000, 3_900)
			.saturating_add(RocksDbWeight::get().reads(1_u64))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
	}
	fn authorize_heartbeat() -> Weight {
		Weight::from_parts(60_000_000, 3_900)
			.saturating_add(RocksDbWeight::get().reads(1_u64))
			.saturating_add(RocksDbWeight::get().writes(0_u64))
	}
	fn unregister() -> Weight {
		Weight::from_parts(18_000_000, 3_900)
			.saturating_add(RocksDbWeight::get().reads(2_u64))
			.saturating_add(RocksDbWeight::get().writes(2_u64))
	}
	fn withdraw_unbonded(n: u32) -> Weight {
		Weight::from_parts(55_000_000, 4_000)
			.saturating_add(Weight::from_parts(2_500_000, 0).saturating_mul(n.into()))
			.saturating_add(RocksDbWeight::get().reads(5_u64))
			.saturating_add(RocksDbWeight::get().writes(6_u64))
			.saturating_add(RocksDbWeight::get().reads((1_u64).saturating_mul(n.into())))
			.saturating_add(RocksDbWeight::get().writes((1_u64).saturating_mul(n.into())))
	}
	fn ban(n: u32) -> Weight {
		Weight::from_parts(75_000_000, 4_000)
			.saturating_add(Weight::from_parts(2_500_000, 0).saturating_mul(n.into()))
			.saturating_add(RocksDbWeight::get().reads(7_u64))
			.saturating_add(RocksDbWeight::get().writes(8_u64))
			.saturating_add(RocksDbWeight::get().reads((1_u64).saturating_mul(n.into())))
			.saturating_add(RocksDbWeight::get().writes((1_u64).saturating_mul(n.into())))
	}
	fn note_author() -> Weight {
		Weight::from_parts(9_000_000, 3_900)
			.saturating_add(RocksDbWeight::get().reads(2_u64))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
	}
	fn check_liveness(n: u32) -> Weight {
		Weight::from_parts(5_000_000, 0)
			.saturating_add(Weight::from_parts(30_000_000, 0).saturating_mul(n.into()))
			.saturating_add(RocksDbWeight::get().reads(1_u64))
			.saturating_add(RocksDbWeight::get().writes(0_u64))
			.saturating_add(RocksDbWeight::get().reads((3_u64).saturating_mul(n.into())))
			.saturating_add(RocksDbWeight::get().writes((2_u64).saturating_mul(n.into())))
	}
}
