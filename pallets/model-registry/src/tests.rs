//! Unit tests of the model registry.

use crate::{mock::*, testing::sample_model, *};
use frame_support::{assert_noop, assert_ok};
use sp_runtime::DispatchError;

fn whitelist(seed: u32) -> ModelId {
	let id = NextModelId::<Test>::get();
	assert_ok!(ModelRegistry::whitelist_model(
		RuntimeOrigin::root(),
		Box::new(sample_model(seed))
	));
	id
}

fn check() {
	ModelRegistry::do_try_state().expect("invariants hold");
}

#[test]
fn whitelist_stores_entry_index_and_event() {
	new_test_ext().execute_with(|| {
		let info = sample_model(7);
		assert_ok!(ModelRegistry::whitelist_model(
			RuntimeOrigin::root(),
			Box::new(info.clone())
		));
		let entry = Models::<Test>::get(0).unwrap();
		assert_eq!(entry.info, info);
		assert_eq!(entry.status, ModelStatus::Active);
		assert_eq!(entry.whitelisted_at, 1);
		assert_eq!(ModelBySha256::<Test>::get(info.sha256), Some(0));
		assert_eq!(NextModelId::<Test>::get(), 1);
		assert!(ModelRegistry::is_active(0) && ModelRegistry::exists(0));
		System::assert_last_event(
			Event::ModelWhitelisted {
				id: 0,
				sha256: info.sha256,
				cid: info.cid,
			}
			.into(),
		);
		check();
	});
}

