//! A job's life as spans, joined across nodes by ids every node derives from the job alone.
//!
//! The trace id is [`trace_id`]`(genesis, job id)`, so every assigned node (and a client that
//! knows the job) names the same trace without talking to the others. The span ids are hashes
//! of the trace id and the span's role, so a node can name its parent before the parent is
//! sent:
//!
//! ```text
//! job                                  submission → settlement; sent by the first assignee
//! ├── submitted                        instant at the submission block; first assignee
//! └── node (one per assigned node)     submission → settlement; sent by that node
//!     ├── assigned                     instant at the submission block
//!     ├── queued, prompt, generation   the engine's run (wall clock; prompt includes loading)
//!     ├── commit, reveal               instants at the blocks that included them
//!     └── settled                      instant at the settlement block
//! ```
//!
//! Chain spans come from finalized blocks (their timestamps); engine spans from the job host's
//! [`JobObserver`] report when the off-chain worker collects the result.

use super::otlp::{Attr, Exporter, Span};
use crate::chain_read::{Runtime, StorageAt};
use cognitive_runtime::{AccountId, BlockNumber, RuntimeEvent};
use futures::StreamExt;
use inference_engine::{JobObserver, Timings};
use pallet_proof_of_inference::Event as PoiEvent;
use parking_lot::Mutex;
use sc_client_api::BlockchainEvents;
use sp_core::crypto::Ss58Codec;
use std::{collections::BTreeMap, sync::Arc};

/// Jobs remembered from assignment to settlement; the oldest are forgotten beyond it.
const TRACKED_JOBS: usize = 1024;

/// The trace of job `job_id` on the chain with `genesis`: blake2-128 of a domain tag, the
/// genesis hash and the job id (little-endian u64).
pub fn trace_id(genesis: &[u8; 32], job_id: u64) -> [u8; 16] {
	let mut data = b"cognitive-internet/job-trace/v1".to_vec();
	data.extend_from_slice(genesis);
	data.extend_from_slice(&job_id.to_le_bytes());
	sp_io::hashing::blake2_128(&data)
}

/// The id of the span `role` (and `who`, for a node's spans) in `trace`: the first 8 bytes of
/// blake2-256 of the three.
pub fn span_id(trace: &[u8; 16], role: &str, who: Option<&AccountId>) -> [u8; 8] {
	let mut data = trace.to_vec();
	data.extend_from_slice(role.as_bytes());
	if let Some(who) = who {
		data.extend_from_slice(who.as_ref());
	}
	let hash = sp_io::hashing::blake2_256(&data);
	let mut id = [0u8; 8];
	id.copy_from_slice(&hash[..8]);
	id
}

fn ms_to_ns(ms: u64) -> u64 {
	ms.saturating_mul(1_000_000)
}

/// A job assigned to this node, between its submission and its settlement.
#[derive(Clone, Debug)]
struct Job {
	submitted_ms: u64,
	submitted_block: BlockNumber,
	/// This node is the first assignee, which sends the job's root span.
	first: bool,
	assignees: u32,
	model: u32,
}

/// Turns finalized events and the job host's reports into spans.
pub struct JobTraces {
	exporter: Exporter,
	genesis: [u8; 32],
	/// This node's account, once the registry names it (the engine's spans need it).
	own: Mutex<Option<AccountId>>,
	jobs: Mutex<BTreeMap<u64, Job>>,
	/// Jobs whose engine run was traced (a job the host runs twice is traced once).
	ran: Mutex<std::collections::BTreeSet<u64>>,
}

impl JobTraces {
	/// Spans of the chain with `genesis`, sent through `exporter`.
	pub fn new(exporter: Exporter, genesis: [u8; 32]) -> Self {
		Self {
			exporter,
			genesis,
			own: Mutex::new(None),
			jobs: Mutex::new(BTreeMap::new()),
			ran: Mutex::new(Default::default()),
		}
	}

