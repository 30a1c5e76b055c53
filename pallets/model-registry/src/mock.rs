//! Mock runtime for the model registry's tests.

use crate as pallet_model_registry;
use crate::{ModelId, ModelUsage};
use core::cell::RefCell;
use frame_support::{derive_impl, parameter_types};
use frame_system::EnsureRoot;
pub use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		ModelRegistry: pallet_model_registry,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

thread_local! {
	/// Models the tests pretend some node still serves.
	pub static IN_USE: RefCell<Vec<ModelId>> = const { RefCell::new(Vec::new()) };
}

/// A [`ModelUsage`] driven by [`IN_USE`].
pub struct TestUsage;
impl ModelUsage for TestUsage {
	fn users(id: ModelId) -> u32 {
		IN_USE.with(|u| u.borrow().iter().filter(|m| **m == id).count() as u32)
	}
}

parameter_types! {
	pub const MaxModels: u32 = 3;
}

impl pallet_model_registry::Config for Test {
	type GovernanceOrigin = EnsureRoot<u64>;
	type ModelUsage = TestUsage;
	type MaxModels = MaxModels;
	type WeightInfo = ();
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	let storage = frame_system::GenesisConfig::<Test>::default()
		.build_storage()
		.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}
