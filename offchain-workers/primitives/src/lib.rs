//! # Inference primitives
//!
//! What the runtime (the proof-of-inference pallet and its off-chain worker) and the node's
//! inference engine must agree on, byte for byte:
//!
//! - the [`JobRequest`] an off-chain worker hands to the host and the [`HostJobStatus`] it gets
//!   back;
//! - [`JobPrompt`], a job's text or chat messages, and [`PromptFormat`], how the chain stores
//!   them;
//! - [`job_digest`], the digest of a job's content that keys results and host slots (a job id
//!   reused on another fork names another job);
//! - [`result_hash`], the value validators commit to and reveal;
//! - [`commitment`], the salted commitment that hides a result hash until the reveal phase;
//! - [`signing_payload`], the one layout of every message an inference key signs on chain
//!   (domain context, genesis hash, payload);
//! - [`inference_host_api`], the runtime interface (host functions) through which the off-chain
//!   worker reaches the engine, and [`InferenceHost`] / [`InferenceExt`], the externalities
//!   extension the node registers for off-chain workers.
//!
//! The crate is `no_std` so the WASM runtime can use it; the extension and the host side of the
//! interface exist only with `std`. The `fuzz` feature adds [`fuzz`], the seeded generator the
//! project's property-test harnesses share.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(feature = "fuzz")]
pub mod fuzz;
mod prompt;

pub use prompt::{
	ChatRole, ChatTurn, InvalidPrompt, JobPrompt, PromptFormat, CHAT_TURN_ALLOWANCE, MAX_CHAT_TURNS,
};

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// Identifier of an inference job on chain.
pub type JobId = u64;

/// A sha256 digest (model files are identified by the sha256 of their bytes).
pub type Sha256 = [u8; 32];

/// A blake2-256 digest.
pub type Hash256 = [u8; 32];

/// A token id of the model's vocabulary.
pub type TokenId = u32;

/// The settings of a model's determinism class that change the engine's arithmetic.
///
/// They come from the model's whitelist entry, so every validator runs a job with the same ones.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct ExecutionProfile {
	/// Context size in tokens.
	pub n_ctx: u32,
	/// Logical batch size (prompt tokens handed to one `decode` call).
	pub n_batch: u32,
	/// Physical micro-batch size.
	pub n_ubatch: u32,
}

/// The engine build and CPU level a model's results are comparable under (its *determinism
/// class*, as the model's whitelist entry names it). A host whose own class differs refuses the
/// job rather than produce tokens nobody else would.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub struct EngineClass {
	/// Inference engine, e.g. `llama.cpp`.
	pub engine: Vec<u8>,
	/// Exact engine build, e.g. `llama-cpp-2 0.1.160`.
	pub engine_version: Vec<u8>,
	/// CPU instruction-set level of the build, e.g. `x86-64-v3`.
	pub cpu_target: Vec<u8>,
}

/// Largest temperature a job may ask for, in thousandths ([`JobSampling::Sampled`]): 2.0, the
/// top of the range the usual APIs accept.
pub const MAX_TEMPERATURE_MILLI: u16 = 2_000;

/// `top_p` of 1 in millionths: every token kept.
pub const TOP_P_ONE_PPM: u32 = 1_000_000;

/// How a job's tokens are chosen. Part of the job's digest: nodes that sampled with other
/// settings ran another job.
///
/// The settings are integers on chain so that every node turns them into the same `f32`:
/// [`JobSampling::temperature`] and [`JobSampling::top_p`] are single correctly rounded IEEE
/// divisions of values exactly representable in `f32`.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum JobSampling {
	/// The most likely token at every step.
	Greedy,
	/// Softmax at `temperature_milli / 1000`, the nucleus of probability `top_p_ppm / 10⁶`,
	/// then a draw from a generator seeded with `seed`, which the chain fixed at assignment.
	Sampled {
		/// Temperature in thousandths, `1..=`[`MAX_TEMPERATURE_MILLI`].
		temperature_milli: u16,
		/// `top_p` in millionths, `1..=`[`TOP_P_ONE_PPM`].
		top_p_ppm: u32,
		/// Seed of the draws.
		seed: u64,
	},
}

