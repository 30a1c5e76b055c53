//! Spans, and their export over OTLP/HTTP with the JSON encoding (`POST {endpoint}/v1/traces`,
//! `content-type: application/json`), which every OpenTelemetry collector accepts. Written here
//! rather than taken from the `opentelemetry` crates: the node sends a handful of spans per job
//! with ids it derives itself, and sc-tracing's pinned `tracing-subscriber` rules out the
//! crates' tracing bridge (docs/observability.md, "Traces").
//!
//! Spans go through a bounded channel to one task that posts them in batches (up to
//! [`BATCH`] spans, at least once a second while there are any). An unreachable collector costs
//! a warning and the batch, never a wait: a full channel drops new spans and counts them.

use http_body_util::Full;
use hyper::{body::Bytes, Request};
use serde_json::{json, Value};
use std::{
	sync::{
		atomic::{AtomicU64, Ordering},
		Arc,
	},
	time::Duration,
};

/// Spans posted in one request, at most.
const BATCH: usize = 256;
/// Spans waiting to be posted, at most; more are dropped.
const QUEUE: usize = 4096;
/// How long a post may take.
const POST_TIMEOUT: Duration = Duration::from_secs(5);

/// A span attribute's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Attr {
	/// A string.
	Text(String),
	/// An integer.
	Int(i64),
}

/// One span: W3C ids, a name, a time span (Unix nanoseconds) and attributes.
#[derive(Clone, Debug, PartialEq)]
pub struct Span {
	/// The trace it belongs to.
	pub trace_id: [u8; 16],
	/// Its own id.
	pub span_id: [u8; 8],
	/// Its parent's id (`None` for a trace's root).
	pub parent: Option<[u8; 8]>,
	/// What it is (`job`, `node`, `queued`, ...).
	pub name: &'static str,
	/// Start, Unix nanoseconds.
	pub start_ns: u64,
	/// End, Unix nanoseconds (equal to the start for an instant).
	pub end_ns: u64,
	/// Attributes.
	pub attributes: Vec<(&'static str, Attr)>,
}

/// Where spans are posted: an `http://HOST:PORT[/PATH]` base URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
	authority: String,
	path: String,
}

impl std::str::FromStr for Endpoint {
	type Err = String;

	/// `http://HOST:PORT` (posts to `/v1/traces`), or a URL whose path ends in `/v1/traces`
	/// (posts there). TLS is not spoken: run a collector beside the node.
	fn from_str(url: &str) -> Result<Self, String> {
		let rest =
			url.strip_prefix("http://").ok_or_else(|| {
				format!("--otlp-endpoint {url}: only http:// is supported (a collector next to the node)")
			})?;
		let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
		let (host, port) = authority
			.rsplit_once(':')
			.ok_or_else(|| format!("--otlp-endpoint {url}: give the port (http://HOST:PORT)"))?;
		if host.is_empty() || port.parse::<u16>().map_or(true, |p| p == 0) {
			return Err(format!("--otlp-endpoint {url}: not HOST:PORT"));
		}
		let path = path.trim_end_matches('/');
		let path = if path.ends_with("v1/traces") {
			format!("/{path}")
		} else if path.is_empty() {
			"/v1/traces".to_string()
		} else {
			format!("/{path}/v1/traces")
		};
		Ok(Self {
			authority: authority.to_string(),
			path,
		})
	}
}

/// Hands spans to the export task.
#[derive(Clone)]
pub struct Exporter {
	tx: tokio::sync::mpsc::Sender<Span>,
	dropped: Arc<AtomicU64>,
}

impl Exporter {
	/// An exporter to `endpoint` for a service instance named `instance`, and the task that
	/// posts (to be spawned; it ends when every [`Exporter`] clone is dropped).
	pub fn new(
		endpoint: Endpoint,
		instance: String,
	) -> (Self, impl std::future::Future<Output = ()> + Send + 'static) {
		let (tx, rx) = tokio::sync::mpsc::channel(QUEUE);
		let dropped = Arc::new(AtomicU64::new(0));
		let task = post_loop(endpoint, instance, rx, dropped.clone());
		(Self { tx, dropped }, task)
	}

	/// An exporter whose spans go to the returned receiver (for tests of span makers).
	#[cfg(test)]
	pub fn for_test() -> (Self, tokio::sync::mpsc::Receiver<Span>) {
		let (tx, rx) = tokio::sync::mpsc::channel(QUEUE);
		(
			Self {
				tx,
				dropped: Arc::new(AtomicU64::new(0)),
			},
			rx,
		)
	}

	/// Queues `span`; dropped (and counted) if the queue is full.
	pub fn export(&self, span: Span) {
		if self.tx.try_send(span).is_err() {
			self.dropped.fetch_add(1, Ordering::Relaxed);
		}
	}
}

