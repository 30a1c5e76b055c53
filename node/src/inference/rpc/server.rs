//! The implementation of [`InferenceApiServer`].
//!
//! Both generation methods go the same way: [`InferenceRpc::start`] admits the caller
//! ([`limits::caller`], per-connection and per-address slots), validates the parameters with
//! [`prepare`] and queues the request on the engine's public lane; `generate` then waits for the
//! result, `subscribeGenerate` streams it. The answer carries a version 2 proof
//! ([`proof_view`]) anchored at the node's best block.

use super::{
	api::InferenceApiServer,
	auth::{self, ChainJob, JobPhase},
	error::Error,
	limits::{self, Caller, CancelOnDrop, ConnectionLimiter, ConnectionSlot, IpLimiter, IpSlot},
	types::*,
};
use crate::{
	inference::{Inference, KeystoreSigner, RpcLimits},
	metrics::inference::{Outcome, Source, Tally},
};
use codec::Decode;
use cognitive_runtime::{opaque::Block, AccountId, Balance, BlockNumber};
use inference_engine::{
	proof::{self, ProofInput, ProofSigner, PROOF_VERSION},
	CancelToken, ChatMessage, Engine, FinishReason, GenerateRequest, Generation,
	GenerationReceiver, Input, Lane, ModelHash, Sampling, StoredModel, TokenEvent,
};
use inference_primitives::ExecutionProfile;
use jsonrpsee::{
	core::{async_trait, RpcResult, SubscriptionResult},
	Extensions, PendingSubscriptionSink, SubscriptionMessage,
};
use pallet_proof_of_inference::{
	runtime_api::ProofOfInferenceApi, JobState, JobView, StoredOutput,
};
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_core::{crypto::Ss58Codec, offchain::OffchainStorage, H256};
use std::{collections::HashMap, sync::Arc, time::Instant};

/// `maxTokens` when the request does not say.
pub const DEFAULT_MAX_TOKENS: u32 = 128;

/// Sampling temperature when a non-deterministic request does not say.
pub const DEFAULT_TEMPERATURE: f32 = 0.8;

/// A validated generation request: what goes to the engine, and what the answer needs.
#[derive(Clone, Debug)]
pub struct Prepared {
	/// The engine request.
	pub request: GenerateRequest,
	/// The model, as the answer names it.
	pub model: ModelRef,
	/// Whether greedy decoding was asked for.
	pub deterministic: bool,
}

/// What the answer to a request needs once the request went to the engine.
#[derive(Clone, Debug)]
struct Answering {
	model: ModelRef,
	model_hash: ModelHash,
	deterministic: bool,
	max_tokens: u32,
	sampling: Sampling,
	profile: ExecutionProfile,
	stop: Vec<String>,
}

impl Prepared {
	fn into_parts(self) -> (GenerateRequest, Answering) {
		let answering = Answering {
			model: self.model,
			model_hash: self.request.model,
			deterministic: self.deterministic,
			max_tokens: self.request.max_tokens,
			sampling: self.request.sampling,
			profile: self.request.profile,
			stop: self.request.stop.clone(),
		};
		(self.request, answering)
	}
}

