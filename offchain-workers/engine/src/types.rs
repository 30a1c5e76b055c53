//! The engine's vocabulary: its configuration, what a request carries, what comes back, and the
//! errors. Nothing here touches llama.cpp or threads, so callers (the node's JSON-RPC layer, the
//! job host) can build and match on these types without knowing how the engine runs.

use crate::store::{ModelHash, StoreError};
use futures::channel::oneshot;
use inference_primitives::{ExecutionProfile, JobSampling};
use std::sync::{
	atomic::{AtomicBool, Ordering},
	Arc,
};

/// Limits and sizes of an [`Engine`](crate::Engine).
#[derive(Clone, Debug)]
pub struct EngineConfig {
	/// CPU threads each generation uses (does not change results).
	pub threads: i32,
	/// Worker threads shared by both lanes: each takes a waiting chain job before a public
	/// request.
	pub workers: usize,
	/// Extra worker threads that only ever run chain jobs ([`Lane::Chain`]), so on-chain work
	/// never waits behind public generations, however long those are.
	pub chain_workers: usize,
	/// Public requests ([`Lane::Public`]) that may wait for a worker; more are refused with
	/// [`EngineError::QueueFull`].
	pub queue_capacity: usize,
	/// Chain jobs ([`Lane::Chain`]) that may wait for a worker. A separate bound, so public
	/// traffic can never fill the room chain jobs need.
	pub chain_queue_capacity: usize,
	/// Bytes of model files kept loaded; least recently used idle models are unloaded first.
	pub memory_budget_bytes: u64,
	/// Largest prompt (after the chat template) in bytes.
	pub max_prompt_bytes: usize,
	/// Largest `max_tokens` a request may ask for.
	pub max_tokens: u32,
	/// Context settings for requests that do not bring their own (JSON-RPC).
	pub default_profile: ExecutionProfile,
}

impl Default for EngineConfig {
	fn default() -> Self {
		Self {
			threads: std::thread::available_parallelism()
				.map(|n| n.get().min(8) as i32)
				.unwrap_or(2),
			workers: 1,
			chain_workers: 1,
			queue_capacity: 16,
			chain_queue_capacity: 64,
			memory_budget_bytes: 2 << 30,
			max_prompt_bytes: 8 * 1024,
			max_tokens: 512,
			default_profile: ExecutionProfile {
				n_ctx: 2048,
				n_batch: 512,
				n_ubatch: 512,
			},
		}
	}
}

/// Which queue a request waits in.
///
/// On-chain jobs have deadlines (a validator that misses the commit phase is slashed for it);
/// public requests do not. The two lanes have separate bounds, and every worker takes a waiting
/// chain job before a public request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lane {
	/// An on-chain job, submitted by the off-chain worker through the job host.
	Chain,
	/// A direct request (JSON-RPC, tools).
	Public,
}

/// A chat message; the model's own chat template turns a list of them into the prompt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatMessage {
	/// `system`, `user` or `assistant`.
	pub role: String,
	/// The text.
	pub content: String,
}

/// What the model is given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
	/// A raw prompt, tokenized as is.
	Text(String),
	/// Messages, rendered with the model's chat template (assistant turn opened).
	Chat {
		/// The conversation so far.
		messages: Vec<ChatMessage>,
		/// sha256 of the template they must be rendered with (an on-chain job's, from the
		/// model's whitelist entry): a model file with another template, or none, fails the
		/// request instead of rendering it differently from other nodes. `None`: whatever
		/// template the file has.
		template_sha256: Option<[u8; 32]>,
	},
}

/// One generation request.
#[derive(Clone, Debug)]
pub struct GenerateRequest {
	/// sha256 of the model file.
	pub model: ModelHash,
	/// Prompt or messages.
	pub input: Input,
	/// Most tokens to generate.
	pub max_tokens: u32,
	/// Context settings (the model's determinism class for on-chain jobs).
	pub profile: ExecutionProfile,
	/// How tokens are picked.
	pub sampling: Sampling,
	/// Stop sequences ([`crate::stop`]): generation ends where the text first contains one,
	/// and the text ends before it. Empty for on-chain jobs, whose output is the tokens alone.
	pub stop: Vec<String>,
}

/// Token selection.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Sampling {
	/// The most likely token: the only choice for results that others must reproduce.
	Greedy,
	/// Softmax at `temperature`, the nucleus of probability `top_p`, then a draw seeded by
	/// `seed`: reproducible bit for bit on every node of the determinism class, given the seed
	/// ([`crate::sampler`]).
	Temperature {
		/// At least 0 (0 is greedy), finite.
		temperature: f32,
		/// In `(0, 1]` (1 keeps every token).
		top_p: f32,
		/// Seed of the draws.
		seed: u64,
	},
}

impl Sampling {
	/// The reproducible sampler of these settings (`None` for greedy decoding), or why the
	/// settings are refused: the one check every entry point (RPC, engine queue, generation
	/// loop) goes through.
	pub fn sampler(
		&self,
	) -> Result<Option<crate::sampler::Sampler>, crate::sampler::InvalidSampling> {
		match *self {
			Sampling::Greedy => Ok(None),
			Sampling::Temperature {
				temperature,
				top_p,
				seed,
			} => crate::sampler::Sampler::new(temperature, top_p, seed).map(Some),
		}
	}
}

