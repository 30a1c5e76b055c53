//! The OpenAI-compatible HTTP server: routes, bodies, server-sent events.
//!
//! Every generation goes through the same [`InferenceRpc`] as the `inference_*` methods (one
//! instance of its own, so its per-address counters are this port's): the same validation, the
//! same public lane of the engine (on-chain jobs keep their own workers and queue), the same
//! per-address concurrency and rate limits, and the same signed proof, which every answer
//! carries as its `receipt` (and, unstreamed, in the `x-cognitive-receipt` header).

use super::{
	balance::{Balancer, NodeStatus, HOPS_HEADER, MAX_HOPS, WORKER_HEADER},
	convert::*,
	peers::PeerSource,
	remote::{pass_through, send, Remotes, BACKEND_HEADER, DETERMINISTIC_HEADER},
	wire::*,
};
use crate::inference::rpc::{
	api::InferenceApiServer,
	error::Error,
	server::InferenceRpc,
	types::{GenerateParams, GenerateResult},
};
use cognitive_runtime::{opaque::Block, AccountId, Balance, BlockNumber};
use futures::{channel::mpsc, SinkExt, StreamExt};
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Full, StreamBody};
use hyper::{
	body::{Bytes, Frame, Incoming},
	header, Method, Request, Response,
};
use inference_engine::TokenEvent;
use pallet_proof_of_inference::runtime_api::ProofOfInferenceApi;
use serde::Serialize;
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_core::offchain::OffchainStorage;
use std::{
	convert::Infallible,
	net::IpAddr,
	sync::{
		atomic::{AtomicU64, Ordering},
		Arc,
	},
};

/// Largest request body: a full context of chat messages is well below it.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// The header that carries an unstreamed answer's receipt: `v2 key=0x… sig=0x… msg=0x…`.
pub const RECEIPT_HEADER: &str = "x-cognitive-receipt";

/// What every answer is built with.
pub type Body = UnsyncBoxBody<Bytes, Infallible>;

/// The receipt of an answer: the node's signed proof of the generation and everything a client
/// needs to check it without the chain (docs/rpc.md, "proof").
pub type Receipt = GenerateResult;

/// How long a peer may take to begin its answer to a forwarded request (an unstreamed answer
/// begins once it is whole).
const FORWARD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// The front end's shared state.
pub struct Gateway<C, S> {
	rpc: Arc<InferenceRpc<C, S>>,
	remotes: Remotes,
	balancer: Option<Balancer>,
	fingerprint: String,
	next_id: AtomicU64,
}

/// The forwards a request has had (`x-cognitive-hops`); one that cannot be read counts as the
/// most, so it is never forwarded again.
fn hops_of(request: &Request<Incoming>) -> u32 {
	request
		.headers()
		.get(HOPS_HEADER)
		.map_or(Some(0), |v| v.to_str().ok()?.trim().parse().ok())
		.unwrap_or(MAX_HOPS)
}

fn now_s() -> u64 {
	std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.map(|d| d.as_secs())
		.unwrap_or(0)
}

fn json_response<T: Serialize>(status: u16, value: &T) -> Response<Body> {
	let bytes = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
	let mut response = Response::new(Full::new(Bytes::from(bytes)).boxed_unsync());
	*response.status_mut() =
		hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
	response.headers_mut().insert(
		header::CONTENT_TYPE,
		header::HeaderValue::from_static("application/json"),
	);
	response
}

fn error_response(e: ApiError) -> Response<Body> {
	json_response(e.status, &e.body)
}

/// The receipt's header value.
fn receipt_header(receipt: &Receipt) -> Option<header::HeaderValue> {
	let proof = receipt.proof.as_ref()?;
	header::HeaderValue::from_str(&format!(
		"v{} key={} sig={} msg={}",
		proof.version, proof.public_key, proof.signature, proof.message
	))
	.ok()
}

