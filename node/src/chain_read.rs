//! Reading the runtime's storage straight from the node's client, at one block, decoded with
//! the runtime's own types (the node is built from them). Services that only need to look
//! things up (model sync, the OpenAI gateway's peer directory) use it instead of a runtime
//! API: no call into WASM, no API version to keep in step. An entry that does not decode (a
//! runtime upgrade that changed a layout) reads as absent, never as something else.

use codec::Decode;
use sc_client_api::StorageProvider;
use sp_core::storage::StorageKey;
use std::sync::Arc;

/// The last `N` bytes of a storage map's key: the key itself, for a map hashed with
/// `Twox64Concat` or `Blake2_128Concat` whose key encodes to `N` bytes (a model id: 4, an
/// account: 32).
pub fn key_tail<const N: usize>(key: &[u8]) -> Option<[u8; N]> {
	key.get(key.len().checked_sub(N)?..)?.try_into().ok()
}

/// The runtime whose storage is read.
pub type Runtime = cognitive_runtime::Runtime;

/// One block's events, as the runtime records them.
pub type Events =
	Vec<frame_system::EventRecord<cognitive_runtime::RuntimeEvent, cognitive_runtime::Hash>>;

/// The key of a plain storage value of the runtime: twox128 of the pallet's name, then of the
/// item's (for values whose types their pallets keep private, such as `System::Events`).
pub(crate) fn value_key(pallet: &[u8], item: &[u8]) -> Vec<u8> {
	[
		sp_io::hashing::twox_128(pallet),
		sp_io::hashing::twox_128(item),
	]
	.concat()
}

/// The blocks a finality notification finalizes, oldest first: those it finalizes implicitly
/// (its tree route), then its head.
pub fn finalized_blocks(
	notification: &sc_client_api::FinalityNotification<cognitive_runtime::opaque::Block>,
) -> Vec<(cognitive_runtime::Hash, cognitive_runtime::BlockNumber)> {
	use sp_runtime::traits::Header as _;
	let head = *notification.header.number();
	let earlier = notification.tree_route.len() as cognitive_runtime::BlockNumber;
	notification
		.tree_route
		.iter()
		.enumerate()
		.map(|(i, hash)| {
			(
				*hash,
				head.saturating_sub(earlier) + i as cognitive_runtime::BlockNumber,
			)
		})
		.chain(std::iter::once((notification.hash, head)))
		.collect()
}

/// The storage of one block.
pub struct StorageAt {
	client: Arc<crate::service::FullClient>,
	at: cognitive_runtime::Hash,
	number: cognitive_runtime::BlockNumber,
}

impl StorageAt {
	/// The node's best block.
	pub fn best(client: Arc<crate::service::FullClient>) -> Self {
		use sp_blockchain::HeaderBackend;
		let info = client.info();
		Self {
			client,
			at: info.best_hash,
			number: info.best_number,
		}
	}

	/// The block `at`, numbered `number`.
	pub fn at(
		client: Arc<crate::service::FullClient>,
		at: cognitive_runtime::Hash,
		number: cognitive_runtime::BlockNumber,
	) -> Self {
		Self { client, at, number }
	}

	/// The block's number.
	pub fn number(&self) -> cognitive_runtime::BlockNumber {
		self.number
	}

	/// The value at `key`, if there is one and it decodes as `T`.
	pub fn get<T: Decode>(&self, key: Vec<u8>) -> Option<T> {
		let data = self.client.storage(self.at, &StorageKey(key)).ok()??;
		T::decode(&mut &data.0[..]).ok()
	}

	/// Every entry under `prefix` whose value decodes as `T`, with its whole key.
	pub fn pairs<T: Decode>(&self, prefix: Vec<u8>) -> Vec<(Vec<u8>, T)> {
		let prefix = StorageKey(prefix);
		let Ok(pairs) = self.client.storage_pairs(self.at, Some(&prefix), None) else {
			return Vec::new();
		};
		pairs
			.filter_map(|(key, value)| Some((key.0, T::decode(&mut &value.0[..]).ok()?)))
			.collect()
	}

	/// The block's events (none if they do not decode).
	pub fn events(&self) -> Events {
		self.get(value_key(b"System", b"Events"))
			.unwrap_or_default()
	}

	/// The block's timestamp (`Timestamp::Now`), Unix milliseconds.
	pub fn timestamp_ms(&self) -> Option<u64> {
		self.get(value_key(b"Timestamp", b"Now"))
	}

	/// `account`'s reputation score at this block, decayed as the chain decays it (zero for an
	/// account without a record).
	pub fn reputation(&self, account: &cognitive_runtime::AccountId) -> sp_runtime::Perbill {
		type Record = pallet_reputation::Record<cognitive_runtime::BlockNumber>;
		type Formula = pallet_reputation::FormulaParameters<cognitive_runtime::BlockNumber>;
		let formula: Formula = self
			.get(pallet_reputation::Parameters::<Runtime>::hashed_key().to_vec())
			.unwrap_or_default();
		self.get::<Record>(pallet_reputation::Reputations::<Runtime>::hashed_key_for(
			account,
		))
		.map_or(sp_runtime::Perbill::zero(), |r| {
			r.decayed(self.number, &formula).score(&formula)
		})
	}

	/// The accounts of the registered nodes whose inference keys are among `keys`.
	pub fn own_accounts(
		&self,
		keys: &[sp_core::ed25519::Public],
	) -> Vec<cognitive_runtime::AccountId> {
		keys.iter()
			.filter_map(|key| {
				let key = pallet_node_registry::InferenceKey::from(*key);
				self.get(pallet_node_registry::NodeByKey::<Runtime>::hashed_key_for(
					key,
				))
			})
			.collect()
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	/// The keys of the values read raw are where the runtime keeps them: written through the
	/// pallets, read back through the keys.
	#[test]
	fn events_and_the_timestamp_are_read_where_the_runtime_keeps_them() {
		use cognitive_runtime::RuntimeEvent;
		sp_io::TestExternalities::default().execute_with(|| {
			frame_system::Pallet::<Runtime>::set_block_number(1);
			// Within slot 0 (BABE checks the slot of every timestamp set).
			cognitive_runtime::Timestamp::set_timestamp(1_234);
			frame_system::Pallet::<Runtime>::deposit_event(RuntimeEvent::ProofOfInference(
				pallet_proof_of_inference::Event::Committed {
					job_id: 7,
					node: cognitive_runtime::AccountId::from([1; 32]),
				},
			));
			let raw = sp_io::storage::get(&value_key(b"System", b"Events")).expect("events");
			let events: Events = codec::Decode::decode(&mut &raw[..]).expect("decodes");
			assert!(matches!(
				&events[..],
				[record] if matches!(
					&record.event,
					RuntimeEvent::ProofOfInference(pallet_proof_of_inference::Event::Committed {
						job_id: 7,
						..
					})
				)
			));
			let raw = sp_io::storage::get(&value_key(b"Timestamp", b"Now")).expect("timestamp");
			assert_eq!(
				<u64 as codec::Decode>::decode(&mut &raw[..]).ok(),
				Some(1_234)
			);
		});
	}

	#[test]
	fn key_tails_are_the_last_bytes_or_nothing() {
		assert_eq!(key_tail::<4>(&[9, 9, 1, 0, 0, 0]), Some([1, 0, 0, 0]));
		assert_eq!(key_tail::<4>(&[1, 0, 0]), None);
		assert_eq!(key_tail::<0>(&[]), Some([]));
	}
}
