//! The inference engine: llama.cpp behind a bounded queue and a fixed pool of worker threads.
//!
//! Callers [`Engine::submit`] a [`GenerateRequest`] and get a future-compatible receiver for the
//! [`Generation`]; tokens can be streamed on the way and a [`CancelToken`] stops a request
//! whether it is still queued or already generating. Work runs only on the engine's own threads,
//! so neither block import nor RPC handlers ever wait on llama.cpp.
//!
//! Every request runs in a fresh llama.cpp context built from its [`ExecutionProfile`]
//! (`n_ctx`, `n_batch`, `n_ubatch`), with flash attention disabled and greedy sampling: the
//! settings that make token ids identical across thread counts and batch sizes on one build
//! (docs/determinism.md).

use crate::{
	store::{ModelHash, ModelStore, StoreError},
	utf8::Utf8Decoder,
};
use futures::channel::{mpsc, oneshot};
use inference_primitives::ExecutionProfile;
use llama_cpp_2::{
	context::params::LlamaContextParams,
	llama_backend::LlamaBackend,
	llama_batch::LlamaBatch,
	model::{params::LlamaModelParams, LlamaChatMessage, LlamaModel},
	sampling::LlamaSampler,
	token::LlamaToken,
};
use parking_lot::{Condvar, Mutex};
use std::{
	collections::{HashMap, VecDeque},
	num::NonZeroU32,
	sync::{
		atomic::{AtomicBool, AtomicUsize, Ordering},
		Arc, OnceLock,
	},
	time::Instant,
};

/// Limits and sizes of an [`Engine`].
#[derive(Clone, Debug)]
pub struct EngineConfig {
	/// CPU threads each generation uses (does not change results).
	pub threads: i32,
	/// Generations that run at the same time (worker threads).
	pub workers: usize,
	/// Requests that may wait for a worker; more are refused with [`EngineError::QueueFull`].
	pub queue_capacity: usize,
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
			queue_capacity: 16,
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
	Chat(Vec<ChatMessage>),
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
}

/// Token selection.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Sampling {
	/// The most likely token: the only choice for results that others must reproduce.
	Greedy,
	/// Softmax at `temperature`, then a draw seeded by `seed` (for direct requests that do not
	/// ask for determinism).
	Temperature {
		/// Above 0.
		temperature: f32,
		/// Seed of the draw.
		seed: u32,
	},
}

/// Why generation stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FinishReason {
	/// The model produced an end-of-generation token.
	Stop,
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
	/// `output_bytes` as text (invalid UTF-8 replaced by U+FFFD).
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
	#[error("prompt of {prompt_tokens} tokens plus max_tokens {max_tokens} exceeds the context of {n_ctx}")]
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
	/// The queue is full.
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

struct Task {
	request: GenerateRequest,
	stream: Option<mpsc::UnboundedSender<TokenEvent>>,
	cancel: CancelToken,
	started: Arc<AtomicBool>,
	reply: oneshot::Sender<Result<Generation, EngineError>>,
	enqueued: Instant,
}

struct LoadedModel {
	model: Arc<LlamaModel>,
	bytes: u64,
	last_used: u64,
}

#[derive(Default)]
struct ModelCache {
	models: HashMap<ModelHash, LoadedModel>,
	bytes: u64,
	clock: u64,
}

struct Inner {
	config: EngineConfig,
	store: ModelStore,
	queue: Mutex<VecDeque<Task>>,
	wake: Condvar,
	cache: Mutex<ModelCache>,
	running: AtomicUsize,
	shutdown: AtomicBool,
}

/// The engine. Dropping it stops the workers after their current request.
pub struct Engine {
	inner: Arc<Inner>,
}

/// llama.cpp's backend may be initialised once per process.
fn backend() -> Result<&'static LlamaBackend, EngineError> {
	static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
	BACKEND
		.get_or_init(|| {
			LlamaBackend::init()
				.map(|mut b| {
					b.void_logs();
					b
				})
				.map_err(|e| e.to_string())
		})
		.as_ref()
		.map_err(|e| EngineError::Llama(e.clone()))
}

impl Engine {
	/// Starts the worker threads.
	pub fn new(store: ModelStore, config: EngineConfig) -> Result<Self, EngineError> {
		backend()?;
		let workers = config.workers.max(1);
		let inner = Arc::new(Inner {
			config,
			store,
			queue: Mutex::new(VecDeque::new()),
			wake: Condvar::new(),
			cache: Mutex::new(ModelCache::default()),
			running: AtomicUsize::new(0),
			shutdown: AtomicBool::new(false),
		});
		for i in 0..workers {
			let inner = inner.clone();
			std::thread::Builder::new()
				.name(format!("inference-{i}"))
				.spawn(move || worker_loop(inner))
				.map_err(|e| EngineError::Llama(format!("cannot start a worker thread: {e}")))?;
		}
		Ok(Self { inner })
	}

