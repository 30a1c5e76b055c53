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
use pallet_referenda::{Track, TracksInfo};
use sp_runtime::{BuildStorage, Perbill};
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
	/// The submission deposit of the governance pallet's rules.
	pub SubmissionDeposit: u128 = crate::Rules::<Test>::get().submission_deposit;
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
pub fn test_tracks() -> Vec<crate::TrackSpec<u128, u64>> {
	let flat = |p| crate::CurveSpec {
		ceil: Perbill::from_percent(p),
		floor: Perbill::from_percent(p),
	};
	let track = |id: u16, name: &str| crate::TrackSpec {
		id,
		name: name.as_bytes().to_vec().try_into().unwrap(),
		max_deciding: 10,
		decision_deposit: 10,
		prepare_period: 1,
		decision_period: 10,
		confirm_period: 2,
		min_enactment_period: 1,
		min_approval: flat(50),
		min_support: flat(20),
	};
	vec![track(0, "root"), track(1, "model_whitelist")]
}

/// The tracks stored by the governance pallet, as a runtime wires them.
pub struct TestTracks;
impl TracksInfo<u128, u64> for TestTracks {
	type Id = u16;
	type RuntimeOrigin = <RuntimeOrigin as OriginTrait>::PalletsOrigin;

	fn tracks() -> impl Iterator<Item = Cow<'static, Track<u16, u128, u64>>> {
		Governance::tracks_or(test_tracks)
			.into_iter()
			.map(|t| Cow::Owned(t.to_track()))
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
	type SubmissionDeposit = SubmissionDeposit;
	type MaxQueued = ConstU32<10>;
	type UndecidingTimeout = ConstU64<20>;
	type AlarmInterval = ConstU64<1>;
	type Tracks = TestTracks;
	type Preimages = Preimage;
	type BlockNumberProvider = System;
}

thread_local! {
	/// Voting units and registration block per account (registered nodes).
	pub static UNITS: RefCell<BTreeMap<u64, (u32, u64)>> = const { RefCell::new(BTreeMap::new()) };
	/// Reputation per account; 50% when absent.
	pub static SCORES: RefCell<BTreeMap<u64, Perbill>> = const { RefCell::new(BTreeMap::new()) };
}

/// Voters from [`UNITS`].
pub struct TestElectorate;
impl crate::Electorate<u64, u64> for TestElectorate {
	fn voter(who: &u64) -> Option<crate::Voter<u64>> {
		UNITS.with(|u| {
			u.borrow()
				.get(who)
				.map(|(units, registered_at)| crate::Voter {
					units: *units,
					registered_at: *registered_at,
				})
		})
	}
	fn voters() -> Vec<(u64, crate::Voter<u64>)> {
		UNITS.with(|u| {
			u.borrow()
				.iter()
				.map(|(who, (units, registered_at))| {
					(
						*who,
						crate::Voter {
							units: *units,
							registered_at: *registered_at,
						},
					)
				})
				.collect()
		})
	}
	fn max_voters() -> u32 {
		16
	}
	#[cfg(feature = "runtime-benchmarks")]
	fn make_voter(who: &u64, units: u32) {
		UNITS.with(|u| u.borrow_mut().insert(*who, (units, 0)));
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

/// Minimum voter age of the tests.
pub const MIN_AGE: u64 = 5;

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
	type Balance = u128;
	type AdminOrigin = EnsureRoot<u64>;
	type MaxVotes = ConstU32<3>;
	type MaxTracks = ConstU32<8>;
	type WeightInfo = ();
}

/// Accounts 1..=9 hold 1 000 each. Nodes: 1, 2, 3 with one unit each, 4 with two units, all
/// registered at block 0; account 9 runs no node. The tracks of [`test_tracks`], minimum voter
/// age [`MIN_AGE`]; tests start at block `MIN_AGE + 1`, so the nodes are old enough.
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
	crate::GenesisConfig::<Test> {
		tracks: test_tracks(),
		rules: crate::VotingRules {
			min_voting_age: MIN_AGE,
			submission_deposit: 2,
		},
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	UNITS.with(|u| {
		*u.borrow_mut() = [(1, (1, 0)), (2, (1, 0)), (3, (1, 0)), (4, (2, 0))]
			.into_iter()
			.collect()
	});
	SCORES.with(|s| s.borrow_mut().clear());
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(MIN_AGE + 1));
	ext
}

/// Runs all pallets' hooks up to block `n`.
pub fn run_to(n: u64) {
	System::run_to_block::<AllPalletsWithSystem>(n);
}
