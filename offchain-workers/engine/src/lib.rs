//! # Inference engine
//!
//! Everything a Cognitive Internet node does with models on its own hardware:
//!
//! - [`store`]: GGUF files kept by sha256, verified on import and again before first use; a
//!   verified file is kept open and models are loaded through that handle, never by re-opening
//!   the store path;
//! - [`types`]: the engine's configuration, requests, results and errors;
//! - [`pool`]: the [`Engine`]: worker threads behind two bounded queues, one per [`Lane`]
//!   (chain jobs are always taken first and have workers of their own), with cancellation;
//! - `gate` (private): the compute slots that keep generations from outnumbering the cores,
//!   chain jobs first;
//! - `llama` (private): llama.cpp (through `llama-cpp-2`, pinned): the model cache with a
//!   memory budget and LRU unloading, prompt rendering, and the generation loop (streaming,
//!   timings, a fresh deterministic context per request);
//! - [`host`]: the engine as the off-chain worker's [`inference_primitives::InferenceHost`]:
//!   slots keyed by job digest that expire at the job's deadline, and the refusal of jobs of
//!   another determinism class ([`engine_class`]);
//! - [`proof`]: the signed byte string of JSON-RPC inference proofs (version 2, bound to the
//!   chain and a recent block);
//! - [`observe`]: the [`EngineObserver`] hook through which the node counts requests,
//!   timings and model loads for its metrics;
//! - [`sampler`]: temperature and top-p sampling with a seeded draw that every node of a
//!   determinism class reproduces bit for bit;
//! - [`utf8`]: the incremental UTF-8 decoder used when streaming token pieces.

mod gate;
pub mod host;
mod llama;
pub mod observe;
pub mod pool;
pub mod proof;
pub mod sampler;
pub mod stop;
pub mod store;
pub mod types;
pub mod utf8;

pub use host::JobHost;
pub use llama::chat_template_sha256;
pub use observe::{EngineObserver, JobObserver};
pub use pool::Engine;
pub use store::{ModelHash, ModelStore, StoreError, StoredModel, VerifiedModel};
pub use types::{
	CancelToken, ChatMessage, EngineConfig, EngineError, FinishReason, GenerateRequest, Generation,
	GenerationReceiver, Input, Lane, Sampling, Timings, TokenEvent,
};

use inference_primitives::EngineClass;

/// The inference engine, as model whitelist entries name it.
pub const ENGINE_NAME: &str = "llama.cpp";

/// The exact engine build, as recorded in model whitelist entries' determinism profiles.
pub const ENGINE_VERSION: &str = "llama-cpp-2 0.1.160";

/// The CPU instruction-set level llama.cpp is compiled for (see `.cargo/config.toml`).
pub const CPU_TARGET: &str = "x86-64-v3";

/// This build's determinism class: [`ENGINE_NAME`], [`ENGINE_VERSION`] and [`CPU_TARGET`]. The
/// job host runs only jobs of exactly this class.
pub fn engine_class() -> EngineClass {
	EngineClass {
		engine: ENGINE_NAME.as_bytes().to_vec(),
		engine_version: ENGINE_VERSION.as_bytes().to_vec(),
		cpu_target: CPU_TARGET.as_bytes().to_vec(),
	}
}
