//! Inference keys: proof of possession (H-3), key changes, and the genesis hash in every signed
//! statement (M-4).

use super::*;
use frame_support::{assert_noop, pallet_prelude::InvalidTransaction};

/// H-3: Mallory learned Alice's public inference key (from `inference_nodeInfo`, an RPC proof
/// or the pool) and tries to register it under her own account first.
#[test]
fn registering_someone_elses_key_fails() {
	new_test_ext().execute_with(|| {
		let alice_key = key(1);
		let mallory = 2;
		// Without a signature by the key: she can only offer a signature of her own making.
		let forged: InferenceSignature = key(2)
			.sign(&key_ownership_payload(&genesis_hash::<Test>(), &mallory))
			.unwrap();
		assert_noop!(
			NodeRegistry::register(
				RuntimeOrigin::signed(mallory),
				caps(),
				vec![0],
				endpoint(),
				alice_key.clone(),
				forged,
				MIN_BOND
			),
			Error::<Test>::InvalidKeyProof
		);
		// Replaying Alice's own proof (made for Alice's account) from another account.
		let alices_proof = proof(&alice_key, 1);
		assert_noop!(
			NodeRegistry::register(
				RuntimeOrigin::signed(mallory),
				caps(),
				vec![0],
				endpoint(),
				alice_key.clone(),
				alices_proof.clone(),
				MIN_BOND
			),
			Error::<Test>::InvalidKeyProof
		);
		// Alice registers with her proof.
		assert_ok!(NodeRegistry::register(
			RuntimeOrigin::signed(1),
			caps(),
			vec![0],
			endpoint(),
			alice_key.clone(),
			alices_proof,
			MIN_BOND
		));
		assert_eq!(NodeByKey::<Test>::get(&alice_key), Some(1));
		check();
	});
}

/// M-4: a key proof made for another chain (another genesis hash) is rejected.
#[test]
fn a_key_proof_for_another_chain_is_rejected() {
	new_test_ext().execute_with(|| {
		let k = key(1);
		let other_chain = [7u8; 32];
		assert_ne!(other_chain, genesis_hash::<Test>());
		let foreign = k.sign(&key_ownership_payload(&other_chain, &1u64)).unwrap();
		assert_noop!(
			NodeRegistry::register(
				RuntimeOrigin::signed(1),
				caps(),
				vec![0],
				endpoint(),
				k,
				foreign,
				MIN_BOND
			),
			Error::<Test>::InvalidKeyProof
		);
	});
}

/// M-4: a heartbeat signed for another chain is not accepted here.
#[test]
fn a_heartbeat_signed_for_another_chain_is_rejected() {
	new_test_ext().execute_with(|| {
		let k = register(1, MIN_BOND);
		run_to(PERIOD);
		let heartbeat = Heartbeat {
			node: 1,
			period: 1,
			ready_models: Default::default(),
		};
		let signature = k.sign(&heartbeat_payload(&[7u8; 32], &heartbeat)).unwrap();
		let call = Call::heartbeat {
			heartbeat,
			signature,
		};
		assert_eq!(authorize(&call), Err(InvalidTransaction::BadProof.into()));
		// The same statement signed for this chain is fine.
		assert_ok!(authorize(&signed_heartbeat(1, &k, 1)));
	});
}

#[test]
fn set_inference_key_needs_a_proof_and_no_pending_jobs() {
	new_test_ext().execute_with(|| {
		let old = register(1, MIN_BOND);
		let taken = register(2, MIN_BOND);
		let new = key(11);
		assert_noop!(
			NodeRegistry::set_inference_key(RuntimeOrigin::signed(1), new.clone(), proof(&new, 2)),
			Error::<Test>::InvalidKeyProof
		);
		assert_noop!(
			NodeRegistry::set_inference_key(
				RuntimeOrigin::signed(1),
				taken.clone(),
				proof(&taken, 1)
			),
			Error::<Test>::InferenceKeyInUse
		);
		assert_noop!(
			NodeRegistry::set_inference_key(RuntimeOrigin::signed(3), new.clone(), proof(&new, 3)),
			Error::<Test>::NotRegistered
		);
		PENDING.with(|p| p.borrow_mut().push(1));
		assert_noop!(
			NodeRegistry::set_inference_key(RuntimeOrigin::signed(1), new.clone(), proof(&new, 1)),
			Error::<Test>::PendingJobs
		);
		PENDING.with(|p| p.borrow_mut().clear());
		assert_ok!(NodeRegistry::set_inference_key(
			RuntimeOrigin::signed(1),
			new.clone(),
			proof(&new, 1)
		));
		System::assert_last_event(
			Event::InferenceKeyChanged {
				node: 1,
				inference_key: new.clone(),
			}
			.into(),
		);
		assert_eq!(NodeByKey::<Test>::get(&new), Some(1));
		assert_eq!(NodeByKey::<Test>::get(&old), None);
		assert_eq!(Nodes::<Test>::get(1).unwrap().inference_key, new);
		// The old key is free for its holder to use elsewhere.
		assert_ok!(register_with(3, vec![0], old, MIN_BOND));
		check();
	});
}
