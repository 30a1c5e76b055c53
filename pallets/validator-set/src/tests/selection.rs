//! Choosing the next set.

use super::*;
use pallet_session::SessionManager;

fn plan(index: u32) -> Option<Vec<AccountId>> {
	<ValidatorSet as SessionManager<AccountId>>::new_session(index)
}

fn set_max_validators(max: u32) {
	Parameters::<Test>::mutate(|p| p.max_validators = max);
}

/// Candidates 1..=5 whose order is decided by each criterion in turn: 3, 2, 4, 1, 5.
fn ranked_candidates() {
	// Score first: 2, 3 and 4 tie at 50%, above 1 (10%) and 5 (nothing).
	for (who, score, bond) in [
		(1, 10, 9 * MIN_BOND),
		(2, 50, 2 * MIN_BOND),
		(3, 50, 3 * MIN_BOND),
		(4, 50, 2 * MIN_BOND),
		(5, 0, 9 * MIN_BOND),
	] {
		candidate(who, bond);
		set_score(who, score);
	}
}

#[test]
fn ranks_by_score_then_bond_then_account() {
	new_test_ext().execute_with(|| {
		ranked_candidates();
		set_max_validators(MAX_VALIDATORS);
		// Among the 50% scores, 3 has the larger bond; 2 and 4 tie on bond, the lower id wins.
		assert_eq!(plan(2), Some(vec![3, 2, 4, 1]));
		assert_eq!(queued(), vec![3, 2, 4, 1]);
		System::assert_last_event(
			Event::NewSetQueued {
				session: 2,
				validators: vec![3, 2, 4, 1],
			}
			.into(),
		);
		check();
	});
}

#[test]
fn takes_max_validators() {
	new_test_ext().execute_with(|| {
		ranked_candidates();
		// The test genesis allows 3.
		assert_eq!(plan(2), Some(vec![3, 2, 4]));
		assert_ok!(ValidatorSet::set_parameters(
			RuntimeOrigin::root(),
			ValidatorSetParameters {
				max_validators: 2,
				equivocation_slash: Perbill::from_percent(10),
			}
		));
		assert_eq!(plan(3), Some(vec![3, 2]));
		assert_eq!(queued(), vec![3, 2]);
		check();
	});
}

#[test]
fn ineligible_candidates_are_skipped_but_stay_candidates() {
	new_test_ext().execute_with(|| {
		for who in 1..=5 {
			candidate(who, MIN_BOND);
		}
		set_keys(1, false);
		update_node(2, |s| s.online = false);
		// The bond fell below the minimum after opting in (a slash by proof of inference).
		update_node(3, |s| s.bond = MIN_BOND - 1);
		assert_eq!(plan(2), Some(vec![4, 5]));
		for who in 1..=5 {
			assert!(is_candidate(who));
		}
		assert!(removals().is_empty());
		// Back in order, they are chosen again.
		set_keys(1, true);
		update_node(2, |s| s.online = true);
		assert_eq!(plan(3), Some(vec![1, 2, 4]));
		check();
	});
}

#[test]
fn leaving_and_unregistered_nodes_are_removed() {
	new_test_ext().execute_with(|| {
		for who in 1..=4 {
			candidate(who, MIN_BOND);
		}
		update_node(1, |s| s.leaving = true);
		unregister_node(2);
		assert_eq!(plan(2), Some(vec![3, 4]));
		assert!(!is_candidate(1));
		assert!(!is_candidate(2));
		assert_eq!(Candidates::<Test>::count(), 2);
		let mut removed = removals();
		removed.sort_by_key(|(who, _)| *who);
		assert_eq!(
			removed,
			vec![(1, RemovalReason::NodeLeft), (2, RemovalReason::NodeLeft)]
		);
		check();
	});
}

#[test]
fn too_few_eligible_keeps_the_current_set() {
	new_test_ext().execute_with(|| {
		candidate(1, MIN_BOND);
		candidate(2, MIN_BOND);
		set_validators(vec![1, 2]);
		NEXT.with(|n| *n.borrow_mut() = vec![1, 2]);
		update_node(2, |s| s.bond = MIN_BOND - 1);
		assert_eq!(plan(2), None);
		assert!(queued().is_empty());
		System::assert_last_event(
			Event::SelectionSkipped {
				session: 2,
				eligible: 1,
			}
			.into(),
		);
		// Through a rotation: `pallet_session` keeps the set it had.
		run_session();
		assert_eq!(validators(), vec![1, 2]);
		assert_eq!(next(), vec![1, 2]);
		System::assert_last_event(
			Event::SelectionSkipped {
				session: 2,
				eligible: 1,
			}
			.into(),
		);
		check();
	});
}

#[test]
fn planning_prunes_history_behind_the_bonding_horizon() {
	new_test_ext().execute_with(|| {
		candidate(1, MIN_BOND);
		candidate(2, MIN_BOND);
		start_chain();
		for _ in 0..5 {
			run_session();
		}
		// new_session(i) prunes up to i - BondingSessions - 1, saturating at 0.
		assert_eq!(pruned(), vec![0, 0, 1, 2, 3]);
		assert_eq!(session(), 5);
		check();
	});
}

#[test]
fn a_rotation_activates_the_chosen_set() {
	new_test_ext().execute_with(|| {
		for who in 1..=3 {
			candidate(who, MIN_BOND);
		}
		set_validators(vec![1, 2]);
		NEXT.with(|n| *n.borrow_mut() = vec![1, 2]);
		run_session();
		// Session 1 runs what was queued before; session 2's set is chosen.
		assert_eq!(validators(), vec![1, 2]);
		assert_eq!(next(), vec![1, 2, 3]);
		assert_eq!(queued(), vec![1, 2, 3]);
		run_session();
		assert_eq!(validators(), vec![1, 2, 3]);
		check();
	});
}

#[test]
fn the_ranking_is_a_total_order() {
	use crate::selection::{rank, Ranked};
	use core::cmp::Ordering;
	let r = |who: u64, score: u32, bond: u128| Ranked {
		who,
		score: Perbill::from_percent(score),
		bond,
	};
	assert_eq!(rank(&r(1, 60, 1), &r(2, 50, 9)), Ordering::Less);
	assert_eq!(rank(&r(1, 50, 9), &r(2, 50, 1)), Ordering::Less);
	assert_eq!(rank(&r(2, 50, 1), &r(1, 50, 1)), Ordering::Greater);
	assert_eq!(rank(&r(1, 50, 1), &r(1, 50, 1)), Ordering::Equal);
}
