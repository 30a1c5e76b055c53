//! The transactions off-chain workers send (commits, reveals, heartbeats) are authorized calls:
//! no signature over the extrinsic, no nonce. Their era is mortal and born at the block the
//! worker runs on, so a resubmission from a later block is another transaction (a pool that
//! still knows the first copy as "already imported" after a reorganization does not refuse it),
//! and each copy leaves the pool within the era's period.

mod common;

use codec::Encode;
use cognitive_runtime::{
	configs::AUTHORIZED_TX_PERIOD, genesis_config_presets as presets, AccountId, Executive,
	NodeRegistry, Runtime, RuntimeCall, System,
};
use frame_system::offchain::CreateAuthorizedTransaction;
use pallet_node_registry::{genesis_hash, InferenceSignature};
use sp_core::{Pair, H256};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};
use sp_runtime::transaction_validity::TransactionSource;

/// Alice's heartbeat for the current period, signed with her inference key.
fn heartbeat(alice: &AccountId) -> RuntimeCall {
	let heartbeat = pallet_node_registry::Heartbeat {
		node: alice.clone(),
		period: NodeRegistry::current_period(),
		ready_models: vec![0].try_into().expect("one model"),
	};
	let payload = pallet_node_registry::heartbeat_payload(&genesis_hash::<Runtime>(), &heartbeat);
	let signature: InferenceSignature = Ed25519Keyring::Alice.pair().sign(&payload).into();
	RuntimeCall::NodeRegistry(pallet_node_registry::Call::heartbeat {
		heartbeat,
		signature,
	})
}

#[test]
fn a_workers_resubmission_from_a_later_block_is_another_transaction() {
	common::ext(presets::local_testnet_genesis()).execute_with(|| {
		let alice = Sr25519Keyring::Alice.to_account_id();
		for n in 1..=6u32 {
			frame_system::BlockHash::<Runtime>::insert(n, H256::repeat_byte(n as u8));
		}
		let sent_at = |n: u32| {
			System::set_block_number(n);
			<Runtime as CreateAuthorizedTransaction<RuntimeCall>>::create_authorized_transaction(
				heartbeat(&alice),
			)
		};
		let (first, same_block, next_block) = (sent_at(5), sent_at(5), sent_at(6));
		assert_eq!(first.encode(), same_block.encode());
		assert_ne!(
			first.encode(),
			next_block.encode(),
			"an immortal era made every copy the same bytes"
		);

		// Both copies are valid a block later, for no longer than the era's period.
		System::set_block_number(6);
		for xt in [first, next_block] {
			let valid =
				Executive::validate_transaction(TransactionSource::Local, xt, H256::repeat_byte(6))
					.expect("the heartbeat is valid");
			assert!(
				(1..=AUTHORIZED_TX_PERIOD).contains(&valid.longevity),
				"longevity {}",
				valid.longevity
			);
		}
	});
}
