//! JSON-RPC methods of the `inference` namespace (docs/rpc.md documents each one):
//! `inference_generate`, `inference_subscribeGenerate`, `inference_models`,
//! `inference_nodeInfo` and `inference_jobResult`.

use crate::inference::{Inference, KeystoreSigner, RpcLimits};
use codec::Decode;
use cognitive_runtime::{opaque::Block, AccountId, Balance, BlockNumber};
use inference_engine::{
	proof::{self, ProofSigner},
	CancelToken, ChatMessage, EngineError, FinishReason, GenerateRequest, Generation, Input,
	Sampling, StoredModel, TokenEvent,
};
use jsonrpsee::{
	core::{async_trait, RpcResult, SubscriptionResult},
	proc_macros::rpc,
	types::ErrorObjectOwned,
	ConnectionId, Extensions, PendingSubscriptionSink, SubscriptionMessage,
};
use pallet_proof_of_inference::{
	runtime_api::ProofOfInferenceApi, JobState, JobView, StoredOutput,
};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_core::{crypto::Ss58Codec, offchain::OffchainStorage};
use std::{collections::HashMap, sync::Arc};

/// Stable error codes of the `inference_*` methods.
pub mod codes {
	/// The node runs no inference engine (`--no-inference`).
	pub const INFERENCE_DISABLED: i32 = 4000;
	/// The model is not in this node's store.
	pub const UNKNOWN_MODEL: i32 = 4001;
	/// The prompt is larger than the node's limit, or does not fit the context.
	pub const PROMPT_TOO_LARGE: i32 = 4002;
	/// `maxTokens` is 0 or above the node's limit.
	pub const BAD_MAX_TOKENS: i32 = 4003;
	/// The engine's queue is full; retry later.
	pub const QUEUE_FULL: i32 = 4004;
	/// This connection already has its maximum of requests in flight.
	pub const TOO_MANY_REQUESTS: i32 = 4005;
	/// Neither `prompt` nor `messages`, or both, or an empty message list.
	pub const BAD_INPUT: i32 = 4006;
	/// The model has no chat template, or the messages could not be rendered.
	pub const TEMPLATE: i32 = 4007;
	/// No such job on chain and no output for it here.
	pub const JOB_NOT_FOUND: i32 = 4008;
	/// The job exists but this node holds no output for it (not assigned, or not run yet).
	pub const JOB_OUTPUT_UNAVAILABLE: i32 = 4009;
	/// The model does not fit the memory budget next to models in use.
	pub const MEMORY_BUDGET: i32 = 4010;
	/// The engine failed (llama.cpp, a corrupt model file, shutdown).
	pub const ENGINE: i32 = 4011;
}

fn error(code: i32, message: impl Into<String>) -> ErrorObjectOwned {
	ErrorObjectOwned::owned(code, message.into(), None::<()>)
}

fn engine_error(e: EngineError) -> ErrorObjectOwned {
	let code = match &e {
		EngineError::UnknownModel(_) => codes::UNKNOWN_MODEL,
		EngineError::PromptTooLarge { .. } | EngineError::ContextOverflow { .. } => {
			codes::PROMPT_TOO_LARGE
		},
		EngineError::BadMaxTokens(_) => codes::BAD_MAX_TOKENS,
		EngineError::QueueFull(_) => codes::QUEUE_FULL,
		EngineError::Template(_) => codes::TEMPLATE,
		EngineError::MemoryBudget { .. } => codes::MEMORY_BUDGET,
		_ => codes::ENGINE,
	};
	error(code, e.to_string())
}

/// A chat message.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Message {
	/// `system`, `user` or `assistant`.
	pub role: String,
	/// The text.
	pub content: String,
}

/// Parameters of `inference_generate` and `inference_subscribeGenerate`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenerateParams {
	/// Model name (as in `inference_models`) or sha256 (hex, `0x` optional).
	pub model: String,
	/// A raw prompt (exclusive with `messages`).
	pub prompt: Option<String>,
	/// Chat messages, rendered with the model's template (exclusive with `prompt`).
	pub messages: Option<Vec<Message>>,
	/// Most tokens to generate (default 128).
	pub max_tokens: Option<u32>,
	/// Greedy decoding with the fixed context settings (default `true`): the same request
	/// gives the same text on every node of the model's determinism class.
	pub deterministic: Option<bool>,
	/// Sampling temperature when `deterministic` is `false` (default 0.8).
	pub temperature: Option<f32>,
	/// Seed of the draw when `deterministic` is `false` (default: from the clock).
	pub seed: Option<u32>,
}

