//! Balancing requests across the network: which peer answers a request this node does not
//! answer itself (a model it does not serve, or its public queue is full).
//!
//! The candidates come from the registry ([`super::peers`]). Before choosing, the gateway asks
//! each candidate whose last answer is older than [`STATUS_TTL`] for its status (`GET
//! /v1/status`, [`STATUS_TIMEOUT`]): a peer that does not answer, or answers as another node
//! than the registry's (its status must name the peer's inference key), is passed over for
//! [`COOLDOWN`], like one whose connection or answer failed; a saturated one is passed over,
//! and so is one never checked successfully: requests go only where a node of that key
//! answered.
//! The others are ranked by [`score`]: the speed they published for the model, their
//! reputation, the round trip of their status check, and the work already waiting on them.
//! A request is tried on at most [`MAX_TRIES`] of them, the next one after a failure before the
//! answer began (a refused connection, a 5xx).

use super::{
	peers::{Peer, PeerSource},
	remote::send,
};
use http_body_util::{BodyExt, Full, Limited};
use hyper::{body::Bytes, header, Request};
use serde::{Deserialize, Serialize};
use std::{
	collections::HashMap,
	sync::{Arc, Mutex},
	time::{Duration, Instant},
};

/// Most forwards a request may have behind it: a model-less gateway's, then a saturated
/// peer's. A request that arrives with this many is answered where it is, or refused.
pub const MAX_HOPS: u32 = 2;

/// The request header that counts the forwards a request has had.
pub const HOPS_HEADER: &str = "x-cognitive-hops";

/// The answer header that names the account of the node that computed the answer (when it
/// was not the node asked; its receipt is signed with that node's inference key).
pub const WORKER_HEADER: &str = "x-cognitive-worker";

/// Peers one request is tried on.
pub const MAX_TRIES: usize = 3;

/// How long a peer that failed is passed over.
pub const COOLDOWN: Duration = Duration::from_secs(15);

/// How long a peer's status answer is trusted.
pub const STATUS_TTL: Duration = Duration::from_secs(2);

/// How long a status check may take.
pub const STATUS_TIMEOUT: Duration = Duration::from_secs(1);

/// Largest status answer read.
const MAX_STATUS_BYTES: usize = 64 << 10;

/// What `GET /v1/status` answers: the node's health and load as a gateway weighs them.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NodeStatus {
	/// Always `node.status`.
	pub object: String,
	/// The node's inference key (`0x` hex), which signs its receipts.
	pub public_key: Option<String>,
	/// The models it answers itself, by name.
	pub models: Vec<String>,
	/// Public requests waiting.
	pub queue_depth: usize,
	/// Most public requests that may wait.
	pub queue_capacity: usize,
	/// Generations running (chain jobs and public requests).
	pub running: usize,
	/// Whether a new public request would be refused as overloaded.
	pub saturated: bool,
}

/// What the gateway saw of one peer.
#[derive(Clone, Debug, Default)]
pub struct Seen {
	/// Round trip of its status checks, smoothed (milliseconds).
	pub rtt_ms: Option<f64>,
	/// When it last failed.
	pub failed_at: Option<Instant>,
	/// This gateway's requests now running there.
	pub in_flight: u32,
	/// Its last status and when it came.
	pub status: Option<(Instant, NodeStatus)>,
}

impl Seen {
	fn cooling(&self, now: Instant) -> bool {
		self.failed_at
			.is_some_and(|t| now.saturating_duration_since(t) < COOLDOWN)
	}

	fn fresh(&self, now: Instant) -> bool {
		self.status
			.as_ref()
			.is_some_and(|(t, _)| now.saturating_duration_since(*t) < STATUS_TTL)
	}
}

