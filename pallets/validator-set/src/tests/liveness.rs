//! Authored blocks, offline and silent validators.

use super::*;
use pallet_session::SessionManager;

/// Ends session `index`, which is the current one.
fn end(index: u32) {
	set_session(index);
	<ValidatorSet as SessionManager<AccountId>>::end_session(index);
}

/// Candidates 1..=`n`, all validating the current session.
fn validating(n: u64) {
	for who in 1..=n {
		candidate(who, MIN_BOND);
	}
	set_validators((1..=n).collect());
}

#[test]
fn note_author_counts_only_current_validators() {
	new_test_ext().execute_with(|| {
		validating(2);
		author(1, 3);
		author(2, 1);
		author(9, 5);
		assert_eq!(AuthoredBlocks::<Test>::get(1), 3);
		assert_eq!(AuthoredBlocks::<Test>::get(2), 1);
		assert!(!AuthoredBlocks::<Test>::contains_key(9));
		check();
		// The end of the session clears the counts and records the session.
		end(0);
		assert_eq!(AuthoredBlocks::<Test>::iter().count(), 0);
		assert_eq!(LastActive::<Test>::get(1), Some(0));
		assert_eq!(LastActive::<Test>::get(2), Some(0));
		assert_eq!(LastActive::<Test>::get(9), None);
		check();
	});
}

#[test]
fn an_offline_validator_loses_its_candidacy() {
	new_test_ext().execute_with(|| {
		validating(3);
		for who in 1..=3 {
			author(who, 2);
		}
		update_node(2, |s| s.online = false);
		end(4);
		assert!(is_candidate(1));
		assert!(!is_candidate(2));
		assert!(is_candidate(3));
		assert_eq!(removals(), vec![(2, RemovalReason::Offline)]);
		assert!(events().contains(&Event::ValidatorOffline { who: 2, session: 4 }));
		// Its bond stays locked: it validated session 4.
		assert_eq!(LastActive::<Test>::get(2), Some(4));
		check();
	});
}

#[test]
fn an_offline_validator_that_opted_out_is_reported_without_removal() {
	new_test_ext().execute_with(|| {
		validating(2);
		author(1, 1);
		assert_ok!(ValidatorSet::opt_out(RuntimeOrigin::signed(2)));
		update_node(2, |s| s.online = false);
		end(0);
		assert_eq!(removals(), vec![(2, RemovalReason::OptedOut)]);
		assert!(events().contains(&Event::ValidatorOffline { who: 2, session: 0 }));
		check();
	});
}

#[test]
fn a_validator_whose_node_left_is_removed() {
	new_test_ext().execute_with(|| {
		validating(3);
		update_node(1, |s| s.leaving = true);
		unregister_node(2);
		author(3, 1);
		end(0);
		assert_eq!(
			removals(),
			vec![(1, RemovalReason::NodeLeft), (2, RemovalReason::NodeLeft)]
		);
		assert!(is_candidate(3));
		check();
	});
}

#[test]
fn silence_drops_a_validator_only_after_enough_expected_blocks() {
	new_test_ext().execute_with(|| {
		// 4 validators, 20-block sessions: 5 expected blocks each per session, so the limit of
		// 10 is reached after two silent sessions.
		validating(4);
		for who in 1..=3 {
			author(who, 5);
		}
		end(0);
		assert_eq!(Silence::<Test>::get(4), 5 * SILENCE_SCALE);
		assert!(is_candidate(4));
		assert!(removals().is_empty());
		check();

		for who in 1..=3 {
			author(who, 5);
		}
		end(1);
		assert!(!is_candidate(4));
		assert_eq!(removals(), vec![(4, RemovalReason::NoBlocks)]);
		assert!(!Silence::<Test>::contains_key(4));
		for who in 1..=3 {
			assert!(is_candidate(who));
			assert!(!Silence::<Test>::contains_key(who));
		}
		check();
	});
}

#[test]
fn a_small_set_reaches_the_limit_sooner() {
	new_test_ext().execute_with(|| {
		// 2 validators: 10 expected blocks each per session, the limit in one session.
		validating(2);
		author(1, 20);
		end(0);
		assert_eq!(removals(), vec![(2, RemovalReason::NoBlocks)]);
		check();
	});
}

#[test]
fn an_authored_block_clears_silence() {
	new_test_ext().execute_with(|| {
		validating(4);
		for who in 1..=3 {
			author(who, 5);
		}
		end(0);
		assert_eq!(Silence::<Test>::get(4), 5 * SILENCE_SCALE);
		// One block in the next session: silence starts over.
		for who in 1..=4 {
			author(who, 1);
		}
		end(1);
		assert!(!Silence::<Test>::contains_key(4));
		for who in 1..=3 {
			author(who, 5);
		}
		end(2);
		assert_eq!(Silence::<Test>::get(4), 5 * SILENCE_SCALE);
		assert!(is_candidate(4));
		assert!(removals().is_empty());
		check();
	});
}

#[test]
fn silence_is_counted_over_validated_sessions_through_rotations() {
	new_test_ext().execute_with(|| {
		for who in 1..=4 {
			candidate(who, MIN_BOND);
		}
		assert_ok!(ValidatorSet::set_parameters(
			RuntimeOrigin::root(),
			ValidatorSetParameters {
				max_validators: 4,
				equivocation_slash: Perbill::from_percent(10),
			}
		));
		set_validators(vec![1, 2, 3, 4]);
		NEXT.with(|n| *n.borrow_mut() = vec![1, 2, 3, 4]);
		// Validator 4 never authors.
		for _ in 0..2 {
			for who in 1..=3 {
				author(who, 5);
			}
			rotate();
		}
		assert!(!is_candidate(4));
		assert_eq!(removals(), vec![(4, RemovalReason::NoBlocks)]);
		// Session 2's set was chosen while 4 was still a candidate; session 3's is not.
		assert_eq!(validators(), vec![1, 2, 3, 4]);
		assert_eq!(next(), vec![1, 2, 3]);
		check();
	});
}
