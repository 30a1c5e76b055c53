//! Types of the model registry: a model's description and its determinism profile.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::fmt::Debug;
use frame_support::{traits::ConstU32, BoundedVec};
use scale_info::TypeInfo;

/// Index of a whitelisted model; assigned in whitelisting order, never reused.
pub type ModelId = u32;

/// Short text (names, versions, architectures, licences), UTF-8, at most 64 bytes.
pub type ShortText = BoundedVec<u8, ConstU32<64>>;

/// An IPFS CIDv1 in its base32 text form (`bafy…`), at most 128 bytes.
pub type CidText = BoundedVec<u8, ConstU32<128>>;

/// File format of a model.
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
	serde::Serialize,
	serde::Deserialize,
)]
pub enum ModelFormat {
	/// llama.cpp's GGUF.
	Gguf,
}

/// How the next token is chosen. Only greedy decoding is deterministic across nodes.
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
	serde::Serialize,
	serde::Deserialize,
)]
pub enum Sampler {
	/// Argmax of the logits.
	Greedy,
}

/// The settings under which two nodes produce bit-identical tokens: a model's *determinism
/// class*. Results are only compared between nodes running the same profile.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
	serde::Serialize,
	serde::Deserialize,
)]
#[serde(rename_all = "camelCase")]
pub struct DeterminismProfile {
	/// Inference engine, e.g. `llama.cpp`.
	pub engine: ShortText,
	/// Exact engine build, e.g. `llama-cpp-2 0.1.160`.
	pub engine_version: ShortText,
	/// CPU instruction-set level the engine is built for, e.g. `x86-64-v3` (never `native`).
	pub cpu_target: ShortText,
	/// Context size in tokens.
	pub n_ctx: u32,
	/// Logical batch size.
	pub n_batch: u32,
	/// Physical micro-batch size.
	pub n_ubatch: u32,
	/// Must be `false`: flash attention changed tokens between runs in our measurements.
	pub flash_attention: bool,
	/// Token selection.
	pub sampler: Sampler,
	/// sha256 of the model file's chat template (its GGUF key `tokenizer.chat_template`;
	/// `cognitive-node model add` prints it), or `None` when the file has none. Chat jobs are
	/// rendered with it on every node, and refused for a model without one; a node whose file
	/// carries another template refuses the job rather than render it differently.
	#[serde(default)]
	pub chat_template: Option<[u8; 32]>,
}

/// Smallest context a profile may ask for (the engine refuses less).
pub const MIN_N_CTX: u32 = 16;
/// Largest context a profile may ask for: the engine's own maximum. A larger context would let
/// governance whitelist a model that exhausts every validator's memory.
pub const MAX_N_CTX: u32 = 131_072;

/// The engine build a node runs: nodes of one class produce bit-identical tokens for a model's
/// profile, nodes of different classes may not. A node declares its class; jobs go only to
/// nodes of their model's class.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
	serde::Serialize,
	serde::Deserialize,
)]
#[serde(rename_all = "camelCase")]
pub struct DeterminismClass {
	/// Inference engine, e.g. `llama.cpp`.
	pub engine: ShortText,
	/// Exact engine build, e.g. `llama-cpp-2 0.1.160`.
	pub engine_version: ShortText,
	/// CPU instruction-set level the engine is built for, e.g. `x86-64-v3`.
	pub cpu_target: ShortText,
}

impl DeterminismProfile {
	/// The class of nodes that may run jobs under this profile.
	pub fn class(&self) -> DeterminismClass {
		DeterminismClass {
			engine: self.engine.clone(),
			engine_version: self.engine_version.clone(),
			cpu_target: self.cpu_target.clone(),
		}
	}
}

/// What a job needs to know about its model, read by the proof-of-inference pallet.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct JobSpec {
	/// sha256 of the model file.
	pub sha256: [u8; 32],
	/// The determinism profile (context, batch sizes, class).
	pub profile: DeterminismProfile,
	/// Whether the model takes new jobs.
	pub active: bool,
}

/// Everything the chain records about a model.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
	serde::Serialize,
	serde::Deserialize,
)]
#[serde(rename_all = "camelCase")]
pub struct ModelInfo {
	/// Human-readable name.
	pub name: ShortText,
	/// IPFS CIDv1 of the file (raw leaves, sha2-256, 1 MiB chunks, 1024 links per node).
	pub cid: CidText,
	/// sha256 of the whole file; unique in the registry.
	pub sha256: [u8; 32],
	/// File size in bytes.
	pub size_bytes: u64,
	/// File format.
	pub format: ModelFormat,
	/// Model architecture, e.g. `llama`.
	pub architecture: ShortText,
	/// Quantisation, e.g. `Q4_1`.
	pub quantization: ShortText,
	/// Licence identifier, e.g. `Apache-2.0`.
	pub license: ShortText,
	/// The determinism class results are compared in.
	pub profile: DeterminismProfile,
}

/// Lifecycle of a whitelisted model.
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
pub enum ModelStatus {
	/// Takes new jobs.
	Active,
	/// Readable, takes no new jobs; may be removed once no node serves it.
	Deprecated,
}

/// A registry entry.
#[derive(
	Encode, Decode, DecodeWithMemTracking, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen,
)]
pub struct ModelEntry<BlockNumber> {
	/// The model's description.
	pub info: ModelInfo,
	/// Active or deprecated.
	pub status: ModelStatus,
	/// Block at which it was whitelisted (0 for genesis models).
	pub whitelisted_at: BlockNumber,
}

/// Why a [`ModelInfo`] is not acceptable.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum InvalidModel {
	/// Empty name, architecture or quantisation.
	MissingField,
	/// The CID is not a base32 CIDv1 text (`b` followed by `a-z2-7`).
	InvalidCid,
	/// Size is zero.
	EmptyFile,
	/// Flash attention on, a non-greedy sampler, or batch sizes outside `0 < n_ubatch <= n_batch
	/// <= n_ctx`.
	NondeterministicProfile,
	/// `n_ctx` outside `MIN_N_CTX..=MAX_N_CTX`, or an empty engine, version or CPU target.
	UnsupportedProfile,
}

impl ModelInfo {
	/// Checks the fields the chain can check.
	pub fn validate(&self) -> Result<(), InvalidModel> {
		if self.name.is_empty() || self.architecture.is_empty() || self.quantization.is_empty() {
			return Err(InvalidModel::MissingField);
		}
		let cid = self.cid.as_slice();
		let base32 = |c: &u8| c.is_ascii_lowercase() || (b'2'..=b'7').contains(c);
		if cid.len() < 8 || cid[0] != b'b' || !cid[1..].iter().all(base32) {
			return Err(InvalidModel::InvalidCid);
		}
		if self.size_bytes == 0 {
			return Err(InvalidModel::EmptyFile);
		}
		let p = &self.profile;
		if p.flash_attention
			|| p.sampler != Sampler::Greedy
			|| p.n_ubatch == 0
			|| p.n_ubatch > p.n_batch
			|| p.n_batch > p.n_ctx
		{
			return Err(InvalidModel::NondeterministicProfile);
		}
		if !(MIN_N_CTX..=MAX_N_CTX).contains(&p.n_ctx)
			|| p.engine.is_empty()
			|| p.engine_version.is_empty()
			|| p.cpu_target.is_empty()
		{
			return Err(InvalidModel::UnsupportedProfile);
		}
		Ok(())
	}
}