	/// The model store.
	pub fn store(&self) -> &ModelStore {
		&self.inner.store
	}

	/// The configuration.
	pub fn config(&self) -> &EngineConfig {
		&self.inner.config
	}

	/// Requests waiting for a worker.
	pub fn queue_depth(&self) -> usize {
		self.inner.queue.lock().len()
	}

	/// Requests being generated.
	pub fn running(&self) -> usize {
		self.inner.running.load(Ordering::Relaxed)
	}

	/// Loaded models and their sizes, most recently used first.
	pub fn loaded_models(&self) -> Vec<(ModelHash, u64)> {
		let cache = self.inner.cache.lock();
		let mut loaded: Vec<_> = cache
			.models
			.iter()
			.map(|(h, m)| (*h, m.bytes, m.last_used))
			.collect();
		loaded.sort_by_key(|m| std::cmp::Reverse(m.2));
		loaded.into_iter().map(|(h, b, _)| (h, b)).collect()
	}

	/// Loads a model now (at node start), so the first request does not pay for it.
	pub fn preload(&self, model: &ModelHash) -> Result<(), EngineError> {
		load_model(&self.inner, model).map(|_| ())
	}

	/// Queues a request. The checks that need no model (sizes, queue room) fail here, at once;
	/// the rest arrive through the receiver.
	pub fn submit(
		&self,
		request: GenerateRequest,
		stream: Option<mpsc::UnboundedSender<TokenEvent>>,
		cancel: CancelToken,
	) -> Result<(GenerationReceiver, Arc<AtomicBool>), EngineError> {
		let config = &self.inner.config;
		if self.inner.shutdown.load(Ordering::Relaxed) {
			return Err(EngineError::ShuttingDown);
		}
		if request.max_tokens == 0 || request.max_tokens > config.max_tokens {
			return Err(EngineError::BadMaxTokens(config.max_tokens));
		}
		let bytes = match &request.input {
			Input::Text(t) => t.len(),
			Input::Chat(m) => m.iter().map(|m| m.role.len() + m.content.len()).sum(),
		};
		if bytes > config.max_prompt_bytes {
			return Err(EngineError::PromptTooLarge {
				bytes,
				limit: config.max_prompt_bytes,
			});
		}
		check_profile(&request.profile)?;
		if !self.inner.store.contains(&request.model) {
			return Err(EngineError::UnknownModel(hex::encode(request.model)));
		}
		let (reply, receiver) = oneshot::channel();
		let started = Arc::new(AtomicBool::new(false));
		{
			let mut queue = self.inner.queue.lock();
			if queue.len() >= config.queue_capacity {
				return Err(EngineError::QueueFull(queue.len()));
			}
			queue.push_back(Task {
				request,
				stream,
				cancel,
				started: started.clone(),
				reply,
				enqueued: Instant::now(),
			});
		}
		self.inner.wake.notify_one();
		Ok((receiver, started))
	}

	/// Submits and waits (for tools, tests and benchmarks; never call it on an async runtime's
	/// thread).
	pub fn generate_blocking(&self, request: GenerateRequest) -> Result<Generation, EngineError> {
		let (receiver, _) = self.submit(request, None, CancelToken::new())?;
		futures::executor::block_on(receiver).map_err(|_| EngineError::ShuttingDown)?
	}
}

impl Drop for Engine {
	fn drop(&mut self) {
		self.inner.shutdown.store(true, Ordering::Relaxed);
		self.inner.wake.notify_all();
	}
}

fn check_profile(p: &ExecutionProfile) -> Result<(), EngineError> {
	if p.n_ctx < 16 || p.n_ctx > 1 << 17 {
		return Err(EngineError::BadProfile(
			"n_ctx must be between 16 and 131072",
		));
	}
	if p.n_batch == 0 || p.n_ubatch == 0 || p.n_ubatch > p.n_batch || p.n_batch > p.n_ctx {
		return Err(EngineError::BadProfile(
			"need 0 < n_ubatch <= n_batch <= n_ctx",
		));
	}
	Ok(())
}

