//! Remote back ends of the OpenAI API: a model name this node answers for by relaying to
//! another OpenAI-compatible server (llama.cpp's `llama-server`, Ollama, vLLM, …), given with
//! `--openai-remote NAME=[UPSTREAM_MODEL@]http://HOST:PORT/PREFIX`.
//!
//! Only direct requests go there: on-chain jobs always run on the embedded engine, whose
//! output every assignee can reproduce. A relayed answer is whatever the other server
//! computed, so it is marked as not deterministic (`x-cognitive-deterministic: false` and, in
//! an unstreamed body, `"backend": {"kind": "remote", "deterministic": false}`) and carries no
//! receipt: the node did not run the model and signs nothing about it.
//!
//! Management: each back end has its own bound on requests in flight
//! (`--openai-remote-max-concurrent`, a 503 `overloaded` beyond it), requests count against the
//! caller's per-address limits like local ones, and a back end that cannot be reached answers
//! 502 `backend_unavailable` (504 after `--openai-remote-timeout-secs`). Loading, unloading and
//! memory are the remote server's own business. Plain HTTP only: a back end is expected on the
//! same machine or a private network.

use super::{convert::ApiError, http::Body};
use futures::StreamExt;
use http_body_util::{BodyExt, Full, Limited, StreamBody};
use hyper::{
	body::{Bytes, Frame, Incoming},
	header, Request, Response, StatusCode, Uri,
};
use std::{sync::Arc, time::Duration};
use tokio::sync::Semaphore;

/// Largest unstreamed answer read from a back end.
pub const MAX_REMOTE_ANSWER_BYTES: usize = 8 << 20;

/// One `--openai-remote` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteSpec {
	/// The model name clients use (listed in `/v1/models`).
	pub name: String,
	/// The model name sent to the back end (default: `name`).
	pub upstream_model: String,
	/// `host:port` of the back end.
	pub authority: String,
	/// Path prefix of its API, without the trailing slash (`/v1`).
	pub prefix: String,
}

impl std::str::FromStr for RemoteSpec {
	type Err = String;

	/// `NAME=[UPSTREAM_MODEL@]http://HOST:PORT/PREFIX`.
	fn from_str(spec: &str) -> Result<Self, String> {
		let usage = "expected NAME=[UPSTREAM_MODEL@]http://HOST:PORT/PREFIX";
		let (name, target) = spec.split_once('=').ok_or(usage)?;
		let (upstream_model, url) = match target.split_once("@http") {
			Some((model, rest)) => (model.to_string(), format!("http{rest}")),
			None => (name.to_string(), target.to_string()),
		};
		if name.is_empty() || upstream_model.is_empty() {
			return Err(format!("empty model name in {spec:?}; {usage}"));
		}
		let uri: Uri = url.parse().map_err(|e| format!("{url:?}: {e}"))?;
		if uri.scheme_str() != Some("http") {
			return Err(format!(
				"{url:?}: only http:// back ends are served; {usage}"
			));
		}
		let authority = uri.authority().ok_or_else(|| format!("{url:?}: no host"))?;
		if authority.port_u16().is_none() {
			return Err(format!("{url:?}: give the port"));
		}
		Ok(Self {
			name: name.to_string(),
			upstream_model,
			authority: authority.to_string(),
			prefix: uri.path().trim_end_matches('/').to_string(),
		})
	}
}

/// A configured back end with its bound on requests in flight.
pub struct Remote {
	/// What it is.
	pub spec: RemoteSpec,
	slots: Arc<Semaphore>,
	timeout: Duration,
}

/// The back ends, by client-facing model name.
#[derive(Default)]
pub struct Remotes(Vec<Remote>);

impl Remotes {
	/// Back ends from the command line's specs, each with `max_concurrent` requests in flight
	/// and `timeout` to connect and to receive the response's head.
	pub fn new(specs: Vec<RemoteSpec>, max_concurrent: usize, timeout: Duration) -> Self {
		Self(
			specs
				.into_iter()
				.map(|spec| Remote {
					spec,
					slots: Arc::new(Semaphore::new(max_concurrent.max(1))),
					timeout,
				})
				.collect(),
		)
	}

	/// The back end that serves `model`, if one does.
	pub fn get(&self, model: &str) -> Option<&Remote> {
		self.0.iter().find(|r| r.spec.name == model)
	}

	/// All of them.
	pub fn iter(&self) -> impl Iterator<Item = &Remote> {
		self.0.iter()
	}
}

/// The header that tells whether the answer came from the deterministic embedded engine.
pub const DETERMINISTIC_HEADER: &str = "x-cognitive-deterministic";

/// The header that names the back end kind: `local` or `remote`.
pub const BACKEND_HEADER: &str = "x-cognitive-backend";

fn unavailable(remote: &RemoteSpec, e: impl std::fmt::Display) -> ApiError {
	ApiError::upstream(
		502,
		"backend_unavailable",
		format!("back end {}: {e}", remote.authority),
	)
}

