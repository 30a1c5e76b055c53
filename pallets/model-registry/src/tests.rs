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

#[test]
fn migration_v1_records_known_chat_templates_and_keeps_every_entry() {
	use crate::migrations::v1::{EntryV0, MigrateV0ToV1, ProfileV0};
	use codec::Encode;
	use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};

	new_test_ext().execute_with(|| {
		// Two entries written as version 0 stored them: one the runtime knows a template for,
		// one it does not.
		let v0 = |seed: u32| {
			let m = sample_model(seed);
			let p = m.profile;
			EntryV0::<u64> {
				name: m.name,
				cid: m.cid,
				sha256: m.sha256,
				size_bytes: m.size_bytes,
				format: m.format,
				architecture: m.architecture,
				quantization: m.quantization,
				license: m.license,
				profile: ProfileV0 {
					engine: p.engine,
					engine_version: p.engine_version,
					cpu_target: p.cpu_target,
					n_ctx: p.n_ctx,
					n_batch: p.n_batch,
					n_ubatch: p.n_ubatch,
					flash_attention: p.flash_attention,
					sampler: p.sampler,
				},
				status: ModelStatus::Active,
				whitelisted_at: 4,
			}
		};
		for (id, seed) in [(0u32, 1u32), (1, 2)] {
			Models::<Test>::insert(
				id,
				ModelEntry::<u64> {
					info: sample_model(seed),
					status: ModelStatus::Active,
					whitelisted_at: 0,
				},
			);
			frame_support::storage::unhashed::put_raw(
				&Models::<Test>::hashed_key_for(id),
				&v0(seed).encode(),
			);
			ModelBySha256::<Test>::insert(sample_model(seed).sha256, id);
		}
		NextModelId::<Test>::put(2);
		StorageVersion::new(0).put::<ModelRegistry>();

		frame_support::parameter_types! {
			pub Known: Vec<([u8; 32], [u8; 32])> = vec![(sample_model(1).sha256, [9; 32])];
		}
		MigrateV0ToV1::<Test, Known>::on_runtime_upgrade();

		assert_eq!(ModelRegistry::on_chain_storage_version(), 1);
		let first = Models::<Test>::get(0).expect("kept");
		assert_eq!(first.info.profile.chat_template, Some([9; 32]));
		assert_eq!(first.whitelisted_at, 4);
		let second = Models::<Test>::get(1).expect("kept");
		assert_eq!(second.info.profile.chat_template, None);
		assert_eq!(second.info.name, sample_model(2).name);
		assert_eq!(Models::<Test>::count(), 2);
		check();
		// A second run is a no-op (the version is 1 now).
		MigrateV0ToV1::<Test, Known>::on_runtime_upgrade();
		assert_eq!(Models::<Test>::get(0), Some(first));
	});
}