impl JobSampling {
	/// Whether the settings are inside their ranges (greedy always is).
	pub fn is_valid(&self) -> bool {
		match *self {
			JobSampling::Greedy => true,
			JobSampling::Sampled {
				temperature_milli,
				top_p_ppm,
				..
			} => {
				(1..=MAX_TEMPERATURE_MILLI).contains(&temperature_milli)
					&& (1..=TOP_P_ONE_PPM).contains(&top_p_ppm)
			},
		}
	}

	/// The temperature as the engine takes it (0 for greedy).
	pub fn temperature(&self) -> f32 {
		match *self {
			JobSampling::Greedy => 0.0,
			JobSampling::Sampled {
				temperature_milli, ..
			} => f32::from(temperature_milli) / 1000.0,
		}
	}

	/// `top_p` as the engine takes it (1 for greedy). Exact: every `u32` up to 2²⁴ is an `f32`.
	pub fn top_p(&self) -> f32 {
		match *self {
			JobSampling::Greedy => 1.0,
			JobSampling::Sampled { top_p_ppm, .. } => {
				top_p_ppm.min(1 << 24) as f32 / TOP_P_ONE_PPM as f32
			},
		}
	}
}

/// A deterministic inference job, as the off-chain worker hands it to the host.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub struct JobRequest {
	/// The on-chain job (for logs; [`JobRequest::job_digest`] identifies the work).
	pub job_id: JobId,
	/// [`job_digest`] of the job: the host keys its slots by it, so a job id that names another
	/// job after a reorg is never answered with the old job's result.
	pub job_digest: Hash256,
	/// sha256 of the model file to run.
	pub model_sha256: Sha256,
	/// How `prompt` is read: text, or chat messages with the sha256 of the template to render
	/// them with.
	pub format: PromptFormat,
	/// The prompt as the chain stores it ([`JobPrompt::from_stored`]); the text the model reads
	/// is tokenized with BOS added and special tokens parsed.
	pub prompt: Vec<u8>,
	/// Generation stops after this many tokens, at an end-of-generation token, or when the
	/// context is full.
	pub max_tokens: u32,
	/// How tokens are chosen.
	pub sampling: JobSampling,
	/// The model's determinism class settings.
	pub profile: ExecutionProfile,
	/// The engine build the model's results are compared under.
	pub class: EngineClass,
	/// Offchain time (Unix milliseconds, as `sp_io::offchain::timestamp` reads it) after which the
	/// result is useless (the commit deadline): the host cancels the job and forgets it then.
	pub expires_at_ms: u64,
}

/// The result of a finished job.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub struct JobOutput {
	/// The prompt's token ids, as the engine tokenized it.
	pub prompt_tokens: Vec<TokenId>,
	/// The generated token ids (end-of-generation token excluded).
	pub output_tokens: Vec<TokenId>,
	/// The generated text (the pieces of `output_tokens`, concatenated, as bytes).
	pub text: Vec<u8>,
}

/// Why the host could not run a job.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub enum JobFailure {
	/// The model file is not in this node's model store.
	UnknownModel,
	/// The prompt and `max_tokens` do not fit the context.
	PromptTooLong,
	/// The engine's queue is full; ask again later.
	QueueFull,
	/// The job was cancelled.
	Cancelled,
	/// The job's deadline ([`JobRequest::expires_at_ms`]) passed before it finished.
	Expired,
	/// The host's engine class differs from the job's; running it would produce tokens the
	/// model's other validators do not.
	ClassMismatch,
	/// llama.cpp failed; the message says how.
	Engine(Vec<u8>),
	/// A chat job's messages could not be rendered: the model file has no chat template or
	/// another one than the job names, or the stored messages do not decode.
	ChatTemplate(Vec<u8>),
}

/// What the host knows about a job.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub enum HostJobStatus {
	/// This node has no inference engine (for example a node started without a model store).
	Unavailable,
	/// Waiting for a free engine slot.
	Queued,
	/// Being generated.
	Running,
	/// Finished.
	Done(JobOutput),
	/// Could not be run.
	Failed(JobFailure),
}