/// How much a peer is worth asking now; higher is better. Its speed (the generation rate it
/// published, or `default_milli_tps` without one), times its trust (one half plus its
/// reputation, so a new node with no verified work still gets requests), divided by the work
/// ahead of a new request there (this gateway's requests in flight, plus what its status says
/// is waiting and running) and by the round trip to it (one second doubles the cost).
pub fn score(peer: &Peer, seen: &Seen, default_milli_tps: u32) -> f64 {
	let speed = f64::from(
		peer.generation_milli_tps
			.unwrap_or(default_milli_tps)
			.max(1),
	) / 1000.0;
	let trust = 0.5 + f64::from(peer.reputation.deconstruct()) / 1e9;
	let queued = seen
		.status
		.as_ref()
		.map_or(0, |(_, s)| s.queue_depth + s.running);
	let load = 1.0 + f64::from(seen.in_flight) + queued as f64;
	let distance = 1.0 + seen.rtt_ms.unwrap_or(0.0) / 1000.0;
	speed * trust / load / distance
}

/// The gateway's view of its peers, each known by its account (two registrants may publish
/// one address; only the one whose key answers there is used).
pub struct Balancer {
	source: Arc<dyn PeerSource>,
	seen: Arc<Mutex<HashMap<String, Seen>>>,
}

/// A request running on a peer; dropped when its answer has been sent on.
pub struct InFlight {
	seen: Arc<Mutex<HashMap<String, Seen>>>,
	account: String,
}

impl Drop for InFlight {
	fn drop(&mut self) {
		if let Some(seen) = lock(&self.seen).get_mut(&self.account) {
			seen.in_flight = seen.in_flight.saturating_sub(1);
		}
	}
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
	m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Balancer {
	/// A balancer over the peers `source` names.
	pub fn new(source: Arc<dyn PeerSource>) -> Self {
		Self {
			source,
			seen: Default::default(),
		}
	}

	/// The peers to try for `model`, best first, at most [`MAX_TRIES`]: only those whose status
	/// answered as the peer, none that failed in the last [`COOLDOWN`], none that says it is
	/// saturated.
	pub async fn candidates(&self, model: &str) -> Vec<Peer> {
		let peers = self.source.peers(model);
		let now = Instant::now();
		let stale: Vec<&Peer> = {
			let seen = lock(&self.seen);
			peers
				.iter()
				.filter(|p| {
					seen.get(&p.account)
						.is_none_or(|s| !s.cooling(now) && !s.fresh(now))
				})
				.collect()
		};
		futures::future::join_all(stale.into_iter().map(|p| self.check(p))).await;
		let now = Instant::now();
		let seen = lock(&self.seen);
		let default_milli_tps = median(peers.iter().filter_map(|p| p.generation_milli_tps));
		let mut ranked: Vec<(f64, &Peer)> = peers
			.iter()
			.filter_map(|p| {
				let s = seen.get(&p.account).cloned().unwrap_or_default();
				let usable = s.status.as_ref().is_some_and(|(_, st)| !st.saturated);
				(usable && !s.cooling(now)).then(|| (score(p, &s, default_milli_tps), p))
			})
			.collect();
		ranked.sort_by(|a, b| {
			b.0.total_cmp(&a.0)
				.then_with(|| a.1.account.cmp(&b.1.account))
		});
		ranked
			.into_iter()
			.take(MAX_TRIES)
			.map(|(_, p)| p.clone())
			.collect()
	}

	/// Asks `peer` for its status and keeps the answer, or marks it failed.
	async fn check(&self, peer: &Peer) {
		let started = Instant::now();
		let status = fetch_status(&peer.authority).await.and_then(|status| {
			if status.public_key.as_deref() == Some(peer.inference_key.as_str()) {
				Ok(status)
			} else {
				Err(format!(
					"answers as {:?}, not as the registry's key {}",
					status.public_key, peer.inference_key
				))
			}
		});
		let rtt = started.elapsed().as_secs_f64() * 1000.0;
		let mut seen = lock(&self.seen);
		let entry = seen.entry(peer.account.clone()).or_default();
		match status {
			Ok(status) => {
				entry.rtt_ms = Some(entry.rtt_ms.map_or(rtt, |old| 0.7 * old + 0.3 * rtt));
				entry.status = Some((Instant::now(), status));
			},
			Err(e) => {
				log::debug!(target: "inference", "peer {}: status: {e}", peer.authority);
				entry.failed_at = Some(Instant::now());
				entry.status = None;
			},
		}
	}

	/// Counts a request sent to `peer` until the returned guard is dropped.
	pub fn begin(&self, peer: &Peer) -> InFlight {
		lock(&self.seen)
			.entry(peer.account.clone())
			.or_default()
			.in_flight += 1;
		InFlight {
			seen: self.seen.clone(),
			account: peer.account.clone(),
		}
	}

	/// `peer` failed a request: passed over for [`COOLDOWN`].
	pub fn failed(&self, peer: &Peer) {
		lock(&self.seen)
			.entry(peer.account.clone())
			.or_default()
			.failed_at = Some(Instant::now());
	}
}

/// The median of `rates`, or 1 token/s with none (every peer then weighs the same on speed).
fn median(rates: impl Iterator<Item = u32>) -> u32 {
	let mut rates: Vec<u32> = rates.collect();
	rates.sort_unstable();
	rates.get(rates.len() / 2).copied().unwrap_or(1000)
}

/// `GET /v1/status` of the node at `authority`.
async fn fetch_status(authority: &str) -> Result<NodeStatus, String> {
	let request = Request::get("/v1/status")
		.header(header::HOST, authority)
		.body(Full::new(Bytes::new()))
		.map_err(|e| e.to_string())?;
	let answer = async {
		let response = send(authority, request).await?;
		if !response.status().is_success() {
			return Err(format!("HTTP {}", response.status()));
		}
		let body = Limited::new(response.into_body(), MAX_STATUS_BYTES)
			.collect()
			.await
			.map_err(|e| e.to_string())?
			.to_bytes();
		serde_json::from_slice(&body).map_err(|e| e.to_string())
	};
	tokio::time::timeout(STATUS_TIMEOUT, answer)
		.await
		.map_err(|_| format!("no answer in {STATUS_TIMEOUT:?}"))?
}

#[cfg(test)]
mod tests {
	use super::*;
	use sp_runtime::Perbill;