/// How much more than [`MAX_BODY_BYTES`] an oversized body may still send before its 413: the
/// rest is read and dropped, so a client that writes its whole body before reading the answer
/// gets the 413 instead of a reset (a socket closed with unread data is reset by the kernel,
/// and the client's write fails before it reads anything). Beyond it the connection is closed.
pub const MAX_DRAIN_BYTES: usize = 16 << 20;

/// How long an oversized body is drained before the 413 is sent regardless.
const DRAIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Reads a body of at most [`MAX_BODY_BYTES`]; a larger one is an error once it has been read
/// to its end (or [`MAX_DRAIN_BYTES`] more, or [`DRAIN_TIMEOUT`]).
async fn read_body<B>(mut body: B) -> Result<Bytes, ApiError>
where
	B: hyper::body::Body<Data = Bytes> + Unpin,
	B::Error: std::fmt::Display,
{
	let reading = |e: B::Error| ApiError::bad_json(format!("reading the body: {e}"));
	let declared = body.size_hint().exact().unwrap_or(0);
	if declared > (MAX_BODY_BYTES + MAX_DRAIN_BYTES) as u64 {
		return Err(ApiError::too_large(MAX_BODY_BYTES));
	}
	let mut kept = Vec::new();
	while let Some(frame) = body.frame().await {
		let Ok(data) = frame.map_err(reading)?.into_data() else {
			continue;
		};
		if kept.len() + data.len() <= MAX_BODY_BYTES {
			kept.extend_from_slice(&data);
			continue;
		}
		let mut dropped = kept.len() + data.len() - MAX_BODY_BYTES;
		let drain = async {
			while dropped <= MAX_DRAIN_BYTES {
				match body.frame().await {
					Some(Ok(frame)) => dropped += frame.data_ref().map_or(0, |d| d.len()),
					_ => break,
				}
			}
		};
		let _ = tokio::time::timeout(DRAIN_TIMEOUT, drain).await;
		return Err(ApiError::too_large(MAX_BODY_BYTES));
	}
	Ok(Bytes::from(kept))
}

/// Reads and parses a JSON body of at most [`MAX_BODY_BYTES`].
async fn read_json<T: serde::de::DeserializeOwned>(
	request: Request<Incoming>,
) -> Result<T, ApiError> {
	let body = read_body(request.into_body()).await?;
	serde_json::from_slice(&body).map_err(|e| ApiError::bad_json(e.to_string()))
}

/// An SSE event with a JSON payload.
fn event<T: Serialize>(value: &T) -> Bytes {
	let json = serde_json::to_string(value).unwrap_or_else(|_| "{}".into());
	Bytes::from(format!("data: {json}\n\n"))
}

/// What every chunk of one stream repeats.
struct StreamHead {
	id: String,
	created: u64,
	model: String,
	fingerprint: String,
}

impl StreamHead {
	/// One SSE event: this stream's envelope around `choices` (none in the usage chunk).
	fn chunk<C: Serialize>(
		&self,
		object: &'static str,
		choices: Vec<C>,
		usage: Option<Usage>,
		receipt: Option<Receipt>,
	) -> Bytes {
		event(&Answer {
			id: self.id.clone(),
			object,
			created: self.created,
			model: self.model.clone(),
			system_fingerprint: self.fingerprint.clone(),
			choices,
			usage,
			receipt,
		})
	}
}

/// Which of the two generation routes a request came by.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Route {
	Chat,
	Completion,
}

