//! Unit tests of the governance pallet, driven through real referenda.

use crate::{mock::*, *};
use frame_support::{
	assert_noop, assert_ok,
	traits::{EnsureOrigin, Polling, StorePreimage},
};
use pallet_referenda::ReferendumInfo;
use sp_runtime::{BuildStorage, DispatchError, Perbill};

/// Submits a referendum on `origin`'s track that whitelists the sample model `seed`, and places
/// its decision deposit.
fn propose(origin: OriginCaller, seed: u8) -> u32 {
	let call = RuntimeCall::ModelRegistry(pallet_model_registry::Call::whitelist_model {
		info: Box::new(pallet_model_registry::testing::sample_model(seed as u32)),
	});
	let index = pallet_referenda::ReferendumCount::<Test>::get();
	assert_ok!(Referenda::submit(
		RuntimeOrigin::signed(9),
		Box::new(origin),
		Preimage::bound(call).unwrap(),
		frame_support::traits::schedule::DispatchTime::After(0),
	));
	assert_ok!(Referenda::place_decision_deposit(
		RuntimeOrigin::signed(9),
		index
	));
	index
}

fn tally(index: u32) -> Tally<Test> {
	<Referenda as Polling<Tally<Test>>>::as_ongoing(index)
		.expect("ongoing")
		.0
}

fn check() {
	Governance::do_try_state().expect("governance invariants");
}

fn whitelisted(seed: u8) -> bool {
	let sha = pallet_model_registry::testing::sample_model(seed as u32).sha256;
	pallet_model_registry::ModelBySha256::<Test>::contains_key(sha)
}

#[test]
fn weight_is_score_times_units() {
	new_test_ext().execute_with(|| {
		SCORES.with(|s| s.borrow_mut().insert(4, Perbill::from_percent(80)));
		assert_eq!(Governance::vote_weight(&1), Some(500_000_000));
		assert_eq!(Governance::vote_weight(&4), Some(2 * 800_000_000));
		assert_eq!(Governance::vote_weight(&9), None);
	});
}

#[test]
fn votes_are_tallied_by_kind() {
	new_test_ext().execute_with(|| {
		let r = propose(OriginCaller::system(frame_system::RawOrigin::Root), 1);
		assert_ok!(Governance::vote(RuntimeOrigin::signed(1), r, Vote::Aye));
		assert_ok!(Governance::vote(RuntimeOrigin::signed(2), r, Vote::Nay));
		assert_ok!(Governance::vote(RuntimeOrigin::signed(4), r, Vote::Abstain));
		System::assert_last_event(
			Event::Voted {
				who: 4,
				poll: r,
				vote: Vote::Abstain,
				weight: 1_000_000_000,
			}
			.into(),
		);
		let t = tally(r);
		assert_eq!(
			(t.ayes, t.nays, t.abstains),
			(500_000_000, 500_000_000, 1_000_000_000)
		);
		use frame_support::traits::VoteTally;
		// approval = ayes / (ayes + nays); support = (ayes + abstains) / electorate, the weight
		// of every node that may vote at the first vote: 5 units at 50%.
		assert_eq!(t.electorate, 2_500_000_000);
		assert_eq!(t.approval(0u16), Perbill::from_percent(50));
		assert_eq!(t.support(0u16), Perbill::from_percent(60));
		assert_eq!(
			VotingFor::<Test>::get(1).to_vec(),
			vec![(r, Vote::Aye, 500_000_000)]
		);
	});
}

#[test]
fn changing_a_vote_replaces_it() {
	new_test_ext().execute_with(|| {
		let r = propose(OriginCaller::system(frame_system::RawOrigin::Root), 1);
		assert_ok!(Governance::vote(RuntimeOrigin::signed(1), r, Vote::Aye));
		SCORES.with(|s| s.borrow_mut().insert(1, Perbill::from_percent(90)));
		assert_ok!(Governance::vote(RuntimeOrigin::signed(1), r, Vote::Nay));
		let t = tally(r);
		assert_eq!((t.ayes, t.nays), (0, 900_000_000));
		assert_eq!(VotingFor::<Test>::get(1).len(), 1);
	});
}

