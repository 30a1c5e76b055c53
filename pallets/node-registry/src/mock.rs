//! Mock runtime for the node registry's tests: real balances and model registry, a recording
//! reputation sink, a settable block author.

use crate as pallet_node_registry;
use core::cell::RefCell;
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU128, ConstU32, ConstU64, FindAuthor},
};
use frame_system::EnsureRoot;
use sp_runtime::{generic, traits::BlakeTwo256, BuildStorage, ConsensusEngineId, Perbill};

pub type AccountId = u64;
pub type Balance = u128;
/// General transactions authorised by `AuthorizeCall`, as the runtime submits heartbeats.
pub type Extrinsic =
	generic::UncheckedExtrinsic<AccountId, RuntimeCall, (), frame_system::AuthorizeCall<Test>>;
type Block = generic::Block<generic::Header<u64, BlakeTwo256>, Extrinsic>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		ModelRegistry: pallet_model_registry,
		NodeRegistry: pallet_node_registry,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type AccountStore = System;
	type ExistentialDeposit = ConstU128<1>;
	type RuntimeHoldReason = RuntimeHoldReason;
}

impl pallet_model_registry::Config for Test {
	type GovernanceOrigin = EnsureRoot<AccountId>;
	type ModelUsage = NodeRegistry;
	type MaxModels = ConstU32<64>;
	type WeightInfo = ();
}

thread_local! {
	/// What the registry told reputation: (node, "offline" | "forget").
	pub static REPORTS: RefCell<Vec<(AccountId, &'static str)>> = const { RefCell::new(Vec::new()) };
	/// The author `FindAuthor` reports for the current block.
	pub static AUTHOR: RefCell<Option<AccountId>> = const { RefCell::new(None) };
}

/// Records what the registry reports.
pub struct RecordingReputation;
impl pallet_reputation::ReputationSink<AccountId> for RecordingReputation {
	fn record_success(_: &AccountId, _: u32) {}
	fn record_failure(_: &AccountId, _: u32) {}
	fn record_offline(who: &AccountId) {
		REPORTS.with(|r| r.borrow_mut().push((*who, "offline")));
	}
	fn forget(who: &AccountId) {
		REPORTS.with(|r| r.borrow_mut().push((*who, "forget")));
	}
}

/// Reports [`AUTHOR`].
pub struct TestAuthor;
impl FindAuthor<AccountId> for TestAuthor {
	fn find_author<'a, I>(_: I) -> Option<AccountId>
	where
		I: 'a + IntoIterator<Item = (ConsensusEngineId, &'a [u8])>,
	{
		AUTHOR.with(|a| *a.borrow())
	}
}

impl<C> frame_system::offchain::CreateTransactionBase<C> for Test
where
	RuntimeCall: From<C>,
{
	type Extrinsic = Extrinsic;
	type RuntimeCall = RuntimeCall;
}

impl<C> frame_system::offchain::CreateTransaction<C> for Test
where
	RuntimeCall: From<C>,
{
	type Extension = frame_system::AuthorizeCall<Test>;
	fn create_transaction(call: RuntimeCall, extension: Self::Extension) -> Extrinsic {
		Extrinsic::new_transaction(call, extension)
	}
}

impl<C> frame_system::offchain::CreateAuthorizedTransaction<C> for Test
where
	RuntimeCall: From<C>,
{
	fn create_extension() -> Self::Extension {
		frame_system::AuthorizeCall::new()
	}
}

pub const MIN_BOND: Balance = 1_000;
pub const PERIOD: u64 = 10;

parameter_types! {
	pub const BanPenalty: Perbill = Perbill::from_percent(10);
}

impl pallet_node_registry::Config for Test {
	type RuntimeHoldReason = RuntimeHoldReason;
	type Currency = Balances;
	type Models = ModelRegistry;
	type Reputation = RecordingReputation;
	type FindAuthor = TestAuthor;
	type BanOrigin = EnsureRoot<AccountId>;
	type MinBond = ConstU128<MIN_BOND>;
	type BanPenalty = BanPenalty;
	type UnbondingPeriod = ConstU64<20>;
	type HeartbeatPeriod = ConstU64<PERIOD>;
	type MaxNodes = ConstU32<3>;
	type MaxVotingUnits = ConstU32<5>;
	type HeartbeatPriority = ConstU64<{ u64::MAX / 2 }>;
	type WeightInfo = ();
}

/// Accounts 1..=5 hold 100 000 each; model 0 (seed 0) and 1 (seed 1) are whitelisted.
pub fn genesis_storage() -> sp_runtime::Storage {
	let mut storage = frame_system::GenesisConfig::<Test>::default()
		.build_storage()
		.unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: (1..=5).map(|a| (a, 100_000)).collect(),
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	pallet_model_registry::GenesisConfig::<Test> {
		models: vec![
			pallet_model_registry::testing::sample_model(0),
			pallet_model_registry::testing::sample_model(1),
		],
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	storage
}

/// [`genesis_storage`] at block 1, with a keystore.
pub fn new_test_ext() -> sp_io::TestExternalities {
	ext_from(genesis_storage())
}

/// Test externalities over `storage`, at block 1, with a keystore.
pub fn ext_from(storage: sp_runtime::Storage) -> sp_io::TestExternalities {
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.register_extension(sp_keystore::KeystoreExt::new(
		sp_keystore::testing::MemoryKeystore::new(),
	));
	ext.execute_with(|| System::set_block_number(1));
	REPORTS.with(|r| r.borrow_mut().clear());
	AUTHOR.with(|a| *a.borrow_mut() = None);
	ext
}