	fn peer(account: &str, rate: Option<u32>, reputation: u32) -> Peer {
		Peer {
			account: account.into(),
			authority: format!("{account}:1"),
			inference_key: format!("0x{account}"),
			reputation: Perbill::from_percent(reputation),
			generation_milli_tps: rate,
		}
	}

	fn status(queue_depth: usize, running: usize) -> Option<(Instant, NodeStatus)> {
		Some((
			Instant::now(),
			NodeStatus {
				object: "node.status".into(),
				public_key: None,
				models: vec![],
				queue_depth,
				queue_capacity: 16,
				running,
				saturated: false,
			},
		))
	}

	#[test]
	fn faster_more_trusted_idler_and_nearer_peers_score_higher() {
		let idle = Seen::default();
		let base = score(&peer("a", Some(50_000), 0), &idle, 1000);
		assert!(
			score(&peer("a", Some(100_000), 0), &idle, 1000) > base,
			"speed"
		);
		assert!(
			score(&peer("a", Some(50_000), 50), &idle, 1000) > base,
			"reputation"
		);
		let busy = Seen {
			in_flight: 1,
			..Default::default()
		};
		assert!(
			score(&peer("a", Some(50_000), 0), &busy, 1000) < base,
			"our requests"
		);
		let queued = Seen {
			status: status(3, 1),
			..Default::default()
		};
		assert!(
			score(&peer("a", Some(50_000), 0), &queued, 1000) < base,
			"its queue"
		);
		let far = Seen {
			rtt_ms: Some(500.0),
			..Default::default()
		};
		assert!(
			score(&peer("a", Some(50_000), 0), &far, 1000) < base,
			"distance"
		);
		// Without a published rate a peer counts at the default; a new node (no reputation)
		// keeps half the weight of a perfect one, not none.
		assert_eq!(score(&peer("a", None, 0), &idle, 50_000), base);
		assert_eq!(
			score(&peer("a", Some(50_000), 100), &idle, 1000),
			3.0 * base
		);
	}