/// A model as reported by the node.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelRef {
	/// Name in the store.
	pub name: String,
	/// sha256, `0x` hex.
	pub sha256: String,
}

/// Where the time went.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TimingsView {
	/// Waiting for a worker.
	pub queue_ms: f64,
	/// Model lookup and context creation.
	pub load_ms: f64,
	/// Prompt evaluation.
	pub prompt_ms: f64,
	/// Generation.
	pub generation_ms: f64,
	/// Prompt tokens per second.
	pub prompt_tokens_per_second: f64,
	/// Generated tokens per second.
	pub generation_tokens_per_second: f64,
}

/// The signed proof of a generation (docs/rpc.md, "Proofs").
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProofView {
	/// Format version (1).
	pub version: u8,
	/// sha256 of the model file.
	pub model_sha256: String,
	/// blake2b-256 of SCALE(model_sha256, prompt bytes, max_tokens u32, deterministic bool).
	pub request_hash: String,
	/// blake2b-256 of the output text's UTF-8 bytes.
	pub output_hash: String,
	/// Unix time in milliseconds.
	pub timestamp_ms: u64,
	/// The node's inference key (ed25519).
	pub public_key: String,
	/// ed25519 signature over `message`.
	pub signature: String,
	/// The signed bytes (141): context ‖ model_sha256 ‖ request_hash ‖ output_hash ‖ timestamp.
	pub message: String,
}

/// The answer of `inference_generate` (and the last item of a subscription).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateResult {
	/// The model that ran.
	pub model: ModelRef,
	/// The exact prompt the model was given (after the chat template).
	pub prompt: String,
	/// The generated text.
	pub text: String,
	/// Generated token ids.
	pub token_ids: Vec<u32>,
	/// Prompt length in tokens.
	pub prompt_tokens: usize,
	/// Generated tokens.
	pub completion_tokens: usize,
	/// `stop`, `length` or `contextFull`.
	pub finish_reason: &'static str,
	/// Whether greedy decoding was used.
	pub deterministic: bool,
	/// Timings.
	pub timings: TimingsView,
	/// The signed proof; `null` on a node without an inference key.
	pub proof: Option<ProofView>,
}

/// One item of `inference_subscribeGenerate`.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum StreamItem {
	/// A token and the text it completes.
	Token {
		/// Token id (`null` for the final flush of an incomplete character).
		id: Option<u32>,
		/// New text.
		text: String,
	},
	/// The end: the whole result with its proof.
	Done(Box<GenerateResult>),
	/// The generation failed after it started.
	Error {
		/// One of [`codes`].
		code: i32,
		/// What happened.
		message: String,
	},
}

/// A model in the store.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelInfoView {
	/// Name.
	pub name: String,
	/// sha256, `0x` hex.
	pub sha256: String,
	/// File size.
	pub size_bytes: u64,
	/// Whether it is loaded in memory now.
	pub loaded: bool,
}

/// `inference_nodeInfo`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeInfoView {
	/// The node's inference key (`0x` hex ed25519), if it has one.
	pub public_key: Option<String>,
	/// Engine build (`llama-cpp-2 0.1.160`).
	pub engine: &'static str,
	/// CPU instruction-set level llama.cpp is compiled for.
	pub cpu_target: &'static str,
	/// Cores of this machine.
	pub cpu_cores: usize,
	/// Threads per generation.
	pub threads: i32,
	/// Generations at the same time.
	pub workers: usize,
	/// Requests waiting.
	pub queue_depth: usize,
	/// Requests being generated.
	pub running: usize,
	/// Most requests that may wait.
	pub queue_capacity: usize,
	/// Loaded models, most recently used first.
	pub loaded_models: Vec<ModelInfoView>,
	/// Largest prompt in bytes.
	pub max_prompt_bytes: usize,
	/// Largest `maxTokens`.
	pub max_tokens: u32,
	/// Requests in flight per connection.
	pub max_requests_per_connection: usize,
}