/// Domain separator of [`job_digest`].
pub const JOB_DIGEST_CONTEXT: &[u8] = b"cognitive-internet/job/v3";

/// The digest of everything that defines a job's work and identity:
/// `blake2_256(SCALE((JOB_DIGEST_CONTEXT, job_id, owner, model_sha256, profile, format, prompt,
/// max_tokens, sampling, submitted_at)))`, where `prompt` is the stored form of
/// [`JobPrompt::stored_bytes`].
///
/// The same job id can name two different jobs on two forks; their digests differ, so a result
/// computed on one fork is never committed on the other.
#[allow(clippy::too_many_arguments)]
pub fn job_digest<AccountId: Encode, BlockNumber: Encode>(
	job_id: JobId,
	owner: &AccountId,
	model_sha256: &Sha256,
	profile: &ExecutionProfile,
	format: &PromptFormat,
	prompt: &[u8],
	max_tokens: u32,
	sampling: &JobSampling,
	submitted_at: &BlockNumber,
) -> Hash256 {
	sp_crypto_hashing::blake2_256(
		&(
			JOB_DIGEST_CONTEXT,
			job_id,
			owner,
			model_sha256,
			profile,
			format,
			prompt,
			max_tokens,
			sampling,
			submitted_at,
		)
			.encode(),
	)
}

/// The bytes an inference key signs for any on-chain statement:
/// `SCALE((context, genesis_hash, payload))`.
///
/// The context separates kinds of statements (commit, reveal, heartbeat, key ownership), the
/// genesis hash separates chains: a signature made for a test network cannot be replayed on
/// another chain where the same key is registered.
pub fn signing_payload<P: Encode>(context: &[u8], genesis_hash: &Hash256, payload: &P) -> Vec<u8> {
	(context, genesis_hash, payload).encode()
}

/// The value each assigned validator commits to and reveals:
/// `blake2_256(SCALE(job_id, model_sha256, prompt_token_ids, output_token_ids))`.
///
/// It covers token ids rather than text so that two nodes agree exactly when their engines
/// produced the same tokens, whatever the detokenizer does with partial UTF-8.
pub fn result_hash(
	job_id: JobId,
	model_sha256: &Sha256,
	prompt_tokens: &[TokenId],
	output_tokens: &[TokenId],
) -> Hash256 {
	sp_crypto_hashing::blake2_256(&(job_id, model_sha256, prompt_tokens, output_tokens).encode())
}

/// The commitment a validator submits before revealing: `blake2_256(result_hash ‖ salt ‖
/// SCALE(validator))`.
///
/// The salt stops a node from guessing a peer's result hash out of its commitment; the
/// validator's account stops it from copying a peer's commitment: the copy would commit to the
/// peer's account, not its own, and its reveal could not match it.
pub fn commitment<AccountId: Encode>(
	result_hash: &Hash256,
	salt: &Hash256,
	validator: &AccountId,
) -> Hash256 {
	let mut bytes = Vec::with_capacity(64 + validator.encoded_size());
	bytes.extend_from_slice(result_hash);
	bytes.extend_from_slice(salt);
	validator.encode_to(&mut bytes);
	sp_crypto_hashing::blake2_256(&bytes)
}

/// The node side of off-chain inference, reached from the runtime through
/// [`inference_host_api`].
///
/// Implementations must not block: [`InferenceHost::poll_job`] enqueues a job the first time it
/// sees it and reports progress afterwards; the work happens on the engine's own threads.
#[cfg(feature = "std")]
pub trait InferenceHost: Send + Sync {
	/// Starts `request` if the host has not seen its digest yet, and reports its status.
	fn poll_job(&self, request: JobRequest) -> HostJobStatus;
	/// Forgets a job (the off-chain worker stored its result, or gave up on it).
	fn release_job(&self, job_digest: Hash256);
	/// Whether the host can run jobs on the model with this sha256 now: its engine runs, the
	/// verified file is in its store and its engine class is `class`.
	fn ready_for(&self, model_sha256: Sha256, class: EngineClass) -> bool;
}

