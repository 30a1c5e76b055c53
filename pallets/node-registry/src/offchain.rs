//! The registry's off-chain worker (heartbeats), and the steps every off-chain worker of this
//! chain shares: claiming a send under a per-statement rate limit (and releasing the claim when
//! the send failed), and submitting a general transaction authorised by `#[pallet::authorize]`.

use crate::{
	genesis_hash, heartbeat_payload, host_class, Call, Config, Heartbeat, InferenceKey, NodeByKey,
	Nodes, Pallet, ServedModels, LOG_TARGET,
};
use codec::Encode;
use frame_system::{
	offchain::{CreateAuthorizedTransaction, CreateTransactionBase, SubmitTransaction},
	pallet_prelude::BlockNumberFor,
};
use inference_primitives::inference_host_api;
use pallet_model_registry::ModelInspect;
use sp_runtime::{
	offchain::{storage::StorageValueRef, Duration},
	traits::Saturating,
	RuntimeAppPublic,
};

/// Blocks after which the off-chain worker re-sends a heartbeat that has not landed.
pub const HEARTBEAT_RESEND_BLOCKS: u32 = 5;

/// Persistent offchain-storage prefix of the heartbeat rate limit.
pub const HEARTBEAT_SENT_PREFIX: &[u8] = b"cognitive-internet/registry/heartbeat-sent/";

/// Rate limit of sends: true (and recorded) if nothing was sent under `key` in the last
/// `resend_blocks` blocks. The record lives in persistent offchain storage, so overlapping
/// workers (one per imported block) and restarts do not send twice.
pub fn claim_send<BlockNumber>(key: &[u8], now: BlockNumber, resend_blocks: BlockNumber) -> bool
where
	BlockNumber: codec::Codec + PartialOrd + Saturating + Copy,
{
	StorageValueRef::persistent(key)
		.mutate(|last: Result<Option<BlockNumber>, _>| match last {
			Ok(Some(at)) if now < at.saturating_add(resend_blocks) && now >= at => Err(()),
			_ => Ok(now),
		})
		.is_ok()
}

/// Undoes a [`claim_send`] whose send failed, so that the next worker sends at once instead of
/// after the rate limit.
pub fn release_send(key: &[u8]) {
	StorageValueRef::persistent(key).clear();
}

/// How long [`submit_authorized`] keeps offering a transaction that the pool refuses.
///
/// A worker starts as soon as its block is imported, and the node's transaction pool builds its
/// view of that block at about the same time. Until the view exists the pool checks a
/// transaction against the parent block, where a statement that depends on the new block (a
/// reveal once the last commit landed) is still premature and refused. Offering it again a
/// moment later lands it in the next block; giving up would leave it to the next worker after
/// the rate limit, blocks later.
pub const SUBMIT_RETRY_MS: u64 = 1_000;

/// Pause between two offers of a refused transaction.
pub const SUBMIT_RETRY_INTERVAL_MS: u64 = 100;

/// Submits `call` to the local transaction pool as a general transaction authorised by its
/// pallet's `#[pallet::authorize]` (no account, no fee), offering it again every
/// [`SUBMIT_RETRY_INTERVAL_MS`] for up to [`SUBMIT_RETRY_MS`] while the pool refuses it. True if
/// the pool took it; the outcome is logged under `what`.
pub fn submit_authorized<T, C>(call: C, what: &str) -> bool
where
	T: CreateAuthorizedTransaction<C>,
	<T as CreateTransactionBase<C>>::RuntimeCall: From<C>,
	C: Clone,
{
	let give_up = sp_io::offchain::timestamp().add(Duration::from_millis(SUBMIT_RETRY_MS));
	let mut offers = 0u32;
	loop {
		offers = offers.saturating_add(1);
		let xt = T::create_authorized_transaction(call.clone().into());
		if SubmitTransaction::<T, C>::submit_transaction(xt).is_ok() {
			log::debug!(target: LOG_TARGET, "{what} sent (offer {offers})");
			return true;
		}
		let now = sp_io::offchain::timestamp();
		if now >= give_up {
			log::warn!(target: LOG_TARGET, "{what} refused by the pool {offers} times");
			return false;
		}
		let next = now.add(Duration::from_millis(SUBMIT_RETRY_INTERVAL_MS));
		sp_io::offchain::sleep_until(if next < give_up { next } else { give_up });
	}
}

/// The served models of `served` the local engine is ready for: whitelisted, and the host has
/// the verified file and the model's engine class.
fn ready_models<T: Config>(served: &ServedModels) -> ServedModels {
	let mut ready = served.clone();
	ready.retain(|model| {
		T::Models::job_spec(*model).is_some_and(|spec| {
			inference_host_api::ready_for(spec.sha256, host_class(&spec.profile.class()))
		})
	});
	ready
}

/// A heartbeat for every registered local inference key whose node has not been seen alive in
/// the current period, or whose engine became ready for more of its models. A persistent
/// offchain-storage entry per node, period and ready set keeps overlapping workers from sending
/// the same heartbeat more than once per [`HEARTBEAT_RESEND_BLOCKS`] blocks.
pub(crate) fn send_heartbeats<T: Config>(now: BlockNumberFor<T>) {
	let period = Pallet::<T>::period_of(now);
	let genesis = genesis_hash::<T>();
	for key in InferenceKey::all() {
		let Some(node) = NodeByKey::<T>::get(&key) else {
			continue;
		};
		let Some(record) = Nodes::<T>::get(&node) else {
			continue;
		};
		if record.status.is_leaving() {
			continue;
		}
		let ready = ready_models::<T>(&record.served_models);
		if crate::liveness::heartbeat_news::<T>(&record, &ready, period).is_err() {
			continue;
		}
		let claim = (HEARTBEAT_SENT_PREFIX, &node, period, &ready).encode();
		if !claim_send(&claim, now, HEARTBEAT_RESEND_BLOCKS.into()) {
			continue;
		}
		let heartbeat = Heartbeat {
			node,
			period,
			ready_models: ready,
		};
		let Some(signature) = key.sign(&heartbeat_payload(&genesis, &heartbeat)) else {
			log::warn!(target: LOG_TARGET, "inference key vanished from the keystore");
			continue;
		};
		if !submit_authorized::<T, Call<T>>(
			Call::heartbeat {
				heartbeat,
				signature,
			},
			"heartbeat",
		) {
			release_send(&claim);
		}
	}
}
