//! Signed statements of the `inference_*` methods, as pure functions:
//!
//! - who may read a pending job's output (audit H-2): only the job's owner, with a signature
//!   bound to this chain, this job and this node ([`job_result_auth_payload`],
//!   [`verify_job_result_auth`]), so that a co-assignee cannot read, or replay its way to, a
//!   result it could copy before the reveal;
//! - which output a settled job may be answered with ([`check_job_access`]);
//! - the node's proof that it holds the inference key an account registers (audit H-3,
//!   [`key_ownership_proof`]).

use super::{
	error::Error,
	types::{hex0x, parse_hex, AccountSignature, JobResultAuth, KeyOwnershipProofView},
};
use codec::Encode;
use inference_engine::proof::ProofSigner;
use inference_primitives::Hash256;
use sp_core::{crypto::Ss58Codec, ed25519, sr25519};
use sp_runtime::{traits::Verify, AccountId32, MultiSignature};

/// Domain tag of [`job_result_auth_payload`].
pub const JOB_RESULT_AUTH_CONTEXT: &[u8] = b"cognitive-internet/job-result/v1";

/// The bytes a job owner signs to read the job's output from one node while it is pending:
/// `SCALE((JOB_RESULT_AUTH_CONTEXT as Vec<u8>, genesis_hash, job_id u64, node_key [u8; 32]))`.
pub fn job_result_auth_payload(
	genesis_hash: &Hash256,
	job_id: u64,
	node_key: &[u8; 32],
) -> Vec<u8> {
	(JOB_RESULT_AUTH_CONTEXT, genesis_hash, job_id, node_key).encode()
}

/// What Polkadot.js extensions sign for `signRaw` with a byte payload: the payload between
/// `<Bytes>` and `</Bytes>`, so that a dapp cannot have a wallet sign a transaction as "data".
fn wrapped(payload: &[u8]) -> Vec<u8> {
	[b"<Bytes>".as_slice(), payload, b"</Bytes>".as_slice()].concat()
}

/// Decodes `auth`'s signature.
pub fn parse_signature(signature: &AccountSignature) -> Result<MultiSignature, Error> {
	let (scheme, hex) = match signature {
		AccountSignature::Sr25519(hex) => ("sr25519", hex),
		AccountSignature::Ed25519(hex) => ("ed25519", hex),
	};
	let bytes = parse_hex::<64>(hex)
		.ok_or_else(|| Error::BadAuth(format!("the {scheme} signature is not 64 bytes of hex")))?;
	Ok(match signature {
		AccountSignature::Sr25519(_) => {
			MultiSignature::Sr25519(sr25519::Signature::from_raw(bytes))
		},
		AccountSignature::Ed25519(_) => {
			MultiSignature::Ed25519(ed25519::Signature::from_raw(bytes))
		},
	})
}

/// Checks that `auth` is `owner`'s signature over the job-result payload of `job_id` on the
/// chain `genesis_hash` at the node whose inference key is `node_key` (plain or wrapped in
/// `<Bytes>…</Bytes>`).
pub fn verify_job_result_auth(
	auth: &JobResultAuth,
	owner: &AccountId32,
	genesis_hash: &Hash256,
	job_id: u64,
	node_key: &[u8; 32],
) -> Result<(), Error> {
	let signature = parse_signature(&auth.signature)?;
	let payload = job_result_auth_payload(genesis_hash, job_id, node_key);
	if signature.verify(&payload[..], owner) || signature.verify(&wrapped(&payload)[..], owner) {
		Ok(())
	} else {
		Err(Error::BadAuth(format!(
			"not a signature by the job's owner {} over the job-result payload for this chain, \
			 job {job_id} and this node",
			owner.to_ss58check()
		)))
	}
}

/// A job's status as far as serving its output goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobPhase {
	/// Commits or reveals are still open: the output must not leak to a co-assignee.
	Pending,
	/// Completed or failed.
	Settled,
}

