//! Everything that talks to llama.cpp: the process-wide backend, the cache of loaded models
//! (memory budget, LRU unloading, loading only from verified file handles), prompt rendering
//! and the generation loop.
//!
//! Every request runs in a fresh llama.cpp context built from its [`ExecutionProfile`]
//! (`n_ctx`, `n_batch`, `n_ubatch`), with flash attention disabled: with greedy sampling these
//! are the settings that make token ids identical across thread counts and batch sizes on one
//! build (docs/determinism.md).

use crate::{
	gate::ComputeGate,
	observe::ObserverSlot,
	stop::StopWatch,
	store::{ModelHash, ModelStore},
	types::{
		CancelToken, EngineConfig, EngineError, FinishReason, GenerateRequest, Generation, Input,
		Lane, Timings, TokenEvent,
	},
	utf8::Utf8Decoder,
};
use futures::channel::mpsc;
use inference_primitives::ExecutionProfile;
use llama_cpp_2::{
	context::{params::LlamaContextParams, LlamaContext},
	llama_backend::LlamaBackend,
	llama_batch::LlamaBatch,
	model::{params::LlamaModelParams, LlamaChatMessage, LlamaModel},
	sampling::LlamaSampler,
	token::LlamaToken,
};
use parking_lot::Mutex;
use sha2::{Digest, Sha256};
use std::{
	collections::HashMap,
	num::NonZeroU32,
	path::Path,
	sync::{Arc, OnceLock},
	time::Instant,
};

/// llama.cpp's backend may be initialised once per process.
pub(crate) fn backend() -> Result<&'static LlamaBackend, EngineError> {
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

