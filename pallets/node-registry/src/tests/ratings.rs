//! Model ratings: what a node may publish of its own measurements, and when they go.

use super::*;
use frame_support::assert_noop;

fn rating(model: ModelId, generation_milli_tps: u32) -> ModelRating {
	ModelRating {
		model,
		prompt_milli_tps: 249_200,
		generation_milli_tps,
		first_token_ms: 449,
		memory_mib: 167,
	}
}

fn rate(who: u64, ratings: Vec<ModelRating>) -> sp_runtime::DispatchResult {
	NodeRegistry::rate_models(RuntimeOrigin::signed(who), ratings)
}

fn rated_models(who: u64) -> Vec<ModelId> {
	Ratings::<Test>::get(who)
		.map(|r| r.ratings.iter().map(|r| r.model).collect())
		.unwrap_or_default()
}

/// Registers `who` serving models 0 and 1, rated both.
fn rated_node(who: u64) -> InferenceKey {
	let k = key(who);
	assert_ok!(register_with(who, vec![0, 1], k.clone(), 3_000));
	assert_ok!(rate(who, vec![rating(0, 96_700), rating(1, 43_800)]));
	k
}

#[test]
fn a_node_publishes_and_replaces_its_ratings() {
	new_test_ext().execute_with(|| {
		System::set_block_number(3);
		rated_node(1);
		let published = Ratings::<Test>::get(1).unwrap();
		assert_eq!(published.rated_at, 3);
		assert_eq!(
			published.ratings.to_vec(),
			vec![rating(0, 96_700), rating(1, 43_800)]
		);
		System::assert_last_event(
			Event::ModelsRated {
				node: 1,
				ratings: published.ratings.clone(),
			}
			.into(),
		);
		check();
		// A new list replaces the old one whole; an empty one withdraws them.
		assert_ok!(rate(1, vec![rating(1, 50_000)]));
		assert_eq!(rated_models(1), vec![1]);
		assert_ok!(rate(1, vec![]));
		assert!(!Ratings::<Test>::contains_key(1));
		check();
	});
}

#[test]
fn bad_ratings_are_refused() {
	new_test_ext().execute_with(|| {
		assert_noop!(rate(1, vec![rating(0, 1)]), Error::<Test>::NotRegistered);
		register(1, 3_000); // serves model 0 only
		assert_noop!(
			rate(1, vec![rating(1, 1_000)]),
			Error::<Test>::RatedModelNotServed
		);
		assert_noop!(
			rate(1, vec![rating(0, 1_000), rating(0, 2_000)]),
			Error::<Test>::InvalidRating
		);
		assert_noop!(rate(1, vec![rating(0, 0)]), Error::<Test>::InvalidRating);
		let too_many = (0..=MAX_SERVED_MODELS).map(|_| rating(0, 1_000)).collect();
		assert_noop!(rate(1, too_many), Error::<Test>::TooManyRatings);
		check();
	});
}

#[test]
fn ratings_follow_the_served_models_and_the_engine_class() {
	new_test_ext().execute_with(|| {
		rated_node(1);
		// Model 1 no longer served: its rating goes, model 0's stays.
		assert_ok!(NodeRegistry::set_served_models(
			RuntimeOrigin::signed(1),
			vec![0]
		));
		assert_eq!(rated_models(1), vec![0]);
		check();
		// The last rated model goes: so does the entry.
		assert_ok!(NodeRegistry::set_served_models(
			RuntimeOrigin::signed(1),
			vec![1]
		));
		assert!(!Ratings::<Test>::contains_key(1));
		// The same capabilities keep the ratings; another engine build drops them.
		assert_ok!(rate(1, vec![rating(1, 43_800)]));
		assert_ok!(NodeRegistry::update_capabilities(
			RuntimeOrigin::signed(1),
			caps()
		));
		assert_eq!(rated_models(1), vec![1]);
		let mut upgraded = caps();
		upgraded.class.engine_version = b"another build".to_vec().try_into().unwrap();
		assert_ok!(NodeRegistry::update_capabilities(
			RuntimeOrigin::signed(1),
			upgraded
		));
		assert!(!Ratings::<Test>::contains_key(1));
		check();
	});
}

#[test]
fn ratings_go_when_the_node_leaves_or_is_banned() {
	new_test_ext().execute_with(|| {
		rated_node(1);
		assert_ok!(NodeRegistry::unregister(RuntimeOrigin::signed(1)));
		assert!(!Ratings::<Test>::contains_key(1));
		// A leaving node cannot publish new ones.
		assert_noop!(
			rate(1, vec![rating(0, 1_000)]),
			Error::<Test>::AlreadyUnbonding
		);
		rated_node(2);
		assert_ok!(NodeRegistry::ban(RuntimeOrigin::root(), 2));
		assert!(!Ratings::<Test>::contains_key(2));
		check();
	});
}