async fn post_loop(
	endpoint: Endpoint,
	instance: String,
	mut rx: tokio::sync::mpsc::Receiver<Span>,
	dropped: Arc<AtomicU64>,
) {
	let mut failing = false;
	while let Some(first) = rx.recv().await {
		let mut batch = vec![first];
		// Whatever else arrives within a second joins the batch.
		let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
		while batch.len() < BATCH {
			match tokio::time::timeout_at(deadline, rx.recv()).await {
				Ok(Some(span)) => batch.push(span),
				_ => break,
			}
		}
		let body = encode(&instance, &batch).to_string();
		match post(&endpoint, body).await {
			Ok(()) => {
				if failing {
					log::info!(target: "traces", "OTLP export to {} works again", endpoint.authority);
				}
				failing = false;
			},
			// Once per outage, not once per batch.
			Err(e) if !failing => {
				failing = true;
				log::warn!(
					target: "traces",
					"OTLP export to {}{} failed ({e}); spans are dropped until it answers",
					endpoint.authority,
					endpoint.path
				);
			},
			Err(_) => {},
		}
		let lost = dropped.swap(0, Ordering::Relaxed);
		if lost > 0 {
			log::warn!(target: "traces", "{lost} spans dropped: the export queue was full");
		}
	}
}

async fn post(endpoint: &Endpoint, body: String) -> Result<(), String> {
	let request = Request::post(&endpoint.path)
		.header(hyper::header::HOST, &endpoint.authority)
		.header(hyper::header::CONTENT_TYPE, "application/json")
		.body(Full::new(Bytes::from(body)))
		.map_err(|e| e.to_string())?;
	let send = crate::inference::openai::remote::send(&endpoint.authority, request);
	let response = tokio::time::timeout(POST_TIMEOUT, send)
		.await
		.map_err(|_| format!("no answer within {} s", POST_TIMEOUT.as_secs()))??;
	if response.status().is_success() {
		Ok(())
	} else {
		Err(format!("HTTP {}", response.status()))
	}
}

/// The OTLP/JSON body of an export request: one resource (this node), one scope, the spans.
/// Ids are hex and times decimal strings, as the OTLP JSON encoding has them.
pub fn encode(instance: &str, spans: &[Span]) -> Value {
	let attribute = |key: &str, value: &Attr| match value {
		Attr::Text(s) => json!({ "key": key, "value": { "stringValue": s } }),
		Attr::Int(i) => json!({ "key": key, "value": { "intValue": i.to_string() } }),
	};
	let spans: Vec<Value> = spans
		.iter()
		.map(|s| {
			let mut span = json!({
				"traceId": hex::encode(s.trace_id),
				"spanId": hex::encode(s.span_id),
				"name": s.name,
				// SPAN_KIND_INTERNAL
				"kind": 1,
				"startTimeUnixNano": s.start_ns.to_string(),
				"endTimeUnixNano": s.end_ns.to_string(),
				"attributes": s.attributes.iter().map(|(k, v)| attribute(k, v)).collect::<Vec<_>>(),
			});
			if let Some(parent) = s.parent {
				span["parentSpanId"] = json!(hex::encode(parent));
			}
			span
		})
		.collect();
	json!({
		"resourceSpans": [{
			"resource": { "attributes": [
				attribute("service.name", &Attr::Text("cognitive-node".into())),
				attribute("service.instance.id", &Attr::Text(instance.into())),
			]},
			"scopeSpans": [{
				"scope": { "name": "cognitive-node", "version": env!("CARGO_PKG_VERSION") },
				"spans": spans,
			}],
		}]
	})
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn endpoints_are_http_host_port_and_post_to_v1_traces() {
		let parse = |s: &str| s.parse::<Endpoint>();
		assert_eq!(
			parse("http://127.0.0.1:4318"),
			Ok(Endpoint {
				authority: "127.0.0.1:4318".into(),
				path: "/v1/traces".into()
			})
		);
		assert_eq!(
			parse("http://collector:4318/v1/traces").map(|e| e.path),
			Ok("/v1/traces".into())
		);
		assert_eq!(
			parse("http://collector:4318/otlp/").map(|e| e.path),
			Ok("/otlp/v1/traces".into())
		);
		for bad in [
			"https://collector:4318",
			"collector:4318",
			"http://collector",
			"http://:4318",
			"http://c:0",
			"http://c:99999",
		] {
			assert!(parse(bad).is_err(), "{bad}");
		}
	}

	#[test]
	fn spans_encode_as_otlp_json() {
		let span = Span {
			trace_id: [0xab; 16],
			span_id: [1; 8],
			parent: Some([2; 8]),
			name: "generation",
			start_ns: 1_700_000_000_000_000_000,
			end_ns: 1_700_000_000_500_000_000,
			attributes: vec![
				("job.id", Attr::Int(7)),
				("node.account", Attr::Text("5Grw".into())),
			],
		};
		let body = encode("alice", &[span]);
		let s = &body["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
		assert_eq!(s["traceId"], "abababababababababababababababab");
		assert_eq!(s["spanId"], "0101010101010101");
		assert_eq!(s["parentSpanId"], "0202020202020202");
		assert_eq!(s["startTimeUnixNano"], "1700000000000000000");
		assert_eq!(s["attributes"][0]["value"]["intValue"], "7");
		assert_eq!(s["attributes"][1]["value"]["stringValue"], "5Grw");
		let resource = &body["resourceSpans"][0]["resource"]["attributes"];
		assert_eq!(resource[1]["value"]["stringValue"], "alice");
	}
}
