//! Mock runtime for the reputation pallet's tests.

use crate as pallet_reputation;
use frame_support::{derive_impl, parameter_types};
use frame_system::EnsureRoot;
use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Reputation: pallet_reputation,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

parameter_types! {
	pub const MaxNodes: u32 = 4;
	pub const MaxDeparted: u32 = 3;
}

impl pallet_reputation::Config for Test {
	type ParametersOrigin = EnsureRoot<u64>;
	type MaxNodes = MaxNodes;
	type MaxDeparted = MaxDeparted;
	type WeightInfo = ();
}

/// Parameters used by the tests: periods of 10 blocks, half-life of one period, one half reached
/// with 4 units of evidence.
pub fn test_parameters() -> crate::FormulaParameters<u64> {
	crate::FormulaParameters {
		decay_period: 10,
		decay_factor: sp_runtime::Perbill::from_percent(50),
		offline_units: 2,
		timeout_units: 1,
		max_units_per_report: 100,
		confidence_units: 4,
	}
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default()
		.build_storage()
		.unwrap();
	pallet_reputation::GenesisConfig::<Test> {
		parameters: test_parameters(),
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}
