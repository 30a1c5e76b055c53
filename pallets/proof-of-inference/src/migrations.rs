//! Storage migrations of the proof-of-inference pallet.
//!
//! Each migration is a [`VersionedMigration`]: it runs only when the pallet's on-chain storage
//! version is the one it starts from, and sets the next one.

use crate::{Config, Job, Jobs, Pallet};
use frame_support::{
	migrations::VersionedMigration, traits::UncheckedOnRuntimeUpgrade, weights::Weight,
};

/// Version 1 → 2: jobs gained [`Job::sampling`]. Every job stored before it was greedy.
pub mod v2 {
	use super::*;
	use crate::{Assignment, BalanceOf, JobState};
	use v4::JobV3;

	/// The jobs map as versions 2 and 3 stored it (the layout this migration writes).
	#[frame_support::storage_alias]
	type Jobs<T: Config> = StorageMap<Pallet<T>, frame_support::Twox64Concat, JobId, JobV3<T>>;
	use codec::{Decode, Encode};
	use frame_support::{traits::Get, BoundedVec};
	use frame_system::pallet_prelude::BlockNumberFor;
	use inference_primitives::JobId;
	use inference_primitives::{ExecutionProfile, JobSampling, Sha256};
	use pallet_model_registry::{DeterminismClass, ModelId};

	/// A job as version 1 stored it: [`Job`] without `sampling`.
	#[derive(Encode, Decode)]
	pub struct JobV1<T: Config> {
		/// See [`Job::owner`].
		pub owner: T::AccountId,
		/// See [`Job::model`].
		pub model: ModelId,
		/// See [`Job::model_sha256`].
		pub model_sha256: Sha256,
		/// See [`Job::profile`].
		pub profile: ExecutionProfile,
		/// See [`Job::class`].
		pub class: DeterminismClass,
		/// See [`Job::prompt`].
		pub prompt: BoundedVec<u8, T::MaxPromptBytes>,
		/// See [`Job::max_tokens`].
		pub max_tokens: u32,
		/// See [`Job::fee`].
		pub fee: BalanceOf<T>,
		/// See [`Job::base_fee`].
		pub base_fee: BalanceOf<T>,
		/// See [`Job::assignees`].
		pub assignees: BoundedVec<Assignment<T::AccountId>, T::MaxReplication>,
		/// See [`Job::submitted_at`].
		pub submitted_at: BlockNumberFor<T>,
		/// See [`Job::commit_deadline`].
		pub commit_deadline: BlockNumberFor<T>,
		/// See [`Job::reveal_deadline`].
		pub reveal_deadline: BlockNumberFor<T>,
		/// See [`Job::status`].
		pub status: JobState,
		/// See [`Job::settled_at`].
		pub settled_at: Option<BlockNumberFor<T>>,
	}

	impl<T: Config> JobV1<T> {
		/// The same job with greedy sampling, in the version-2 layout.
		pub fn upgraded(self) -> JobV3<T> {
			JobV3 {
				owner: self.owner,
				model: self.model,
				model_sha256: self.model_sha256,
				profile: self.profile,
				class: self.class,
				prompt: self.prompt,
				max_tokens: self.max_tokens,
				sampling: JobSampling::Greedy,
				fee: self.fee,
				base_fee: self.base_fee,
				assignees: self.assignees,
				submitted_at: self.submitted_at,
				commit_deadline: self.commit_deadline,
				reveal_deadline: self.reveal_deadline,
				status: self.status,
				settled_at: self.settled_at,
			}
		}
	}

	/// Rewrites every stored job with `sampling: Greedy`. One read and one write per job; the
	/// number of jobs is bounded by the deadline buckets (pending) and the prune queue (settled,
	/// for `RetentionPeriod` blocks). A job that does not decode as version 1 is dropped and
	/// logged (it could not be read before the upgrade either).
	pub struct InnerMigrateV1ToV2<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV1ToV2<T> {
		fn on_runtime_upgrade() -> Weight {
			let mut count = 0u64;
			Jobs::<T>::translate_values::<JobV1<T>, _>(|old| {
				count = count.saturating_add(1);
				Some(old.upgraded())
			});
			log::info!(target: crate::LOG_TARGET, "migrated {count} job(s) to storage version 2");
			T::DbWeight::get().reads_writes(count, count)
		}

		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<alloc::vec::Vec<u8>, sp_runtime::TryRuntimeError> {
			Ok((Jobs::<T>::iter_keys().count() as u64).encode())
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: alloc::vec::Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			let before = u64::decode(&mut &state[..])
				.map_err(|_| sp_runtime::TryRuntimeError::Other("pre-upgrade state"))?;
			let after = Jobs::<T>::iter_values().count() as u64;
			frame_support::ensure!(before == after, "jobs lost in the migration");
			Ok(())
		}
	}

