//! Opting in and out.

use super::*;
use frame_support::assert_noop;

#[test]
fn opt_in_records_the_candidate_with_its_session() {
	new_test_ext().execute_with(|| {
		ready(1, MIN_BOND);
		assert_ok!(opt_in(1));
		assert_eq!(Candidates::<Test>::get(1), Some(CandidateInfo { since: 0 }));
		System::assert_last_event(Event::CandidateAdded { who: 1 }.into());

		set_session(7);
		ready(2, MIN_BOND);
		assert_ok!(opt_in(2));
		assert_eq!(Candidates::<Test>::get(2), Some(CandidateInfo { since: 7 }));
		assert_eq!(Candidates::<Test>::count(), 2);
		check();
	});
}

#[test]
fn opt_in_refuses_a_node_that_cannot_validate() {
	new_test_ext().execute_with(|| {
		// No node at all.
		set_keys(1, true);
		assert_noop!(opt_in(1), Error::<Test>::NotRegistered);

		ready(2, MIN_BOND);
		update_node(2, |s| s.leaving = true);
		assert_noop!(opt_in(2), Error::<Test>::NodeLeaving);
		// Leaving is reported even when the node also stopped heartbeating.
		update_node(2, |s| s.online = false);
		assert_noop!(opt_in(2), Error::<Test>::NodeLeaving);

		ready(3, MIN_BOND);
		update_node(3, |s| s.online = false);
		assert_noop!(opt_in(3), Error::<Test>::NodeOffline);

		ready(4, MIN_BOND - 1);
		assert_noop!(opt_in(4), Error::<Test>::BondTooLow);

		ready(5, MIN_BOND);
		set_keys(5, false);
		assert_noop!(opt_in(5), Error::<Test>::NoSessionKeys);

		candidate(6, MIN_BOND);
		assert_noop!(opt_in(6), Error::<Test>::AlreadyCandidate);

		assert_noop!(
			ValidatorSet::opt_in(RuntimeOrigin::root()),
			sp_runtime::DispatchError::BadOrigin
		);
		assert_eq!(Candidates::<Test>::count(), 1);
		check();
	});
}

#[test]
fn opt_in_stops_at_max_candidates() {
	new_test_ext().execute_with(|| {
		for who in 1..=MAX_CANDIDATES as u64 {
			candidate(who, MIN_BOND);
		}
		ready(9, MIN_BOND);
		assert_noop!(opt_in(9), Error::<Test>::TooManyCandidates);
		assert_ok!(ValidatorSet::opt_out(RuntimeOrigin::signed(1)));
		assert_ok!(opt_in(9));
		assert_eq!(Candidates::<Test>::count(), MAX_CANDIDATES);
		check();
	});
}

#[test]
fn opt_out_ends_candidacy_but_not_the_chosen_sets() {
	new_test_ext().execute_with(|| {
		candidate(1, MIN_BOND);
		set_validators(vec![1, 2]);
		Queued::<Test>::put(BoundedVec::truncate_from(vec![1, 2]));

		assert_ok!(ValidatorSet::opt_out(RuntimeOrigin::signed(1)));
		assert!(!is_candidate(1));
		System::assert_last_event(
			Event::CandidateRemoved {
				who: 1,
				reason: RemovalReason::OptedOut,
			}
			.into(),
		);
		// Still validating and queued: only a rotation takes it out.
		assert_eq!(validators(), vec![1, 2]);
		assert_eq!(queued(), vec![1, 2]);
		assert!(ValidatorSet::keeps_bond(&1));

		assert_noop!(
			ValidatorSet::opt_out(RuntimeOrigin::signed(1)),
			Error::<Test>::NotCandidate
		);
		check();
	});
}

#[test]
fn a_node_leaving_the_registry_ends_its_candidacy() {
	new_test_ext().execute_with(|| {
		candidate(1, MIN_BOND);
		ValidatorSet::on_node_left(&1);
		assert!(!is_candidate(1));
		assert_eq!(removals(), vec![(1, RemovalReason::NodeLeft)]);
		// Not a candidate (any more): nothing happens, no second event.
		ValidatorSet::on_node_left(&1);
		ValidatorSet::on_node_left(&2);
		assert_eq!(removals().len(), 1);
		assert_eq!(
			ValidatorSet::on_node_left_weight(),
			<() as WeightInfo>::on_node_left()
		);
		check();
	});
}