/// Validates `params` against the RPC `limits` and builds the engine request. `resolve` finds
/// a model by name or sha256 (its name and digest); `profile` is the engine's context settings;
/// `clock_ms` seeds a non-deterministic request that brings no seed. Pure, so every input can be
/// tried without an engine (see the fuzz test).
pub fn prepare(
	params: GenerateParams,
	limits: &RpcLimits,
	resolve: impl FnOnce(&str) -> Result<(String, ModelHash), Error>,
	profile: ExecutionProfile,
	clock_ms: u64,
) -> Result<Prepared, Error> {
	let (name, hash) = resolve(&params.model)?;
	let input = match (params.prompt, params.messages) {
		(Some(prompt), None) => {
			if prompt.len() > limits.max_prompt_bytes {
				return Err(Error::PromptTooLarge(format!(
					"prompt has {} bytes, the limit is {}",
					prompt.len(),
					limits.max_prompt_bytes
				)));
			}
			Input::Text(prompt)
		},
		(None, Some(messages)) if !messages.is_empty() => {
			let bytes: usize = messages
				.iter()
				.map(|m| m.role.len().saturating_add(m.content.len()))
				.fold(0, usize::saturating_add);
			if bytes > limits.max_prompt_bytes {
				return Err(Error::PromptTooLarge(format!(
					"messages have {bytes} bytes, the limit is {}",
					limits.max_prompt_bytes
				)));
			}
			Input::Chat {
				messages: messages
					.into_iter()
					.map(|m| ChatMessage {
						role: m.role,
						content: m.content,
					})
					.collect(),
				template_sha256: None,
			}
		},
		_ => return Err(Error::BadInput),
	};
	let max_tokens = params.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS);
	if max_tokens == 0 || max_tokens > limits.max_tokens {
		return Err(Error::BadMaxTokens(limits.max_tokens));
	}
	let stop = params.stop.unwrap_or_default();
	inference_engine::stop::check(&stop).map_err(|e| Error::BadStop(e.to_string()))?;
	let deterministic = params.deterministic.unwrap_or(true);
	let sampling = if deterministic {
		Sampling::Greedy
	} else {
		let sampling = Sampling::Temperature {
			temperature: params.temperature.unwrap_or(DEFAULT_TEMPERATURE),
			top_p: params.top_p.unwrap_or(1.0),
			// Truncation is fine: any seed will do, and the answer reports the one used.
			seed: u64::from(params.seed.unwrap_or(clock_ms as u32)),
		};
		sampling
			.sampler()
			.map_err(|e| Error::BadSampling(e.to_string()))?;
		sampling
	};
	Ok(Prepared {
		request: GenerateRequest {
			model: hash,
			input,
			max_tokens,
			profile,
			sampling,
			stop,
		},
		model: ModelRef {
			name,
			sha256: hex0x(&hash),
		},
		deterministic,
	})
}

/// Finds a model of `engine`'s store by name or sha256.
fn resolve_model(engine: &Engine, model: &str) -> Result<(String, ModelHash), Error> {
	let stored = engine
		.store()
		.resolve(model)
		.map_err(|_| Error::UnknownModel(model.to_string()))?;
	let hash = stored
		.hash()
		.ok_or_else(|| Error::Engine("corrupt model store entry".into()))?;
	Ok((stored.name, hash))
}

/// The version 2 proof of an answer: `signer`'s signature over `proof_message(input)`; `None`
/// without a key.
pub fn proof_view(signer: &dyn ProofSigner, input: &ProofInput) -> Option<ProofView> {
	let public = signer.public_key()?;
	let message = proof::proof_message(input);
	let signature = signer.sign(&message)?;
	Some(ProofView {
		version: PROOF_VERSION,
		genesis_hash: hex0x(&input.genesis_hash),
		block_hash: hex0x(&input.block_hash),
		block_number: input.block_number,
		model_sha256: hex0x(&input.model_sha256),
		request_hash: hex0x(&input.request_hash),
		output_hash: hex0x(&input.output_hash),
		timestamp_ms: input.timestamp_ms,
		public_key: hex0x(&public),
		signature: hex0x(&signature),
		message: hex0x(&message),
	})
}

fn now_ms() -> u64 {
	std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.map(|d| d.as_millis().min(u128::from(u64::MAX)) as u64)
		.unwrap_or(0)
}

/// The slots a generation request holds until it ends: its JSON-RPC connection's (none for
/// the OpenAI front end, which has no JSON-RPC connection) and its client address's.
struct Admission {
	_connection: Option<ConnectionSlot>,
	_client: Option<IpSlot>,
}

/// A generation queued on the engine. Dropping it cancels the generation and frees the
/// caller's slots.
pub struct Started {
	receiver: GenerationReceiver,
	answering: Answering,
	/// Dropping it (the caller left) cancels the generation.
	_cancel: CancelOnDrop,
	/// Dropping it frees the caller's slots.
	_admission: Admission,
	/// Counts the request in the metrics when it ends (as cancelled if it is dropped).
	tally: Tally,
}