	fn span(
		&self,
		job_id: u64,
		name: &'static str,
		who: Option<&AccountId>,
		parent: Option<[u8; 8]>,
		(start_ms, end_ms): (u64, u64),
		mut attributes: Vec<(&'static str, Attr)>,
	) {
		let trace = trace_id(&self.genesis, job_id);
		attributes.insert(0, ("job.id", Attr::Int(job_id as i64)));
		if let Some(who) = who {
			attributes.push(("node.account", Attr::Text(who.to_ss58check())));
		}
		self.exporter.export(Span {
			trace_id: trace,
			span_id: span_id(&trace, name, who),
			parent,
			name,
			start_ns: ms_to_ns(start_ms),
			end_ns: ms_to_ns(end_ms.max(start_ms)),
			attributes,
		});
	}

	/// The id of `who`'s `node` span of `job_id`, the parent of its own spans.
	fn node_span(&self, job_id: u64, who: &AccountId) -> [u8; 8] {
		span_id(&trace_id(&self.genesis, job_id), "node", Some(who))
	}

	fn root_span(&self, job_id: u64) -> [u8; 8] {
		span_id(&trace_id(&self.genesis, job_id), "job", None)
	}

	/// Spans for `event` of the finalized block `number`, stamped `now_ms`; `own` is this node.
	pub fn on_event(
		&self,
		number: BlockNumber,
		now_ms: u64,
		own: Option<&AccountId>,
		event: &PoiEvent<Runtime>,
	) {
		let Some(me) = own else { return };
		let instant = |job_id: u64, name: &'static str| {
			let parent = Some(self.node_span(job_id, me));
			let block = vec![("block", Attr::Int(i64::from(number)))];
			self.span(job_id, name, Some(me), parent, (now_ms, now_ms), block);
		};
		match event {
			PoiEvent::JobSubmitted {
				job_id,
				owner,
				model,
				assignees,
				..
			} if assignees.contains(me) => {
				let first = assignees.first() == Some(me);
				let mut jobs = self.jobs.lock();
				jobs.insert(
					*job_id,
					Job {
						submitted_ms: now_ms,
						submitted_block: number,
						first,
						assignees: assignees.len() as u32,
						model: *model,
					},
				);
				while jobs.len() > TRACKED_JOBS {
					jobs.pop_first();
				}
				drop(jobs);
				instant(*job_id, "assigned");
				if first {
					let attributes = vec![
						("block", Attr::Int(i64::from(number))),
						("job.owner", Attr::Text(owner.to_ss58check())),
					];
					let root = Some(self.root_span(*job_id));
					self.span(
						*job_id,
						"submitted",
						None,
						root,
						(now_ms, now_ms),
						attributes,
					);
				}
			},
			PoiEvent::Committed { job_id, node, .. } if node == me => instant(*job_id, "commit"),
			PoiEvent::Revealed { job_id, node, .. } if node == me => instant(*job_id, "reveal"),
			PoiEvent::JobCompleted { job_id, .. } => {
				self.settled(*job_id, number, now_ms, me, "completed")
			},
			PoiEvent::JobFailed { job_id, .. } => {
				self.settled(*job_id, number, now_ms, me, "failed")
			},
			_ => {},
		}
	}

	/// A job of this node settled: its `settled` instant, its `node` span, and (first assignee)
	/// the job's root span.
	fn settled(&self, job_id: u64, number: BlockNumber, now_ms: u64, me: &AccountId, result: &str) {
		let Some(job) = self.jobs.lock().remove(&job_id) else {
			return;
		};
		let node = Some(self.node_span(job_id, me));
		let block = vec![("block", Attr::Int(i64::from(number)))];
		self.span(job_id, "settled", Some(me), node, (now_ms, now_ms), block);
		let span = (job.submitted_ms, now_ms);
		self.span(
			job_id,
			"node",
			Some(me),
			Some(self.root_span(job_id)),
			span,
			vec![],
		);
		if job.first {
			let attributes = vec![
				("job.model", Attr::Int(i64::from(job.model))),
				("job.replication", Attr::Int(i64::from(job.assignees))),
				("job.result", Attr::Text(result.to_string())),
				(
					"job.submitted_block",
					Attr::Int(i64::from(job.submitted_block)),
				),
				("job.settled_block", Attr::Int(i64::from(number))),
			];
			self.span(job_id, "job", None, None, span, attributes);
		}
	}

	/// This node's account (from the registry, at each finalized block).
	fn set_own(&self, own: Option<AccountId>) {
		*self.own.lock() = own;
	}
}

impl JobObserver for JobTraces {
	fn job_ran(&self, job_id: u64, queued_at_ms: u64, t: &Timings) {
		let Some(me) = self.own.lock().clone() else {
			return;
		};
		{
			let mut ran = self.ran.lock();
			if !ran.insert(job_id) {
				return;
			}
			while ran.len() > TRACKED_JOBS {
				ran.pop_first();
			}
		}
		let parent = Some(self.node_span(job_id, &me));
		let queued_end = queued_at_ms + t.queue_ms as u64;
		let prompt_end = queued_end + (t.load_ms + t.prompt_ms) as u64;
		let generation_end = prompt_end + t.generation_ms as u64;
		let prompt = vec![
			("load_ms", Attr::Int(t.load_ms as i64)),
			(
				"tokens_per_second",
				Attr::Int(t.prompt_tokens_per_second as i64),
			),
		];
		let generation = vec![(
			"tokens_per_second",
			Attr::Int(t.generation_tokens_per_second as i64),
		)];
		self.span(
			job_id,
			"queued",
			Some(&me),
			parent,
			(queued_at_ms, queued_end),
			vec![],
		);
		self.span(
			job_id,
			"prompt",
			Some(&me),
			parent,
			(queued_end, prompt_end),
			prompt,
		);
		self.span(
			job_id,
			"generation",
			Some(&me),
			parent,
			(prompt_end, generation_end),
			generation,
		);
	}
}

