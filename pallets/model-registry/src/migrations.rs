//! Storage migrations of the model registry.
//!
//! Each migration is a [`VersionedMigration`]: it runs only when the pallet's on-chain storage
//! version is the one it starts from, and sets the next one.

/// Version 0 → 1: determinism profiles gained [`DeterminismProfile::chat_template`].
pub mod v1 {
	use crate::{
		CidText, Config, DeterminismProfile, ModelEntry, ModelFormat, ModelInfo, ModelStatus,
		Models, Pallet, Sampler, ShortText,
	};
	use alloc::vec::Vec;
	use codec::{Decode, Encode};
	use frame_support::{
		migrations::VersionedMigration,
		traits::{Get, UncheckedOnRuntimeUpgrade},
		weights::Weight,
	};

	/// A profile as version 0 stored it: [`DeterminismProfile`] without `chat_template`.
	#[derive(Encode, Decode)]
	pub struct ProfileV0 {
		/// See [`DeterminismProfile::engine`].
		pub engine: ShortText,
		/// See [`DeterminismProfile::engine_version`].
		pub engine_version: ShortText,
		/// See [`DeterminismProfile::cpu_target`].
		pub cpu_target: ShortText,
		/// See [`DeterminismProfile::n_ctx`].
		pub n_ctx: u32,
		/// See [`DeterminismProfile::n_batch`].
		pub n_batch: u32,
		/// See [`DeterminismProfile::n_ubatch`].
		pub n_ubatch: u32,
		/// See [`DeterminismProfile::flash_attention`].
		pub flash_attention: bool,
		/// See [`DeterminismProfile::sampler`].
		pub sampler: Sampler,
	}

	/// An entry as version 0 stored it.
	#[derive(Encode, Decode)]
	pub struct EntryV0<BlockNumber> {
		/// See [`ModelInfo::name`].
		pub name: ShortText,
		/// See [`ModelInfo::cid`].
		pub cid: CidText,
		/// See [`ModelInfo::sha256`].
		pub sha256: [u8; 32],
		/// See [`ModelInfo::size_bytes`].
		pub size_bytes: u64,
		/// See [`ModelInfo::format`].
		pub format: ModelFormat,
		/// See [`ModelInfo::architecture`].
		pub architecture: ShortText,
		/// See [`ModelInfo::quantization`].
		pub quantization: ShortText,
		/// See [`ModelInfo::license`].
		pub license: ShortText,
		/// See [`ModelInfo::profile`].
		pub profile: ProfileV0,
		/// See [`ModelEntry::status`].
		pub status: ModelStatus,
		/// See [`ModelEntry::whitelisted_at`].
		pub whitelisted_at: BlockNumber,
	}

	impl<BlockNumber> EntryV0<BlockNumber> {
		/// The same entry with `chat_template`: the one `known` gives for its sha256, else
		/// `None` (chat jobs stay refused until governance whitelists the model again with one).
		pub fn upgraded(self, known: &[([u8; 32], [u8; 32])]) -> ModelEntry<BlockNumber> {
			let chat_template = known
				.iter()
				.find(|(sha256, _)| *sha256 == self.sha256)
				.map(|(_, t)| *t);
			let p = self.profile;
			ModelEntry {
				info: ModelInfo {
					name: self.name,
					cid: self.cid,
					sha256: self.sha256,
					size_bytes: self.size_bytes,
					format: self.format,
					architecture: self.architecture,
					quantization: self.quantization,
					license: self.license,
					profile: DeterminismProfile {
						engine: p.engine,
						engine_version: p.engine_version,
						cpu_target: p.cpu_target,
						n_ctx: p.n_ctx,
						n_batch: p.n_batch,
						n_ubatch: p.n_ubatch,
						flash_attention: p.flash_attention,
						sampler: p.sampler,
						chat_template,
					},
				},
				status: self.status,
				whitelisted_at: self.whitelisted_at,
			}
		}
	}

	/// Rewrites every entry with its chat template hash; `Known` lists the `(model sha256,
	/// template sha256)` pairs the runtime knows (from its models file). One read and one write
	/// per entry, at most `MaxModels`. An entry that does not decode as version 0 is dropped (it
	/// could not be read before the upgrade either).
	pub struct InnerMigrateV0ToV1<T, Known>(core::marker::PhantomData<(T, Known)>);

	impl<T: Config, Known: Get<Vec<([u8; 32], [u8; 32])>>> UncheckedOnRuntimeUpgrade
		for InnerMigrateV0ToV1<T, Known>
	{
		fn on_runtime_upgrade() -> Weight {
			let known = Known::get();
			let mut count = 0u64;
			Models::<T>::translate_values::<
				EntryV0<frame_system::pallet_prelude::BlockNumberFor<T>>,
				_,
			>(|old| {
				count = count.saturating_add(1);
				Some(old.upgraded(&known))
			});
			T::DbWeight::get().reads_writes(count, count)
		}

		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
			Ok(Models::<T>::count().encode())
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			let before = u32::decode(&mut &state[..])
				.map_err(|_| sp_runtime::TryRuntimeError::Other("pre-upgrade state"))?;
			let after = Models::<T>::iter_values().count() as u32;
			frame_support::ensure!(before == after, "models lost in the migration");
			Ok(())
		}
	}

	/// [`InnerMigrateV0ToV1`], run only at storage version 0.
	pub type MigrateV0ToV1<T, Known> = VersionedMigration<
		0,
		1,
		InnerMigrateV0ToV1<T, Known>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}
