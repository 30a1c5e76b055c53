//! The genesis set and parameters.

use super::*;
use pallet_session::SessionManager;

#[test]
fn genesis_validators_are_candidates_and_the_first_sets() {
	ext_with(test_genesis(vec![1, 2, 3])).execute_with(|| {
		for who in [1, 2, 3] {
			assert_eq!(
				Candidates::<Test>::get(who),
				Some(CandidateInfo { since: 0 })
			);
		}
		assert_eq!(
			Parameters::<Test>::get(),
			ValidatorSetParameters {
				max_validators: 3,
				equivocation_slash: Perbill::from_percent(10),
			}
		);
		assert_eq!(
			<ValidatorSet as SessionManager<AccountId>>::new_session_genesis(0),
			Some(vec![1, 2, 3])
		);
		// The historical extension records them (identification `()`) for sessions 0 and 1.
		for index in [0, 1] {
			assert_eq!(
				<ValidatorSet as HistoricalManager<AccountId, ()>>::new_session_genesis(index),
				Some(vec![(1, ()), (2, ()), (3, ())])
			);
		}
		for who in [1, 2, 3] {
			ready(who, MIN_BOND);
		}
		start_chain();
		assert_eq!(validators(), vec![1, 2, 3]);
		assert_eq!(next(), vec![1, 2, 3]);
		// Active now, so no longer queued.
		assert!(queued().is_empty());
		check();
	});
}

#[test]
fn without_genesis_validators_session_uses_its_own_keys() {
	new_test_ext().execute_with(|| {
		assert_eq!(
			<ValidatorSet as SessionManager<AccountId>>::new_session_genesis(0),
			None
		);
		assert_eq!(Candidates::<Test>::count(), 0);
		check();
	});
}

#[test]
fn the_default_genesis_is_valid() {
	let genesis = GenesisConfig::<Test>::default();
	assert_eq!(genesis.max_validators, MAX_VALIDATORS);
	assert_eq!(genesis.equivocation_slash, DEFAULT_EQUIVOCATION_SLASH);
	ext_with(genesis).execute_with(check);
}

#[test]
#[should_panic(expected = "duplicate genesis validator")]
fn genesis_refuses_a_repeated_validator() {
	ext_with(test_genesis(vec![1, 2, 1]));
}

#[test]
#[should_panic(expected = "more genesis validators than MaxValidators")]
fn genesis_refuses_more_than_max_validators() {
	ext_with(test_genesis((1..=MAX_VALIDATORS as u64 + 1).collect()));
}

#[test]
#[should_panic(expected = "fewer genesis validators than MinValidators")]
fn genesis_refuses_fewer_than_min_validators() {
	ext_with(test_genesis(vec![1]));
}

#[test]
#[should_panic(expected = "invalid validator-set parameters")]
fn genesis_refuses_invalid_parameters() {
	let mut genesis = test_genesis(vec![1, 2]);
	genesis.max_validators = MAX_VALIDATORS + 1;
	ext_with(genesis);
}

#[test]
fn genesis_config_uses_camel_case_json() {
	// `frame_support` re-exports the `serde_json` its genesis builder uses; the chain spec
	// writes these names.
	use frame_support::__private::serde_json;
	let json = serde_json::to_string(&test_genesis(vec![1, 2])).unwrap();
	assert!(json.contains("\"validators\":[1,2]"), "{json}");
	assert!(json.contains("\"maxValidators\":3"), "{json}");
	assert!(json.contains("\"equivocationSlash\":100000000"), "{json}");
	let back: GenesisConfig<Test> = serde_json::from_str(&json).unwrap();
	assert_eq!(back.validators, vec![1, 2]);
	assert_eq!(back.max_validators, 3);
	// Unknown fields are refused, so a misspelt key in a chain spec fails loudly.
	assert!(serde_json::from_str::<GenesisConfig<Test>>(
		r#"{"validators":[],"maxValidators":3,"equivocationSlash":0,"minValidators":1}"#
	)
	.is_err());
}
