//! Signed proofs of direct (JSON-RPC) inference, version 2.
//!
//! A node answers `inference_generate` with the text and a proof: an ed25519 signature by its
//! inference key over [`proof_message`], a fixed 209-byte string:
//!
//! ```text
//! offset  size  field
//!      0    37  b"cognitive-internet/inference-proof/v2"   domain separation (PROOF_CONTEXT)
//!     37    32  genesis_hash    the chain the node is on
//!     69    32  block_hash      a recent block: the node's best block when it answered
//!    101     4  block_number    that block's number, u32 little endian
//!    105    32  model_sha256    the model file
//!    137    32  request_hash    see request_hash()
//!    169    32  output_hash     see output_hash()
//!    201     8  timestamp_ms    u64 little endian, Unix time in ms
//!    209        end (PROOF_MESSAGE_LEN)
//! ```
//!
//! with
//!
//! - `request_hash = blake2_256(SCALE((prompt_bytes: Vec<u8>, max_tokens: u32, sampling:
//!   SamplingParams, profile: ExecutionProfile)))`, where `prompt_bytes` is the exact text the
//!   model was given (after the chat template, if messages were sent), [`SamplingParams`] is
//!   `Greedy` (index 0) or `Sampled { temperature_bits: u32, top_p_bits: u32, seed: u64 }`
//!   (index 2, the requested temperature and top-p as `f32::to_bits`; index 1 was llama.cpp's
//!   own temperature sampler, retired because its draws differ between builds) and the profile
//!   is `(n_ctx, n_batch, n_ubatch)` as three u32; a request with stop sequences
//!   ([`crate::stop`]) appends them to the tuple as a `Vec<Vec<u8>>` (so a request without
//!   any hashes exactly as before stop sequences existed);
//! - `output_hash = blake2_256(SCALE((prompt_token_ids: Vec<u32>, output_token_ids:
//!   Vec<u32>)))`.
//!
//! What version 2 fixes (audit L-2): a version 1 proof named neither a chain nor a time anyone
//! could check, so a proof made on a test network was as good as one made on the main chain,
//! and its timestamp was the signer's word alone. The genesis hash binds the proof to one
//! chain; the block hash and number show it was made after that block existed. The request hash
//! now covers every setting that changes the output (sampling and context settings, not just a
//! "deterministic" flag), and the output hash covers token ids, the values validators compare,
//! rather than text that the detokenizer may have altered.
//!
//! Every part is fixed-size, so the message needs no length prefixes; any ed25519
//! implementation verifies it (docs/rpc.md shows one in JavaScript). Verifiers should use
//! strict verification (ed25519-dalek's `verify_strict`), which rejects malleable and
//! small-order encodings.

use crate::types::Sampling;
use codec::{Decode, Encode};
use inference_primitives::ExecutionProfile;

/// Domain tag at the start of every proof message.
pub const PROOF_CONTEXT: &[u8; 37] = b"cognitive-internet/inference-proof/v2";

/// The proof format version; the last byte of [`PROOF_CONTEXT`] names it too.
pub const PROOF_VERSION: u8 = 2;

/// Length of a proof message: context, genesis hash, block hash, block number, model sha256,
/// request hash, output hash, timestamp.
pub const PROOF_MESSAGE_LEN: usize = 37 + 32 + 32 + 4 + 32 + 32 + 32 + 8;

/// The sampling settings as the request hash encodes them (SCALE: one index byte, then the
/// fields).
#[derive(Encode, Decode, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SamplingParams {
	/// Greedy decoding.
	#[codec(index = 0)]
	Greedy,
	/// Temperature and top-p sampling with seeded draws ([`crate::sampler`]). Index 1 named
	/// llama.cpp's sampler, whose draws differ between builds; it is never produced again.
	#[codec(index = 2)]
	Sampled {
		/// The requested temperature, `f32::to_bits` (exact, unlike a decimal rendering).
		temperature_bits: u32,
		/// The requested `top_p`, `f32::to_bits`.
		top_p_bits: u32,
		/// Seed of the draws.
		seed: u64,
	},
}

