//! Mock runtime for the proof-of-inference tests: real balances, model registry, node registry
//! and reputation; commits and reveals as general transactions authorised by `AuthorizeCall`.

use crate as pallet_proof_of_inference;
use codec::Encode;
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU128, ConstU32, ConstU64},
};
use frame_system::EnsureRoot;
use pallet_model_registry::{testing::sample_model, ModelInfo};
use sp_runtime::{generic, traits::BlakeTwo256, BuildStorage, Perbill};

pub type AccountId = u64;
pub type Balance = u128;
/// General transactions authorised by `AuthorizeCall`, as the runtime submits commits.
pub type Extrinsic =
	generic::UncheckedExtrinsic<AccountId, RuntimeCall, (), frame_system::AuthorizeCall<Test>>;
type Block = generic::Block<generic::Header<u64, BlakeTwo256>, Extrinsic>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		ModelRegistry: pallet_model_registry,
		Reputation: pallet_reputation,
		NodeRegistry: pallet_node_registry,
		ProofOfInference: pallet_proof_of_inference,
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

impl pallet_reputation::Config for Test {
	type ParametersOrigin = EnsureRoot<AccountId>;
	type MaxNodes = ConstU32<MAX_NODES>;
	type MaxDeparted = ConstU32<MAX_NODES>;
	type WeightInfo = ();
}

/// Assignment randomness of the tests: the parent hash, as the runtime uses today.
pub struct ParentHashRandomness;
impl frame_support::traits::Randomness<sp_core::H256, u64> for ParentHashRandomness {
	fn random(subject: &[u8]) -> (sp_core::H256, u64) {
		let parent = System::parent_hash();
		(
			sp_core::H256(sp_io::hashing::blake2_256(&(subject, parent).encode())),
			System::block_number().saturating_sub(1),
		)
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
pub const MAX_NODES: u32 = 8;
pub const MAX_PROMPT: u32 = 64;
pub const MAX_TOKENS: u32 = 32;
pub const MAX_R: u32 = 5;
pub const RETENTION: u64 = 20;
pub const BASE_FEE: Balance = 100;
pub const PRICE: Balance = 10;
pub const MAX_BASE_FEE: Balance = 10_000;
pub const MAX_PRICE: Balance = 1_000;
pub const MAX_DEPOSIT: Balance = 10_000;
/// The challenge deposit of the dispute tests.
pub const DEPOSIT: Balance = 500;
/// Work units of the largest job: 64 prompt bytes + 3 × 32 tokens.
pub const LARGEST_JOB_WORK: u32 = 160;
/// Room for three of the largest jobs (and four small ones: the count bound binds first).
pub const MAX_PENDING_WORK: u32 = 3 * LARGEST_JOB_WORK;
pub const COMMIT_PERIOD: u64 = 10;
pub const REVEAL_PERIOD: u64 = 5;
/// The client account of the tests.
pub const CLIENT: AccountId = 100;
/// An account that can pay no fee.
pub const POOR: AccountId = 200;

parameter_types! {
	pub const BanPenalty: Perbill = Perbill::from_percent(10);
}

impl pallet_node_registry::Config for Test {
	type RuntimeHoldReason = RuntimeHoldReason;
	type Currency = Balances;
	type Models = ModelRegistry;
	type Reputation = Reputation;
	type Obligations = ProofOfInference;
	type OnLeave = ();
	type FindAuthor = ();
	type BanOrigin = EnsureRoot<AccountId>;
	type MinBond = ConstU128<MIN_BOND>;
	type BanPenalty = BanPenalty;
	type UnbondingPeriod = ConstU64<20>;
	type HeartbeatPeriod = ConstU64<100>;
	type MaxNodes = ConstU32<MAX_NODES>;
	type MaxVotingUnits = ConstU32<5>;
	type HeartbeatPriority = ConstU64<{ u64::MAX / 2 }>;
	type WeightInfo = ();
}

impl pallet_proof_of_inference::Config for Test {
	type RuntimeHoldReason = RuntimeHoldReason;
	type Currency = Balances;
	type Nodes = NodeRegistry;
	type Models = ModelRegistry;
	type Reputation = Reputation;
	type Randomness = ParentHashRandomness;
	type ParametersOrigin = EnsureRoot<AccountId>;
	type MaxPromptBytes = ConstU32<MAX_PROMPT>;
	type MaxTokens = ConstU32<MAX_TOKENS>;
	type MaxReplication = ConstU32<MAX_R>;
	type MaxJobsPerBlock = ConstU32<4>;
	type MaxPendingPerNode = ConstU32<4>;
	type MaxPendingWork = ConstU32<MAX_PENDING_WORK>;
	type TokenWork = ConstU32<3>;
	type MinCommitPeriod = ConstU64<2>;
	type RetentionPeriod = ConstU64<RETENTION>;
	type BlockTimeMs = ConstU64<6_000>;
	type MaxBaseFee = ConstU128<MAX_BASE_FEE>;
	type MaxPricePerToken = ConstU128<MAX_PRICE>;
	type MaxChallengeDeposit = ConstU128<MAX_DEPOSIT>;
	type UnsignedPriority = ConstU64<{ u64::MAX / 2 }>;
	type WeightInfo = ();
}

/// The parameters of the tests.
pub fn test_parameters() -> crate::ParametersOf<Test> {
	crate::Parameters {
		base_fee: BASE_FEE,
		price_per_token: PRICE,
		commit_period: COMMIT_PERIOD,
		reveal_period: REVEAL_PERIOD,
		slash_fraction: Perbill::from_percent(10),
		newcomer_weight: Perbill::from_percent(10),
		// Off by default: most tests look at settlement alone. `tests/disputes.rs` turns them on.
		challenge_period: 0,
		challenge_deposit: DEPOSIT,
		auditors: 3,
		audit_rate: Perbill::zero(),
		audit_slash_fraction: Perbill::from_percent(20),
	}
}

/// Reputation parameters of the tests: no decay within a test, one half at 16 units, timeouts
/// weigh nothing.
pub fn reputation_parameters() -> pallet_reputation::FormulaParameters<u64> {
	pallet_reputation::FormulaParameters {
		decay_period: 100_000,
		decay_factor: Perbill::from_percent(99),
		offline_units: 1,
		timeout_units: 0,
		max_units_per_report: 100,
		confidence_units: 16,
	}
}

/// Model 2: a context too small for `MAX_PROMPT + 1 + max_tokens`.
pub fn small_context_model() -> ModelInfo {
	let mut info = sample_model(2);
	info.profile.n_ctx = MAX_PROMPT;
	info.profile.n_batch = MAX_PROMPT;
	info.profile.n_ubatch = MAX_PROMPT;
	info
}

/// Accounts 1..=8 (nodes) hold 100 000 each, `CLIENT` 1 000 000, `POOR` 10; models 0 and 1
/// (sample seeds 0 and 1) and the small-context model 2 are whitelisted.
pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default()
		.build_storage()
		.unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: (1..=8)
			.map(|a| (a, 100_000))
			.chain([(CLIENT, 1_000_000), (POOR, 10)])
			.collect(),
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	pallet_model_registry::GenesisConfig::<Test> {
		models: vec![sample_model(0), sample_model(1), small_context_model()],
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	pallet_proof_of_inference::GenesisConfig::<Test> {
		parameters: test_parameters(),
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	pallet_reputation::GenesisConfig::<Test> {
		parameters: reputation_parameters(),
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.register_extension(sp_keystore::KeystoreExt::new(
		sp_keystore::testing::MemoryKeystore::new(),
	));
	ext.execute_with(|| System::set_block_number(1));
	ext
}