#[test]
fn only_nodes_with_weight_vote() {
	new_test_ext().execute_with(|| {
		let r = propose(OriginCaller::system(frame_system::RawOrigin::Root), 1);
		assert_noop!(
			Governance::vote(RuntimeOrigin::signed(9), r, Vote::Aye),
			Error::<Test>::NotAVoter
		);
		SCORES.with(|s| s.borrow_mut().insert(1, Perbill::zero()));
		assert_noop!(
			Governance::vote(RuntimeOrigin::signed(1), r, Vote::Aye),
			Error::<Test>::NoVotingWeight
		);
		assert_noop!(
			Governance::vote(RuntimeOrigin::root(), r, Vote::Aye),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn vote_on_unknown_or_closed_poll_fails() {
	new_test_ext().execute_with(|| {
		assert_noop!(
			Governance::vote(RuntimeOrigin::signed(1), 7, Vote::Aye),
			Error::<Test>::NotOngoing
		);
		let r = propose(OriginCaller::system(frame_system::RawOrigin::Root), 2);
		assert_ok!(Referenda::kill(RuntimeOrigin::root(), r));
		assert_noop!(
			Governance::vote(RuntimeOrigin::signed(1), r, Vote::Aye),
			Error::<Test>::NotOngoing
		);
	});
}

#[test]
fn votes_per_account_are_bounded() {
	new_test_ext().execute_with(|| {
		let root = || OriginCaller::system(frame_system::RawOrigin::Root);
		let polls: Vec<u32> = (0..4u8).map(|i| propose(root(), i)).collect();
		for p in &polls[..3] {
			assert_ok!(Governance::vote(RuntimeOrigin::signed(1), *p, Vote::Aye));
		}
		assert_noop!(
			Governance::vote(RuntimeOrigin::signed(1), polls[3], Vote::Aye),
			Error::<Test>::TooManyVotes
		);
		// Removing one makes room.
		assert_ok!(Governance::remove_vote(RuntimeOrigin::signed(1), polls[0]));
		assert_ok!(Governance::vote(
			RuntimeOrigin::signed(1),
			polls[3],
			Vote::Aye
		));
	});
}

#[test]
fn remove_vote_updates_ongoing_tally_and_frees_closed_ones() {
	new_test_ext().execute_with(|| {
		let r = propose(OriginCaller::system(frame_system::RawOrigin::Root), 1);
		assert_noop!(
			Governance::remove_vote(RuntimeOrigin::signed(1), r),
			Error::<Test>::NotVoted
		);
		assert_ok!(Governance::vote(RuntimeOrigin::signed(1), r, Vote::Aye));
		assert_ok!(Governance::vote(RuntimeOrigin::signed(2), r, Vote::Aye));
		assert_ok!(Governance::remove_vote(RuntimeOrigin::signed(1), r));
		System::assert_last_event(Event::VoteRemoved { who: 1, poll: r }.into());
		assert_eq!(tally(r).ayes, 500_000_000);
		assert!(!VotingFor::<Test>::contains_key(1));
		assert_ok!(Referenda::kill(RuntimeOrigin::root(), r));
		assert_ok!(Governance::remove_vote(RuntimeOrigin::signed(2), r));
		assert!(!VotingFor::<Test>::contains_key(2));
	});
}

#[test]
fn passing_referendum_dispatches_with_track_origin() {
	new_test_ext().execute_with(|| {
		let r = propose(OriginCaller::Governance(Origin::ModelWhitelist), 7);
		run_to(3); // past the prepare period: deciding
		for who in [1, 2, 3] {
			assert_ok!(Governance::vote(RuntimeOrigin::signed(who), r, Vote::Aye));
		}
		// Support 60% >= 20%, approval 100% > 50%: confirms for 2 blocks, enacts 1 block later.
		run_to(10);
		assert!(matches!(
			pallet_referenda::ReferendumInfoFor::<Test>::get(r),
			Some(ReferendumInfo::Approved(..))
		));
		assert!(whitelisted(7));
		assert!(System::events().iter().any(|r| matches!(
			r.event,
			RuntimeEvent::ModelRegistry(pallet_model_registry::Event::ModelWhitelisted { .. })
		)));
	});
}

#[test]
fn referendum_below_quorum_times_out_and_does_nothing() {
	new_test_ext().execute_with(|| {
		let r = propose(OriginCaller::Governance(Origin::ModelWhitelist), 8);
		run_to(MIN_AGE + 3);
		// One single-unit node at 10% among nodes at 50%: support 0.1 / 2.1 < 20%.
		SCORES.with(|s| s.borrow_mut().insert(1, Perbill::from_percent(10)));
		assert_ok!(Governance::vote(RuntimeOrigin::signed(1), r, Vote::Aye));
		run_to(30);
		assert!(matches!(
			pallet_referenda::ReferendumInfoFor::<Test>::get(r),
			Some(ReferendumInfo::Rejected(..))
		));
		assert!(!whitelisted(8));
		assert_noop!(
			Governance::vote(RuntimeOrigin::signed(2), r, Vote::Aye),
			Error::<Test>::NotOngoing
		);
	});
}

#[test]
fn track_origins_are_distinct() {
	let model: RuntimeOrigin = Origin::ModelWhitelist.into();
	let emergency: RuntimeOrigin = Origin::Emergency.into();
	assert!(EnsureModelWhitelist::try_origin(model.clone()).is_ok());
	assert!(EnsureModelWhitelist::try_origin(emergency.clone()).is_err());
	assert!(EnsureEmergency::try_origin(emergency).is_ok());
	assert!(EnsureEmergency::try_origin(RuntimeOrigin::root()).is_err());
	assert!(EnsureReputationFormula::try_origin(model.clone()).is_err());
	assert!(EnsureNetworkParameters::try_origin(RuntimeOrigin::signed(1)).is_err());
	assert!(
		EnsureReputationFormula::try_origin(RuntimeOrigin::from(Origin::ReputationFormula)).is_ok()
	);
	assert!(
		EnsureNetworkParameters::try_origin(RuntimeOrigin::from(Origin::NetworkParameters)).is_ok()
	);
}

/// C-1: a node must have registered `min_voting_age` blocks before a poll opened to vote in it,
/// so capital that arrives after a proposal cannot decide it.
#[test]
fn fresh_nodes_cannot_vote() {
	new_test_ext().execute_with(|| {
		// Node 5 registers at block 4: too young for a poll opening at block 6 (4 + 5 > 6).
		UNITS.with(|u| u.borrow_mut().insert(5, (10, 4)));
		SCORES.with(|s| s.borrow_mut().insert(5, Perbill::one()));
		let r = propose(OriginCaller::system(frame_system::RawOrigin::Root), 1);
		assert_noop!(
			Governance::vote(RuntimeOrigin::signed(5), r, Vote::Aye),
			Error::<Test>::TooYoung
		);
		// Nor can a node registering after the poll opened, however long it waits.
		UNITS.with(|u| u.borrow_mut().insert(6, (10, 7)));
		run_to(12);
		assert_noop!(
			Governance::vote(RuntimeOrigin::signed(6), r, Vote::Aye),
			Error::<Test>::TooYoung
		);
		// Node 5 may vote in a poll that opens once it is old enough.
		let later = propose(OriginCaller::Governance(Origin::ModelWhitelist), 2);
		assert_ok!(Governance::vote(RuntimeOrigin::signed(5), later, Vote::Aye));
		check();
	});
}

/// C-1: the electorate is fixed by the poll's first vote and counts only nodes that may vote in
/// the poll: capital bonded in nodes without verified work, or registered after the poll opened,
/// dilutes nothing; support never exceeds 100%.
#[test]
fn electorate_counts_only_nodes_that_may_vote() {
	new_test_ext().execute_with(|| {
		// A griefer bonds 100 units and never earns reputation; another registers later.
		UNITS.with(|u| u.borrow_mut().insert(7, (100, 0)));
		SCORES.with(|s| s.borrow_mut().insert(7, Perbill::zero()));
		let r = propose(OriginCaller::system(frame_system::RawOrigin::Root), 1);
		assert_eq!(tally(r).electorate, 0);
		assert_eq!(tally(r).opened_at, MIN_AGE + 1);
		UNITS.with(|u| u.borrow_mut().insert(8, (100, MIN_AGE + 1)));
		SCORES.with(|s| s.borrow_mut().insert(8, Perbill::one()));
		for who in [1, 2, 3, 4] {
			SCORES.with(|s| s.borrow_mut().insert(who, Perbill::one()));
		}
		assert_ok!(Governance::vote(RuntimeOrigin::signed(1), r, Vote::Aye));
		// Nodes 1..=4 at a perfect score: 5 units; the idle and the late nodes do not count.
		assert_eq!(tally(r).electorate, 5 * SCORE_SCALE);
		for who in [2, 3, 4] {
			assert_ok!(Governance::vote(RuntimeOrigin::signed(who), r, Vote::Aye));
		}
		use frame_support::traits::VoteTally;
		assert_eq!(tally(r).support(0u16), Perbill::one());
		// A score that grew after the first vote cannot push support past 100%.
		SCORES.with(|s| s.borrow_mut().insert(4, Perbill::one()));
		UNITS.with(|u| u.borrow_mut().insert(4, (9, 0)));
		assert_ok!(Governance::vote(RuntimeOrigin::signed(4), r, Vote::Aye));
		assert!(tally(r).ayes > tally(r).electorate);
		assert_eq!(tally(r).support(0u16), Perbill::one());
		check();
	});
}

/// C-1: a vote cannot outlive its stake. When a node leaves, its votes leave every running
/// poll; votes in closed polls are only forgotten.
#[test]
fn leaving_nodes_take_their_votes_with_them() {
	new_test_ext().execute_with(|| {
		let root = || OriginCaller::system(frame_system::RawOrigin::Root);
		let running = propose(root(), 1);
		let closed = propose(root(), 2);
		assert_ok!(Governance::vote(
			RuntimeOrigin::signed(4),
			running,
			Vote::Aye
		));
		assert_ok!(Governance::vote(
			RuntimeOrigin::signed(4),
			closed,
			Vote::Nay
		));
		assert_ok!(Governance::vote(
			RuntimeOrigin::signed(1),
			running,
			Vote::Aye
		));
		assert_ok!(Referenda::kill(RuntimeOrigin::root(), closed));
		// Node 4 unregisters: the registry tells governance.
		UNITS.with(|u| u.borrow_mut().remove(&4));
		Governance::remove_votes_of(&4);
		System::assert_last_event(Event::VotesWithdrawn { who: 4, polls: 1 }.into());
		assert_eq!(tally(running).ayes, 500_000_000);
		assert!(!VotingFor::<Test>::contains_key(4));
		// Nothing left to do for a node without votes.
		Governance::remove_votes_of(&9);
		assert_noop!(
			Governance::vote(RuntimeOrigin::signed(4), running, Vote::Aye),
			Error::<Test>::NotAVoter
		);
		check();
	});
}

#[test]
fn tracks_come_from_storage_and_only_root_changes_them() {
	new_test_ext().execute_with(|| {
		use pallet_referenda::TracksInfo;
		let info = TestTracks::info(1).unwrap();
		assert_eq!(info.decision_period, 10);
		assert_eq!(&info.name[..15], b"model_whitelist");
		let mut longer = test_tracks();
		longer[1].decision_period = 50;
		longer[1].min_support = CurveSpec {
			ceil: Perbill::from_percent(40),
			floor: Perbill::from_percent(30),
		};
		assert_noop!(
			Governance::set_tracks(RuntimeOrigin::signed(1), longer.clone()),
			DispatchError::BadOrigin
		);
		assert_ok!(Governance::set_tracks(
			RuntimeOrigin::root(),
			longer.clone()
		));
		System::assert_last_event(Event::TracksSet.into());
		assert_eq!(TestTracks::info(1).unwrap().decision_period, 50);
		// A referendum on the track now needs the new support.
		let r = propose(OriginCaller::Governance(Origin::ModelWhitelist), 7);
		run_to(8);
		// One node of five units' electorate: support 0.5 / 2.5 = 20%, which passed the old
		// track's 20% but not the new 40% → 30%.
		assert_ok!(Governance::vote(RuntimeOrigin::signed(1), r, Vote::Aye));
		run_to(30);
		assert!(!whitelisted(7));
		check();
	});
}

/// L-3: every track value is bounded, and the set of tracks cannot change under running
/// referenda.
#[test]
fn invalid_tracks_are_refused() {
	new_test_ext().execute_with(|| {
		let base = test_tracks;
		let broken: Vec<Vec<TrackSpec<u128, u64>>> = vec![
			vec![],
			{
				let mut t = base();
				t[0].decision_period = 0;
				t
			},
			{
				let mut t = base();
				t[0].confirm_period = 0;
				t
			},
			{
				let mut t = base();
				t[0].max_deciding = 0;
				t
			},
			{
				let mut t = base();
				t[0].decision_deposit = 0;
				t
			},
			{
				let mut t = base();
				t[0].prepare_period = u64::from(MAX_TRACK_PERIOD) + 1;
				t
			},
			{
				let mut t = base();
				t[0].min_approval.floor = Perbill::from_percent(49);
				t
			},
			{
				let mut t = base();
				t[0].min_support.floor = Perbill::zero();
				t
			},
			{
				let mut t = base();
				t[0].min_support = CurveSpec {
					ceil: Perbill::from_percent(10),
					floor: Perbill::from_percent(20),
				};
				t
			},
			{
				let mut t = base();
				t[0].name = Default::default();
				t
			},
			{
				let mut t = base();
				t.swap(0, 1);
				t
			},
			{
				let mut t = base();
				t[1].id = 0;
				t
			},
		];
		for tracks in broken {
			assert_noop!(
				Governance::set_tracks(RuntimeOrigin::root(), tracks),
				Error::<Test>::InvalidTracks
			);
		}
		let mut renamed = base();
		renamed[1].id = 2;
		assert_noop!(
			Governance::set_tracks(RuntimeOrigin::root(), renamed),
			Error::<Test>::TrackSetChanged
		);
		assert_noop!(
			Governance::set_tracks(RuntimeOrigin::root(), vec![base()[0].clone()]),
			Error::<Test>::TrackSetChanged
		);
	});
}

#[test]
fn voting_rules_are_set_by_root() {
	new_test_ext().execute_with(|| {
		let rules = VotingRules {
			min_voting_age: 100,
			submission_deposit: 7,
		};
		assert_noop!(
			Governance::set_rules(RuntimeOrigin::signed(1), rules.clone()),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Governance::set_rules(
				RuntimeOrigin::root(),
				VotingRules {
					min_voting_age: 1,
					submission_deposit: 0
				}
			),
			Error::<Test>::InvalidRules
		);
		assert_ok!(Governance::set_rules(RuntimeOrigin::root(), rules.clone()));
		assert_eq!(Rules::<Test>::get(), rules);
		assert_eq!(SubmissionDeposit::get(), 7);
		// The nodes (registered at block 0) are now too young for new polls.
		let r = propose(OriginCaller::system(frame_system::RawOrigin::Root), 1);
		assert_noop!(
			Governance::vote(RuntimeOrigin::signed(1), r, Vote::Aye),
			Error::<Test>::TooYoung
		);
	});
}

#[test]
#[should_panic(expected = "invalid governance tracks")]
fn genesis_refuses_invalid_tracks() {
	let mut tracks = test_tracks();
	tracks[0].decision_period = 0;
	let mut storage = frame_system::GenesisConfig::<Test>::default()
		.build_storage()
		.unwrap();
	GenesisConfig::<Test> {
		tracks,
		rules: VotingRules {
			min_voting_age: 1,
			submission_deposit: 1,
		},
	}
	.assimilate_storage(&mut storage)
	.unwrap();
}

#[test]
fn genesis_settings_round_trip_through_json() {
	let config = GenesisConfig::<Test> {
		tracks: test_tracks(),
		rules: VotingRules {
			min_voting_age: 3,
			submission_deposit: 2,
		},
	};
	let json = serde_json::to_string(&config).unwrap();
	assert!(json.contains("\"name\":\"model_whitelist\""), "{json}");
	assert!(json.contains("\"minVotingAge\":3"), "{json}");
	let back: GenesisConfig<Test> = serde_json::from_str(&json).unwrap();
	assert_eq!(back.tracks, config.tracks);
}