impl From<&Sampling> for SamplingParams {
	fn from(sampling: &Sampling) -> Self {
		match *sampling {
			Sampling::Greedy => Self::Greedy,
			Sampling::Temperature {
				temperature,
				top_p,
				seed,
			} => Self::Sampled {
				temperature_bits: temperature.to_bits(),
				top_p_bits: top_p.to_bits(),
				seed,
			},
		}
	}
}

/// Everything a proof message says; see the module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProofInput {
	/// Genesis hash of the chain the node is on.
	pub genesis_hash: [u8; 32],
	/// Hash of a recent block (the node's best block when it answered).
	pub block_hash: [u8; 32],
	/// Number of that block.
	pub block_number: u32,
	/// sha256 of the model file.
	pub model_sha256: [u8; 32],
	/// [`request_hash`] of the request.
	pub request_hash: [u8; 32],
	/// [`output_hash`] of the result.
	pub output_hash: [u8; 32],
	/// When the node answered, Unix time in milliseconds.
	pub timestamp_ms: u64,
}

/// `blake2_256(SCALE((prompt_bytes, max_tokens, sampling, profile)))`, or with `stop`
/// appended as a fifth element when there are stop sequences, where `prompt` is the exact text
/// the model was given (after the chat template) and `sampling` is encoded as
/// [`SamplingParams`].
pub fn request_hash(
	prompt: &str,
	max_tokens: u32,
	sampling: &Sampling,
	profile: &ExecutionProfile,
	stop: &[String],
) -> [u8; 32] {
	let sampling = SamplingParams::from(sampling);
	let mut encoded = (prompt.as_bytes(), max_tokens, sampling, profile).encode();
	if !stop.is_empty() {
		// SCALE of a tuple is its elements' encodings in a row: this is the 5-tuple's.
		stop.encode_to(&mut encoded);
	}
	sp_crypto_hashing::blake2_256(&encoded)
}

/// `blake2_256(SCALE((prompt_tokens, output_tokens)))`: the token ids, so that the proof names
/// exactly what the model computed, whatever became of them as text.
pub fn output_hash(prompt_tokens: &[u32], output_tokens: &[u32]) -> [u8; 32] {
	sp_crypto_hashing::blake2_256(&(prompt_tokens, output_tokens).encode())
}

/// The signed byte string; see the module documentation for the layout.
pub fn proof_message(input: &ProofInput) -> [u8; PROOF_MESSAGE_LEN] {
	let mut msg = [0u8; PROOF_MESSAGE_LEN];
	let parts: [&[u8]; 8] = [
		PROOF_CONTEXT,
		&input.genesis_hash,
		&input.block_hash,
		&input.block_number.to_le_bytes(),
		&input.model_sha256,
		&input.request_hash,
		&input.output_hash,
		&input.timestamp_ms.to_le_bytes(),
	];
	let mut at = 0;
	for part in parts {
		msg[at..at + part.len()].copy_from_slice(part);
		at += part.len();
	}
	debug_assert_eq!(at, PROOF_MESSAGE_LEN);
	msg
}

/// Something that holds an inference key and signs with it (the node's keystore).
pub trait ProofSigner: Send + Sync {
	/// The ed25519 public key, if the signer has one.
	fn public_key(&self) -> Option<[u8; 32]>;
	/// An ed25519 signature over `message`, or `None` if the key is gone.
	fn sign(&self, message: &[u8]) -> Option<[u8; 64]>;
}

#[cfg(test)]
mod tests {
	use super::*;
	use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

	const PROFILE: ExecutionProfile = ExecutionProfile {
		n_ctx: 2048,
		n_batch: 512,
		n_ubatch: 256,
	};

	fn input() -> ProofInput {
		ProofInput {
			genesis_hash: [1; 32],
			block_hash: [2; 32],
			block_number: 0x0a0b0c0d,
			model_sha256: [3; 32],
			request_hash: [4; 32],
			output_hash: [5; 32],
			timestamp_ms: 0x0102030405060708,
		}
	}

	struct KeySigner(SigningKey);

	impl ProofSigner for KeySigner {
		fn public_key(&self) -> Option<[u8; 32]> {
			Some(self.0.verifying_key().to_bytes())
		}
		fn sign(&self, message: &[u8]) -> Option<[u8; 64]> {
			Some(self.0.sign(message).to_bytes())
		}
	}