#[cfg(feature = "std")]
sp_externalities::decl_extension! {
	/// The node's inference engine, registered for off-chain workers.
	pub struct InferenceExt(std::sync::Arc<dyn InferenceHost>);
}

#[cfg(feature = "std")]
impl InferenceExt {
	/// Wraps a host implementation.
	pub fn new(host: std::sync::Arc<dyn InferenceHost>) -> Self {
		Self(host)
	}
}

#[cfg(feature = "std")]
use sp_externalities::ExternalitiesExt;
use sp_runtime_interface::{
	pass_by::{AllocateAndReturnByCodec, PassFatPointerAndDecode, PassPointerAndReadCopy},
	runtime_interface,
};

/// Host functions for off-chain inference. Only off-chain workers may call them: block import
/// and authoring have no [`InferenceExt`], and then every call answers
/// [`HostJobStatus::Unavailable`], `false`, or does nothing.
#[runtime_interface]
pub trait InferenceHostApi {
	/// See [`InferenceHost::poll_job`].
	fn poll_job(
		&mut self,
		request: PassFatPointerAndDecode<JobRequest>,
	) -> AllocateAndReturnByCodec<HostJobStatus> {
		match self.extension::<InferenceExt>() {
			Some(ext) => ext.0.poll_job(request),
			None => HostJobStatus::Unavailable,
		}
	}

	/// See [`InferenceHost::release_job`].
	fn release_job(&mut self, job_digest: PassPointerAndReadCopy<Hash256, 32>) {
		if let Some(ext) = self.extension::<InferenceExt>() {
			ext.0.release_job(job_digest)
		}
	}

	/// See [`InferenceHost::ready_for`].
	fn ready_for(
		&mut self,
		model_sha256: PassPointerAndReadCopy<Sha256, 32>,
		class: PassFatPointerAndDecode<EngineClass>,
	) -> bool {
		match self.extension::<InferenceExt>() {
			Some(ext) => ext.0.ready_for(model_sha256, class),
			None => false,
		}
	}
}