/// One assignee of an on-chain job.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssigneeResult {
	/// Operator account (SS58).
	pub node: String,
	/// Whether it committed.
	pub committed: bool,
	/// Its revealed hash.
	pub result_hash: Option<String>,
}

/// The job as the chain (best block) sees it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OnChainJob {
	/// `pending`, `completed` or `failed`.
	pub status: &'static str,
	/// The agreed hash of a completed job.
	pub result_hash: Option<String>,
	/// sha256 of the model.
	pub model_sha256: String,
	/// Assignees and their reveals.
	pub assignees: Vec<AssigneeResult>,
}

/// `inference_jobResult`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobResultView {
	/// The job.
	pub job_id: u64,
	/// The output text this node produced.
	pub text: String,
	/// Its prompt token ids.
	pub prompt_token_ids: Vec<u32>,
	/// Its output token ids.
	pub output_token_ids: Vec<u32>,
	/// sha256 of the model, `0x` hex.
	pub model_sha256: String,
	/// `blake2_256(SCALE(job_id, model_sha256, prompt_token_ids, output_token_ids))`.
	pub result_hash: String,
	/// The job on chain (`null` once pruned).
	pub on_chain: Option<OnChainJob>,
	/// Whether `result_hash` equals the chain's agreed hash (`null` until settled).
	pub matches_chain: Option<bool>,
}

/// The `inference` RPC namespace.
#[rpc(server, namespace = "inference")]
pub trait InferenceApi {
	/// Runs a prompt or chat and answers with the text, token counts, timings and a proof.
	#[method(name = "generate", with_extensions)]
	async fn generate(&self, params: GenerateParams) -> RpcResult<GenerateResult>;

	/// Like `generate`, streaming `token` items and ending with a `done` item.
	#[subscription(
		name = "subscribeGenerate" => "generateEvent",
		unsubscribe = "unsubscribeGenerate",
		item = StreamItem,
		with_extensions
	)]
	async fn subscribe_generate(&self, params: GenerateParams) -> SubscriptionResult;

	/// The models in this node's store.
	#[method(name = "models")]
	fn models(&self) -> RpcResult<Vec<ModelInfoView>>;

	/// The node's inference key, engine, queue and loaded models.
	#[method(name = "nodeInfo")]
	fn node_info(&self) -> RpcResult<NodeInfoView>;

	/// The output this node produced for an on-chain job, with the job's on-chain status.
	#[method(name = "jobResult")]
	fn job_result(&self, job_id: u64) -> RpcResult<JobResultView>;
}

/// Counts a connection's requests in flight; the slot is freed on drop.
struct ConnectionSlot {
	counts: Arc<Mutex<HashMap<ConnectionId, usize>>>,
	id: ConnectionId,
}

impl Drop for ConnectionSlot {
	fn drop(&mut self) {
		let mut counts = self.counts.lock();
		if let Some(n) = counts.get_mut(&self.id) {
			*n -= 1;
			if *n == 0 {
				counts.remove(&self.id);
			}
		}
	}
}

/// Cancels a request when its future or subscription is dropped (client gone).
struct CancelOnDrop(CancelToken);

impl Drop for CancelOnDrop {
	fn drop(&mut self) {
		self.0.cancel()
	}
}

/// Implementation of [`InferenceApiServer`].
pub struct InferenceRpc<C, S> {
	inference: Option<Inference>,
	signer: KeystoreSigner,
	client: Arc<C>,
	offchain: Option<S>,
	in_flight: Arc<Mutex<HashMap<ConnectionId, usize>>>,
}

impl<C, S> InferenceRpc<C, S> {
	/// `inference` is `None` on a node started with `--no-inference`; `offchain` is the local
	/// offchain database, where off-chain workers keep job outputs.
	pub fn new(
		inference: Option<Inference>,
		signer: KeystoreSigner,
		client: Arc<C>,
		offchain: Option<S>,
	) -> Self {
		Self {
			inference,
			signer,
			client,
			offchain,
			in_flight: Default::default(),
		}
	}

	fn inference(&self) -> Result<&Inference, ErrorObjectOwned> {
		self.inference.as_ref().ok_or_else(|| {
			error(
				codes::INFERENCE_DISABLED,
				"this node runs no inference engine",
			)
		})
	}