/// What [`InferenceRpc`] is built from.
pub struct RpcDeps<C, S> {
	/// The engine (`None` with `--no-inference`).
	pub inference: Option<Inference>,
	/// The node's inference key.
	pub signer: KeystoreSigner,
	/// The client, for runtime API calls and the best block.
	pub client: Arc<C>,
	/// The local offchain database, where off-chain workers keep job outputs.
	pub offchain: Option<S>,
	/// Limits of the methods.
	pub limits: RpcLimits,
	/// The dedicated inference port, if it runs (named in refusals on Substrate's port).
	pub inference_port: Option<u16>,
	/// The model-transfer endpoint, if it runs.
	pub models: Option<model_transfer::ModelNet>,
}

/// Implementation of [`InferenceApiServer`]. Each RPC server gets its own instance, so the
/// per-connection counts of one server never mix with the other's connection ids.
pub struct InferenceRpc<C, S> {
	inference: Option<Inference>,
	signer: KeystoreSigner,
	client: Arc<C>,
	offchain: Option<S>,
	limits: RpcLimits,
	inference_port: Option<u16>,
	models: Option<model_transfer::ModelNet>,
	connections: ConnectionLimiter,
	clients: Arc<IpLimiter>,
	/// Whose requests these are, in the metrics.
	source: Source,
}

