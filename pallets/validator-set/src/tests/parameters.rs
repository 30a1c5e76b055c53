//! Governance of the parameters, and the pallet's own checks.

use super::*;
use frame_support::{
	assert_noop,
	traits::Hooks,
	weights::{constants::RocksDbWeight, Weight},
};
use sp_runtime::DispatchError;

fn params(max_validators: u32) -> ValidatorSetParameters {
	ValidatorSetParameters {
		max_validators,
		equivocation_slash: Perbill::from_percent(20),
	}
}

#[test]
fn parameters_origin_sets_parameters() {
	new_test_ext().execute_with(|| {
		assert_ok!(ValidatorSet::set_parameters(
			RuntimeOrigin::root(),
			params(MAX_VALIDATORS)
		));
		assert_eq!(Parameters::<Test>::get(), params(MAX_VALIDATORS));
		System::assert_last_event(
			Event::ParametersSet {
				parameters: params(MAX_VALIDATORS),
			}
			.into(),
		);
		assert_ok!(ValidatorSet::set_parameters(
			RuntimeOrigin::root(),
			params(MIN_VALIDATORS)
		));
		assert_eq!(Parameters::<Test>::get().max_validators, MIN_VALIDATORS);
		check();
	});
}

#[test]
fn parameters_need_the_origin() {
	new_test_ext().execute_with(|| {
		assert_noop!(
			ValidatorSet::set_parameters(RuntimeOrigin::signed(1), params(2)),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn parameters_out_of_bounds_are_refused() {
	new_test_ext().execute_with(|| {
		for max in [0, 1, MIN_VALIDATORS - 1, MAX_VALIDATORS + 1, u32::MAX] {
			assert_noop!(
				ValidatorSet::set_parameters(RuntimeOrigin::root(), params(max)),
				Error::<Test>::InvalidParameters
			);
		}
		check();
	});
}

#[test]
fn the_mock_passes_the_integrity_test() {
	new_test_ext().execute_with(|| {
		<ValidatorSet as Hooks<u64>>::integrity_test();
	});
}

#[test]
fn blocks_pay_for_noting_their_author() {
	new_test_ext().execute_with(|| {
		let weight = <ValidatorSet as Hooks<u64>>::on_initialize(1);
		assert_eq!(weight, RocksDbWeight::get().reads_writes(2, 1));
		assert_ne!(weight, Weight::zero());
	});
}

#[test]
fn try_state_catches_broken_invariants() {
	new_test_ext().execute_with(|| {
		check();
		// A silence count of an account that never validated.
		Silence::<Test>::insert(1, 10);
		assert!(ValidatorSet::do_try_state().is_err());
		LastActive::<Test>::insert(1, 0);
		check();
		// A silence count at the limit that was not acted on.
		Silence::<Test>::insert(1, MIN_EXPECTED_BLOCKS * SILENCE_SCALE);
		assert!(ValidatorSet::do_try_state().is_err());
		Silence::<Test>::remove(1);
		// A block count of an account that does not validate.
		AuthoredBlocks::<Test>::insert(2, 1);
		assert!(ValidatorSet::do_try_state().is_err());
		set_validators(vec![2, 3]);
		check();
		// A queued set with a repeat.
		Queued::<Test>::put(BoundedVec::truncate_from(vec![2, 2]));
		assert!(ValidatorSet::do_try_state().is_err());
		Queued::<Test>::kill();
		// A last active session beyond the horizon.
		set_session(BONDING_SESSIONS + 3);
		assert!(ValidatorSet::do_try_state().is_err());
		LastActive::<Test>::insert(1, 1);
		check();
		// Invalid parameters.
		Parameters::<Test>::put(params(0));
		assert!(ValidatorSet::do_try_state().is_err());
	});
}