/// Follows finality until the node stops, sending the spans of this node's jobs.
pub async fn run(
	client: Arc<crate::service::FullClient>,
	keystore: sp_keystore::KeystorePtr,
	traces: Arc<JobTraces>,
) {
	let mut finality = client.finality_notification_stream();
	while let Some(notification) = finality.next().await {
		let keys = keystore.ed25519_public_keys(pallet_node_registry::KEY_TYPE);
		for (hash, number) in crate::chain_read::finalized_blocks(&notification) {
			let storage = StorageAt::at(client.clone(), hash, number);
			let own = storage.own_accounts(&keys).into_iter().next();
			traces.set_own(own.clone());
			let Some(now_ms) = storage.timestamp_ms() else {
				continue;
			};
			for record in &storage.events() {
				if let RuntimeEvent::ProofOfInference(event) = &record.event {
					traces.on_event(number, now_ms, own.as_ref(), event);
				}
			}
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn account(n: u8) -> AccountId {
		AccountId::from([n; 32])
	}

	#[test]
	fn every_node_names_the_same_trace_and_distinct_spans() {
		let genesis = [9; 32];
		assert_eq!(trace_id(&genesis, 3), trace_id(&genesis, 3));
		assert_ne!(trace_id(&genesis, 3), trace_id(&genesis, 4));
		assert_ne!(trace_id(&genesis, 3), trace_id(&[8; 32], 3));
		let trace = trace_id(&genesis, 3);
		let ids = [
			span_id(&trace, "job", None),
			span_id(&trace, "node", Some(&account(1))),
			span_id(&trace, "node", Some(&account(2))),
			span_id(&trace, "commit", Some(&account(1))),
		];
		for (i, a) in ids.iter().enumerate() {
			for b in &ids[i + 1..] {
				assert_ne!(a, b);
			}
		}
	}

	/// The spans sent so far.
	fn collect(rx: &mut tokio::sync::mpsc::Receiver<Span>) -> Vec<Span> {
		let mut spans = Vec::new();
		while let Ok(span) = rx.try_recv() {
			spans.push(span);
		}
		spans
	}

	#[test]
	fn a_job_becomes_a_tree_of_spans_under_one_root() {
		let (exporter, mut rx) = super::super::otlp::Exporter::for_test();
		let traces = JobTraces::new(exporter, [9; 32]);
		let (me, other) = (account(1), account(2));
		traces.set_own(Some(me.clone()));
		let submitted = PoiEvent::JobSubmitted {
			job_id: 5,
			owner: account(9),
			model: 0,
			assignees: vec![me.clone(), other.clone()],
			fee: 10,
		};
		traces.on_event(10, 30_000, Some(&me), &submitted);
		let timings = Timings {
			queue_ms: 5.0,
			load_ms: 1.0,
			prompt_ms: 20.0,
			generation_ms: 300.0,
			..Default::default()
		};
		traces.job_ran(5, 30_500, &timings);
		// Run again (the host forgot it and the off-chain worker asked again): traced once.
		traces.job_ran(5, 31_000, &timings);
		let later = [
			(
				12,
				36_000,
				PoiEvent::Committed {
					job_id: 5,
					node: me.clone(),
				},
			),
			// Another node's commitment is not this node's to trace.
			(
				12,
				36_000,
				PoiEvent::Committed {
					job_id: 5,
					node: other.clone(),
				},
			),
			(
				14,
				42_000,
				PoiEvent::Revealed {
					job_id: 5,
					node: me.clone(),
					result_hash: [0; 32],
				},
			),
			(
				14,
				42_000,
				PoiEvent::JobCompleted {
					job_id: 5,
					result_hash: [0; 32],
					shares: vec![],
					release_at: None,
				},
			),
		];
		for (number, at, event) in &later {
			traces.on_event(*number, *at, Some(&me), event);
		}
		let spans = collect(&mut rx);
		let names: Vec<_> = spans.iter().map(|s| s.name).collect();
		assert_eq!(
			names,
			[
				"assigned",
				"submitted",
				"queued",
				"prompt",
				"generation",
				"commit",
				"reveal",
				"settled",
				"node",
				"job"
			]
		);
		let trace = trace_id(&[9; 32], 5);
		assert!(spans.iter().all(|s| s.trace_id == trace));
		let root = spans.iter().find(|s| s.name == "job").expect("root");
		let node = spans.iter().find(|s| s.name == "node").expect("node");
		assert_eq!(root.parent, None);
		assert_eq!(node.parent, Some(root.span_id));
		assert_eq!(
			(root.start_ns, root.end_ns),
			(30_000_000_000, 42_000_000_000)
		);
		for s in spans
			.iter()
			.filter(|s| !["job", "node", "submitted"].contains(&s.name))
		{
			assert_eq!(s.parent, Some(node.span_id), "{}", s.name);
		}
		let generation = spans
			.iter()
			.find(|s| s.name == "generation")
			.expect("generation");
		assert_eq!(
			(generation.start_ns, generation.end_ns),
			(30_526_000_000, 30_826_000_000),
			"after the queue wait, loading and the prompt"
		);
		// Another node's job, or another node's commitment: nothing.
		let theirs = PoiEvent::JobSubmitted {
			job_id: 6,
			owner: account(9),
			model: 0,
			assignees: vec![other],
			fee: 10,
		};
		traces.on_event(20, 60_000, Some(&me), &theirs);
		assert!(collect(&mut rx).is_empty());
	}
}
