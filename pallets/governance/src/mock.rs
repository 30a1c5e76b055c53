//! Mock runtime for the governance pallet: real `pallet_referenda`, `pallet_scheduler` and
//! `pallet_preimage`, with voters and scores set by the tests.

use crate as pallet_governance;
use alloc::borrow::Cow;
use core::cell::RefCell;
use frame_support::{
	derive_impl, parameter_types,
	traits::{
		AsEnsureOriginWithArg, ConstU128, ConstU32, ConstU64, EqualPrivilegeOnly, OriginTrait,
	},
	weights::Weight,
};
use frame_system::{EnsureRoot, EnsureSigned};
use pallet_referenda::{Curve, Track, TrackInfo, TracksInfo};
use sp_runtime::{str_array as s, BuildStorage, Perbill};
use std::collections::BTreeMap;

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Preimage: pallet_preimage,
		Scheduler: pallet_scheduler,
		Referenda: pallet_referenda,
		Governance: pallet_governance,
		ModelRegistry: pallet_model_registry,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<u128>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = u128;
	type AccountStore = System;
	type ExistentialDeposit = ConstU128<1>;
}

impl pallet_preimage::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type Currency = Balances;
	type ManagerOrigin = EnsureRoot<u64>;
	type Consideration = ();
}

parameter_types! {
	pub MaxWeight: Weight = Weight::from_parts(2_000_000_000_000, u64::MAX);
}

impl pallet_scheduler::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeOrigin = RuntimeOrigin;
	type PalletsOrigin = OriginCaller;
	type RuntimeCall = RuntimeCall;
	type MaximumWeight = MaxWeight;
	type ScheduleOrigin = EnsureRoot<u64>;
	type OriginPrivilegeCmp = EqualPrivilegeOnly;
	type MaxScheduledPerBlock = ConstU32<100>;
	type WeightInfo = ();
	type Preimages = Preimage;
	type BlockNumberProvider = System;
}

/// Track 0: root. Track 1: model whitelist. Both: decision 10 blocks, confirm 2, enactment 1;
/// approval > 50%; support at least 20%.
pub struct TestTracks;
impl TracksInfo<u128, u64> for TestTracks {
	type Id = u16;
	type RuntimeOrigin = <RuntimeOrigin as OriginTrait>::PalletsOrigin;

	fn tracks() -> impl Iterator<Item = Cow<'static, Track<u16, u128, u64>>> {
		const fn track(id: u16, name: &str) -> Track<u16, u128, u64> {
			Track {
				id,
				info: TrackInfo {
					name: s(name),
					max_deciding: 10,
					decision_deposit: 10,
					prepare_period: 1,
					decision_period: 10,
					confirm_period: 2,
					min_enactment_period: 1,
					min_approval: Curve::LinearDecreasing {
						length: Perbill::from_percent(100),
						floor: Perbill::from_percent(50),
						ceil: Perbill::from_percent(50),
					},
					min_support: Curve::LinearDecreasing {
						length: Perbill::from_percent(100),
						floor: Perbill::from_percent(20),
						ceil: Perbill::from_percent(20),
					},
				},
			}
		}
		static TRACKS: [Track<u16, u128, u64>; 2] = [track(0, "root"), track(1, "model_whitelist")];
		TRACKS.iter().map(Cow::Borrowed)
	}

	fn track_for(origin: &Self::RuntimeOrigin) -> Result<u16, ()> {
		match origin {
			OriginCaller::system(frame_system::RawOrigin::Root) => Ok(0),
			OriginCaller::Governance(crate::Origin::ModelWhitelist) => Ok(1),
			_ => Err(()),
		}
	}
}

impl pallet_referenda::Config for Test {
	type RuntimeCall = RuntimeCall;
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type Scheduler = Scheduler;
	type Currency = Balances;
	type SubmitOrigin = AsEnsureOriginWithArg<EnsureSigned<u64>>;
	type CancelOrigin = EnsureRoot<u64>;
	type KillOrigin = EnsureRoot<u64>;
	type Slash = ();
	type Votes = crate::Votes;
	type Tally = crate::Tally<Test>;
	type SubmissionDeposit = ConstU128<2>;
	type MaxQueued = ConstU32<10>;
	type UndecidingTimeout = ConstU64<20>;
	type AlarmInterval = ConstU64<1>;
	type Tracks = TestTracks;
	type Preimages = Preimage;
	type BlockNumberProvider = System;
}

thread_local! {
	/// Voting units per account (registered nodes).
	pub static UNITS: RefCell<BTreeMap<u64, u32>> = const { RefCell::new(BTreeMap::new()) };
	/// Reputation per account; 50% when absent.
	pub static SCORES: RefCell<BTreeMap<u64, Perbill>> = const { RefCell::new(BTreeMap::new()) };
}

/// Voters from [`UNITS`].
pub struct TestElectorate;
impl crate::Electorate<u64> for TestElectorate {
	fn voting_units(who: &u64) -> Option<u32> {
		UNITS.with(|u| u.borrow().get(who).copied())
	}
	fn total_units() -> u32 {
		UNITS.with(|u| u.borrow().values().sum())
	}
	#[cfg(feature = "runtime-benchmarks")]
	fn make_voter(who: &u64, units: u32) {
		UNITS.with(|u| u.borrow_mut().insert(*who, units));
	}
}

/// Scores from [`SCORES`].
pub struct TestReputation;
impl pallet_reputation::ReputationInspect<u64> for TestReputation {
	fn score(who: &u64) -> Perbill {
		SCORES.with(|s| {
			s.borrow()
				.get(who)
				.copied()
				.unwrap_or(Perbill::from_percent(50))
		})
	}
}

impl pallet_model_registry::Config for Test {
	type GovernanceOrigin = crate::EnsureModelWhitelist;
	type ModelUsage = ();
	type MaxModels = ConstU32<8>;
	type WeightInfo = ();
}

impl crate::Config for Test {
	type Polls = Referenda;
	type Electorate = TestElectorate;
	type Reputation = TestReputation;
	type MaxVotes = ConstU32<3>;
	type WeightInfo = ();
}

/// Accounts 1..=9 hold 1 000 each. Nodes: 1, 2, 3 with one unit each, 4 with two units;
/// account 9 runs no node.
pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default()
		.build_storage()
		.unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: (1..=9).map(|a| (a, 1_000)).collect(),
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	UNITS.with(|u| *u.borrow_mut() = [(1, 1), (2, 1), (3, 1), (4, 2)].into_iter().collect());
	SCORES.with(|s| s.borrow_mut().clear());
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Runs all pallets' hooks up to block `n`.
pub fn run_to(n: u64) {
	System::run_to_block::<AllPalletsWithSystem>(n);
}