fn worker_loop(inner: Arc<Inner>) {
	loop {
		let task = {
			let mut queue = inner.queue.lock();
			loop {
				if inner.shutdown.load(Ordering::Relaxed) {
					// Refuse what is left so no caller waits forever.
					for task in queue.drain(..) {
						let _ = task.reply.send(Err(EngineError::ShuttingDown));
					}
					return;
				}
				if let Some(task) = queue.pop_front() {
					break task;
				}
				inner.wake.wait(&mut queue);
			}
		};
		if task.cancel.is_cancelled() {
			let _ = task.reply.send(Err(EngineError::Cancelled));
			continue;
		}
		task.started.store(true, Ordering::Relaxed);
		inner.running.fetch_add(1, Ordering::Relaxed);
		let queue_ms = task.enqueued.elapsed().as_secs_f64() * 1e3;
		// A panic in llama.cpp glue must not take the worker (or the node) down.
		let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
			run(&inner, &task.request, task.stream.as_ref(), &task.cancel)
		}))
		.unwrap_or_else(|_| Err(EngineError::Llama("generation panicked".into())));
		inner.running.fetch_sub(1, Ordering::Relaxed);
		let _ = task.reply.send(result.map(|mut g| {
			g.timings.queue_ms = queue_ms;
			g
		}));
	}
}

/// Finds a loaded model or loads it, unloading idle least-recently-used models to stay inside
/// the memory budget.
fn load_model(inner: &Inner, hash: &ModelHash) -> Result<Arc<LlamaModel>, EngineError> {
	let mut cache = inner.cache.lock();
	cache.clock += 1;
	let clock = cache.clock;
	if let Some(entry) = cache.models.get_mut(hash) {
		entry.last_used = clock;
		return Ok(entry.model.clone());
	}
	let path = inner.store.verified_path(hash)?;
	let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
	let budget = inner.config.memory_budget_bytes;
	while cache.bytes + bytes > budget {
		// Only models no request holds can go.
		let victim = cache
			.models
			.iter()
			.filter(|(_, m)| Arc::strong_count(&m.model) == 1)
			.min_by_key(|(_, m)| m.last_used)
			.map(|(h, _)| *h);
		let Some(victim) = victim else {
			return Err(EngineError::MemoryBudget {
				needed: bytes,
				budget,
			});
		};
		if let Some(gone) = cache.models.remove(&victim) {
			cache.bytes = cache.bytes.saturating_sub(gone.bytes);
			log::info!(target: "inference", "unloaded model {}", hex::encode(victim));
		}
	}
	let backend = backend()?;
	let model = LlamaModel::load_from_file(backend, &path, &LlamaModelParams::default())
		.map_err(|e| EngineError::Llama(format!("loading {}: {e}", path.display())))?;
	let model = Arc::new(model);
	cache.bytes += bytes;
	cache.models.insert(
		*hash,
		LoadedModel {
			model: model.clone(),
			bytes,
			last_used: clock,
		},
	);
	log::info!(target: "inference", "loaded model {} ({bytes} bytes)", hex::encode(hash));
	Ok(model)
}

fn render_prompt(model: &LlamaModel, input: &Input) -> Result<String, EngineError> {
	match input {
		Input::Text(text) => Ok(text.clone()),
		Input::Chat(messages) => {
			let template = model
				.chat_template(None)
				.map_err(|e| EngineError::Template(format!("the model has none: {e}")))?;
			let chat = messages
				.iter()
				.map(|m| LlamaChatMessage::new(m.role.clone(), m.content.clone()))
				.collect::<Result<Vec<_>, _>>()
				.map_err(|e| EngineError::Template(e.to_string()))?;
			model
				.apply_chat_template(&template, &chat, true)
				.map_err(|e| EngineError::Template(e.to_string()))
		},
	}
}