	fn verify_strict(public: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
		let Ok(key) = VerifyingKey::from_bytes(public) else {
			return false;
		};
		key.verify_strict(message, &Signature::from_bytes(signature))
			.is_ok()
	}

	#[test]
	fn message_layout_matches_the_documented_offsets() {
		assert_eq!(PROOF_MESSAGE_LEN, 209);
		assert_eq!(PROOF_VERSION, 2);
		assert_eq!(PROOF_CONTEXT.last(), Some(&b'2'));
		let msg = proof_message(&input());
		assert_eq!(msg.len(), 209);
		assert_eq!(&msg[0..37], b"cognitive-internet/inference-proof/v2");
		assert_eq!(&msg[37..69], &[1; 32]);
		assert_eq!(&msg[69..101], &[2; 32]);
		assert_eq!(&msg[101..105], &[0x0d, 0x0c, 0x0b, 0x0a]);
		assert_eq!(&msg[105..137], &[3; 32]);
		assert_eq!(&msg[137..169], &[4; 32]);
		assert_eq!(&msg[169..201], &[5; 32]);
		assert_eq!(&msg[201..209], &[8, 7, 6, 5, 4, 3, 2, 1]);
	}

	#[test]
	fn every_field_lands_in_the_message() {
		let base = proof_message(&input());
		let variants = [
			ProofInput {
				genesis_hash: [9; 32],
				..input()
			},
			ProofInput {
				block_hash: [9; 32],
				..input()
			},
			ProofInput {
				block_number: 1,
				..input()
			},
			ProofInput {
				model_sha256: [9; 32],
				..input()
			},
			ProofInput {
				request_hash: [9; 32],
				..input()
			},
			ProofInput {
				output_hash: [9; 32],
				..input()
			},
			ProofInput {
				timestamp_ms: 1,
				..input()
			},
		];
		for variant in variants {
			assert_ne!(proof_message(&variant), base, "{variant:?}");
		}
	}

	#[test]
	fn sampling_params_encoding() {
		assert_eq!(SamplingParams::from(&Sampling::Greedy).encode(), vec![0]);
		let temperature = Sampling::Temperature {
			temperature: 0.75,
			top_p: 0.9,
			seed: 0x0102030405060708,
		};
		let mut expected = vec![2];
		expected.extend_from_slice(&0.75f32.to_bits().to_le_bytes());
		expected.extend_from_slice(&0.9f32.to_bits().to_le_bytes());
		expected.extend_from_slice(&[8, 7, 6, 5, 4, 3, 2, 1]);
		assert_eq!(SamplingParams::from(&temperature).encode(), expected);
	}

	#[test]
	fn request_hash_is_blake2_of_the_documented_scale_tuple() {
		// Spelled out by hand, as a client in another language would build it.
		let mut bytes = vec![2 << 2, b'h', b'i']; // compact length 2, the prompt bytes
		bytes.extend_from_slice(&8u32.to_le_bytes());
		bytes.push(2);
		bytes.extend_from_slice(&1.5f32.to_bits().to_le_bytes());
		bytes.extend_from_slice(&0.95f32.to_bits().to_le_bytes());
		bytes.extend_from_slice(&7u64.to_le_bytes());
		for v in [2048u32, 512, 256] {
			bytes.extend_from_slice(&v.to_le_bytes());
		}
		let sampling = Sampling::Temperature {
			temperature: 1.5,
			top_p: 0.95,
			seed: 7,
		};
		assert_eq!(
			request_hash("hi", 8, &sampling, &PROFILE, &[]),
			sp_crypto_hashing::blake2_256(&bytes)
		);
		// With stop sequences: a compact count, then each as compact length and bytes.
		bytes.extend_from_slice(&[2 << 2, 1 << 2, b'\n', 2 << 2, b'#', b'#']);
		assert_eq!(
			request_hash("hi", 8, &sampling, &PROFILE, &["\n".into(), "##".into()]),
			sp_crypto_hashing::blake2_256(&bytes)
		);
	}

