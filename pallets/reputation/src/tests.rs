//! Unit tests of the reputation pallet.

use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok};
use sp_runtime::{DispatchError, Perbill};

fn score(who: u64) -> Perbill {
	<Reputation as ReputationInspect<u64>>::score(&who)
}

fn report(who: u64, outcome: Outcome, units: u32) {
	<Reputation as ReputationSink<u64>>::record(&who, outcome, units)
}

fn after_each() {
	Reputation::do_try_state().expect("invariants hold");
}

#[test]
fn no_verified_work_means_score_zero() {
	new_test_ext().execute_with(|| {
		// No prior: an unknown account, and one with only failures, score zero.
		assert_eq!(score(7), Perbill::zero());
		assert_eq!(Reputation::current_record(&7), None);
		report(1, Outcome::Offline, 0);
		assert_eq!(score(1), Perbill::zero());
		after_each();
	});
}

#[test]
fn score_grows_with_verified_work_and_confidence() {
	new_test_ext().execute_with(|| {
		// confidence 4: alpha 4 -> 4 / (4 + 4) = 1/2; alpha 12 -> 12 / 16 = 3/4.
		report(1, Outcome::Success, 4);
		assert_eq!(score(1), Perbill::from_percent(50));
		report(1, Outcome::Success, 8);
		assert_eq!(score(1), Perbill::from_percent(75));
		// A failure of 4 units: 12 / 20.
		report(1, Outcome::Wrong, 4);
		assert_eq!(score(1), Perbill::from_percent(60));
		let r = Reputation::current_record(&1).unwrap();
		assert_eq!((r.alpha, r.beta), (12 * EVIDENCE_SCALE, 4 * EVIDENCE_SCALE));
		assert_eq!(
			(r.successes, r.wrong, r.missed, r.timeouts, r.offline),
			(2, 1, 0, 0, 0)
		);
		System::assert_last_event(
			Event::ReputationUpdated {
				who: 1,
				outcome: Outcome::Wrong,
				score: Perbill::from_percent(60),
			}
			.into(),
		);
		after_each();
	});
}

#[test]
fn a_timeout_weighs_far_less_than_a_wrong_result() {
	new_test_ext().execute_with(|| {
		report(1, Outcome::Success, 12);
		report(2, Outcome::Success, 12);
		// Same job size: a wrong result adds its 50 units, a timeout `timeout_units` (1).
		report(1, Outcome::Wrong, 50);
		report(2, Outcome::Timeout, 50);
		let wrong = Reputation::current_record(&1).unwrap();
		let timeout = Reputation::current_record(&2).unwrap();
		assert_eq!(wrong.beta, 50 * EVIDENCE_SCALE);
		assert_eq!(timeout.beta, EVIDENCE_SCALE);
		assert_eq!(timeout.timeouts, 1);
		assert!(score(2) > score(1));
		// A missed job (others delivered) weighs like a wrong one.
		report(3, Outcome::Missed, 50);
		assert_eq!(
			Reputation::current_record(&3).unwrap().beta,
			50 * EVIDENCE_SCALE
		);
		after_each();
	});
}

#[test]
fn offline_counts_as_configured_failure_units() {
	new_test_ext().execute_with(|| {
		report(1, Outcome::Success, 4);
		report(1, Outcome::Offline, 0);
		// alpha 4, beta 2 -> 4 / 10.
		assert_eq!(score(1), Perbill::from_percent(40));
		assert_eq!(Reputation::current_record(&1).unwrap().offline, 1);
		after_each();
	});
}

#[test]
fn units_are_capped_and_at_least_one() {
	new_test_ext().execute_with(|| {
		report(1, Outcome::Success, 1_000_000);
		assert_eq!(
			Reputation::current_record(&1).unwrap().alpha,
			100 * EVIDENCE_SCALE
		);
		report(2, Outcome::Wrong, 0);
		assert_eq!(Reputation::current_record(&2).unwrap().beta, EVIDENCE_SCALE);
	});
}

#[test]
fn evidence_decays_per_full_period() {
	new_test_ext().execute_with(|| {
		report(1, Outcome::Success, 8);
		// Nine blocks later: still inside the first period, no decay.
		System::set_block_number(10);
		assert_eq!(
			Reputation::current_record(&1).unwrap().alpha,
			8 * EVIDENCE_SCALE
		);
		// Two full periods after block 1: factor 1/2 twice.
		System::set_block_number(21);
		let r = Reputation::current_record(&1).unwrap();
		assert_eq!(r.alpha, 2 * EVIDENCE_SCALE);
		assert_eq!(r.updated_at, 21);
		// Reading does not write.
		assert_eq!(
			Reputations::<Test>::get(1).unwrap().alpha,
			8 * EVIDENCE_SCALE
		);
		// A new report applies the decay, then adds.
		report(1, Outcome::Success, 1);
		assert_eq!(
			Reputations::<Test>::get(1).unwrap().alpha,
			3 * EVIDENCE_SCALE
		);
		after_each();
	});
}

#[test]
fn long_silence_decays_to_zero() {
	new_test_ext().execute_with(|| {
		report(1, Outcome::Success, 100);
		System::set_block_number(1_000_000);
		assert_eq!(score(1), Perbill::zero());
		assert!(!Reputation::current_record(&1).unwrap().is_informative());
	});
}