/// The host functions of [`inference_host_api`], for the node's executor.
#[cfg(feature = "std")]
pub use inference_host_api::HostFunctions;

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn result_hash_covers_every_field() {
		let base = result_hash(1, &[7; 32], &[1, 2, 3], &[4, 5]);
		assert_eq!(base, result_hash(1, &[7; 32], &[1, 2, 3], &[4, 5]));
		assert_ne!(base, result_hash(2, &[7; 32], &[1, 2, 3], &[4, 5]));
		assert_ne!(base, result_hash(1, &[8; 32], &[1, 2, 3], &[4, 5]));
		assert_ne!(base, result_hash(1, &[7; 32], &[1, 2], &[3, 4, 5]));
		assert_ne!(base, result_hash(1, &[7; 32], &[1, 2, 3], &[4, 6]));
	}

	#[test]
	fn result_hash_is_blake2_of_scale_tuple() {
		// Spelled out independently of the helper, as a client would compute it.
		let mut bytes = 9u64.to_le_bytes().to_vec();
		bytes.extend_from_slice(&[1u8; 32]);
		bytes.push(2 << 2); // compact length 2
		bytes.extend_from_slice(&10u32.to_le_bytes());
		bytes.extend_from_slice(&11u32.to_le_bytes());
		bytes.push(1 << 2);
		bytes.extend_from_slice(&12u32.to_le_bytes());
		assert_eq!(
			result_hash(9, &[1; 32], &[10, 11], &[12]),
			sp_crypto_hashing::blake2_256(&bytes)
		);
	}

	#[test]
	fn job_digest_covers_every_field() {
		let p = ExecutionProfile {
			n_ctx: 2048,
			n_batch: 512,
			n_ubatch: 512,
		};
		let g = JobSampling::Greedy;
		let t = PromptFormat::Text;
		let base = job_digest(1, &7u64, &[1; 32], &p, &t, b"hi", 8, &g, &5u32);
		assert_eq!(
			base,
			job_digest(1, &7u64, &[1; 32], &p, &t, b"hi", 8, &g, &5u32)
		);
		assert_ne!(
			base,
			job_digest(2, &7u64, &[1; 32], &p, &t, b"hi", 8, &g, &5u32)
		);
		assert_ne!(
			base,
			job_digest(1, &8u64, &[1; 32], &p, &t, b"hi", 8, &g, &5u32)
		);
		assert_ne!(
			base,
			job_digest(1, &7u64, &[2; 32], &p, &t, b"hi", 8, &g, &5u32)
		);
		let q = ExecutionProfile { n_batch: 256, ..p };
		assert_ne!(
			base,
			job_digest(1, &7u64, &[1; 32], &q, &t, b"hi", 8, &g, &5u32)
		);
		assert_ne!(
			base,
			job_digest(1, &7u64, &[1; 32], &p, &t, b"ho", 8, &g, &5u32)
		);
		assert_ne!(
			base,
			job_digest(1, &7u64, &[1; 32], &p, &t, b"hi", 9, &g, &5u32)
		);
		assert_ne!(
			base,
			job_digest(1, &7u64, &[1; 32], &p, &t, b"hi", 8, &g, &6u32)
		);
		let chat = PromptFormat::Chat {
			template_sha256: [3; 32],
		};
		assert_ne!(
			base,
			job_digest(1, &7u64, &[1; 32], &p, &chat, b"hi", 8, &g, &5u32)
		);
		let s = JobSampling::Sampled {
			temperature_milli: 700,
			top_p_ppm: 950_000,
			seed: 1,
		};
		let sampled = job_digest(1, &7u64, &[1; 32], &p, &t, b"hi", 8, &s, &5u32);
		assert_ne!(base, sampled);
		let other_seed = JobSampling::Sampled {
			temperature_milli: 700,
			top_p_ppm: 950_000,
			seed: 2,
		};
		assert_ne!(
			sampled,
			job_digest(1, &7u64, &[1; 32], &p, &t, b"hi", 8, &other_seed, &5u32)
		);
	}

	#[test]
	fn sampling_settings_convert_exactly_and_are_bounded() {
		let s = |temperature_milli, top_p_ppm| JobSampling::Sampled {
			temperature_milli,
			top_p_ppm,
			seed: 0,
		};
		assert_eq!(s(700, 950_000).temperature(), 0.7f32);
		assert_eq!(s(700, 950_000).top_p(), 0.95f32);
		assert_eq!(s(2_000, TOP_P_ONE_PPM).temperature(), 2.0);
		assert_eq!(s(2_000, TOP_P_ONE_PPM).top_p(), 1.0);
		assert_eq!(JobSampling::Greedy.temperature(), 0.0);
		assert!(JobSampling::Greedy.is_valid());
		assert!(s(1, 1).is_valid());
		assert!(s(MAX_TEMPERATURE_MILLI, TOP_P_ONE_PPM).is_valid());
		assert!(
			!s(0, 950_000).is_valid(),
			"temperature 0 is greedy: one way to say it"
		);
		assert!(!s(MAX_TEMPERATURE_MILLI + 1, 950_000).is_valid());
		assert!(!s(700, 0).is_valid());
		assert!(!s(700, TOP_P_ONE_PPM + 1).is_valid());
	}

	#[test]
	fn signing_payload_is_context_genesis_payload() {
		let bytes = signing_payload(b"ctx", &[9; 32], &(5u64, 6u8));
		let mut expected = vec![3 << 2, b'c', b't', b'x'];
		expected.extend_from_slice(&[9; 32]);
		expected.extend_from_slice(&5u64.to_le_bytes());
		expected.push(6);
		assert_eq!(bytes, expected);
		assert_ne!(bytes, signing_payload(b"ctx", &[8; 32], &(5u64, 6u8)));
	}

	#[test]
	fn commitment_binds_salt_and_validator() {
		let h = [3u8; 32];
		let c = commitment(&h, &[1; 32], &[9u8; 32]);
		assert_ne!(c, commitment(&h, &[2; 32], &[9u8; 32]));
		assert_ne!(c, commitment(&h, &[1; 32], &[8u8; 32]));
		assert_ne!(c, commitment(&[4; 32], &[1; 32], &[9u8; 32]));
	}
}