/// What [`check_job_access`] needs to know about the on-chain job.
#[derive(Clone, Copy, Debug)]
pub struct ChainJob<'a> {
	/// Its phase at the block asked about.
	pub phase: JobPhase,
	/// Its digest there.
	pub digest: &'a Hash256,
	/// Its owner.
	pub owner: &'a AccountId32,
	/// Whether the same job (same digest) is pending at the best block, in case the block asked
	/// about is on another fork or behind.
	pub pending_at_best: bool,
}

/// Whether this node may answer `inference_jobResult` with the output it holds (whose job
/// digest is `stored_digest`) for the job `chain`: the output must answer the very job on chain,
/// and a pending job's output goes only to its owner, with `auth`. `node_key` is this node's
/// inference key (needed only to check `auth`).
pub fn check_job_access(
	job_id: u64,
	chain: &ChainJob,
	stored_digest: &Hash256,
	auth: Option<&JobResultAuth>,
	genesis_hash: &Hash256,
	node_key: Option<&[u8; 32]>,
) -> Result<(), Error> {
	if chain.digest != stored_digest {
		return Err(Error::JobMismatch(job_id));
	}
	if chain.phase == JobPhase::Settled && !chain.pending_at_best {
		return Ok(());
	}
	// Pending: the owner only.
	let Some(auth) = auth else {
		return Err(Error::JobPending(job_id));
	};
	let node_key = node_key.ok_or(Error::NoInferenceKey)?;
	verify_job_result_auth(auth, chain.owner, genesis_hash, job_id, node_key)
}

/// Parses an account given as SS58 (any network prefix: the key is what counts).
pub fn parse_account(text: &str) -> Result<AccountId32, Error> {
	AccountId32::from_ss58check_with_version(text.trim())
		.map(|(account, _)| account)
		.map_err(|e| Error::InvalidParams(format!("{text:?} is not an SS58 account: {e}")))
}