/// A job's on-chain settings as the engine samples with them: the same `f32`s on every node
/// ([`JobSampling::temperature`], [`JobSampling::top_p`]).
impl From<JobSampling> for Sampling {
	fn from(sampling: JobSampling) -> Self {
		match sampling {
			JobSampling::Greedy => Sampling::Greedy,
			JobSampling::Sampled { seed, .. } => Sampling::Temperature {
				temperature: sampling.temperature(),
				top_p: sampling.top_p(),
				seed,
			},
		}
	}
}

/// Why generation stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FinishReason {
	/// The model produced an end-of-generation token.
	Stop,
	/// The text reached one of the request's stop sequences.
	StopSequence,
	/// `max_tokens` were generated.
	Length,
	/// The context is full.
	ContextFull,
}

/// Where the time went, and the resulting speeds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Timings {
	/// Waiting for a worker.
	pub queue_ms: f64,
	/// Loading (or finding) the model and creating the context.
	pub load_ms: f64,
	/// Evaluating the prompt.
	pub prompt_ms: f64,
	/// Generating the output.
	pub generation_ms: f64,
	/// Prompt tokens per second.
	pub prompt_tokens_per_second: f64,
	/// Generated tokens per second.
	pub generation_tokens_per_second: f64,
}

/// A finished generation.
#[derive(Clone, Debug)]
pub struct Generation {
	/// The exact prompt text the model was given.
	pub prompt: String,
	/// Its token ids.
	pub prompt_tokens: Vec<u32>,
	/// Generated token ids (end-of-generation token excluded).
	pub output_tokens: Vec<u32>,
	/// The pieces of `output_tokens`, concatenated.
	pub output_bytes: Vec<u8>,
	/// `output_bytes` as text (invalid UTF-8 replaced by U+FFFD), cut before the first stop
	/// sequence if one was found.
	pub text: String,
	/// Why it stopped.
	pub finish_reason: FinishReason,
	/// Timings.
	pub timings: Timings,
}

/// A streamed token: its id and the text it completes (empty while a multi-byte character
/// is split across tokens).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenEvent {
	/// Token id; `None` for the last event, which flushes an incomplete character.
	pub id: Option<u32>,
	/// Newly complete text.
	pub text: String,
}

/// Errors of the engine. Each maps to a distinct JSON-RPC error code in the node.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
	/// The model is not in the store.
	#[error("unknown model {0}")]
	UnknownModel(String),
	/// The prompt is larger than [`EngineConfig::max_prompt_bytes`].
	#[error("prompt has {bytes} bytes, the limit is {limit}")]
	PromptTooLarge {
		/// Prompt size.
		bytes: usize,
		/// Limit.
		limit: usize,
	},
	/// Prompt tokens plus `max_tokens` exceed the context.
	#[error(
		"prompt of {prompt_tokens} tokens plus max_tokens {max_tokens} exceeds the context of \
		 {n_ctx}"
	)]
	ContextOverflow {
		/// Prompt tokens.
		prompt_tokens: usize,
		/// Requested tokens.
		max_tokens: u32,
		/// Context size.
		n_ctx: u32,
	},
	/// `max_tokens` is 0 or above [`EngineConfig::max_tokens`].
	#[error("max_tokens must be between 1 and {0}")]
	BadMaxTokens(u32),
	/// The context settings are unusable.
	#[error("invalid execution profile: {0}")]
	BadProfile(&'static str),
	/// The temperature or `top_p` is out of range.
	#[error(transparent)]
	BadSampling(#[from] crate::sampler::InvalidSampling),
	/// The stop sequences are too many, too long or empty ([`crate::stop::check`]).
	#[error("stop: {0}")]
	BadStop(String),
	/// The queue of the request's [`Lane`] is full (the number is how many wait in it).
	#[error("the inference queue is full ({0} waiting)")]
	QueueFull(usize),
	/// The model does not fit the memory budget next to models in use.
	#[error("model of {needed} bytes does not fit the memory budget of {budget} bytes")]
	MemoryBudget {
		/// Model size.
		needed: u64,
		/// Budget.
		budget: u64,
	},
	/// The request was cancelled.
	#[error("cancelled")]
	Cancelled,
	/// The engine is shutting down.
	#[error("the engine is shutting down")]
	ShuttingDown,
	/// The model has no chat template or the messages could not be rendered.
	#[error("chat template: {0}")]
	Template(String),
	/// llama.cpp failed.
	#[error("llama.cpp: {0}")]
	Llama(String),
	/// The model store failed (corrupt file, I/O).
	#[error(transparent)]
	Store(#[from] StoreError),
}

/// Stops a request. Cloning shares the flag.
#[derive(Clone, Debug, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
	/// A token that has not fired.
	pub fn new() -> Self {
		Self::default()
	}
	/// Fires the token.
	pub fn cancel(&self) {
		self.0.store(true, Ordering::Relaxed)
	}
	/// Whether it fired.
	pub fn is_cancelled(&self) -> bool {
		self.0.load(Ordering::Relaxed)
	}
}

/// The receiving end of a submitted request.
pub type GenerationReceiver = oneshot::Receiver<Result<Generation, EngineError>>;