	fn acquire(
		&self,
		ext: &Extensions,
		limits: &RpcLimits,
	) -> Result<ConnectionSlot, ErrorObjectOwned> {
		let id = ext
			.get::<ConnectionId>()
			.copied()
			.unwrap_or(ConnectionId(0));
		let mut counts = self.in_flight.lock();
		let n = counts.entry(id).or_insert(0);
		if *n >= limits.max_per_connection {
			return Err(error(
				codes::TOO_MANY_REQUESTS,
				format!(
					"at most {} inference requests per connection",
					limits.max_per_connection
				),
			));
		}
		*n += 1;
		Ok(ConnectionSlot {
			counts: self.in_flight.clone(),
			id,
		})
	}

	/// Validates the parameters and builds the engine request.
	fn request(
		&self,
		params: GenerateParams,
	) -> Result<(GenerateRequest, StoredModel, u32, bool), ErrorObjectOwned> {
		let inference = self.inference()?;
		let limits = inference.rpc_limits;
		let model = inference
			.engine
			.store()
			.resolve(&params.model)
			.map_err(|_| {
				error(
					codes::UNKNOWN_MODEL,
					format!("unknown model {:?}; see inference_models", params.model),
				)
			})?;
		let Some(hash) = model.hash() else {
			return Err(error(codes::ENGINE, "corrupt model store entry"));
		};
		let input = match (params.prompt, params.messages) {
			(Some(prompt), None) => {
				if prompt.len() > limits.max_prompt_bytes {
					return Err(error(
						codes::PROMPT_TOO_LARGE,
						format!(
							"prompt has {} bytes, the limit is {}",
							prompt.len(),
							limits.max_prompt_bytes
						),
					));
				}
				Input::Text(prompt)
			},
			(None, Some(messages)) if !messages.is_empty() => {
				let bytes: usize = messages
					.iter()
					.map(|m| m.role.len() + m.content.len())
					.sum();
				if bytes > limits.max_prompt_bytes {
					return Err(error(
						codes::PROMPT_TOO_LARGE,
						format!(
							"messages have {bytes} bytes, the limit is {}",
							limits.max_prompt_bytes
						),
					));
				}
				Input::Chat(
					messages
						.into_iter()
						.map(|m| ChatMessage {
							role: m.role,
							content: m.content,
						})
						.collect(),
				)
			},
			_ => {
				return Err(error(
					codes::BAD_INPUT,
					"give either `prompt` or a non-empty `messages`",
				))
			},
		};
		let max_tokens = params.max_tokens.unwrap_or(128);
		if max_tokens == 0 || max_tokens > limits.max_tokens {
			return Err(error(
				codes::BAD_MAX_TOKENS,
				format!("maxTokens must be between 1 and {}", limits.max_tokens),
			));
		}
		let deterministic = params.deterministic.unwrap_or(true);
		let sampling = if deterministic {
			Sampling::Greedy
		} else {
			let seed = params.seed.unwrap_or_else(|| now_ms() as u32);
			Sampling::Temperature {
				temperature: params.temperature.unwrap_or(0.8),
				seed,
			}
		};
		let request = GenerateRequest {
			model: hash,
			input,
			max_tokens,
			profile: inference.engine.config().default_profile,
			sampling,
		};
		Ok((request, model, max_tokens, deterministic))
	}

	fn result(
		&self,
		model: &StoredModel,
		max_tokens: u32,
		deterministic: bool,
		g: Generation,
	) -> GenerateResult {
		let hash = model.hash().unwrap_or_default();
		let request_hash = proof::request_hash(&hash, &g.prompt, max_tokens, deterministic);
		let output_hash = proof::output_hash(&g.text);
		let timestamp_ms = now_ms();
		let message = proof::proof_message(&hash, &request_hash, &output_hash, timestamp_ms);
		let proof = self.signer.public_key().and_then(|public| {
			let signature = self.signer.sign(&message)?;
			Some(ProofView {
				version: 1,
				model_sha256: hex0x(&hash),
				request_hash: hex0x(&request_hash),
				output_hash: hex0x(&output_hash),
				timestamp_ms,
				public_key: hex0x(&public),
				signature: hex0x(&signature),
				message: hex0x(&message),
			})
		});
		GenerateResult {
			model: ModelRef {
				name: model.name.clone(),
				sha256: hex0x(&hash),
			},
			prompt: g.prompt,
			text: g.text,
			prompt_tokens: g.prompt_tokens.len(),
			completion_tokens: g.output_tokens.len(),
			token_ids: g.output_tokens,
			finish_reason: match g.finish_reason {
				FinishReason::Stop => "stop",
				FinishReason::Length => "length",
				FinishReason::ContextFull => "contextFull",
			},
			deterministic,
			timings: TimingsView {
				queue_ms: g.timings.queue_ms,
				load_ms: g.timings.load_ms,
				prompt_ms: g.timings.prompt_ms,
				generation_ms: g.timings.generation_ms,
				prompt_tokens_per_second: g.timings.prompt_tokens_per_second,
				generation_tokens_per_second: g.timings.generation_tokens_per_second,
			},
			proof,
		}
	}
}

