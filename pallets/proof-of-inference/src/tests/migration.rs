//! Storage migrations.

use super::*;
use crate::migrations::{
	v2::{JobV1, MigrateV1ToV2},
	v4::{JobV3, MigrateV3ToV4},
};
use codec::Encode;
use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};

/// Jobs stored by version 1 (no sampling) read back as greedy text jobs after the upgrades to
/// versions 2 and 4, with everything else unchanged; each migration runs once.
#[test]
fn version_1_jobs_become_greedy_jobs() {
	new_test_ext().execute_with(|| {
		register_nodes(5);
		let pending = submit(3);
		let second = submit(3);
		let originals = [job(pending), job(second)];
		// Write them back in the version-1 layout and mark the pallet as version 1.
		for (id, j) in [pending, second].into_iter().zip(originals.iter()) {
			let old = JobV1::<Test> {
				owner: j.owner,
				model: j.model,
				model_sha256: j.model_sha256,
				profile: j.profile,
				class: j.class.clone(),
				prompt: j.prompt.clone(),
				max_tokens: j.max_tokens,
				fee: j.fee,
				base_fee: j.base_fee,
				assignees: j.assignees.clone(),
				submitted_at: j.submitted_at,
				commit_deadline: j.commit_deadline,
				reveal_deadline: j.reveal_deadline,
				status: j.status,
				settled_at: j.settled_at,
			};
			frame_support::storage::unhashed::put_raw(
				&Jobs::<Test>::hashed_key_for(id),
				&old.encode(),
			);
			assert!(
				Jobs::<Test>::try_get(id).is_err(),
				"the old layout does not decode as the new"
			);
		}
		StorageVersion::new(1).put::<ProofOfInference>();

		MigrateV1ToV2::<Test>::on_runtime_upgrade();
		assert_eq!(
			ProofOfInference::on_chain_storage_version(),
			StorageVersion::new(2)
		);
		// Version 2 wrote the version-2 layout, which version 4 reads.
		StorageVersion::new(3).put::<ProofOfInference>();
		MigrateV3ToV4::<Test>::on_runtime_upgrade();
		for (id, original) in [pending, second].into_iter().zip(originals) {
			let migrated = job(id);
			assert_eq!(migrated.sampling, JobSampling::Greedy);
			assert_eq!(migrated, original);
		}
		check();

		// A second run finds version 4 and touches nothing.
		let before = job(pending);
		Jobs::<Test>::mutate(pending, |j| {
			if let Some(j) = j {
				j.max_tokens += 1;
			}
		});
		MigrateV1ToV2::<Test>::on_runtime_upgrade();
		assert_eq!(job(pending).max_tokens, before.max_tokens + 1);
	});
}

/// Jobs stored by version 3 (no prompt format) read back as text jobs, with everything else
/// unchanged, a sampled one keeping its seed; the migration runs once.
#[test]
fn version_3_jobs_become_text_jobs() {
	new_test_ext().execute_with(|| {
		register_nodes(5);
		let greedy = submit(3);
		let sampled = submit_sampled(3);
		let originals = [job(greedy), job(sampled)];
		for (id, j) in [greedy, sampled].into_iter().zip(originals.iter()) {
			let old = JobV3::<Test> {
				owner: j.owner,
				model: j.model,
				model_sha256: j.model_sha256,
				profile: j.profile,
				class: j.class.clone(),
				prompt: j.prompt.clone(),
				max_tokens: j.max_tokens,
				sampling: j.sampling,
				fee: j.fee,
				base_fee: j.base_fee,
				assignees: j.assignees.clone(),
				submitted_at: j.submitted_at,
				commit_deadline: j.commit_deadline,
				reveal_deadline: j.reveal_deadline,
				status: j.status,
				settled_at: j.settled_at,
			};
			frame_support::storage::unhashed::put_raw(
				&Jobs::<Test>::hashed_key_for(id),
				&old.encode(),
			);
			assert!(Jobs::<Test>::try_get(id).is_err());
		}
		StorageVersion::new(3).put::<ProofOfInference>();

		MigrateV3ToV4::<Test>::on_runtime_upgrade();
		assert_eq!(
			ProofOfInference::on_chain_storage_version(),
			StorageVersion::new(4)
		);
		for (id, original) in [greedy, sampled].into_iter().zip(originals) {
			assert_eq!(job(id).format, PromptFormat::Text);
			assert_eq!(job(id), original);
		}
		check();
		let before = job(greedy);
		MigrateV3ToV4::<Test>::on_runtime_upgrade();
		assert_eq!(job(greedy), before);
	});
}

/// Version 2 parameters gain the dispute settings: the old values stay, the new ones are the
/// runtime's window and deposit and the defaults, inside the bounds (the mock's short retention
/// shortens the 100-block window).
#[test]
fn version_2_parameters_gain_the_dispute_settings() {
	use crate::migrations::v3::{MigrateV2ToV3, ParametersV2};
	new_test_ext().execute_with(|| {
		let old = ParametersV2::<Balance, u64> {
			base_fee: 7,
			price_per_token: 3,
			commit_period: COMMIT_PERIOD,
			reveal_period: REVEAL_PERIOD,
			slash_fraction: sp_runtime::Perbill::from_percent(30),
			newcomer_weight: sp_runtime::Perbill::from_percent(20),
		};
		frame_support::storage::unhashed::put_raw(&Params::<Test>::hashed_key(), &old.encode());
		StorageVersion::new(2).put::<ProofOfInference>();

		MigrateV2ToV3::<
			Test,
			frame_support::traits::ConstU64<100>,
			frame_support::traits::ConstU128<777>,
		>::on_runtime_upgrade();
		assert_eq!(
			ProofOfInference::on_chain_storage_version(),
			StorageVersion::new(3)
		);
		let p = Params::<Test>::get();
		assert_eq!((p.base_fee, p.price_per_token), (7, 3));
		assert_eq!(
			(p.commit_period, p.reveal_period),
			(COMMIT_PERIOD, REVEAL_PERIOD)
		);
		assert_eq!(p.challenge_deposit, 777);
		assert_eq!(p.auditors, 3);
		assert_eq!(
			p.challenge_period,
			RETENTION - COMMIT_PERIOD - REVEAL_PERIOD
		);
		assert_eq!(
			p.audit_slash_fraction,
			sp_runtime::Perbill::from_percent(30),
			"raised to the ordinary slash"
		);
		assert!(p.is_valid(&ProofOfInference::parameter_bounds()));
	});
}
