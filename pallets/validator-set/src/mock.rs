//! Mock runtime for the validator set's tests: `frame_system` and this pallet, with fakes of the
//! node registry, reputation and the session machinery kept in thread-local storage, so a test
//! sets up exactly the world it needs and reads back what the pallet did to it.

use crate as pallet_validator_set;
use crate::{CandidateNodes, NodeStanding, SessionInterface};
use core::cell::RefCell;
use frame_support::{
	derive_impl,
	traits::{ConstU128, ConstU32},
};
use frame_system::EnsureRoot;
use sp_runtime::{BuildStorage, Perbill};
use std::collections::{BTreeMap, BTreeSet};

pub type AccountId = u64;
pub type Balance = u128;
type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		ValidatorSet: pallet_validator_set,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	// Priced storage, so the weights the pallet computes from it are not all zero.
	type DbWeight = frame_support::weights::constants::RocksDbWeight;
}

pub const MIN_BOND: Balance = 1_000;
pub const MAX_CANDIDATES: u32 = 5;
pub const MAX_VALIDATORS: u32 = 4;
pub const MIN_VALIDATORS: u32 = 2;
pub const SESSION_LENGTH: u32 = 20;
pub const BONDING_SESSIONS: u32 = 2;
pub const MIN_EXPECTED_BLOCKS: u32 = 10;

thread_local! {
	/// The node registry: standing of each registered node.
	pub static NODES: RefCell<BTreeMap<AccountId, NodeStanding<Balance>>> =
		const { RefCell::new(BTreeMap::new()) };
	/// Every slash applied: (node, fraction, amount burnt).
	pub static SLASHES: RefCell<Vec<(AccountId, Perbill, Balance)>> =
		const { RefCell::new(Vec::new()) };
	/// Reputation scores (zero when absent).
	pub static SCORES: RefCell<BTreeMap<AccountId, Perbill>> =
		const { RefCell::new(BTreeMap::new()) };
	/// Accounts with session keys.
	pub static KEYS: RefCell<BTreeSet<AccountId>> = const { RefCell::new(BTreeSet::new()) };
	/// Validators of the current session.
	pub static VALIDATORS: RefCell<Vec<AccountId>> = const { RefCell::new(Vec::new()) };
	/// The set `pallet_session` has queued for the next session.
	pub static NEXT: RefCell<Vec<AccountId>> = const { RefCell::new(Vec::new()) };
	/// The current session index.
	pub static SESSION: RefCell<u32> = const { RefCell::new(0) };
	/// Validators disabled in the current session, in the order they were disabled.
	pub static DISABLED: RefCell<Vec<AccountId>> = const { RefCell::new(Vec::new()) };
	/// Every `prune_history(up_to)` call.
	pub static PRUNED: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
}

/// The node registry's fake: [`NODES`], slashes recorded in [`SLASHES`].
pub struct TestNodes;
impl CandidateNodes<AccountId> for TestNodes {
	type Balance = Balance;

	fn standing(who: &AccountId) -> Option<NodeStanding<Balance>> {
		NODES.with(|n| n.borrow().get(who).copied())
	}

	fn slash(who: &AccountId, fraction: Perbill) -> Balance {
		NODES.with(|n| {
			let mut nodes = n.borrow_mut();
			let Some(standing) = nodes.get_mut(who) else {
				return 0;
			};
			let amount = fraction.mul_floor(standing.bond);
			standing.bond -= amount;
			SLASHES.with(|s| s.borrow_mut().push((*who, fraction, amount)));
			amount
		})
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn make_node(who: &AccountId) {
		set_node(*who, MIN_BOND);
	}
}

/// Reputation from [`SCORES`].
pub struct TestReputation;
impl pallet_reputation::ReputationInspect<AccountId> for TestReputation {
	fn score(who: &AccountId) -> Perbill {
		SCORES.with(|s| s.borrow().get(who).copied().unwrap_or_default())
	}
}

/// `pallet_session`'s fake: [`KEYS`], [`VALIDATORS`], [`SESSION`], [`DISABLED`], [`PRUNED`].
pub struct TestSession;
impl SessionInterface<AccountId> for TestSession {
	fn has_keys(who: &AccountId) -> bool {
		KEYS.with(|k| k.borrow().contains(who))
	}

	fn validators() -> Vec<AccountId> {
		VALIDATORS.with(|v| v.borrow().clone())
	}

	fn current_index() -> u32 {
		SESSION.with(|s| *s.borrow())
	}

	fn disable(who: &AccountId) {
		// Like `pallet_session`: only validators of the session, each once.
		if Self::validators().contains(who) && !disabled().contains(who) {
			DISABLED.with(|d| d.borrow_mut().push(*who));
		}
	}

	fn prune_history(up_to: u32) {
		PRUNED.with(|p| p.borrow_mut().push(up_to));
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn set_keys(who: &AccountId) {
		KEYS.with(|k| k.borrow_mut().insert(*who));
	}
}

impl pallet_validator_set::Config for Test {
	type Nodes = TestNodes;
	type Reputation = TestReputation;
	type Session = TestSession;
	type ParametersOrigin = EnsureRoot<AccountId>;
	type MinCandidateBond = ConstU128<MIN_BOND>;
	type MaxCandidates = ConstU32<MAX_CANDIDATES>;
	type MaxValidators = ConstU32<MAX_VALIDATORS>;
	type MinValidators = ConstU32<MIN_VALIDATORS>;
	type SessionLength = ConstU32<SESSION_LENGTH>;
	type BondingSessions = ConstU32<BONDING_SESSIONS>;
	type MinExpectedBlocks = ConstU32<MIN_EXPECTED_BLOCKS>;
	type WeightInfo = ();
}

/// Registers (or replaces) an online, not leaving node with `bond`.
pub fn set_node(who: AccountId, bond: Balance) {
	NODES.with(|n| {
		n.borrow_mut().insert(
			who,
			NodeStanding {
				bond,
				online: true,
				leaving: false,
			},
		)
	});
}

pub fn disabled() -> Vec<AccountId> {
	DISABLED.with(|d| d.borrow().clone())
}

/// Parameters of the tests: up to 3 validators, 10% slashed for an equivocation.
pub fn test_genesis(validators: Vec<AccountId>) -> pallet_validator_set::GenesisConfig<Test> {
	pallet_validator_set::GenesisConfig {
		validators,
		max_validators: 3,
		equivocation_slash: Perbill::from_percent(10),
	}
}

/// A chain without genesis validators, at block 1 of session 0.
pub fn new_test_ext() -> sp_io::TestExternalities {
	ext_with(test_genesis(vec![]))
}

/// A chain built from `genesis`, at block 1 of session 0, with empty fakes.
pub fn ext_with(genesis: pallet_validator_set::GenesisConfig<Test>) -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default()
		.build_storage()
		.unwrap();
	genesis.assimilate_storage(&mut storage).unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	NODES.with(|n| n.borrow_mut().clear());
	SLASHES.with(|s| s.borrow_mut().clear());
	SCORES.with(|s| s.borrow_mut().clear());
	KEYS.with(|k| k.borrow_mut().clear());
	VALIDATORS.with(|v| v.borrow_mut().clear());
	NEXT.with(|v| v.borrow_mut().clear());
	SESSION.with(|s| *s.borrow_mut() = 0);
	DISABLED.with(|d| d.borrow_mut().clear());
	PRUNED.with(|p| p.borrow_mut().clear());
	ext
}
