//! Slashing proven equivocations.

use super::*;
use frame_support::weights::Weight;
use sp_staking::offence::{OffenceDetails, OnOffenceHandler};

/// Reports `offenders` for an offence of `session`, with the offence's own fraction at 100% (the
/// pallet must ignore it).
fn report(offenders: &[AccountId], session: u32) -> Weight {
	let details: Vec<OffenceDetails<AccountId, (AccountId, ())>> = offenders
		.iter()
		.map(|who| OffenceDetails {
			offender: (*who, ()),
			reporters: vec![],
		})
		.collect();
	let fractions = vec![Perbill::one(); offenders.len()];
	<ValidatorSet as OnOffenceHandler<AccountId, (AccountId, ()), Weight>>::on_offence(
		&details, &fractions, session,
	)
}

fn slashed_events() -> Vec<(AccountId, Balance, u32)> {
	events()
		.into_iter()
		.filter_map(|e| match e {
			Event::Slashed {
				who,
				amount,
				session,
			} => Some((who, amount, session)),
			_ => None,
		})
		.collect()
}

/// Candidates 1..=3 with bonds 5 000, 8 000 and 2 000, validating session 3.
fn validating_set() {
	candidate(1, 5 * MIN_BOND);
	candidate(2, 8 * MIN_BOND);
	candidate(3, 2 * MIN_BOND);
	set_validators(vec![1, 2, 3]);
	set_session(3);
}

#[test]
fn an_equivocation_slashes_the_parameter_share_and_removes_the_node() {
	new_test_ext().execute_with(|| {
		validating_set();
		let weight = report(&[1], 3);
		// 10% of 5 000, not the offence's 100%.
		assert_eq!(slashes(), vec![(1, Perbill::from_percent(10), 500)]);
		assert_eq!(bond(1), 4_500);
		assert_eq!(Slashes::<Test>::get(1, 3), Some(500));
		assert!(!is_candidate(1));
		assert_eq!(removals(), vec![(1, RemovalReason::Equivocation)]);
		assert_eq!(disabled(), vec![1]);
		assert_eq!(slashed_events(), vec![(1, 500, 3)]);
		assert!(weight.ref_time() > 0);
		check();
	});
}

#[test]
fn the_slash_follows_the_parameter() {
	new_test_ext().execute_with(|| {
		validating_set();
		Parameters::<Test>::mutate(|p| p.equivocation_slash = Perbill::from_percent(25));
		report(&[2], 3);
		assert_eq!(slashes(), vec![(2, Perbill::from_percent(25), 2_000)]);
		check();
	});
}

#[test]
fn two_offenders_are_both_slashed() {
	new_test_ext().execute_with(|| {
		validating_set();
		let one = report(&[], 3);
		let two = report(&[1, 2], 3);
		assert_eq!(
			slashes(),
			vec![
				(1, Perbill::from_percent(10), 500),
				(2, Perbill::from_percent(10), 800)
			]
		);
		assert!(!is_candidate(1) && !is_candidate(2) && is_candidate(3));
		assert_eq!(disabled(), vec![1, 2]);
		assert_eq!(slashed_events(), vec![(1, 500, 3), (2, 800, 3)]);
		assert!(two.ref_time() > one.ref_time());
		check();
	});
}

#[test]
fn a_repeated_offender_is_not_slashed_twice_while_its_slash_is_on_record() {
	new_test_ext().execute_with(|| {
		validating_set();
		report(&[1], 3);
		// `pallet_offences` passes earlier offenders of the same slot again with a new report.
		report(&[1, 2], 3);
		assert_eq!(
			slashes(),
			vec![
				(1, Perbill::from_percent(10), 500),
				(2, Perbill::from_percent(10), 800)
			]
		);
		assert_eq!(
			removals(),
			vec![
				(1, RemovalReason::Equivocation),
				(2, RemovalReason::Equivocation)
			]
		);
		assert_eq!(slashed_events(), vec![(1, 500, 3), (2, 800, 3)]);
		// The same incident goes on into another session: still the one slash.
		report(&[1], 2);
		assert_eq!(slashes().len(), 2);
		assert_eq!(slashed_events().len(), 2);
		check();
	});
}

#[test]
fn an_offence_beyond_the_history_horizon_is_ignored() {
	new_test_ext().execute_with(|| {
		validating_set();
		set_session(3 + BONDING_SESSIONS);
		// Session 3 is the oldest whose offences are still provable.
		report(&[1], 2);
		assert!(slashes().is_empty());
		assert!(is_candidate(1));
		report(&[1], 3);
		assert_eq!(slashes().len(), 1);
		check();
	});
}

#[test]
fn a_slashed_node_sits_out_and_is_disabled_until_its_record_expires() {
	new_test_ext().execute_with(|| {
		for who in 1..=3 {
			candidate(who, 5 * MIN_BOND);
		}
		set_validators(vec![1, 2, 3]);
		NEXT.with(|n| *n.borrow_mut() = vec![1, 2, 3]);
		run_session();
		// Session 1; sessions 1 and 2 have [1, 2, 3].
		assert_eq!(next(), vec![1, 2, 3]);
		report(&[1], 1);
		assert_eq!(disabled(), vec![1]);
		// It opts in again at once: accepted, but not chosen while the slash is on record.
		assert_ok!(opt_in(1));
		run_session();
		// Session 2 still has it (chosen before the offence): disabled again from the start.
		assert_eq!(validators(), vec![1, 2, 3]);
		assert_eq!(disabled(), vec![1]);
		assert_eq!(next(), vec![2, 3]);
		// The record of session 1 lasts while sessions up to 1 + BondingSessions run.
		run_session();
		assert_eq!(session(), 3);
		assert_eq!(next(), vec![2, 3]);
		assert!(disabled().is_empty());
		run_session();
		// Planning session 5 pruned it: node 1 is chosen again, last for its smaller bond.
		assert_eq!(Slashes::<Test>::iter().count(), 0);
		assert_eq!(bond(1), 4_500);
		assert_eq!(next(), vec![2, 3, 1]);
		check();
	});
}