fn now_ms() -> u64 {
	std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.map(|d| d.as_millis() as u64)
		.unwrap_or(0)
}

fn hex0x(bytes: &[u8]) -> String {
	format!("0x{}", hex::encode(bytes))
}

#[async_trait]
impl<C, S> InferenceApiServer for InferenceRpc<C, S>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: ProofOfInferenceApi<Block, AccountId, Balance, BlockNumber>,
	S: OffchainStorage + 'static,
{
	async fn generate(
		&self,
		ext: &Extensions,
		params: GenerateParams,
	) -> RpcResult<GenerateResult> {
		let inference = self.inference()?;
		let _slot = self.acquire(ext, &inference.rpc_limits)?;
		let (request, model, max_tokens, deterministic) = self.request(params)?;
		let cancel = CancelOnDrop(CancelToken::new());
		let (receiver, _) = inference
			.engine
			.submit(request, None, cancel.0.clone())
			.map_err(engine_error)?;
		let generation = receiver
			.await
			.map_err(|_| error(codes::ENGINE, "the engine stopped"))?
			.map_err(engine_error)?;
		Ok(self.result(&model, max_tokens, deterministic, generation))
	}

	async fn subscribe_generate(
		&self,
		pending: PendingSubscriptionSink,
		ext: &Extensions,
		params: GenerateParams,
	) -> SubscriptionResult {
		let inference = match self.inference() {
			Ok(i) => i,
			Err(e) => {
				pending.reject(e).await;
				return Ok(());
			},
		};
		let slot = match self.acquire(ext, &inference.rpc_limits) {
			Ok(slot) => slot,
			Err(e) => {
				pending.reject(e).await;
				return Ok(());
			},
		};
		let (request, model, max_tokens, deterministic) = match self.request(params) {
			Ok(r) => r,
			Err(e) => {
				pending.reject(e).await;
				return Ok(());
			},
		};
		let cancel = CancelOnDrop(CancelToken::new());
		let (tx, mut rx) = futures::channel::mpsc::unbounded::<TokenEvent>();
		let (receiver, _) = match inference.engine.submit(request, Some(tx), cancel.0.clone()) {
			Ok(r) => r,
			Err(e) => {
				pending.reject(engine_error(e)).await;
				return Ok(());
			},
		};
		let sink = pending.accept().await?;
		let _slot = slot;
		use futures::StreamExt;
		while let Some(event) = rx.next().await {
			let item = StreamItem::Token {
				id: event.id,
				text: event.text,
			};
			// A closed sink drops `cancel`, which stops the generation.
			sink.send(SubscriptionMessage::from_json(&item)?).await?;
		}
		let last = match receiver.await {
			Ok(Ok(generation)) => StreamItem::Done(Box::new(self.result(
				&model,
				max_tokens,
				deterministic,
				generation,
			))),
			Ok(Err(e)) => {
				let e = engine_error(e);
				StreamItem::Error {
					code: e.code(),
					message: e.message().to_string(),
				}
			},
			Err(_) => StreamItem::Error {
				code: codes::ENGINE,
				message: "the engine stopped".into(),
			},
		};
		sink.send(SubscriptionMessage::from_json(&last)?).await?;
		Ok(())
	}

	fn models(&self) -> RpcResult<Vec<ModelInfoView>> {
		let inference = self.inference()?;
		let loaded: Vec<_> = inference
			.engine
			.loaded_models()
			.into_iter()
			.map(|(h, _)| h)
			.collect();
		let models = inference
			.engine
			.store()
			.list()
			.map_err(|e| error(codes::ENGINE, e.to_string()))?;
		Ok(models
			.into_iter()
			.map(|m| ModelInfoView {
				loaded: m.hash().is_some_and(|h| loaded.contains(&h)),
				sha256: format!("0x{}", m.sha256),
				name: m.name,
				size_bytes: m.size_bytes,
			})
			.collect())
	}

	fn node_info(&self) -> RpcResult<NodeInfoView> {
		let inference = self.inference()?;
		let engine = &inference.engine;
		let names: HashMap<String, String> = engine
			.store()
			.list()
			.unwrap_or_default()
			.into_iter()
			.map(|m| (m.sha256, m.name))
			.collect();
		let loaded_models = engine
			.loaded_models()
			.into_iter()
			.map(|(hash, size_bytes)| {
				let hex = hex::encode(hash);
				ModelInfoView {
					name: names.get(&hex).cloned().unwrap_or_else(|| hex.clone()),
					sha256: format!("0x{hex}"),
					size_bytes,
					loaded: true,
				}
			})
			.collect();
		let config = engine.config();
		Ok(NodeInfoView {
			public_key: self.signer.public_key().map(|k| hex0x(&k)),
			engine: inference_engine::ENGINE_VERSION,
			cpu_target: inference_engine::CPU_TARGET,
			cpu_cores: std::thread::available_parallelism()
				.map(|n| n.get())
				.unwrap_or(1),
			threads: config.threads,
			workers: config.workers,
			queue_depth: engine.queue_depth(),
			running: engine.running(),
			queue_capacity: config.queue_capacity,
			loaded_models,
			max_prompt_bytes: inference.rpc_limits.max_prompt_bytes,
			max_tokens: inference.rpc_limits.max_tokens,
			max_requests_per_connection: inference.rpc_limits.max_per_connection,
		})
	}

	fn job_result(&self, job_id: u64) -> RpcResult<JobResultView> {
		let best = self.client.info().best_hash;
		let on_chain: Option<JobView<AccountId, Balance, BlockNumber>> = self
			.client
			.runtime_api()
			.job(best, job_id)
			.map_err(|e| error(codes::ENGINE, format!("runtime API: {e}")))?;
		let stored = self
			.offchain
			.as_ref()
			.and_then(|db| {
				db.get(
					sp_offchain::STORAGE_PREFIX,
					&pallet_proof_of_inference::output_key(job_id),
				)
			})
			.and_then(|bytes| StoredOutput::decode(&mut &bytes[..]).ok());
		let Some(stored) = stored else {
			return Err(match on_chain {
				Some(_) => error(
					codes::JOB_OUTPUT_UNAVAILABLE,
					format!(
						"this node holds no output for job {job_id} (not assigned, or not run yet)"
					),
				),
				None => error(codes::JOB_NOT_FOUND, format!("no job {job_id}")),
			});
		};
		let chain_hash = on_chain.as_ref().and_then(|job| match job.status {
			JobState::Completed { result_hash } => Some(result_hash),
			_ => None,
		});
		let settled = on_chain
			.as_ref()
			.is_some_and(|job| !matches!(job.status, JobState::Pending));
		Ok(JobResultView {
			job_id,
			text: String::from_utf8_lossy(&stored.output.text).into_owned(),
			prompt_token_ids: stored.output.prompt_tokens.clone(),
			output_token_ids: stored.output.output_tokens.clone(),
			model_sha256: hex0x(&stored.model_sha256),
			result_hash: hex0x(&stored.result_hash),
			matches_chain: settled.then(|| chain_hash == Some(stored.result_hash)),
			on_chain: on_chain.map(|job| OnChainJob {
				status: match job.status {
					JobState::Pending => "pending",
					JobState::Completed { .. } => "completed",
					JobState::Failed(_) => "failed",
				},
				result_hash: chain_hash.map(|h| hex0x(&h)),
				model_sha256: hex0x(&job.model_sha256),
				assignees: job
					.assignees
					.into_iter()
					.map(|a| AssigneeResult {
						node: a.node.to_ss58check(),
						committed: a.commitment.is_some(),
						result_hash: a.result_hash.map(|h| hex0x(&h)),
					})
					.collect(),
			}),
		})
	}
}