impl<C, S> Gateway<C, S>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: ProofOfInferenceApi<Block, AccountId, Balance, BlockNumber>,
	S: OffchainStorage + 'static,
{
	/// A front end over `rpc` (an instance of its own) and the remote back ends; with `peers`,
	/// requests it cannot answer itself go to the peers that can.
	pub fn new(
		rpc: InferenceRpc<C, S>,
		remotes: Remotes,
		peers: Option<Arc<dyn PeerSource>>,
	) -> Self {
		Self {
			rpc: Arc::new(rpc),
			remotes,
			balancer: peers.map(Balancer::new),
			fingerprint: format!(
				"{}/{}",
				inference_engine::ENGINE_VERSION,
				inference_engine::CPU_TARGET
			),
			next_id: AtomicU64::new(1),
		}
	}

	fn id(&self, prefix: &str) -> String {
		format!(
			"{prefix}-{:x}-{}",
			now_s(),
			self.next_id.fetch_add(1, Ordering::Relaxed)
		)
	}

	/// Answers one HTTP request from `ip`.
	pub async fn handle(self: Arc<Self>, request: Request<Incoming>, ip: IpAddr) -> Response<Body> {
		let route = (request.method().clone(), request.uri().path().to_string());
		let outcome = match (&route.0, route.1.as_str()) {
			(&Method::GET, "/v1/models") => self.models(),
			(&Method::GET, "/v1/status") => self.status(),
			(&Method::POST, "/v1/chat/completions") => self.chat(request, ip).await,
			(&Method::POST, "/v1/completions") => self.complete(request, ip).await,
			(method, path) => Err(ApiError::not_found(&format!("{method} {path}"))),
		};
		outcome.unwrap_or_else(error_response)
	}

	/// `POST /v1/chat/completions`.
	async fn chat(
		self: &Arc<Self>,
		request: Request<Incoming>,
		ip: IpAddr,
	) -> Result<Response<Body>, ApiError> {
		let hops = hops_of(&request);
		let path = "/chat/completions";
		let (raw, body): (_, ChatCompletionRequest) =
			match self.read_local(request, ip, path).await? {
				Ok(body) => body,
				Err(relayed) => return Ok(relayed),
			};
		let (model, stream) = (
			body.model.clone(),
			streaming(body.common.stream, &body.common.stream_options),
		);
		let local = self
			.generate(ip, Route::Chat, model, chat_params(body)?, stream)
			.await;
		self.or_forward(local, path, raw, hops, ip).await
	}

	/// `POST /v1/completions`.
	async fn complete(
		self: &Arc<Self>,
		request: Request<Incoming>,
		ip: IpAddr,
	) -> Result<Response<Body>, ApiError> {
		let hops = hops_of(&request);
		let path = "/completions";
		let (raw, body): (_, CompletionRequest) = match self.read_local(request, ip, path).await? {
			Ok(body) => body,
			Err(relayed) => return Ok(relayed),
		};
		let (model, stream) = (
			body.model.clone(),
			streaming(body.common.stream, &body.common.stream_options),
		);
		let local = self
			.generate(
				ip,
				Route::Completion,
				model,
				completion_params(body)?,
				stream,
			)
			.await;
		self.or_forward(local, path, raw, hops, ip).await
	}

	/// `local`, or, where it is an error another node can do better on (a model this node does
	/// not serve, or its public queue full), the answer of the best peer that serves the model
	/// ([`super::balance`]), tried on up to [`super::balance::MAX_TRIES`] of them. The request
	/// counts against the caller's per-address limits while it runs there; the answer passes
	/// through as the peer sent it (its receipt is the peer's), named by
	/// [`WORKER_HEADER`]. With no peer to take it, `local` stands.
	async fn or_forward(
		&self,
		local: Result<Response<Body>, ApiError>,
		path: &str,
		body: serde_json::Value,
		hops: u32,
		ip: IpAddr,
	) -> Result<Response<Body>, ApiError> {
		let refused = match local {
			Err(e) if e.code_is("model_not_found") || e.code_is("overloaded") => e,
			other => return other,
		};
		let Some(balancer) = self.balancer.as_ref().filter(|_| hops < MAX_HOPS) else {
			return Err(refused);
		};
		let model = body
			.get("model")
			.and_then(|m| m.as_str())
			.unwrap_or_default();
		let peers = balancer.candidates(model).await;
		if peers.is_empty() {
			return Err(refused);
		}
		let admission = self.rpc.admit_ip(ip)?;
		let streamed = body
			.get("stream")
			.and_then(|s| s.as_bool())
			.unwrap_or(false);
		let payload = Bytes::from(serde_json::to_vec(&body).unwrap_or_default());
		for peer in peers {
			let Ok(request) = Request::post(format!("/v1{path}"))
				.header(header::HOST, &peer.authority)
				.header(header::CONTENT_TYPE, "application/json")
				.header(HOPS_HEADER, (hops + 1).to_string())
				.body(Full::new(payload.clone()))
			else {
				continue;
			};
			let in_flight = balancer.begin(&peer);
			let answer =
				tokio::time::timeout(FORWARD_TIMEOUT, send(&peer.authority, request)).await;
			let answer = match answer {
				Ok(Ok(answer)) if !answer.status().is_server_error() => answer,
				Ok(Ok(answer)) => {
					log::debug!(target: "inference", "peer {} answered {}", peer.authority, answer.status());
					balancer.failed(&peer);
					continue;
				},
				Ok(Err(e)) => {
					log::debug!(target: "inference", "peer {}: {e}", peer.authority);
					balancer.failed(&peer);
					continue;
				},
				Err(_) => {
					log::debug!(target: "inference", "peer {}: no answer in {FORWARD_TIMEOUT:?}", peer.authority);
					balancer.failed(&peer);
					continue;
				},
			};
			let (head, incoming) = answer.into_parts();
			let mut out = Response::new(pass_through(
				incoming,
				peer.authority.clone(),
				streamed,
				(in_flight, admission),
			));
			*out.status_mut() = head.status;
			for name in [
				header::CONTENT_TYPE.as_str(),
				header::CACHE_CONTROL.as_str(),
				RECEIPT_HEADER,
				BACKEND_HEADER,
				DETERMINISTIC_HEADER,
				WORKER_HEADER,
			] {
				if let Some(value) = head.headers.get(name) {
					out.headers_mut().insert(name, value.clone());
				}
			}
			// A peer that forwarded it again named the worker already.
			if !out.headers().contains_key(WORKER_HEADER) {
				if let Ok(value) = header::HeaderValue::from_str(&peer.account) {
					out.headers_mut().insert(WORKER_HEADER, value);
				}
			}
			return Ok(out);
		}
		Err(refused)
	}

	/// `GET /v1/status`: this node's health and load, as gateways weigh it.
	fn status(&self) -> Result<Response<Body>, ApiError> {
		let info = InferenceApiServer::<sp_core::H256>::node_info(&*self.rpc)
			.map_err(|e| ApiError::from(Error::Engine(e.message().to_string())))?;
		let models = InferenceApiServer::<sp_core::H256>::models(&*self.rpc)
			.map(|m| m.into_iter().map(|m| m.name).collect())
			.unwrap_or_default();
		Ok(json_response(
			200,
			&NodeStatus {
				object: "node.status".into(),
				public_key: info.public_key,
				models,
				queue_depth: info.public_queue_depth,
				queue_capacity: info.queue_capacity,
				running: info.running,
				saturated: info.public_queue_depth >= info.queue_capacity,
			},
		))
	}

	/// Reads a generation request: one for a remote back end's model is relayed at once
	/// (`Err` of the inner result: the answer), any other is parsed for the embedded engine
	/// (and kept as it came, for a peer).
	async fn read_local<T: serde::de::DeserializeOwned>(
		&self,
		request: Request<Incoming>,
		ip: IpAddr,
		path: &str,
	) -> Result<Result<(serde_json::Value, T), Response<Body>>, ApiError> {
		let body: serde_json::Value = read_json(request).await?;
		let model = body
			.get("model")
			.and_then(|m| m.as_str())
			.unwrap_or_default();
		if let Some(remote) = self.remotes.get(model) {
			let admission = self.rpc.admit_ip(ip)?;
			return remote.relay(path, body, admission).await.map(Err);
		}
		serde_json::from_value(body.clone())
			.map(|typed| Ok((body, typed)))
			.map_err(|e| ApiError::bad_json(e.to_string()))
	}

	fn models(&self) -> Result<Response<Body>, ApiError> {
		let models = InferenceApiServer::<sp_core::H256>::models(&*self.rpc)
			.map_err(|e| ApiError::from(Error::Engine(e.message().to_string())))?;
		let data = models
			.into_iter()
			.map(|m| ModelEntry {
				id: m.name,
				object: "model",
				created: 0,
				owned_by: "cognitive-internet".into(),
				deterministic: true,
			})
			.chain(self.remotes.iter().map(|r| ModelEntry {
				id: r.spec.name.clone(),
				object: "model",
				created: 0,
				owned_by: "remote".into(),
				deterministic: false,
			}))
			.collect();
		Ok(json_response(
			200,
			&ModelList {
				object: "list",
				data,
			},
		))
	}

	async fn generate(
		self: &Arc<Self>,
		ip: IpAddr,
		route: Route,
		model: String,
		params: GenerateParams,
		stream: Option<bool>,
	) -> Result<Response<Body>, ApiError> {
		match stream {
			None => {
				let started = self.rpc.start_for(ip, params, None)?;
				let result = self.rpc.finish(started).await?;
				let header = receipt_header(&result);
				let mut response = match route {
					Route::Chat => json_response(200, &self.chat_completion(model, result)),
					Route::Completion => json_response(200, &self.completion(model, result)),
				};
				if let Some(value) = header {
					response.headers_mut().insert(RECEIPT_HEADER, value);
				}
				mark_local(&mut response);
				Ok(response)
			},
			Some(include_usage) => {
				let (tokens_tx, tokens_rx) = mpsc::unbounded::<TokenEvent>();
				let started = self.rpc.start_for(ip, params, Some(tokens_tx))?;
				let (frames_tx, frames_rx) = mpsc::channel::<Result<Frame<Bytes>, Infallible>>(16);
				let gateway = self.clone();
				tokio::spawn(async move {
					gateway
						.stream(route, model, started, tokens_rx, frames_tx, include_usage)
						.await
				});
				let mut response = Response::new(BodyExt::boxed_unsync(StreamBody::new(frames_rx)));
				let headers = response.headers_mut();
				headers.insert(
					header::CONTENT_TYPE,
					header::HeaderValue::from_static("text/event-stream"),
				);
				headers.insert(
					header::CACHE_CONTROL,
					header::HeaderValue::from_static("no-cache"),
				);
				mark_local(&mut response);
				Ok(response)
			},
		}
	}

	/// Sends a generation's tokens as SSE chunks, then the finishing chunk with the receipt,
	/// the usage chunk if asked for, and `[DONE]`. A closed connection ends the task, which
	/// drops `started` and so cancels the generation and frees the client's slot.
	async fn stream(
		&self,
		route: Route,
		model: String,
		started: crate::inference::rpc::server::Started,
		mut tokens: mpsc::UnboundedReceiver<TokenEvent>,
		mut frames: mpsc::Sender<Result<Frame<Bytes>, Infallible>>,
		include_usage: bool,
	) {
		let id = self.id(if route == Route::Chat {
			"chatcmpl"
		} else {
			"cmpl"
		});
		let created = now_s();
		let send = |bytes: Bytes| {
			let mut frames = frames.clone();
			async move { frames.send(Ok(Frame::data(bytes))).await.is_ok() }
		};
		let head = StreamHead {
			id,
			created,
			model,
			fingerprint: self.fingerprint.clone(),
		};
		let chunk = |delta: Delta,
		             finish: Option<&'static str>,
		             usage: Option<Usage>,
		             receipt: Option<Receipt>| {
			let usage_only = usage.is_some() && finish.is_none() && delta.content.is_none();
			match route {
				Route::Chat => {
					let choice = ChunkChoice {
						index: 0,
						delta,
						logprobs: None,
						finish_reason: finish,
					};
					head.chunk(
						"chat.completion.chunk",
						if usage_only { vec![] } else { vec![choice] },
						usage,
						receipt,
					)
				},
				Route::Completion => {
					let choice = CompletionChoice {
						text: delta.content.unwrap_or_default(),
						index: 0,
						logprobs: None,
						finish_reason: finish,
					};
					head.chunk(
						"text_completion",
						if usage_only { vec![] } else { vec![choice] },
						usage,
						receipt,
					)
				},
			}
		};
		if route == Route::Chat
			&& !send(chunk(
				Delta {
					role: Some("assistant"),
					content: Some(String::new()),
				},
				None,
				None,
				None,
			))
			.await
		{
			return;
		}
		while let Some(token) = tokens.next().await {
			let delta = Delta {
				role: None,
				content: Some(token.text),
			};
			if !send(chunk(delta, None, None, None)).await {
				return;
			}
		}
		match self.rpc.finish(started).await {
			Ok(result) => {
				let usage = Usage::new(result.prompt_tokens, result.completion_tokens);
				let finish = finish_reason(result.finish_reason);
				let delta = if route == Route::Chat {
					Delta::default()
				} else {
					Delta {
						role: None,
						content: Some(String::new()),
					}
				};
				if !send(chunk(delta, Some(finish), None, Some(result))).await {
					return;
				}
				if include_usage && !send(chunk(Delta::default(), None, Some(usage), None)).await {
					return;
				}
			},
			Err(e) => {
				// Headers are gone: the error travels as an event, as OpenAI's servers do.
				let _ = send(event(&ApiError::from(e).body)).await;
			},
		}
		let _ = send(Bytes::from_static(b"data: [DONE]\n\n")).await;
		frames.close_channel();
	}

	fn chat_completion(&self, model: String, result: Receipt) -> ChatCompletion<Receipt> {
		ChatCompletion {
			id: self.id("chatcmpl"),
			object: "chat.completion",
			created: now_s(),
			model,
			system_fingerprint: self.fingerprint.clone(),
			choices: vec![ChatChoice {
				index: 0,
				message: ChatMessageOut {
					role: "assistant",
					content: result.text.clone(),
				},
				logprobs: None,
				finish_reason: finish_reason(result.finish_reason),
			}],
			usage: Some(Usage::new(result.prompt_tokens, result.completion_tokens)),
			receipt: Some(result),
		}
	}

	fn completion(&self, model: String, result: Receipt) -> Completion<Receipt> {
		Completion {
			id: self.id("cmpl"),
			object: "text_completion",
			created: now_s(),
			model,
			system_fingerprint: self.fingerprint.clone(),
			choices: vec![CompletionChoice {
				text: result.text.clone(),
				index: 0,
				logprobs: None,
				finish_reason: Some(finish_reason(result.finish_reason)),
			}],
			usage: Some(Usage::new(result.prompt_tokens, result.completion_tokens)),
			receipt: Some(result),
		}
	}
}

