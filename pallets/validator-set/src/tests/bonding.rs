//! How long validation keeps a node's bond, and pruning at the same horizon.

use super::*;

#[test]
fn a_candidate_keeps_its_bond() {
	new_test_ext().execute_with(|| {
		ready(1, MIN_BOND);
		assert!(!ValidatorSet::keeps_bond(&1));
		assert_ok!(opt_in(1));
		assert!(ValidatorSet::keeps_bond(&1));
		assert_ok!(ValidatorSet::opt_out(RuntimeOrigin::signed(1)));
		assert!(!ValidatorSet::keeps_bond(&1));
		check();
	});
}

#[test]
fn a_queued_validator_keeps_its_bond() {
	new_test_ext().execute_with(|| {
		candidate(1, MIN_BOND);
		candidate(2, MIN_BOND);
		assert_eq!(
			<ValidatorSet as pallet_session::SessionManager<AccountId>>::new_session(2),
			Some(vec![1, 2])
		);
		assert_ok!(ValidatorSet::opt_out(RuntimeOrigin::signed(1)));
		// Chosen for a session that has not started: it must be there to validate it.
		assert!(ValidatorSet::keeps_bond(&1));
		<ValidatorSet as pallet_session::SessionManager<AccountId>>::start_session(1);
		assert!(!ValidatorSet::keeps_bond(&1));
		check();
	});
}

#[test]
fn the_bond_stays_for_bonding_sessions_after_the_last_validated_session() {
	ext_with(test_genesis(vec![1, 2, 3])).execute_with(|| {
		for who in 1..=3 {
			ready(who, MIN_BOND);
		}
		start_chain();
		// 3 leaves the candidates during session 0; it still validates sessions 0 and 1.
		assert_ok!(ValidatorSet::opt_out(RuntimeOrigin::signed(3)));
		assert!(ValidatorSet::keeps_bond(&3));
		run_session();
		assert_eq!(validators(), vec![1, 2, 3]);
		assert_eq!(next(), vec![1, 2]);
		assert!(ValidatorSet::keeps_bond(&3));
		run_session();
		// Session 2: no longer validating; session 1 was its last.
		assert_eq!(validators(), vec![1, 2]);
		assert_eq!(LastActive::<Test>::get(3), Some(1));
		assert!(ValidatorSet::keeps_bond(&3));
		run_session();
		// Session 3 = 1 + BondingSessions: an offence of session 1 can still be proven.
		assert!(ValidatorSet::keeps_bond(&3));
		run_session();
		// Session 4: released, and its record pruned when session 5 was planned.
		assert!(!ValidatorSet::keeps_bond(&3));
		assert_eq!(LastActive::<Test>::get(3), None);
		assert_eq!(LastActive::<Test>::get(1), Some(3));
		assert!(ValidatorSet::keeps_bond(&1));
		check();
	});
}

#[test]
fn pruning_drops_stale_last_active_sessions_with_their_silence() {
	new_test_ext().execute_with(|| {
		LastActive::<Test>::insert(1, 0);
		Silence::<Test>::insert(1, SILENCE_SCALE);
		LastActive::<Test>::insert(2, 1);
		Silence::<Test>::insert(2, SILENCE_SCALE);
		Slashes::<Test>::insert(3, 0, 7);
		Slashes::<Test>::insert(3, 1, 7);
		set_session(BONDING_SESSIONS + 1);
		// Planning session 4 during session 3: session 1 is the oldest still provable.
		ValidatorSet::prune(BONDING_SESSIONS + 2);
		assert_eq!(LastActive::<Test>::get(1), None);
		assert!(!Silence::<Test>::contains_key(1));
		assert_eq!(LastActive::<Test>::get(2), Some(1));
		assert_eq!(Silence::<Test>::get(2), SILENCE_SCALE);
		assert_eq!(Slashes::<Test>::get(3, 0), None);
		assert_eq!(Slashes::<Test>::get(3, 1), Some(7));
		assert_eq!(pruned(), vec![1]);
		check();
	});
}