/// Checks the context settings of a request before it is queued.
pub(crate) fn check_profile(p: &ExecutionProfile) -> Result<(), EngineError> {
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

struct LoadedModel {
	model: Arc<LlamaModel>,
	bytes: u64,
	last_used: u64,
}

#[derive(Default)]
struct CacheState {
	models: HashMap<ModelHash, LoadedModel>,
	bytes: u64,
	clock: u64,
}

/// The model store and the models loaded from it, kept within a memory budget.
pub(crate) struct ModelCache {
	store: ModelStore,
	budget: u64,
	state: Mutex<CacheState>,
	observer: ObserverSlot,
}

impl ModelCache {
	/// An empty cache over `store` that keeps at most `budget` bytes of model files loaded.
	pub(crate) fn new(store: ModelStore, budget: u64, observer: ObserverSlot) -> Self {
		Self {
			store,
			budget,
			state: Mutex::new(CacheState::default()),
			observer,
		}
	}

	/// The model store.
	pub(crate) fn store(&self) -> &ModelStore {
		&self.store
	}

	/// Loaded models and their sizes, most recently used first.
	pub(crate) fn loaded(&self) -> Vec<(ModelHash, u64)> {
		let state = self.state.lock();
		let mut loaded: Vec<_> = state
			.models
			.iter()
			.map(|(h, m)| (*h, m.bytes, m.last_used))
			.collect();
		loaded.sort_by_key(|m| std::cmp::Reverse(m.2));
		loaded.into_iter().map(|(h, b, _)| (h, b)).collect()
	}

	/// Finds a loaded model or loads it, unloading idle least-recently-used models to stay
	/// inside the memory budget.
	///
	/// llama.cpp only takes a path, so the model is loaded through the verified handle's
	/// `/proc/self/fd` path ([`crate::store::VerifiedModel::load_path`]) and never through the
	/// store path: a file renamed over the store entry after verification (or before a reload
	/// after an LRU unload) is never read.
	pub(crate) fn load(&self, hash: &ModelHash) -> Result<Arc<LlamaModel>, EngineError> {
		let mut state = self.state.lock();
		state.clock += 1;
		let clock = state.clock;
		if let Some(entry) = state.models.get_mut(hash) {
			entry.last_used = clock;
			return Ok(entry.model.clone());
		}
		let verified = self.store.verified(hash)?;
		let bytes = verified.size_bytes();
		while state.bytes + bytes > self.budget {
			// Only models no request holds can go.
			let victim = state
				.models
				.iter()
				.filter(|(_, m)| Arc::strong_count(&m.model) == 1)
				.min_by_key(|(_, m)| m.last_used)
				.map(|(h, _)| *h);
			let Some(victim) = victim else {
				return Err(EngineError::MemoryBudget {
					needed: bytes,
					budget: self.budget,
				});
			};
			if let Some(gone) = state.models.remove(&victim) {
				state.bytes = state.bytes.saturating_sub(gone.bytes);
				log::info!(target: "inference", "unloaded model {}", hex::encode(victim));
			}
		}
		let backend = backend()?;
		let started = std::time::Instant::now();
		let model =
			LlamaModel::load_from_file(backend, verified.load_path(), &LlamaModelParams::default())
				.map_err(|e| EngineError::Llama(format!("loading {}: {e}", hex::encode(hash))))?;
		self.observer.model_loaded(hash, bytes, started.elapsed());
		let model = Arc::new(model);
		state.bytes += bytes;
		state.models.insert(
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
}

/// sha256 of the chat template in a GGUF file (its `tokenizer.chat_template`), or `None` when
/// it has none: the value a model's whitelist entry records. Reads the vocabulary only, not the
/// weights.
pub fn chat_template_sha256(path: &Path) -> Result<Option<[u8; 32]>, EngineError> {
	let params = LlamaModelParams::default().with_vocab_only(true);
	let model = LlamaModel::load_from_file(backend()?, path, &params)
		.map_err(|e| EngineError::Llama(format!("reading {}: {e}", path.display())))?;
	Ok(model
		.chat_template(None)
		.ok()
		.map(|t| Sha256::digest(t.as_c_str().to_bytes()).into()))
}

fn render_prompt(model: &LlamaModel, input: &Input) -> Result<String, EngineError> {
	match input {
		Input::Text(text) => Ok(text.clone()),
		Input::Chat {
			messages,
			template_sha256,
		} => {
			let template = model
				.chat_template(None)
				.map_err(|e| EngineError::Template(format!("the model has none: {e}")))?;
			if let Some(expected) = template_sha256 {
				let actual: [u8; 32] = Sha256::digest(template.as_c_str().to_bytes()).into();
				if actual != *expected {
					return Err(EngineError::Template(format!(
						"the model's template has sha256 {}, the job names {}",
						hex::encode(actual),
						hex::encode(expected)
					)));
				}
			}
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

/// Runs one request to the end on the calling thread (a worker): load, render, tokenize,
/// evaluate the prompt, then sample until a stop condition, streaming pieces if asked to.
/// Every decoding step runs in a compute slot of `gate` for the request's lane: a chain job
/// holds one throughout, a public request one per step (see [`crate::gate`]).
pub(crate) fn generate(
	models: &ModelCache,
	config: &EngineConfig,
	request: &GenerateRequest,
	stream: Option<&mpsc::UnboundedSender<TokenEvent>>,
	cancel: &CancelToken,
	(gate, lane): (&ComputeGate, Lane),
) -> Result<Generation, EngineError> {
	let t_load = Instant::now();
	let model = models.load(&request.model)?;
	let prompt = render_prompt(&model, &request.input)?;
	if prompt.len() > config.max_prompt_bytes {
		return Err(EngineError::PromptTooLarge {
			bytes: prompt.len(),
			limit: config.max_prompt_bytes,
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
	let threads = config.threads.max(1);
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
	let _chain_slot = match lane {
		Lane::Chain => Some(gate.acquire(Lane::Chain, cancel)?),
		Lane::Public => None,
	};
	let decode = |ctx: &mut LlamaContext, batch: &mut LlamaBatch, what: &str| {
		let _step = match lane {
			Lane::Public => Some(gate.acquire(Lane::Public, cancel)?),
			Lane::Chain => None,
		};
		ctx.decode(batch)
			.map_err(|e| EngineError::Llama(format!("{what}: {e}")))
	};

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
		decode(&mut ctx, &mut batch, "prompt")?;
	}
	let prompt_ms = t_prompt.elapsed().as_secs_f64() * 1e3;

	let t_gen = Instant::now();
	// Greedy decoding stays with llama.cpp's own sampler; sampled decoding is this crate's
	// reproducible one, over the logits of the last evaluated token.
	let mut greedy = LlamaSampler::greedy();
	let mut sampler = request.sampling.sampler()?;
	let mut decoder = Utf8Decoder::new();
	let mut watch = StopWatch::new(&request.stop);
	let mut output_tokens: Vec<LlamaToken> = Vec::new();
	let mut output_bytes = Vec::new();
	let mut position = prompt_tokens.len() as i32;
	let finish_reason = loop {
		if cancel.is_cancelled() {
			return Err(EngineError::Cancelled);
		}
		let token = match &mut sampler {
			None => greedy.sample(&ctx, batch.n_tokens() - 1),
			Some(s) => {
				let logits = ctx.get_logits_ith(batch.n_tokens() - 1);
				let index = s
					.sample(logits, output_tokens.len() as u64)
					.ok_or_else(|| EngineError::Llama("no logits".into()))?;
				LlamaToken(index as i32)
			},
		};
		if model.vocab().is_eog(token) {
			break FinishReason::Stop;
		}
		output_tokens.push(token);
		let piece = model.vocab().token_to_piece(token, false, None);
		output_bytes.extend_from_slice(&piece);
		// Decoded only when someone reads it as it comes: a stream, or stop sequences.
		let (text, stopped) = if stream.is_some() || !request.stop.is_empty() {
			watch.push(&decoder.push(&piece))
		} else {
			(String::new(), false)
		};
		if let Some(stream) = stream {
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
		if stopped {
			break FinishReason::StopSequence;
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
		decode(&mut ctx, &mut batch, "generation")?;
	};
	if let Some(stream) = stream {
		let (mut tail, _) = watch.push(&decoder.finish());
		tail.push_str(&watch.finish());
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
		text: if request.stop.is_empty() {
			String::from_utf8_lossy(&output_bytes).into_owned()
		} else {
			if stream.is_none() {
				watch.push(&decoder.finish());
			}
			watch.into_text()
		},
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