/// M-5: a node that left and registers again finds its record; leaving does not wash away
/// failures.
#[test]
fn records_survive_leaving_and_returning() {
	new_test_ext().execute_with(|| {
		report(1, Outcome::Success, 4);
		report(1, Outcome::Wrong, 12);
		let before = score(1);
		<Reputation as ReputationSink<u64>>::departed(&1);
		assert!(Departed::<Test>::contains_key(1));
		assert_eq!(score(1), before);
		after_each();
		<Reputation as ReputationSink<u64>>::returned(&1);
		assert!(!Departed::<Test>::contains_key(1));
		assert_eq!(score(1), before);
		assert_eq!(Reputation::current_record(&1).unwrap().wrong, 1);
		after_each();
	});
}

#[test]
fn departed_records_are_bounded_oldest_first() {
	new_test_ext().execute_with(|| {
		// MaxDeparted = 3.
		for who in 1..=4u64 {
			report(who, Outcome::Success, 1);
			<Reputation as ReputationSink<u64>>::departed(&who);
			after_each();
		}
		assert_eq!(Departed::<Test>::count(), 3);
		assert!(Reputations::<Test>::get(1).is_none());
		System::assert_has_event(Event::RecordDropped { who: 1 }.into());
		for who in 2..=4u64 {
			assert!(Reputations::<Test>::get(who).is_some());
		}
		// Account 2 returns (from the front): the newest entry fills its place.
		<Reputation as ReputationSink<u64>>::returned(&2);
		after_each();
		assert_eq!(Departed::<Test>::count(), 2);
		// Accounts without a record are not tracked; departing twice changes nothing.
		<Reputation as ReputationSink<u64>>::departed(&9);
		<Reputation as ReputationSink<u64>>::departed(&3);
		assert_eq!(Departed::<Test>::count(), 2);
		// Returning an account that never left is a no-op.
		<Reputation as ReputationSink<u64>>::returned(&9);
		after_each();
		// The ring keeps working past its wrap-around.
		for who in 10..=20u64 {
			report(who, Outcome::Success, 1);
			<Reputation as ReputationSink<u64>>::departed(&who);
			if who % 3 == 0 {
				<Reputation as ReputationSink<u64>>::returned(&(who - 1));
			}
			after_each();
		}
		assert!(Departed::<Test>::count() <= 3);
		assert!(Reputations::<Test>::count() <= Reputation::max_records());
	});
}

#[test]
fn table_is_bounded() {
	new_test_ext().execute_with(|| {
		for who in 0..20u64 {
			report(who, Outcome::Success, 1);
		}
		assert_eq!(Reputations::<Test>::count(), Reputation::max_records());
		// Existing records still update when full.
		report(0, Outcome::Success, 1);
		assert_eq!(Reputation::current_record(&0).unwrap().successes, 2);
		after_each();
	});
}

#[test]
fn top_nodes_sorted_best_first() {
	new_test_ext().execute_with(|| {
		report(1, Outcome::Wrong, 5);
		report(2, Outcome::Success, 5);
		report(3, Outcome::Success, 1);
		let top = Reputation::top_nodes(2);
		assert_eq!(top.iter().map(|(w, _)| *w).collect::<Vec<_>>(), vec![2, 3]);
		assert_eq!(Reputation::top_nodes(10).len(), 3);
		assert!(Reputation::top_nodes(0).is_empty());
	});
}

#[test]
fn set_parameters_by_governance_only() {
	new_test_ext().execute_with(|| {
		let mut params = test_parameters();
		params.decay_factor = Perbill::from_percent(80);
		assert_noop!(
			Reputation::set_parameters(RuntimeOrigin::signed(1), params.clone()),
			DispatchError::BadOrigin
		);
		assert_ok!(Reputation::set_parameters(
			RuntimeOrigin::root(),
			params.clone()
		));
		assert_eq!(Parameters::<Test>::get(), params);
		System::assert_last_event(Event::ParametersSet { parameters: params }.into());
		after_each();
	});
}

/// L-3: every governance-set value has bounds.
#[test]
fn set_parameters_rejects_values_out_of_bounds() {
	new_test_ext().execute_with(|| {
		let base = test_parameters;
		for broken in [
			FormulaParameters {
				decay_period: 0,
				..base()
			},
			FormulaParameters {
				decay_factor: Perbill::from_percent(49),
				..base()
			},
			FormulaParameters {
				offline_units: 0,
				..base()
			},
			FormulaParameters {
				offline_units: 101,
				..base()
			},
			FormulaParameters {
				timeout_units: 101,
				..base()
			},
			FormulaParameters {
				max_units_per_report: 0,
				..base()
			},
			FormulaParameters {
				max_units_per_report: MAX_UNITS_PER_REPORT + 1,
				offline_units: 1,
				timeout_units: 1,
				..base()
			},
			FormulaParameters {
				confidence_units: 0,
				..base()
			},
			FormulaParameters {
				confidence_units: MAX_CONFIDENCE_UNITS + 1,
				..base()
			},
		] {
			assert_noop!(
				Reputation::set_parameters(RuntimeOrigin::root(), broken),
				Error::<Test>::InvalidParameters
			);
		}
		assert_eq!(Parameters::<Test>::get(), test_parameters());
	});
}
