//! Signed proofs of direct (JSON-RPC) inference.
//!
//! A node answers `inference_generate` with the text and a proof: an ed25519 signature by its
//! inference key over [`proof_message`], the byte string
//!
//! ```text
//! b"cognitive-internet/inference-proof/v1"   37 bytes, domain separation
//! model_sha256                               32 bytes
//! request_hash                               32 bytes, see [`request_hash`]
//! output_hash                                32 bytes, blake2b-256 of the output text's UTF-8 bytes
//! timestamp_ms                                8 bytes, u64 little endian, Unix time in ms
//! ```
//!
//! Every part is fixed-size, so the message needs no length prefixes; any ed25519
//! implementation verifies it (docs/rpc.md shows one in JavaScript).

use codec::Encode;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};

/// Domain tag at the start of every proof message.
pub const PROOF_CONTEXT: &[u8; 37] = b"cognitive-internet/inference-proof/v1";

/// Length of a proof message.
pub const PROOF_MESSAGE_LEN: usize = 37 + 32 * 3 + 8;

/// blake2b-256 of `SCALE(model_sha256, prompt, max_tokens, deterministic)`, where `prompt` is
/// the exact text the model was given (after the chat template, if messages were sent) as
/// bytes (SCALE: compact length, then the bytes), `max_tokens` a u32 and `deterministic` a bool.
pub fn request_hash(
	model_sha256: &[u8; 32],
	prompt: &str,
	max_tokens: u32,
	deterministic: bool,
) -> [u8; 32] {
	sp_crypto_hashing::blake2_256(
		&(model_sha256, prompt.as_bytes(), max_tokens, deterministic).encode(),
	)
}

/// blake2b-256 of the output text's UTF-8 bytes.
pub fn output_hash(text: &str) -> [u8; 32] {
	sp_crypto_hashing::blake2_256(text.as_bytes())
}

/// The signed byte string; see the module documentation.
pub fn proof_message(
	model_sha256: &[u8; 32],
	request_hash: &[u8; 32],
	output_hash: &[u8; 32],
	timestamp_ms: u64,
) -> [u8; PROOF_MESSAGE_LEN] {
	let mut msg = [0u8; PROOF_MESSAGE_LEN];
	msg[..37].copy_from_slice(PROOF_CONTEXT);
	msg[37..69].copy_from_slice(model_sha256);
	msg[69..101].copy_from_slice(request_hash);
	msg[101..133].copy_from_slice(output_hash);
	msg[133..].copy_from_slice(&timestamp_ms.to_le_bytes());
	msg
}

/// Something that holds an inference key and signs with it (the node's keystore).
pub trait ProofSigner: Send + Sync {
	/// The ed25519 public key, if the signer has one.
	fn public_key(&self) -> Option<[u8; 32]>;
	/// An ed25519 signature over `message`, or `None` if the key is gone.
	fn sign(&self, message: &[u8]) -> Option<[u8; 64]>;
}

/// Why a proof did not verify.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
	/// The public key is not a valid ed25519 point.
	#[error("invalid public key")]
	BadPublicKey,
	/// The signature does not match the message and key.
	#[error("invalid signature")]
	BadSignature,
}

/// Verifies a proof signature with ed25519-dalek (strict verification: no malleable or
/// small-order encodings).
pub fn verify(
	public_key: &[u8; 32],
	message: &[u8],
	signature: &[u8; 64],
) -> Result<(), ProofError> {
	let key = VerifyingKey::from_bytes(public_key).map_err(|_| ProofError::BadPublicKey)?;
	let sig = Signature::from_bytes(signature);
	key.verify_strict(message, &sig)
		.map_err(|_| ProofError::BadSignature)?;
	// `verify_strict` implies `verify`; keep both semantics explicit for readers.
	key.verify(message, &sig)
		.map_err(|_| ProofError::BadSignature)
}

#[cfg(test)]
mod tests {
	use super::*;
	use ed25519_dalek::{Signer, SigningKey};

	#[test]
	fn message_layout_is_fixed() {
		let msg = proof_message(&[1; 32], &[2; 32], &[3; 32], 0x0102030405060708);
		assert_eq!(msg.len(), 141);
		assert_eq!(&msg[..37], PROOF_CONTEXT);
		assert_eq!(&msg[37..69], &[1; 32]);
		assert_eq!(&msg[69..101], &[2; 32]);
		assert_eq!(&msg[101..133], &[3; 32]);
		assert_eq!(&msg[133..], &[8, 7, 6, 5, 4, 3, 2, 1]);
	}

	#[test]
	fn request_hash_binds_every_field() {
		let base = request_hash(&[1; 32], "hi", 8, true);
		assert_ne!(base, request_hash(&[2; 32], "hi", 8, true));
		assert_ne!(base, request_hash(&[1; 32], "ho", 8, true));
		assert_ne!(base, request_hash(&[1; 32], "hi", 9, true));
		assert_ne!(base, request_hash(&[1; 32], "hi", 8, false));
	}

	#[test]
	fn signatures_verify_and_tampering_is_caught() {
		let key = SigningKey::from_bytes(&[7; 32]);
		let public = key.verifying_key().to_bytes();
		let msg = proof_message(&[1; 32], &[2; 32], &output_hash("text"), 42);
		let sig = key.sign(&msg).to_bytes();
		assert_eq!(verify(&public, &msg, &sig), Ok(()));
		let mut other = msg;
		other[140] ^= 1;
		assert_eq!(verify(&public, &other, &sig), Err(ProofError::BadSignature));
		let mut bad_sig = sig;
		bad_sig[0] ^= 1;
		assert_eq!(
			verify(&public, &msg, &bad_sig),
			Err(ProofError::BadSignature)
		);
	}
}