	#[test]
	fn the_default_rate_is_the_median_of_the_published_ones() {
		assert_eq!(median([30, 10, 20].into_iter()), 20);
		assert_eq!(median(std::iter::empty()), 1000);
	}

	struct Fixed(Vec<Peer>);

	impl PeerSource for Fixed {
		fn peers(&self, _: &str) -> Vec<Peer> {
			self.0.clone()
		}
	}

	#[tokio::test]
	async fn peers_that_fail_are_passed_over_for_a_while() {
		// Nothing listens on these ports: every status check fails at once.
		let dead = |name: &str| Peer {
			authority: format!("127.0.0.1:{}", free_port()),
			..peer(name, None, 0)
		};
		let balancer = Balancer::new(Arc::new(Fixed(vec![dead("a"), dead("b")])));
		assert!(balancer.candidates("m").await.is_empty());
		assert!(lock(&balancer.seen).values().all(|s| s.failed_at.is_some()));
	}

	/// A server that answers every request with `status` as JSON.
	async fn status_server(status: NodeStatus) -> String {
		let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
		let authority = listener.local_addr().unwrap().to_string();
		let body = serde_json::to_vec(&status).unwrap();
		tokio::spawn(async move {
			while let Ok((socket, _)) = listener.accept().await {
				let body = body.clone();
				tokio::spawn(async move {
					let service = hyper::service::service_fn(move |_| {
						let body = body.clone();
						async move {
							Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(
								Bytes::from(body),
							)))
						}
					});
					let _ = hyper::server::conn::http1::Builder::new()
						.serve_connection(hyper_util::rt::TokioIo::new(socket), service)
						.await;
				});
			}
		});
		authority
	}

	#[tokio::test]
	async fn only_endpoints_that_answer_as_the_registered_node_are_used() {
		let Some((_, answer)) = status(0, 0) else {
			unreachable!()
		};
		let honest = Peer {
			authority: status_server(NodeStatus {
				public_key: Some("0xaa".into()),
				..answer.clone()
			})
			.await,
			inference_key: "0xaa".into(),
			..peer("a", None, 0)
		};
		// A registrant that publishes another node's endpoint (or any other service's) as its
		// own: what answers there is not its key.
		let impostor = Peer {
			authority: honest.authority.clone(),
			inference_key: "0xbb".into(),
			account: "b".into(),
			..peer("b", None, 0)
		};
		let saturated = Peer {
			authority: status_server(NodeStatus {
				public_key: Some("0xcc".into()),
				saturated: true,
				..answer
			})
			.await,
			inference_key: "0xcc".into(),
			..peer("c", None, 0)
		};
		let balancer = Balancer::new(Arc::new(Fixed(vec![impostor, honest.clone(), saturated])));
		assert_eq!(balancer.candidates("m").await, vec![honest]);
	}

	#[tokio::test]
	async fn in_flight_requests_are_counted_until_their_guard_goes() {
		let p = peer("a", None, 0);
		let balancer = Balancer::new(Arc::new(Fixed(vec![])));
		let first = balancer.begin(&p);
		let second = balancer.begin(&p);
		assert_eq!(lock(&balancer.seen)[&p.account].in_flight, 2);
		drop(first);
		drop(second);
		assert_eq!(lock(&balancer.seen)[&p.account].in_flight, 0);
	}

	fn free_port() -> u16 {
		std::net::TcpListener::bind("127.0.0.1:0")
			.and_then(|l| l.local_addr())
			.map(|a| a.port())
			.unwrap_or(9)
	}
}
