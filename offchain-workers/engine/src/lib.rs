//! # Inference engine
//!
//! Everything a Cognitive Internet node does with models on its own hardware:
//!
//! - [`store`]: GGUF files kept by sha256, verified on import and again before first use;
//! - [`engine`]: llama.cpp (through `llama-cpp-2`, pinned) on worker threads behind a bounded
//!   queue, with a memory budget and LRU unloading, streaming, cancellation and timings, and a
//!   fresh deterministic context per request;
//! - [`host`]: the engine as the off-chain worker's [`inference_primitives::InferenceHost`];
//! - [`proof`]: the signed byte string of JSON-RPC inference proofs;
//! - [`utf8`]: the incremental UTF-8 decoder used when streaming token pieces.

pub mod engine;
pub mod host;
pub mod proof;
pub mod store;
pub mod utf8;

pub use engine::{
	CancelToken, ChatMessage, Engine, EngineConfig, EngineError, FinishReason, GenerateRequest,
	Generation, Input, Sampling, Timings, TokenEvent,
};
pub use host::JobHost;
pub use store::{ModelHash, ModelStore, StoreError, StoredModel};

/// The exact engine build, as recorded in model whitelist entries' determinism profiles.
pub const ENGINE_VERSION: &str = "llama-cpp-2 0.1.160";

/// The CPU instruction-set level llama.cpp is compiled for (see `.cargo/config.toml`).
pub const CPU_TARGET: &str = "x86-64-v3";