#[test]
fn only_governance_changes_the_list() {
	new_test_ext().execute_with(|| {
		let id = whitelist(1);
		let signed = RuntimeOrigin::signed(1);
		assert_noop!(
			ModelRegistry::whitelist_model(signed.clone(), Box::new(sample_model(2))),
			DispatchError::BadOrigin
		);
		assert_noop!(
			ModelRegistry::deprecate_model(signed.clone(), id),
			DispatchError::BadOrigin
		);
		assert_noop!(
			ModelRegistry::remove_model(signed, id),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn duplicate_sha256_rejected() {
	new_test_ext().execute_with(|| {
		whitelist(1);
		let mut again = sample_model(1);
		again.name = ShortText::truncate_from(b"same file, other name".to_vec());
		assert_noop!(
			ModelRegistry::whitelist_model(RuntimeOrigin::root(), Box::new(again)),
			Error::<Test>::DuplicateModel
		);
	});
}

#[test]
fn registry_is_bounded() {
	new_test_ext().execute_with(|| {
		for seed in 0..MaxModels::get() {
			whitelist(seed);
		}
		assert_noop!(
			ModelRegistry::whitelist_model(RuntimeOrigin::root(), Box::new(sample_model(99))),
			Error::<Test>::TooManyModels
		);
		check();
	});
}

#[test]
fn invalid_descriptions_rejected() {
	new_test_ext().execute_with(|| {
		let cases: Vec<(ModelInfo, Error<Test>)> = vec![
			(
				ModelInfo {
					name: Default::default(),
					..sample_model(1)
				},
				Error::MissingField,
			),
			(
				ModelInfo {
					cid: CidText::truncate_from(b"Qm123456789".to_vec()),
					..sample_model(1)
				},
				Error::InvalidCid,
			),
			(
				ModelInfo {
					cid: CidText::truncate_from(b"bafy-not-base32".to_vec()),
					..sample_model(1)
				},
				Error::InvalidCid,
			),
			(
				ModelInfo {
					size_bytes: 0,
					..sample_model(1)
				},
				Error::EmptyFile,
			),
			(
				{
					let mut m = sample_model(1);
					m.profile.flash_attention = true;
					m
				},
				Error::NondeterministicProfile,
			),
			(
				{
					let mut m = sample_model(1);
					m.profile.n_batch = m.profile.n_ctx + 1;
					m
				},
				Error::NondeterministicProfile,
			),
			(
				{
					let mut m = sample_model(1);
					m.profile.n_ubatch = 0;
					m
				},
				Error::NondeterministicProfile,
			),
			// L-3: a context beyond the engine's maximum would exhaust validators' memory.
			(
				{
					let mut m = sample_model(1);
					m.profile.n_ctx = MAX_N_CTX + 1;
					m
				},
				Error::UnsupportedProfile,
			),
			(
				{
					let mut m = sample_model(1);
					m.profile.n_ctx = MIN_N_CTX - 1;
					m.profile.n_batch = 8;
					m.profile.n_ubatch = 8;
					m
				},
				Error::UnsupportedProfile,
			),
			(
				{
					let mut m = sample_model(1);
					m.profile.cpu_target = Default::default();
					m
				},
				Error::UnsupportedProfile,
			),
		];
		for (info, error) in cases {
			assert_noop!(
				ModelRegistry::whitelist_model(RuntimeOrigin::root(), Box::new(info)),
				error
			);
		}
	});
}

#[test]
fn job_spec_gives_hash_profile_class_and_state() {
	new_test_ext().execute_with(|| {
		let id = whitelist(3);
		let spec = <ModelRegistry as ModelInspect>::job_spec(id).unwrap();
		assert_eq!(spec.sha256, sample_model(3).sha256);
		assert_eq!(spec.profile, sample_model(3).profile);
		assert_eq!(
			spec.profile.class().engine_version,
			sample_model(3).profile.engine_version
		);
		assert!(spec.active);
		assert_ok!(ModelRegistry::deprecate_model(RuntimeOrigin::root(), id));
		assert!(
			!<ModelRegistry as ModelInspect>::job_spec(id)
				.unwrap()
				.active
		);
		assert!(<ModelRegistry as ModelInspect>::job_spec(99).is_none());
	});
}

#[test]
fn deprecated_model_stays_readable_but_inactive() {
	new_test_ext().execute_with(|| {
		let id = whitelist(1);
		assert_ok!(ModelRegistry::deprecate_model(RuntimeOrigin::root(), id));
		System::assert_last_event(Event::ModelDeprecated { id }.into());
		assert!(ModelRegistry::exists(id));
		assert!(!ModelRegistry::is_active(id));
		assert_eq!(
			Models::<Test>::get(id).unwrap().status,
			ModelStatus::Deprecated
		);
		assert_noop!(
			ModelRegistry::deprecate_model(RuntimeOrigin::root(), id),
			Error::<Test>::AlreadyDeprecated
		);
		assert_noop!(
			ModelRegistry::deprecate_model(RuntimeOrigin::root(), 42),
			Error::<Test>::UnknownModel
		);
		check();
	});
}

#[test]
fn remove_requires_deprecated_and_unused() {
	new_test_ext().execute_with(|| {
		let id = whitelist(1);
		assert_noop!(
			ModelRegistry::remove_model(RuntimeOrigin::root(), id),
			Error::<Test>::NotDeprecated
		);
		assert_ok!(ModelRegistry::deprecate_model(RuntimeOrigin::root(), id));
		IN_USE.with(|u| u.borrow_mut().push(id));
		assert_noop!(
			ModelRegistry::remove_model(RuntimeOrigin::root(), id),
			Error::<Test>::ModelInUse
		);
		IN_USE.with(|u| u.borrow_mut().clear());
		assert_ok!(ModelRegistry::remove_model(RuntimeOrigin::root(), id));
		System::assert_last_event(Event::ModelRemoved { id }.into());
		assert!(!ModelRegistry::exists(id));
		assert_eq!(ModelBySha256::<Test>::get(sample_model(1).sha256), None);
		assert_noop!(
			ModelRegistry::remove_model(RuntimeOrigin::root(), id),
			Error::<Test>::UnknownModel
		);
		// Ids are never reused; the same file can be whitelisted again under a new id.
		assert_eq!(whitelist(1), id + 1);
		check();
	});
}

#[test]
fn genesis_models_get_ids_in_order() {
	let mut storage = frame_system::GenesisConfig::<Test>::default()
		.build_storage()
		.unwrap();
	GenesisConfig::<Test> {
		models: vec![sample_model(1), sample_model(2)],
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	sp_io::TestExternalities::new(storage).execute_with(|| {
		assert_eq!(Models::<Test>::get(1).unwrap().info, sample_model(2));
		assert_eq!(Models::<Test>::get(0).unwrap().whitelisted_at, 0);
		assert_eq!(NextModelId::<Test>::get(), 2);
		check();
	});
}