impl<C, S> InferenceRpc<C, S>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: ProofOfInferenceApi<Block, AccountId, Balance, BlockNumber>,
	S: OffchainStorage + 'static,
{
	/// A new instance with fresh per-connection and per-address counters.
	pub fn new(deps: RpcDeps<C, S>) -> Self {
		let RpcDeps {
			inference,
			signer,
			client,
			offchain,
			limits,
			inference_port,
			models,
		} = deps;
		let clients = IpLimiter::new(limits.max_per_ip, limits.rate_per_ip_per_minute);
		Self {
			inference,
			signer,
			client,
			offchain,
			limits,
			inference_port,
			models,
			connections: ConnectionLimiter::default(),
			clients,
			source: Source::Rpc,
		}
	}

	/// The same, counting its requests as the OpenAI API's (`http`) in the metrics.
	pub fn serving_http(mut self) -> Self {
		self.source = Source::Http;
		self
	}

	/// A tally of one request of this instance's source.
	fn tally(&self) -> Tally {
		Tally::new(
			self.inference.as_ref().and_then(|i| i.metrics.clone()),
			self.source,
		)
	}

	/// Counts a request refused before it reached the engine's queue.
	fn refused<T>(&self, result: Result<T, Error>) -> Result<T, Error> {
		result.inspect_err(|e| self.tally().done(e.outcome()))
	}

	fn inference(&self) -> Result<&Inference, Error> {
		self.inference.as_ref().ok_or(Error::InferenceDisabled)
	}

	/// Admits a generation request: see [`limits`].
	fn admit(&self, ext: &Extensions) -> Result<Admission, Error> {
		let caller = limits::caller(ext, self.inference_port)?;
		let connection = self
			.connections
			.acquire(ext, self.limits.max_per_connection)?;
		let client = match caller {
			Caller::Public(ip) => Some(self.clients.acquire(ip, Instant::now())?),
			Caller::Trusted => None,
		};
		Ok(Admission {
			_connection: Some(connection),
			_client: client,
		})
	}

	/// Admits, validates and queues a generation on the public lane.
	fn start(
		&self,
		ext: &Extensions,
		params: GenerateParams,
		stream: Option<futures::channel::mpsc::UnboundedSender<TokenEvent>>,
	) -> Result<Started, Error> {
		self.refused(
			self.inference()
				.and_then(|_| self.admit(ext))
				.and_then(|admission| self.queue(admission, params, stream)),
		)
	}

	/// [`Self::start`] for a public client at `ip` that is not a JSON-RPC caller (the OpenAI
	/// front end): limited per address like the inference port's callers.
	pub fn start_for(
		&self,
		ip: std::net::IpAddr,
		params: GenerateParams,
		stream: Option<futures::channel::mpsc::UnboundedSender<TokenEvent>>,
	) -> Result<Started, Error> {
		self.refused(self.inference().and_then(|_| {
			let admission = Admission {
				_connection: None,
				_client: Some(self.clients.acquire(ip, Instant::now())?),
			};
			self.queue(admission, params, stream)
		}))
	}

	/// Admits a request from `ip` that does not run on the engine (the OpenAI front end's
	/// relays to remote back ends): it holds one of the address's slots until dropped.
	pub fn admit_ip(&self, ip: std::net::IpAddr) -> Result<super::limits::IpSlot, Error> {
		self.clients.acquire(ip, Instant::now())
	}

	/// Waits for a started generation and answers with its proof.
	pub async fn finish(&self, started: Started) -> Result<GenerateResult, Error> {
		let Started {
			receiver,
			answering,
			_cancel,
			_admission,
			tally,
		} = started;
		let generation = match receiver.await {
			Ok(Ok(generation)) => generation,
			Ok(Err(e)) => {
				tally.done(Outcome::of_engine_error(&e));
				return Err(Error::from(e));
			},
			Err(_) => {
				tally.done(Outcome::Refused);
				return Err(Error::Engine("the engine stopped".into()));
			},
		};
		tally.done(Outcome::Ok);
		Ok(self.answer(&answering, generation))
	}

	/// Validates and queues an admitted generation on the public lane.
	fn queue(
		&self,
		admission: Admission,
		params: GenerateParams,
		stream: Option<futures::channel::mpsc::UnboundedSender<TokenEvent>>,
	) -> Result<Started, Error> {
		let inference = self.inference()?;
		let engine = &inference.engine;
		let prepared = prepare(
			params,
			&self.limits,
			|model| resolve_model(engine, model),
			engine.config().default_profile,
			now_ms(),
		)?;
		let (request, answering) = prepared.into_parts();
		let cancel = CancelOnDrop(CancelToken::new());
		let (receiver, _started) =
			engine.submit(request, stream, cancel.0.clone(), Lane::Public)?;
		Ok(Started {
			receiver,
			answering,
			_cancel: cancel,
			_admission: admission,
			tally: self.tally(),
		})
	}

	/// The answer to a finished generation, with its proof anchored at the best block.
	fn answer(&self, a: &Answering, g: Generation) -> GenerateResult {
		let info = self.client.info();
		let input = ProofInput {
			genesis_hash: info.genesis_hash.0,
			block_hash: info.best_hash.0,
			block_number: info.best_number,
			model_sha256: a.model_hash,
			request_hash: proof::request_hash(
				&g.prompt,
				a.max_tokens,
				&a.sampling,
				&a.profile,
				&a.stop,
			),
			output_hash: proof::output_hash(&g.prompt_tokens, &g.output_tokens),
			timestamp_ms: now_ms(),
		};
		let (temperature, top_p, seed) = match a.sampling {
			Sampling::Greedy => (None, None, None),
			// The seed came from the request's u32.
			Sampling::Temperature {
				temperature,
				top_p,
				seed,
			} => (Some(temperature), Some(top_p), u32::try_from(seed).ok()),
		};
		GenerateResult {
			model: a.model.clone(),
			proof: proof_view(&self.signer, &input),
			prompt: g.prompt,
			text: g.text,
			prompt_tokens: g.prompt_tokens.len(),
			completion_tokens: g.output_tokens.len(),
			token_ids: g.output_tokens,
			prompt_token_ids: g.prompt_tokens,
			max_tokens: a.max_tokens,
			finish_reason: match g.finish_reason {
				FinishReason::Stop => "stop",
				FinishReason::StopSequence => "stopSequence",
				FinishReason::Length => "length",
				FinishReason::ContextFull => "contextFull",
			},
			stop: a.stop.clone(),
			deterministic: a.deterministic,
			temperature,
			top_p,
			seed,
			profile: ProfileView {
				n_ctx: a.profile.n_ctx,
				n_batch: a.profile.n_batch,
				n_ubatch: a.profile.n_ubatch,
			},
			timings: TimingsView {
				queue_ms: g.timings.queue_ms,
				load_ms: g.timings.load_ms,
				prompt_ms: g.timings.prompt_ms,
				generation_ms: g.timings.generation_ms,
				prompt_tokens_per_second: g.timings.prompt_tokens_per_second,
				generation_tokens_per_second: g.timings.generation_tokens_per_second,
			},
		}
	}

	/// The job as the runtime sees it at `at`; `user_block` says whether the caller chose `at`
	/// (then a failure means the block's state is gone, not that the node is broken).
	fn chain_job(
		&self,
		at: H256,
		job_id: u64,
		user_block: bool,
	) -> Result<Option<JobView<AccountId, Balance, BlockNumber>>, Error> {
		self.client.runtime_api().job(at, job_id).map_err(|e| {
			if user_block {
				Error::UnknownBlock(format!("{}: {e}", hex0x(at.as_ref())))
			} else {
				Error::Engine(format!("runtime API: {e}"))
			}
		})
	}

	/// The output the off-chain worker stored for `job_id`, if any.
	fn stored_output(&self, job_id: u64) -> Option<StoredOutput> {
		let bytes = self.offchain.as_ref()?.get(
			sp_offchain::STORAGE_PREFIX,
			&pallet_proof_of_inference::output_key(job_id),
		)?;
		StoredOutput::decode(&mut &bytes[..]).ok()
	}
}

