//! Unit tests of the governance pallet, driven through real referenda.

use crate::{mock::*, *};
use frame_support::{
	assert_noop, assert_ok,
	traits::{EnsureOrigin, Polling, StorePreimage},
};
use pallet_referenda::ReferendumInfo;
use sp_runtime::{DispatchError, Perbill};

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
		// approval = ayes / (ayes + nays); support = (ayes + abstains) / (5 units × 1e9).
		assert_eq!(t.approval(0u16), Perbill::from_percent(50));
		assert_eq!(t.support(0u16), Perbill::from_percent(30));
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
		run_to(3);
		// One single-unit node at 50%: support 0.5 / 5 = 10% < 20%, approval 100%.
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