fn run(
	inner: &Inner,
	request: &GenerateRequest,
	stream: Option<&mpsc::UnboundedSender<TokenEvent>>,
	cancel: &CancelToken,
) -> Result<Generation, EngineError> {
	let t_load = Instant::now();
	let model = load_model(inner, &request.model)?;
	let prompt = render_prompt(&model, &request.input)?;
	if prompt.len() > inner.config.max_prompt_bytes {
		return Err(EngineError::PromptTooLarge {
			bytes: prompt.len(),
			limit: inner.config.max_prompt_bytes,
		});
	}
	let profile = request.profile;
	// Fixed tokenizer flags: BOS added as the model's metadata says, special tokens parsed.
	let prompt_tokens = model.vocab().tokenize(prompt.as_bytes(), true, true);
	if prompt_tokens.is_empty()
		|| prompt_tokens.len() + request.max_tokens as usize > profile.n_ctx as usize
	{
		return Err(EngineError::ContextOverflow {
			prompt_tokens: prompt_tokens.len(),
			max_tokens: request.max_tokens,
			n_ctx: profile.n_ctx,
		});
	}
	let threads = inner.config.threads.max(1);
	let params = LlamaContextParams::default()
		.with_n_ctx(NonZeroU32::new(profile.n_ctx))
		.with_n_batch(profile.n_batch)
		.with_n_ubatch(profile.n_ubatch)
		.with_n_seq_max(1)
		.with_n_threads(threads)
		.with_n_threads_batch(threads)
		.with_flash_attention_policy(llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_DISABLED);
	let backend = backend()?;
	let mut ctx = model
		.new_context(backend, params)
		.map_err(|e| EngineError::Llama(format!("context: {e}")))?;
	let load_ms = t_load.elapsed().as_secs_f64() * 1e3;

	// Prompt, in chunks of n_batch; logits only for the very last prompt token.
	let t_prompt = Instant::now();
	let mut batch = LlamaBatch::new(profile.n_batch as usize, 1);
	let last = prompt_tokens.len() - 1;
	for (chunk_index, chunk) in prompt_tokens.chunks(profile.n_batch as usize).enumerate() {
		if cancel.is_cancelled() {
			return Err(EngineError::Cancelled);
		}
		batch.clear();
		for (i, token) in chunk.iter().enumerate() {
			let pos = chunk_index * profile.n_batch as usize + i;
			batch
				.add(*token, pos as i32, &[0], pos == last)
				.map_err(|e| EngineError::Llama(e.to_string()))?;
		}
		ctx.decode(&mut batch)
			.map_err(|e| EngineError::Llama(format!("prompt: {e}")))?;
	}
	let prompt_ms = t_prompt.elapsed().as_secs_f64() * 1e3;

	let t_gen = Instant::now();
	let mut sampler = match request.sampling {
		Sampling::Greedy => LlamaSampler::greedy(),
		Sampling::Temperature { temperature, seed } => LlamaSampler::chain_simple([
			LlamaSampler::temp(temperature.clamp(0.01, 4.0)),
			LlamaSampler::dist(seed),
		]),
	};
	let mut decoder = Utf8Decoder::new();
	let mut output_tokens: Vec<LlamaToken> = Vec::new();
	let mut output_bytes = Vec::new();
	let mut position = prompt_tokens.len() as i32;
	let finish_reason = loop {
		if cancel.is_cancelled() {
			return Err(EngineError::Cancelled);
		}
		let token = sampler.sample(&ctx, batch.n_tokens() - 1);
		if model.vocab().is_eog(token) {
			break FinishReason::Stop;
		}
		output_tokens.push(token);
		let piece = model.vocab().token_to_piece(token, false, None);
		output_bytes.extend_from_slice(&piece);
		if let Some(stream) = stream {
			let text = decoder.push(&piece);
			// A closed stream means the client went away: stop spending CPU on it.
			if stream
				.unbounded_send(TokenEvent {
					id: Some(token.0 as u32),
					text,
				})
				.is_err()
			{
				return Err(EngineError::Cancelled);
			}
		}
		if output_tokens.len() >= request.max_tokens as usize {
			break FinishReason::Length;
		}
		if position as u32 >= profile.n_ctx {
			break FinishReason::ContextFull;
		}
		batch.clear();
		batch
			.add(token, position, &[0], true)
			.map_err(|e| EngineError::Llama(e.to_string()))?;
		position += 1;
		ctx.decode(&mut batch)
			.map_err(|e| EngineError::Llama(format!("generation: {e}")))?;
	};
	if let Some(stream) = stream {
		let tail = decoder.finish();
		if !tail.is_empty() {
			let _ = stream.unbounded_send(TokenEvent {
				id: None,
				text: tail,
			});
		}
	}
	let generation_ms = t_gen.elapsed().as_secs_f64() * 1e3;
	let per_second = |n: usize, ms: f64| if ms > 0.0 { n as f64 * 1e3 / ms } else { 0.0 };
	Ok(Generation {
		prompt,
		prompt_tokens: prompt_tokens.iter().map(|t| t.0 as u32).collect(),
		text: String::from_utf8_lossy(&output_bytes).into_owned(),
		timings: Timings {
			queue_ms: 0.0,
			load_ms,
			prompt_ms,
			generation_ms,
			prompt_tokens_per_second: per_second(prompt_tokens.len(), prompt_ms),
			generation_tokens_per_second: per_second(output_tokens.len(), generation_ms),
		},
		output_tokens: output_tokens.iter().map(|t| t.0 as u32).collect(),
		output_bytes,
		finish_reason,
	})
}
