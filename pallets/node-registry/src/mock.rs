//! Mock runtime for the node registry's tests: real balances and model registry, a recording
//! reputation sink, settable obligations, a recording leave hook, a settable block author and a
//! fake inference host that reports which models are ready.

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
	/// What the registry told reputation: (node, "offline" | "departed" | "returned").
	pub static REPORTS: RefCell<Vec<(AccountId, &'static str)>> = const { RefCell::new(Vec::new()) };
	/// The author `FindAuthor` reports for the current block.
	pub static AUTHOR: RefCell<Option<AccountId>> = const { RefCell::new(None) };
	/// Accounts with unsettled work.
	pub static PENDING: RefCell<Vec<AccountId>> = const { RefCell::new(Vec::new()) };
	/// Accounts the leave hook was told about.
	pub static LEFT: RefCell<Vec<AccountId>> = const { RefCell::new(Vec::new()) };
}

/// Records what the registry reports.
pub struct RecordingReputation;
impl pallet_reputation::ReputationSink<AccountId> for RecordingReputation {
	fn record(who: &AccountId, outcome: pallet_reputation::Outcome, _: u32) {
		if outcome == pallet_reputation::Outcome::Offline {
			REPORTS.with(|r| r.borrow_mut().push((*who, "offline")));
		}
	}
	fn departed(who: &AccountId) {
		REPORTS.with(|r| r.borrow_mut().push((*who, "departed")));
	}
	fn returned(who: &AccountId) {
		REPORTS.with(|r| r.borrow_mut().push((*who, "returned")));
	}
}

/// Unsettled work is whatever [`PENDING`] lists.
pub struct TestObligations;
impl pallet_node_registry::NodeObligations<AccountId> for TestObligations {
	fn has_pending(who: &AccountId) -> bool {
		PENDING.with(|p| p.borrow().contains(who))
	}
}

/// Records leaving nodes in [`LEFT`].
pub struct RecordingLeave;
impl pallet_node_registry::OnNodeLeave<AccountId> for RecordingLeave {
	fn on_leave(who: &AccountId) {
		LEFT.with(|l| l.borrow_mut().push(*who));
	}
	fn weight() -> frame_support::weights::Weight {
		frame_support::weights::Weight::from_parts(1, 0)
	}
}

/// An inference host that is ready for the models whose sha256 is listed.
pub struct FakeHost(pub std::sync::Mutex<Vec<[u8; 32]>>);
impl inference_primitives::InferenceHost for FakeHost {
	fn poll_job(&self, _: inference_primitives::JobRequest) -> inference_primitives::HostJobStatus {
		inference_primitives::HostJobStatus::Unavailable
	}
	fn release_job(&self, _: [u8; 32]) {}
	fn ready_for(&self, sha: [u8; 32], class: inference_primitives::EngineClass) -> bool {
		class.engine_version == b"llama-cpp-2 0.1.160" && self.0.lock().unwrap().contains(&sha)
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
	type Obligations = TestObligations;
	type OnLeave = RecordingLeave;
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
	PENDING.with(|p| p.borrow_mut().clear());
	LEFT.with(|l| l.borrow_mut().clear());
	ext
}