impl Remote {
	/// Relays `body` (the client's JSON, its `model` replaced by the upstream name) to the back
	/// end's `path` (`/chat/completions` or `/completions`), and its answer back: streamed
	/// answers frame by frame, unstreamed ones marked as not deterministic.
	/// `admission` (the caller's per-address slot) is held until the answer has been sent.
	pub async fn relay<G: Send + 'static>(
		&self,
		path: &str,
		mut body: serde_json::Value,
		admission: G,
	) -> Result<Response<Body>, ApiError> {
		let spec = &self.spec;
		let _slot = self.slots.clone().try_acquire_owned().map_err(|_| {
			ApiError::upstream(
				503,
				"overloaded",
				format!(
					"back end {} has its maximum of requests in flight",
					spec.name
				),
			)
		})?;
		if let Some(object) = body.as_object_mut() {
			object.insert("model".into(), spec.upstream_model.clone().into());
		}
		let streamed = body
			.get("stream")
			.and_then(|s| s.as_bool())
			.unwrap_or(false);
		let payload = serde_json::to_vec(&body).map_err(|e| ApiError::bad_json(e.to_string()))?;
		let request = Request::post(format!("{}{path}", spec.prefix))
			.header(header::HOST, &spec.authority)
			.header(header::CONTENT_TYPE, "application/json")
			.header(
				header::ACCEPT,
				if streamed {
					"text/event-stream"
				} else {
					"application/json"
				},
			)
			.body(Full::new(Bytes::from(payload)))
			.map_err(|e| unavailable(spec, e))?;

		let head = async {
			send(&spec.authority, request)
				.await
				.map_err(|e| unavailable(spec, e))
		};
		let response = tokio::time::timeout(self.timeout, head)
			.await
			.map_err(|_| {
				ApiError::upstream(
					504,
					"backend_timeout",
					format!(
						"back end {} did not answer in {:?}",
						spec.authority, self.timeout
					),
				)
			})??;
		let status = response.status();
		if streamed && status == StatusCode::OK {
			// Frames pass through as they come; the slots are held until the stream ends.
			let mut out = Response::new(pass_through(
				response.into_body(),
				spec.authority.clone(),
				true,
				(_slot, admission),
			));
			mark(&mut out, "text/event-stream");
			return Ok(out);
		}
		let bytes = Limited::new(response.into_body(), MAX_REMOTE_ANSWER_BYTES)
			.collect()
			.await
			.map_err(|e| unavailable(spec, e))?
			.to_bytes();
		let mut answer: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| {
			unavailable(
				spec,
				format!("answered HTTP {status} with a body that is not JSON"),
			)
		})?;
		if status.is_success() {
			if let Some(object) = answer.as_object_mut() {
				object.insert("model".into(), spec.name.clone().into());
				object.insert(
					"backend".into(),
					serde_json::json!({ "kind": "remote", "deterministic": false }),
				);
			}
		}
		let json = serde_json::to_vec(&answer).unwrap_or_default();
		let mut out = Response::new(Full::new(Bytes::from(json)).boxed_unsync());
		*out.status_mut() = status;
		mark(&mut out, "application/json");
		Ok(out)
	}
}

/// Sends `request` to `authority` on a new HTTP/1.1 connection and waits for the answer's
/// head; its body is read from the returned response. No time limit: the caller sets one.
pub async fn send(
	authority: &str,
	request: Request<Full<Bytes>>,
) -> Result<Response<Incoming>, String> {
	let stream = tokio::net::TcpStream::connect(authority)
		.await
		.map_err(|e| e.to_string())?;
	let (mut sender, connection) =
		hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
			.await
			.map_err(|e| e.to_string())?;
	// The connection is driven by its own task, which ends when the answer is read.
	tokio::spawn(async move {
		let _ = connection.await;
	});
	sender
		.send_request(request)
		.await
		.map_err(|e| e.to_string())
}

/// The body of another server's answer, passed on frame by frame as it comes, with `held`
/// (slots, admissions, counters) kept until it ends. A failure once the answer has begun
/// can no longer change its status: in an event stream (`events`) it travels as an OpenAI
/// error event; otherwise the body ends where it failed.
pub fn pass_through<G: Send + 'static>(
	body: Incoming,
	authority: String,
	events: bool,
	held: G,
) -> Body {
	let frames = body.into_data_stream().map(move |chunk| {
		let _held = &held;
		Ok::<_, std::convert::Infallible>(Frame::data(chunk.unwrap_or_else(|e| {
			if !events {
				return Bytes::new();
			}
			let error = ApiError::upstream(502, "backend_unavailable", format!("{authority}: {e}"));
			Bytes::from(format!(
				"data: {}\n\n",
				serde_json::to_string(&error.body).unwrap_or_default()
			))
		})))
	});
	BodyExt::boxed_unsync(StreamBody::new(frames))
}

/// The headers of a relayed answer.
fn mark(response: &mut Response<Body>, content_type: &'static str) {
	let headers = response.headers_mut();
	headers.insert(
		header::CONTENT_TYPE,
		header::HeaderValue::from_static(content_type),
	);
	headers.insert(
		DETERMINISTIC_HEADER,
		header::HeaderValue::from_static("false"),
	);
	headers.insert(BACKEND_HEADER, header::HeaderValue::from_static("remote"));
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn specs_parse_with_and_without_an_upstream_model() {
		let plain: RemoteSpec = "smol=http://127.0.0.1:8081/v1/".parse().unwrap();
		assert_eq!(
			plain,
			RemoteSpec {
				name: "smol".into(),
				upstream_model: "smol".into(),
				authority: "127.0.0.1:8081".into(),
				prefix: "/v1".into(),
			}
		);
		let renamed: RemoteSpec = "fast=smollm2:135m@http://10.0.0.2:11434/v1"
			.parse()
			.unwrap();
		assert_eq!(renamed.upstream_model, "smollm2:135m");
		assert_eq!(renamed.authority, "10.0.0.2:11434");
		for bad in [
			"no-equals",
			"=http://h:1/v1",
			"x=https://h:443/v1",
			"x=http://h/v1",
			"x=@http://h:1/v1",
			"x=not a url",
		] {
			assert!(bad.parse::<RemoteSpec>().is_err(), "{bad}");
		}
	}
}