	/// [`InnerMigrateV1ToV2`], run only at storage version 1.
	pub type MigrateV1ToV2<T> = VersionedMigration<
		1,
		2,
		InnerMigrateV1ToV2<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}

/// Version 2 → 3: the parameters gained the dispute settings (`challenge_period`,
/// `challenge_deposit`, `auditors`, `audit_rate`, `audit_slash_fraction`).
pub mod v3 {
	use super::*;
	use crate::{BalanceOf, Parameters, ParametersOf, Params};
	use codec::{Decode, Encode};
	use frame_support::traits::Get;
	use frame_system::pallet_prelude::BlockNumberFor;
	use sp_runtime::{traits::Saturating, Perbill};

	/// The parameters as version 2 stored them.
	#[derive(Encode, Decode)]
	pub struct ParametersV2<Balance, BlockNumber> {
		/// See [`Parameters::base_fee`].
		pub base_fee: Balance,
		/// See [`Parameters::price_per_token`].
		pub price_per_token: Balance,
		/// See [`Parameters::commit_period`].
		pub commit_period: BlockNumber,
		/// See [`Parameters::reveal_period`].
		pub reveal_period: BlockNumber,
		/// See [`Parameters::slash_fraction`].
		pub slash_fraction: Perbill,
		/// See [`Parameters::newcomer_weight`].
		pub newcomer_weight: Perbill,
	}

	/// The version-3 parameters of `old`: its values, `challenge_period` and `deposit` as the
	/// runtime chooses them, the defaults of the other new ones ([`Parameters::default`]), the
	/// challenge period shortened if the retention period could not hold it, and the audit
	/// slash raised to the ordinary one if it was below it.
	pub fn upgraded<T: Config>(
		old: ParametersV2<BalanceOf<T>, BlockNumberFor<T>>,
		challenge_period: BlockNumberFor<T>,
		deposit: BalanceOf<T>,
	) -> ParametersOf<T> {
		let defaults = ParametersOf::<T>::default();
		let lifetime = old.commit_period.saturating_add(old.reveal_period);
		let room = T::RetentionPeriod::get().saturating_sub(lifetime);
		Parameters {
			base_fee: old.base_fee,
			price_per_token: old.price_per_token,
			commit_period: old.commit_period,
			reveal_period: old.reveal_period,
			slash_fraction: old.slash_fraction,
			newcomer_weight: old.newcomer_weight,
			challenge_period: challenge_period.min(room),
			challenge_deposit: deposit.min(T::MaxChallengeDeposit::get()),
			auditors: defaults
				.auditors
				.min(T::MaxReplication::get().try_into().unwrap_or(u8::MAX)),
			audit_rate: defaults.audit_rate,
			audit_slash_fraction: defaults.audit_slash_fraction.max(old.slash_fraction),
		}
	}

	/// Rewrites the stored parameters with the dispute settings; `Period` and `Deposit` are the
	/// challenge period and deposit the runtime chooses. One read and one write.
	pub struct InnerMigrateV2ToV3<T, Period, Deposit>(
		core::marker::PhantomData<(T, Period, Deposit)>,
	);

	impl<T: Config, Period: Get<BlockNumberFor<T>>, Deposit: Get<BalanceOf<T>>>
		UncheckedOnRuntimeUpgrade for InnerMigrateV2ToV3<T, Period, Deposit>
	{
		fn on_runtime_upgrade() -> Weight {
			let translated =
				Params::<T>::translate::<ParametersV2<BalanceOf<T>, BlockNumberFor<T>>, _>(|old| {
					old.map(|old| upgraded::<T>(old, Period::get(), Deposit::get()))
				});
			if translated.is_err() {
				log::error!(target: crate::LOG_TARGET, "parameters did not decode as version 2");
			}
			T::DbWeight::get().reads_writes(1, 1)
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(_: alloc::vec::Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			frame_support::ensure!(
				Params::<T>::get().is_valid(&Pallet::<T>::parameter_bounds()),
				"migrated parameters are out of bounds"
			);
			Ok(())
		}
	}

	/// [`InnerMigrateV2ToV3`], run only at storage version 2.
	pub type MigrateV2ToV3<T, Period, Deposit> = VersionedMigration<
		2,
		3,
		InnerMigrateV2ToV3<T, Period, Deposit>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}

/// Version 3 → 4: jobs gained [`Job::format`]. Every job stored before it had a text prompt.
pub mod v4 {
	use super::*;
	use crate::{Assignment, BalanceOf, JobState};
	use codec::{Decode, Encode};
	use frame_support::{traits::Get, BoundedVec};
	use frame_system::pallet_prelude::BlockNumberFor;
	use inference_primitives::{ExecutionProfile, JobSampling, PromptFormat, Sha256};
	use pallet_model_registry::{DeterminismClass, ModelId};