	#[test]
	fn request_hash_binds_every_field() {
		let greedy = Sampling::Greedy;
		let warm = Sampling::Temperature {
			temperature: 0.5,
			top_p: 1.0,
			seed: 1,
		};
		let base = request_hash("hi", 8, &greedy, &PROFILE, &[]);
		let others = [
			request_hash("ho", 8, &greedy, &PROFILE, &[]),
			request_hash("hi", 9, &greedy, &PROFILE, &[]),
			request_hash("hi", 8, &warm, &PROFILE, &[]),
			request_hash(
				"hi",
				8,
				&Sampling::Temperature {
					temperature: 0.5,
					top_p: 1.0,
					seed: 2,
				},
				&PROFILE,
				&[],
			),
			request_hash(
				"hi",
				8,
				&Sampling::Temperature {
					temperature: 0.6,
					top_p: 1.0,
					seed: 1,
				},
				&PROFILE,
				&[],
			),
			request_hash(
				"hi",
				8,
				&Sampling::Temperature {
					temperature: 0.5,
					top_p: 0.9,
					seed: 1,
				},
				&PROFILE,
				&[],
			),
			request_hash(
				"hi",
				8,
				&greedy,
				&ExecutionProfile {
					n_ctx: 1024,
					..PROFILE
				},
				&[],
			),
			request_hash(
				"hi",
				8,
				&greedy,
				&ExecutionProfile {
					n_batch: 256,
					..PROFILE
				},
				&[],
			),
			request_hash(
				"hi",
				8,
				&greedy,
				&ExecutionProfile {
					n_ubatch: 128,
					..PROFILE
				},
				&[],
			),
		];
		for (i, other) in others.iter().enumerate() {
			assert_ne!(*other, base, "variant {i}");
		}
		assert_eq!(base, request_hash("hi", 8, &greedy, &PROFILE, &[]));
		// Stop sequences: each one, and their order, is bound; none hashes as before.
		let stop = |s: &[&str]| {
			let s: Vec<String> = s.iter().map(|s| s.to_string()).collect();
			request_hash("hi", 8, &greedy, &PROFILE, &s)
		};
		let (a, b, ab, ba) = (
			stop(&["a"]),
			stop(&["b"]),
			stop(&["a", "b"]),
			stop(&["b", "a"]),
		);
		for (x, y) in [(a, b), (a, ab), (ab, ba), (a, base)] {
			assert_ne!(x, y);
		}
	}

	#[test]
	fn output_hash_is_blake2_of_the_token_ids() {
		let mut bytes = vec![2 << 2];
		bytes.extend_from_slice(&1u32.to_le_bytes());
		bytes.extend_from_slice(&2u32.to_le_bytes());
		bytes.push(1 << 2);
		bytes.extend_from_slice(&3u32.to_le_bytes());
		assert_eq!(
			output_hash(&[1, 2], &[3]),
			sp_crypto_hashing::blake2_256(&bytes)
		);
		// Where the prompt ends is part of what is proven.
		assert_ne!(output_hash(&[1, 2], &[3]), output_hash(&[1], &[2, 3]));
	}

	#[test]
	fn signatures_verify_strictly_and_any_flipped_byte_fails() {
		let signer = KeySigner(SigningKey::from_bytes(&[7; 32]));
		let public = signer.public_key().unwrap();
		let msg = proof_message(&ProofInput {
			request_hash: request_hash("hi", 4, &Sampling::Greedy, &PROFILE, &[]),
			output_hash: output_hash(&[1, 2], &[3, 4, 5, 6]),
			..input()
		});
		let sig = signer.sign(&msg).unwrap();
		assert!(verify_strict(&public, &msg, &sig));
		for i in 0..PROOF_MESSAGE_LEN {
			let mut other = msg;
			other[i] ^= 1;
			assert!(
				!verify_strict(&public, &other, &sig),
				"byte {i} is not covered"
			);
		}
		let mut bad_sig = sig;
		bad_sig[0] ^= 1;
		assert!(!verify_strict(&public, &msg, &bad_sig));
		let other_key = SigningKey::from_bytes(&[8; 32]).verifying_key().to_bytes();
		assert!(!verify_strict(&other_key, &msg, &sig));
	}
}