/// The node's proof, for `nodeRegistry.register`/`set_inference_key`, that its inference key
/// may be registered by `account` on the chain `genesis_hash`: the key's signature over
/// `pallet_node_registry::key_ownership_payload(genesis_hash, account)`.
pub fn key_ownership_proof(
	signer: &dyn ProofSigner,
	genesis_hash: &Hash256,
	account: &AccountId32,
) -> Result<KeyOwnershipProofView, Error> {
	let public_key = signer.public_key().ok_or(Error::NoInferenceKey)?;
	let payload = pallet_node_registry::key_ownership_payload(genesis_hash, account);
	let signature = signer.sign(&payload).ok_or(Error::NoInferenceKey)?;
	Ok(KeyOwnershipProofView {
		account: account.to_ss58check(),
		public_key: hex0x(&public_key),
		signature: hex0x(&signature),
		genesis_hash: hex0x(genesis_hash),
		payload: hex0x(&payload),
	})
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::inference::KeystoreSigner;
	use sp_core::Pair;
	use sp_keystore::{testing::MemoryKeystore, Keystore};
	use std::sync::Arc;

	const GENESIS: Hash256 = [7; 32];
	const NODE: [u8; 32] = [9; 32];
	const JOB: u64 = 42;

	fn sr_owner() -> sr25519::Pair {
		sr25519::Pair::from_string("//JobOwner", None).expect("dev seed")
	}

	fn ed_owner() -> ed25519::Pair {
		ed25519::Pair::from_string("//JobOwner", None).expect("dev seed")
	}

	fn sr_auth(pair: &sr25519::Pair, payload: &[u8]) -> JobResultAuth {
		JobResultAuth {
			signature: AccountSignature::Sr25519(hex0x(&pair.sign(payload).0)),
		}
	}

	fn ed_auth(pair: &ed25519::Pair, payload: &[u8]) -> JobResultAuth {
		JobResultAuth {
			signature: AccountSignature::Ed25519(hex0x(&pair.sign(payload).0)),
		}
	}

	#[test]
	fn payload_layout() {
		let payload = job_result_auth_payload(&GENESIS, JOB, &NODE);
		let mut expected = vec![(32 << 2) as u8];
		expected.extend_from_slice(b"cognitive-internet/job-result/v1");
		expected.extend_from_slice(&GENESIS);
		expected.extend_from_slice(&JOB.to_le_bytes());
		expected.extend_from_slice(&NODE);
		assert_eq!(payload, expected);
		assert_eq!(payload.len(), 1 + 32 + 32 + 8 + 32);
	}

	#[test]
	fn the_right_owner_is_accepted_with_either_scheme() {
		let payload = job_result_auth_payload(&GENESIS, JOB, &NODE);
		let sr = sr_owner();
		let sr_account = AccountId32::from(sr.public().0);
		verify_job_result_auth(&sr_auth(&sr, &payload), &sr_account, &GENESIS, JOB, &NODE)
			.expect("sr25519 owner");
		// As Polkadot.js extensions sign it.
		verify_job_result_auth(
			&sr_auth(&sr, &wrapped(&payload)),
			&sr_account,
			&GENESIS,
			JOB,
			&NODE,
		)
		.expect("wrapped payload");
		let ed = ed_owner();
		let ed_account = AccountId32::from(ed.public().0);
		verify_job_result_auth(&ed_auth(&ed, &payload), &ed_account, &GENESIS, JOB, &NODE)
			.expect("ed25519 owner");
	}

	#[test]
	fn wrong_account_job_node_or_chain_is_refused() {
		let sr = sr_owner();
		let owner = AccountId32::from(sr.public().0);
		let good = sr_auth(&sr, &job_result_auth_payload(&GENESIS, JOB, &NODE));
		let bad_auth = |e: Result<(), Error>| matches!(e, Err(Error::BadAuth(_)));

		// Wrong account: a signature by somebody else than the owner.
		let stranger = sr25519::Pair::from_string("//Stranger", None).expect("seed");
		let forged = sr_auth(&stranger, &job_result_auth_payload(&GENESIS, JOB, &NODE));
		assert!(bad_auth(verify_job_result_auth(
			&forged, &owner, &GENESIS, JOB, &NODE
		)));
		// The owner's signature does not make another account the owner.
		let other_owner = AccountId32::from(stranger.public().0);
		assert!(bad_auth(verify_job_result_auth(
			&good,
			&other_owner,
			&GENESIS,
			JOB,
			&NODE
		)));
		// Wrong job.
		assert!(bad_auth(verify_job_result_auth(
			&good,
			&owner,
			&GENESIS,
			JOB + 1,
			&NODE
		)));
		// Another node's key: the node that received it cannot replay it to a co-assignee.
		assert!(bad_auth(verify_job_result_auth(
			&good, &owner, &GENESIS, JOB, &[8; 32]
		)));
		// Another chain.
		assert!(bad_auth(verify_job_result_auth(
			&good, &owner, &[6; 32], JOB, &NODE
		)));
		// The right bytes under the wrong scheme.
		let wrong_scheme = JobResultAuth {
			signature: match good.signature.clone() {
				AccountSignature::Sr25519(hex) => AccountSignature::Ed25519(hex),
				other => other,
			},
		};
		assert!(bad_auth(verify_job_result_auth(
			&wrong_scheme,
			&owner,
			&GENESIS,
			JOB,
			&NODE
		)));
		// Malformed hex.
		for hex in ["", "0x", "0x00", "zz", &"00".repeat(65)] {
			let malformed = JobResultAuth {
				signature: AccountSignature::Sr25519(hex.into()),
			};
			assert!(bad_auth(verify_job_result_auth(
				&malformed, &owner, &GENESIS, JOB, &NODE
			)));
		}
	}

	#[test]
	fn job_access_rules() {
		let sr = sr_owner();
		let owner = AccountId32::from(sr.public().0);
		let digest = [1u8; 32];
		let other_digest = [2u8; 32];
		let settled = ChainJob {
			phase: JobPhase::Settled,
			digest: &digest,
			owner: &owner,
			pending_at_best: false,
		};
		let pending = ChainJob {
			phase: JobPhase::Pending,
			..settled
		};
		let auth = sr_auth(&sr, &job_result_auth_payload(&GENESIS, JOB, &NODE));
		let check = |chain: &ChainJob, stored: &Hash256, auth: Option<&JobResultAuth>| {
			check_job_access(JOB, chain, stored, auth, &GENESIS, Some(&NODE))
		};

		// Settled and the same job: anyone.
		assert_eq!(check(&settled, &digest, None), Ok(()));
		// A reused id names another job: nobody.
		assert_eq!(
			check(&settled, &other_digest, None),
			Err(Error::JobMismatch(JOB))
		);
		assert_eq!(
			check(&pending, &other_digest, Some(&auth)),
			Err(Error::JobMismatch(JOB))
		);
		// Pending: the owner only.
		assert_eq!(check(&pending, &digest, None), Err(Error::JobPending(JOB)));
		assert_eq!(check(&pending, &digest, Some(&auth)), Ok(()));
		// Settled at an old block or on another fork, pending at the best block: still pending.
		let settled_elsewhere = ChainJob {
			pending_at_best: true,
			..settled
		};
		assert_eq!(
			check(&settled_elsewhere, &digest, None),
			Err(Error::JobPending(JOB))
		);
		assert_eq!(check(&settled_elsewhere, &digest, Some(&auth)), Ok(()));
		// A node without an inference key cannot check an authorization bound to its key.
		assert_eq!(
			check_job_access(JOB, &pending, &digest, Some(&auth), &GENESIS, None),
			Err(Error::NoInferenceKey)
		);
	}

	#[test]
	fn accounts_parse_from_any_ss58_prefix() {
		let account = AccountId32::from(sr_owner().public().0);
		assert_eq!(parse_account(&account.to_ss58check()), Ok(account.clone()));
		let polkadot = account.to_ss58check_with_version(0u16.into());
		assert_eq!(parse_account(&polkadot), Ok(account));
		for bad in ["", "0x1234", "5Grw", "not an address"] {
			assert_eq!(
				parse_account(bad).map_err(|e| e.code()),
				Err(-32602),
				"{bad}"
			);
		}
	}

	#[test]
	fn key_ownership_proof_verifies_against_the_pallet_payload() {
		let keystore = Arc::new(MemoryKeystore::new());
		let public = keystore
			.ed25519_generate_new(pallet_node_registry::KEY_TYPE, Some("//Alice"))
			.expect("key");
		let signer = KeystoreSigner::new(keystore);
		let account = AccountId32::from(sr_owner().public().0);
		let proof = key_ownership_proof(&signer, &GENESIS, &account).expect("proof");

		let payload = pallet_node_registry::key_ownership_payload(&GENESIS, &account);
		assert_eq!(proof.payload, hex0x(&payload));
		assert_eq!(proof.public_key, hex0x(&public.0));
		assert_eq!(proof.genesis_hash, hex0x(&GENESIS));
		assert_eq!(proof.account, account.to_ss58check());
		let signature =
			ed25519::Signature::from_raw(parse_hex::<64>(&proof.signature).expect("64 bytes"));
		assert!(ed25519::Pair::verify(&signature, &payload, &public));
		// As the pallet checks it: the app key type over the same payload.
		let key = pallet_node_registry::InferenceKey::from(public);
		let proof_sig = pallet_node_registry::InferenceSignature::from(signature);
		assert!(sp_runtime::RuntimeAppPublic::verify(
			&key, &payload, &proof_sig
		));
		// Bound to the account and the chain.
		let other = AccountId32::from([3; 32]);
		let other_payload = pallet_node_registry::key_ownership_payload(&GENESIS, &other);
		assert!(!ed25519::Pair::verify(&signature, &other_payload, &public));
		let other_chain = pallet_node_registry::key_ownership_payload(&[8; 32], &account);
		assert!(!ed25519::Pair::verify(&signature, &other_chain, &public));
	}

	#[test]
	fn key_ownership_proof_needs_a_key() {
		let signer = KeystoreSigner::new(Arc::new(MemoryKeystore::new()));
		let account = AccountId32::from([3; 32]);
		assert_eq!(
			key_ownership_proof(&signer, &GENESIS, &account).err(),
			Some(Error::NoInferenceKey)
		);
	}
}
