//! Unit tests of the reputation pallet.

use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok};
use sp_runtime::{DispatchError, Perbill};

fn score(who: u64) -> Perbill {
	<Reputation as ReputationInspect<u64>>::score(&who)
}

fn after_each() {
	Reputation::do_try_state().expect("invariants hold");
}

#[test]
fn unknown_node_has_the_uniform_prior() {
	new_test_ext().execute_with(|| {
		assert_eq!(score(7), Perbill::from_percent(50));
		assert_eq!(Reputation::current_record(&7), None);
	});
}

#[test]
fn score_is_the_beta_posterior_mean() {
	new_test_ext().execute_with(|| {
		// alpha = 3, beta = 1 -> (3 + 1) / (3 + 1 + 2) = 2/3.
		<Reputation as ReputationSink<u64>>::record_success(&1, 3);
		<Reputation as ReputationSink<u64>>::record_failure(&1, 1);
		assert_eq!(score(1), Perbill::from_rational(2u32, 3u32));
		let r = Reputation::current_record(&1).unwrap();
		assert_eq!((r.alpha, r.beta), (3 * EVIDENCE_SCALE, EVIDENCE_SCALE));
		assert_eq!((r.successes, r.failures, r.offline), (1, 1, 0));
		System::assert_last_event(
			Event::ReputationUpdated {
				who: 1,
				outcome: Outcome::Failure,
				score: Perbill::from_rational(2u32, 3u32),
			}
			.into(),
		);
		after_each();
	});
}

#[test]
fn offline_counts_as_configured_failure_units() {
	new_test_ext().execute_with(|| {
		<Reputation as ReputationSink<u64>>::record_offline(&1);
		// beta = 2 -> 1 / 4.
		assert_eq!(score(1), Perbill::from_percent(25));
		assert_eq!(Reputation::current_record(&1).unwrap().offline, 1);
		after_each();
	});
}

#[test]
fn units_are_capped_and_at_least_one() {
	new_test_ext().execute_with(|| {
		<Reputation as ReputationSink<u64>>::record_success(&1, 1_000_000);
		assert_eq!(
			Reputation::current_record(&1).unwrap().alpha,
			100 * EVIDENCE_SCALE
		);
		<Reputation as ReputationSink<u64>>::record_failure(&2, 0);
		assert_eq!(Reputation::current_record(&2).unwrap().beta, EVIDENCE_SCALE);
	});
}

#[test]
fn evidence_decays_per_full_period() {
	new_test_ext().execute_with(|| {
		<Reputation as ReputationSink<u64>>::record_success(&1, 8);
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
		<Reputation as ReputationSink<u64>>::record_success(&1, 1);
		assert_eq!(
			Reputations::<Test>::get(1).unwrap().alpha,
			3 * EVIDENCE_SCALE
		);
		after_each();
	});
}

#[test]
fn long_silence_decays_to_the_prior() {
	new_test_ext().execute_with(|| {
		<Reputation as ReputationSink<u64>>::record_failure(&1, 100);
		System::set_block_number(1_000_000);
		assert_eq!(score(1), Perbill::from_percent(50));
	});
}

#[test]
fn forget_drops_the_record() {
	new_test_ext().execute_with(|| {
		<Reputation as ReputationSink<u64>>::record_success(&1, 1);
		<Reputation as ReputationSink<u64>>::forget(&1);
		assert_eq!(Reputations::<Test>::count(), 0);
		assert_eq!(score(1), Perbill::from_percent(50));
		after_each();
	});
}

#[test]
fn table_is_bounded_by_max_nodes() {
	new_test_ext().execute_with(|| {
		for who in 0..10u64 {
			<Reputation as ReputationSink<u64>>::record_success(&who, 1);
		}
		assert_eq!(Reputations::<Test>::count(), MaxNodes::get());
		// Existing records still update when full.
		<Reputation as ReputationSink<u64>>::record_success(&0, 1);
		assert_eq!(Reputation::current_record(&0).unwrap().successes, 2);
		after_each();
	});
}

#[test]
fn top_nodes_sorted_best_first() {
	new_test_ext().execute_with(|| {
		<Reputation as ReputationSink<u64>>::record_failure(&1, 5);
		<Reputation as ReputationSink<u64>>::record_success(&2, 5);
		<Reputation as ReputationSink<u64>>::record_success(&3, 1);
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

#[test]
fn set_parameters_rejects_invalid_values() {
	new_test_ext().execute_with(|| {
		for broken in [
			FormulaParameters {
				decay_period: 0,
				..test_parameters()
			},
			FormulaParameters {
				offline_units: 0,
				..test_parameters()
			},
			FormulaParameters {
				max_units_per_report: 0,
				..test_parameters()
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