	/// A job as versions 2 and 3 stored it: [`Job`] without `format`.
	#[derive(Encode, Decode)]
	pub struct JobV3<T: Config> {
		/// See [`Job::owner`].
		pub owner: T::AccountId,
		/// See [`Job::model`].
		pub model: ModelId,
		/// See [`Job::model_sha256`].
		pub model_sha256: Sha256,
		/// See [`Job::profile`].
		pub profile: ExecutionProfile,
		/// See [`Job::class`].
		pub class: DeterminismClass,
		/// See [`Job::prompt`].
		pub prompt: BoundedVec<u8, T::MaxPromptBytes>,
		/// See [`Job::max_tokens`].
		pub max_tokens: u32,
		/// See [`Job::sampling`].
		pub sampling: JobSampling,
		/// See [`Job::fee`].
		pub fee: BalanceOf<T>,
		/// See [`Job::base_fee`].
		pub base_fee: BalanceOf<T>,
		/// See [`Job::assignees`].
		pub assignees: BoundedVec<Assignment<T::AccountId>, T::MaxReplication>,
		/// See [`Job::submitted_at`].
		pub submitted_at: BlockNumberFor<T>,
		/// See [`Job::commit_deadline`].
		pub commit_deadline: BlockNumberFor<T>,
		/// See [`Job::reveal_deadline`].
		pub reveal_deadline: BlockNumberFor<T>,
		/// See [`Job::status`].
		pub status: JobState,
		/// See [`Job::settled_at`].
		pub settled_at: Option<BlockNumberFor<T>>,
	}

	impl<T: Config> JobV3<T> {
		/// The same job with a text prompt.
		pub fn upgraded(self) -> Job<T> {
			Job {
				owner: self.owner,
				model: self.model,
				model_sha256: self.model_sha256,
				profile: self.profile,
				class: self.class,
				format: PromptFormat::Text,
				prompt: self.prompt,
				max_tokens: self.max_tokens,
				sampling: self.sampling,
				fee: self.fee,
				base_fee: self.base_fee,
				assignees: self.assignees,
				submitted_at: self.submitted_at,
				commit_deadline: self.commit_deadline,
				reveal_deadline: self.reveal_deadline,
				status: self.status,
				settled_at: self.settled_at,
			}
		}
	}

	/// Rewrites every stored job with `format: Text`; bounded like [`v2::InnerMigrateV1ToV2`].
	/// A stored job's digest changes (it covers the format, under a new domain tag), so the
	/// assignees of a job pending across the upgrade run it again under the new digest, and a
	/// commit signed under the old one is refused as [`crate::Error::WrongJob`]: upgrade when
	/// few jobs are pending.
	pub struct InnerMigrateV3ToV4<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV3ToV4<T> {
		fn on_runtime_upgrade() -> Weight {
			let mut count = 0u64;
			Jobs::<T>::translate_values::<JobV3<T>, _>(|old| {
				count = count.saturating_add(1);
				Some(old.upgraded())
			});
			log::info!(target: crate::LOG_TARGET, "migrated {count} job(s) to storage version 4");
			T::DbWeight::get().reads_writes(count, count)
		}

		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<alloc::vec::Vec<u8>, sp_runtime::TryRuntimeError> {
			Ok((Jobs::<T>::iter_keys().count() as u64).encode())
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: alloc::vec::Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			let before = u64::decode(&mut &state[..])
				.map_err(|_| sp_runtime::TryRuntimeError::Other("pre-upgrade state"))?;
			let after = Jobs::<T>::iter_values().count() as u64;
			frame_support::ensure!(before == after, "jobs lost in the migration");
			Ok(())
		}
	}

	/// [`InnerMigrateV3ToV4`], run only at storage version 3.
	pub type MigrateV3ToV4<T> = VersionedMigration<
		3,
		4,
		InnerMigrateV3ToV4<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}