/// The headers of an answer of the embedded engine (a remote back end's are marked by
/// [`super::remote`]).
fn mark_local(response: &mut Response<Body>) {
	let headers = response.headers_mut();
	headers.insert(BACKEND_HEADER, header::HeaderValue::from_static("local"));
	headers.insert(
		DETERMINISTIC_HEADER,
		header::HeaderValue::from_static("true"),
	);
}

/// `None` for an unstreamed request, else whether to send the usage chunk.
fn streaming(stream: bool, options: &Option<StreamOptions>) -> Option<bool> {
	stream.then(|| options.as_ref().is_some_and(|o| o.include_usage))
}

/// Serves `gateway` on `listener` until the task is dropped: one task per connection, HTTP/1.1
/// with keep-alive; a connection that errs is closed, the others go on.
pub async fn serve<C, S>(listener: tokio::net::TcpListener, gateway: Arc<Gateway<C, S>>)
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: ProofOfInferenceApi<Block, AccountId, Balance, BlockNumber>,
	S: OffchainStorage + 'static,
{
	loop {
		let (socket, addr) = match listener.accept().await {
			Ok(accepted) => accepted,
			Err(e) => {
				log::warn!(target: "inference", "openai port: accept failed: {e}");
				tokio::time::sleep(std::time::Duration::from_millis(100)).await;
				continue;
			},
		};
		let gateway = gateway.clone();
		tokio::spawn(async move {
			let service = hyper::service::service_fn(move |request| {
				let gateway = gateway.clone();
				async move { Ok::<_, Infallible>(gateway.handle(request, addr.ip()).await) }
			});
			let io = hyper_util::rt::TokioIo::new(socket);
			if let Err(e) = hyper::server::conn::http1::Builder::new()
				.serve_connection(io, service)
				.await
			{
				log::debug!(target: "inference", "openai port: connection from {addr}: {e}");
			}
		});
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use tokio::io::{AsyncReadExt, AsyncWriteExt};

	/// A server whose one route answers with the length of the body `read_body` returned, or
	/// its error.
	async fn body_server() -> std::net::SocketAddr {
		let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
		let addr = listener.local_addr().unwrap();
		tokio::spawn(async move {
			while let Ok((socket, _)) = listener.accept().await {
				tokio::spawn(async move {
					let service = hyper::service::service_fn(|request: Request<Incoming>| async {
						Ok::<_, Infallible>(match read_body(request.into_body()).await {
							Ok(body) => json_response(200, &body.len()),
							Err(e) => error_response(e),
						})
					});
					let io = hyper_util::rt::TokioIo::new(socket);
					let _ = hyper::server::conn::http1::Builder::new()
						.serve_connection(io, service)
						.await;
				});
			}
		});
		addr
	}

	/// Writes a whole request with a body of `len` bytes before reading anything (as most
	/// clients do), then reads the answer's status line.
	async fn post_then_read(addr: std::net::SocketAddr, len: usize) -> std::io::Result<String> {
		let mut socket = tokio::net::TcpStream::connect(addr).await?;
		let head = format!("POST / HTTP/1.1\r\nhost: x\r\ncontent-length: {len}\r\n\r\n");
		socket.write_all(head.as_bytes()).await?;
		socket.write_all(&vec![b'x'; len]).await?;
		let mut answer = Vec::new();
		let mut chunk = [0u8; 4096];
		while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
			match socket.read(&mut chunk).await? {
				0 => break,
				n => answer.extend_from_slice(&chunk[..n]),
			}
		}
		Ok(String::from_utf8_lossy(&answer)
			.lines()
			.next()
			.unwrap_or_default()
			.to_string())
	}

	#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
	async fn an_oversized_body_is_answered_413_not_reset() {
		let addr = body_server().await;
		assert_eq!(post_then_read(addr, 1000).await.unwrap(), "HTTP/1.1 200 OK");
		assert_eq!(
			post_then_read(addr, MAX_BODY_BYTES).await.unwrap(),
			"HTTP/1.1 200 OK"
		);
		// Before the body was drained, the server closed the socket with the rest of the body
		// unread and the client's write failed (EPIPE or a reset) in about one try in five.
		for _ in 0..20 {
			let status = post_then_read(addr, 2 * MAX_BODY_BYTES).await;
			assert_eq!(status.unwrap(), "HTTP/1.1 413 Payload Too Large");
		}
	}

	#[tokio::test]
	async fn a_body_declared_beyond_the_drain_is_refused_unread() {
		let addr = body_server().await;
		let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
		let len = MAX_BODY_BYTES + MAX_DRAIN_BYTES + 1;
		let head = format!("POST / HTTP/1.1\r\nhost: x\r\ncontent-length: {len}\r\n\r\n");
		socket.write_all(head.as_bytes()).await.unwrap();
		let mut answer = vec![0u8; 64];
		let n = socket.read(&mut answer).await.unwrap();
		assert!(String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 413"));
	}
}