fn status_name(status: &JobState) -> &'static str {
	match status {
		JobState::Pending => "pending",
		JobState::Completed { .. } => "completed",
		JobState::Failed(_) => "failed",
		JobState::Overturned { .. } => "overturned",
	}
}

#[async_trait]
impl<C, S> InferenceApiServer<H256> for InferenceRpc<C, S>
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
		// The guards live until `finish` returns: the slots stay taken while the request
		// runs, and a dropped future (client gone) cancels the generation.
		let started = self.start(ext, params, None)?;
		Ok(self.finish(started).await?)
	}

	async fn subscribe_generate(
		&self,
		pending: PendingSubscriptionSink,
		ext: &Extensions,
		params: GenerateParams,
	) -> SubscriptionResult {
		let (tx, mut rx) = futures::channel::mpsc::unbounded::<TokenEvent>();
		let started = match self.start(ext, params, Some(tx)) {
			Ok(started) => started,
			Err(e) => {
				pending.reject(e).await;
				return Ok(());
			},
		};
		let sink = pending.accept().await?;
		use futures::StreamExt;
		while let Some(event) = rx.next().await {
			let item = StreamItem::Token {
				id: event.id,
				text: event.text,
			};
			// A closed sink returns here, which drops `started` and stops the generation.
			sink.send(SubscriptionMessage::from_json(&item)?).await?;
		}
		let last = match self.finish(started).await {
			Ok(result) => StreamItem::Done(Box::new(result)),
			Err(e) => StreamItem::Error {
				code: e.code(),
				message: e.message(),
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
			.map_err(|e| Error::Engine(e.to_string()))?;
		Ok(models
			.into_iter()
			.map(|m| ModelInfoView {
				loaded: m.hash().is_some_and(|h| loaded.contains(&h)),
				sha256: format!("0x{}", m.sha256),
				name: m.name,
				size_bytes: m.size_bytes,
				cid: m.cid,
			})
			.collect())
	}

	fn node_info(&self) -> RpcResult<NodeInfoView> {
		let inference = self.inference()?;
		let engine = &inference.engine;
		let stored: HashMap<String, StoredModel> = engine
			.store()
			.list()
			.unwrap_or_default()
			.into_iter()
			.map(|m| (m.sha256.clone(), m))
			.collect();
		let loaded_models = engine
			.loaded_models()
			.into_iter()
			.map(|(hash, size_bytes)| {
				let hex = hex::encode(hash);
				let entry = stored.get(&hex);
				ModelInfoView {
					name: entry.map_or_else(|| hex.clone(), |m| m.name.clone()),
					cid: entry.and_then(|m| m.cid.clone()),
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
			engine_class: EngineClassView::of_this_build(),
			capabilities: crate::hardware_cmd::measured_once().clone(),
			ratings: crate::bench_cmd::saved(engine.store().dir()),
			cpu_cores: std::thread::available_parallelism()
				.map(|n| n.get())
				.unwrap_or(1),
			threads: config.threads,
			workers: config.workers,
			chain_workers: config.chain_workers,
			queue_depth: engine.queue_depth(),
			chain_queue_depth: engine.chain_queue_depth(),
			public_queue_depth: engine.public_queue_depth(),
			running: engine.running(),
			queue_capacity: config.queue_capacity,
			chain_queue_capacity: config.chain_queue_capacity,
			loaded_models,
			max_prompt_bytes: self.limits.max_prompt_bytes,
			max_tokens: self.limits.max_tokens,
			max_requests_per_connection: self.limits.max_per_connection,
			max_requests_per_ip: self.limits.max_per_ip,
			requests_per_minute_per_ip: self.limits.rate_per_ip_per_minute,
			inference_rpc_port: self.inference_port,
			model_endpoints: self
				.models
				.as_ref()
				.map(|m| m.addresses().iter().map(|a| a.to_string()).collect())
				.unwrap_or_default(),
		})
	}

	fn model_transfers(&self) -> RpcResult<Vec<ModelTransferView>> {
		Ok(self
			.models
			.as_ref()
			.map(|m| {
				m.progress()
					.into_iter()
					.map(ModelTransferView::from)
					.collect()
			})
			.unwrap_or_default())
	}

	fn job_result(
		&self,
		job_id: u64,
		auth: Option<JobResultAuth>,
		at: Option<H256>,
	) -> RpcResult<JobResultView> {
		let info = self.client.info();
		let block = at.unwrap_or(info.best_hash);
		match self.client.header(block) {
			Ok(Some(_)) => {},
			Ok(None) => return Err(Error::UnknownBlock(hex0x(block.as_ref())).into()),
			Err(e) => return Err(Error::Engine(format!("header of {block:?}: {e}")).into()),
		}
		// Outputs are served only while the job is on chain: without it there is no digest to
		// check the output against and no status to say it is settled (a block before the
		// job's submission would otherwise serve a pending job's output).
		let job = self
			.chain_job(block, job_id, at.is_some())?
			.ok_or(Error::JobNotFound(job_id))?;
		let stored = self
			.stored_output(job_id)
			.ok_or(Error::JobOutputUnavailable(job_id))?;
		let phase = match job.status {
			JobState::Pending => JobPhase::Pending,
			JobState::Completed { .. } | JobState::Failed(_) | JobState::Overturned { .. } => {
				JobPhase::Settled
			},
		};
		let pending_at_best = match phase {
			JobPhase::Pending => true,
			JobPhase::Settled if block == info.best_hash => false,
			JobPhase::Settled => {
				self.chain_job(info.best_hash, job_id, false)?
					.is_some_and(|best| {
						matches!(best.status, JobState::Pending) && best.digest == job.digest
					})
			},
		};
		let chain = ChainJob {
			phase,
			digest: &job.digest,
			owner: &job.owner,
			pending_at_best,
		};
		auth::check_job_access(
			job_id,
			&chain,
			&stored.job_digest,
			auth.as_ref(),
			&info.genesis_hash.0,
			self.signer.public_key().as_ref(),
		)?;
		// After an overturn the auditors' hash is the chain's answer.
		let chain_hash = match job.status {
			JobState::Completed { result_hash } => Some(result_hash),
			JobState::Overturned { audited_hash, .. } => Some(audited_hash),
			_ => None,
		};
		Ok(JobResultView {
			job_id,
			block_hash: hex0x(block.as_ref()),
			job_digest: hex0x(&stored.job_digest),
			text: String::from_utf8_lossy(&stored.output.text).into_owned(),
			prompt_token_ids: stored.output.prompt_tokens,
			output_token_ids: stored.output.output_tokens,
			model_sha256: hex0x(&stored.model_sha256),
			result_hash: hex0x(&stored.result_hash),
			matches_chain: (phase == JobPhase::Settled)
				.then(|| chain_hash == Some(stored.result_hash)),
			on_chain: OnChainJob {
				status: status_name(&job.status),
				digest: hex0x(&job.digest),
				owner: job.owner.to_ss58check(),
				result_hash: chain_hash.map(|h| hex0x(&h)),
				model_sha256: hex0x(&job.model_sha256),
				assignees: job
					.assignees
					.into_iter()
					.map(|a| AssigneeResult {
						node: a.node.to_ss58check(),
						committed: a.commitment.is_some(),
						result_hash: a.revealed.map(|h| hex0x(&h)),
					})
					.collect(),
			},
		})
	}

	fn key_ownership_proof(
		&self,
		ext: &Extensions,
		account: String,
	) -> RpcResult<KeyOwnershipProofView> {
		if !limits::unsafe_allowed(ext) {
			return Err(Error::Unsafe.into());
		}
		let account = auth::parse_account(&account)?;
		let genesis = self.client.info().genesis_hash.0;
		Ok(auth::key_ownership_proof(&self.signer, &genesis, &account)?)
	}
}

#[cfg(test)]
pub(crate) mod tests {
	use super::*;
	use sp_keystore::{testing::MemoryKeystore, Keystore};

	/// Plain ed25519 verification, as any client does it (here through sp-core).
	fn ed25519_verifies(public: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
		use sp_core::{ed25519, Pair};
		ed25519::Pair::verify(
			&ed25519::Signature::from_raw(*signature),
			message,
			&ed25519::Public::from_raw(*public),
		)
	}

	pub(crate) const LIMITS: RpcLimits = RpcLimits {
		max_prompt_bytes: 64,
		max_tokens: 512,
		max_per_connection: 2,
		max_per_ip: 2,
		rate_per_ip_per_minute: 30,
	};

	pub(crate) const PROFILE: ExecutionProfile = ExecutionProfile {
		n_ctx: 2048,
		n_batch: 512,
		n_ubatch: 512,
	};

	/// Knows one model, `m`, whose sha256 is all ones.
	pub(crate) fn resolve(model: &str) -> Result<(String, ModelHash), Error> {
		match model.strip_prefix("0x").unwrap_or(model) {
			"m" => Ok(("m".into(), [1; 32])),
			hex if hex == "01".repeat(32) => Ok(("m".into(), [1; 32])),
			_ => Err(Error::UnknownModel(model.into())),
		}
	}

	fn params(json: serde_json::Value) -> GenerateParams {
		serde_json::from_value(json).expect("valid params")
	}

	fn try_prepare(json: serde_json::Value) -> Result<Prepared, Error> {
		prepare(params(json), &LIMITS, resolve, PROFILE, 77)
	}

	#[test]
	fn prepare_builds_the_engine_request() {
		let p = try_prepare(serde_json::json!({"model": "m", "prompt": "hi"})).expect("ok");
		assert_eq!(p.request.model, [1; 32]);
		assert_eq!(p.request.input, Input::Text("hi".into()));
		assert_eq!(p.request.max_tokens, DEFAULT_MAX_TOKENS);
		assert_eq!(p.request.sampling, Sampling::Greedy);
		assert_eq!(p.request.profile, PROFILE);
		assert_eq!(p.model.sha256, hex0x(&[1; 32]));
		assert!(p.deterministic);
	}

	#[test]
	fn prepare_keeps_the_documented_order_of_checks() {
		let code = |json| try_prepare(json).err().map(|e| e.code());
		use super::super::error::codes::*;
		assert_eq!(
			code(serde_json::json!({"model": "x", "prompt": "hi"})),
			Some(UNKNOWN_MODEL)
		);
		assert_eq!(code(serde_json::json!({"model": "m"})), Some(BAD_INPUT));
		assert_eq!(
			code(serde_json::json!({"model": "m", "prompt": "a", "messages": []})),
			Some(BAD_INPUT)
		);
		assert_eq!(
			code(serde_json::json!({"model": "m", "messages": []})),
			Some(BAD_INPUT)
		);
		assert_eq!(
			code(serde_json::json!({"model": "m", "prompt": "x".repeat(65)})),
			Some(PROMPT_TOO_LARGE)
		);
		assert_eq!(
			code(serde_json::json!({"model": "m",
				"messages": [{"role": "user", "content": "x".repeat(61)}]})),
			Some(PROMPT_TOO_LARGE)
		);
		assert_eq!(
			code(serde_json::json!({"model": "m", "prompt": "a", "maxTokens": 0})),
			Some(BAD_MAX_TOKENS)
		);
		assert_eq!(
			code(serde_json::json!({"model": "m", "prompt": "a", "maxTokens": 513})),
			Some(BAD_MAX_TOKENS)
		);
		assert_eq!(
			code(serde_json::json!({"model": "m", "prompt": "a", "maxTokens": 512})),
			None
		);
		// By sha256 too, `0x` optional.
		assert_eq!(
			code(serde_json::json!({"model": format!("0x{}", "01".repeat(32)), "prompt": "a"})),
			None
		);
	}

	#[test]
	fn prepare_sampling() {
		let p = try_prepare(
			serde_json::json!({"model": "m", "prompt": "a", "maxTokens": 4,
			"deterministic": false}),
		)
		.expect("ok");
		assert_eq!(
			p.request.sampling,
			Sampling::Temperature {
				temperature: DEFAULT_TEMPERATURE,
				top_p: 1.0,
				seed: 77
			}
		);
		let p = try_prepare(
			serde_json::json!({"model": "m", "prompt": "a", "maxTokens": 4,
			"deterministic": false, "temperature": 0.5, "topP": 0.9, "seed": 9}),
		)
		.expect("ok");
		assert_eq!(
			p.request.sampling,
			Sampling::Temperature {
				temperature: 0.5,
				top_p: 0.9,
				seed: 9
			}
		);
		for bad in [
			serde_json::json!({"temperature": -1.0}),
			serde_json::json!({"topP": 0.0}),
			serde_json::json!({"topP": 1.5}),
		] {
			let mut params = serde_json::json!({"model": "m", "prompt": "a", "maxTokens": 4,
				"deterministic": false});
			params
				.as_object_mut()
				.unwrap()
				.extend(bad.as_object().unwrap().clone());
			assert!(
				matches!(try_prepare(params.clone()), Err(Error::BadSampling(_))),
				"{params}"
			);
		}
		// Temperature and seed mean nothing with greedy decoding.
		let p = try_prepare(
			serde_json::json!({"model": "m", "prompt": "a", "maxTokens": 4,
			"temperature": 0.5, "seed": 9}),
		)
		.expect("ok");
		assert_eq!(p.request.sampling, Sampling::Greedy);
	}

	#[test]
	fn proof_view_is_a_verifiable_v2_proof() {
		let keystore = Arc::new(MemoryKeystore::new());
		let public = keystore
			.ed25519_generate_new(pallet_node_registry::KEY_TYPE, Some("//Alice"))
			.expect("key");
		let signer = KeystoreSigner::new(keystore);
		let input = ProofInput {
			genesis_hash: [1; 32],
			block_hash: [2; 32],
			block_number: 7,
			model_sha256: [3; 32],
			request_hash: proof::request_hash("hi", 4, &Sampling::Greedy, &PROFILE, &[]),
			output_hash: proof::output_hash(&[1, 2], &[3]),
			timestamp_ms: 1_795_000_000_000,
		};
		let view = proof_view(&signer, &input).expect("signed");
		assert_eq!(view.version, 2);
		assert_eq!(view.public_key, hex0x(&public.0));
		assert_eq!(view.genesis_hash, hex0x(&[1; 32]));
		assert_eq!(view.block_hash, hex0x(&[2; 32]));
		assert_eq!(view.block_number, 7);
		let message = parse_hex::<209>(&view.message).expect("209 bytes");
		assert_eq!(message, proof::proof_message(&input));
		let signature = parse_hex::<64>(&view.signature).expect("64 bytes");
		assert!(ed25519_verifies(&public.0, &message, &signature));
		// The JSON names clients read.
		let json = serde_json::to_value(&view).expect("json");
		for field in [
			"version",
			"genesisHash",
			"blockHash",
			"blockNumber",
			"modelSha256",
			"requestHash",
			"outputHash",
			"timestampMs",
			"publicKey",
			"signature",
			"message",
		] {
			assert!(json.get(field).is_some(), "missing {field}");
		}
		// Without a key there is no proof.
		let keyless = KeystoreSigner::new(Arc::new(MemoryKeystore::new()));
		assert!(proof_view(&keyless, &input).is_none());
	}
}
