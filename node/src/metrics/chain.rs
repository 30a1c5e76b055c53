//! Metrics of this node's standing on chain, read from each finalized block.
//!
//! On every finality notification the task reads, for each newly finalized block in order, the
//! block's events (`System::Events`) and counts those of the proof-of-inference pallet that
//! concern this node (the registered accounts whose inference keys are in the keystore), plus
//! the network's job totals; at the newest block it reads the node's registry entry and
//! reputation. Finalized blocks only: a counter never counts a block that a reorg could take
//! back, so it equals what the chain says (the e2e test compares them).
//!
//! The counters start at zero when the node starts and count the blocks finalized from then on
//! (Prometheus' `increase()` and `rate()` expect exactly that of a counter).

use crate::chain_read::{Runtime, StorageAt};
use cognitive_runtime::{AccountId, BlockNumber, RuntimeEvent};
use futures::StreamExt;
use pallet_node_registry::NodeStatus;
use pallet_proof_of_inference::{Event as PoiEvent, SlashReason};
use sc_client_api::BlockchainEvents;
use sp_runtime::traits::Get as _;
use std::{collections::BTreeMap, sync::Arc};
use substrate_prometheus_endpoint::{
	prometheus::Error, CounterVec, Gauge, GaugeVec, HistogramVec, Opts, Registry, F64, U64,
};

/// Jobs of this node remembered between their assignment and a later challenge; the oldest
/// (smallest id: ids only grow) are forgotten beyond it.
const TRACKED_JOBS: usize = 4096;

/// Settlement latencies, blocks (the chain's commit and reveal windows are tens of blocks).
const BLOCK_BUCKETS: [f64; 10] = [2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 100.0, 200.0];

/// The counters and gauges this task keeps.
pub struct ChainMetrics {
	jobs_assigned: CounterVec<U64>,
	commits: CounterVec<U64>,
	reveals: CounterVec<U64>,
	jobs_settled: CounterVec<U64>,
	slashes: CounterVec<U64>,
	slashed: Gauge<F64>,
	disputes: CounterVec<U64>,
	settlement: HistogramVec,
	network_jobs: CounterVec<U64>,
	block: Gauge<U64>,
	registered: Gauge<U64>,
	status: GaugeVec<U64>,
	reputation: Gauge<F64>,
	bond: Gauge<F64>,
	last_alive: Gauge<U64>,
	period: Gauge<U64>,
	ready_models: Gauge<U64>,
}

impl ChainMetrics {
	/// Registers the metrics in `registry`.
	pub fn register(registry: &Registry) -> Result<Self, Error> {
		use super::{collector, counter_vec, histogram_vec};
		let gauge_f64 = |name: &str, help: &str| collector(registry, Gauge::<F64>::new(name, help));
		let gauge_u64 = |name: &str, help: &str| collector(registry, Gauge::<U64>::new(name, help));
		Ok(Self {
			jobs_assigned: counter_vec(
				registry,
				"cognitive_poi_jobs_assigned_total",
				"Jobs assigned to this node (finalized JobSubmitted events naming it)",
				&[],
			)?,
			commits: counter_vec(
				registry,
				"cognitive_poi_commits_total",
				"Result commitments of this node included in finalized blocks",
				&[],
			)?,
			reveals: counter_vec(
				registry,
				"cognitive_poi_reveals_total",
				"Reveals of this node included in finalized blocks",
				&[],
			)?,
			jobs_settled: counter_vec(
				registry,
				"cognitive_poi_jobs_settled_total",
				"Settled jobs that were assigned to this node, by what became of its work: agreed \
				 (in the paid majority), outvoted (revealed another result), missed (no reveal), \
				 failed (revealed, but the job found no majority)",
				&["result"],
			)?,
			slashes: counter_vec(
				registry,
				"cognitive_poi_slashes_total",
				"Slashes of this node, by reason (contradicted, unopened, overturned)",
				&["reason"],
			)?,
			slashed: gauge_f64(
				"cognitive_poi_slashed_plancks_total",
				"Plancks of bond slashed from this node since the node started",
			)?,
			disputes: counter_vec(
				registry,
				"cognitive_poi_disputes_total",
				"Challenges of jobs, by this node's role: worker (it was assigned the job) or \
				 auditor (it was drawn to re-execute it)",
				&["role"],
			)?,
			settlement: histogram_vec(
				registry,
				"cognitive_poi_settlement_blocks",
				"Blocks from submission to settlement of the jobs assigned to this node",
				&[],
				&BLOCK_BUCKETS,
			)?,
			network_jobs: counter_vec(
				registry,
				"cognitive_poi_network_jobs_total",
				"Jobs of the whole network by event: submitted, completed, failed",
				&["event"],
			)?,
			block: gauge_u64(
				"cognitive_chain_metrics_block",
				"The finalized block these metrics were last read from",
			)?,
			registered: gauge_u64(
				"cognitive_registry_registered",
				"1 if this node's inference key belongs to a registered node",
			)?,
			status: collector(
				registry,
				GaugeVec::<U64>::new(
					Opts::new(
						"cognitive_registry_status",
						"This node's registry status: 1 for the current one of active, offline, \
						 unbonding",
					),
					&["status"],
				),
			)?,
			reputation: gauge_f64(
				"cognitive_registry_reputation",
				"This node's reputation score, 0 to 1, decayed to the block as the chain does",
			)?,
			bond: gauge_f64(
				"cognitive_registry_bond_plancks",
				"This node's bond in plancks",
			)?,
			last_alive: gauge_u64(
				"cognitive_registry_last_alive_period",
				"The last heartbeat period in which the chain saw this node alive",
			)?,
			period: gauge_u64(
				"cognitive_registry_current_period",
				"The heartbeat period of the block these metrics were read from",
			)?,
			ready_models: gauge_u64(
				"cognitive_registry_ready_models",
				"Models this node's last heartbeat reported ready",
			)?,
		})
	}
}

/// A job assigned to this node, from its assignment on.
#[derive(Clone, Copy, Debug)]
struct Tracked {
	submitted_at: BlockNumber,
	revealed: bool,
	settled: bool,
}

/// Applies finalized events to the metrics.
pub struct Tracker {
	metrics: ChainMetrics,
	jobs: BTreeMap<u64, Tracked>,
}

impl Tracker {
	/// A tracker that counts into `metrics`.
	pub fn new(metrics: ChainMetrics) -> Self {
		Self {
			metrics,
			jobs: BTreeMap::new(),
		}
	}

	/// Counts `event` of block `number`; `own` are this node's accounts.
	pub fn on_event(&mut self, number: BlockNumber, own: &[AccountId], event: &PoiEvent<Runtime>) {
		let m = &self.metrics;
		let mine = |who: &AccountId| own.contains(who);
		match event {
			PoiEvent::JobSubmitted {
				job_id, assignees, ..
			} => {
				m.network_jobs.with_label_values(&["submitted"]).inc();
				if assignees.iter().any(mine) {
					m.jobs_assigned.with_label_values(&[]).inc();
					self.jobs.insert(
						*job_id,
						Tracked {
							submitted_at: number,
							revealed: false,
							settled: false,
						},
					);
					while self.jobs.len() > TRACKED_JOBS {
						self.jobs.pop_first();
					}
				}
			},
			PoiEvent::Committed { node, .. } if mine(node) => {
				m.commits.with_label_values(&[]).inc();
			},
			PoiEvent::Revealed { job_id, node, .. } if mine(node) => {
				m.reveals.with_label_values(&[]).inc();
				if let Some(job) = self.jobs.get_mut(job_id) {
					job.revealed = true;
				}
			},
			PoiEvent::JobCompleted { job_id, shares, .. } => {
				m.network_jobs.with_label_values(&["completed"]).inc();
				let paid = shares.iter().any(|(who, _)| mine(who));
				self.settle(*job_id, number, |revealed| match (paid, revealed) {
					(true, _) => "agreed",
					(false, true) => "outvoted",
					(false, false) => "missed",
				});
			},
			PoiEvent::JobFailed { job_id, .. } => {
				m.network_jobs.with_label_values(&["failed"]).inc();
				self.settle(
					*job_id,
					number,
					|revealed| if revealed { "failed" } else { "missed" },
				);
			},
			PoiEvent::NodeSlashed {
				node,
				reason,
				amount,
				..
			} if mine(node) => {
				let reason = match reason {
					SlashReason::Contradicted => "contradicted",
					SlashReason::Unopened => "unopened",
					SlashReason::Overturned => "overturned",
				};
				m.slashes.with_label_values(&[reason]).inc();
				m.slashed.add(*amount as f64);
			},
			PoiEvent::Challenged {
				job_id, auditors, ..
			} => {
				if self.jobs.contains_key(job_id) {
					m.disputes.with_label_values(&["worker"]).inc();
				}
				if auditors.iter().any(mine) {
					m.disputes.with_label_values(&["auditor"]).inc();
				}
			},
			_ => {},
		}
	}

	/// A job of this node settled at `number`: counted under the label `result` gives for
	/// whether it revealed (once, however many settlement events name it).
	fn settle(&mut self, job_id: u64, number: BlockNumber, result: impl Fn(bool) -> &'static str) {
		let Some(job) = self.jobs.get_mut(&job_id) else {
			return;
		};
		if job.settled {
			return;
		}
		job.settled = true;
		self.metrics
			.jobs_settled
			.with_label_values(&[result(job.revealed)])
			.inc();
		self.metrics
			.settlement
			.with_label_values(&[])
			.observe(f64::from(number.saturating_sub(job.submitted_at)));
	}

	/// Reads the node's registry entry at `storage`'s block into the gauges.
	fn read_registry(&self, storage: &StorageAt, own: &[AccountId]) {
		type NodeRecord = pallet_node_registry::pallet::NodeRecordOf<Runtime>;
		let m = &self.metrics;
		m.block.set(u64::from(storage.number()));
		let period_length: BlockNumber =
			<Runtime as pallet_node_registry::Config>::HeartbeatPeriod::get();
		m.period
			.set(u64::from(storage.number() / period_length.max(1)));
		let entry = own.iter().find_map(|account| {
			let node: NodeRecord = storage.get(
				pallet_node_registry::Nodes::<Runtime>::hashed_key_for(account),
			)?;
			Some((account, node))
		});
		let current = entry.as_ref().map(|(_, node)| match node.status {
			NodeStatus::Active => "active",
			NodeStatus::Offline => "offline",
			NodeStatus::Unbonding { .. } => "unbonding",
		});
		for status in ["active", "offline", "unbonding"] {
			m.status
				.with_label_values(&[status])
				.set(u64::from(current == Some(status)));
		}
		m.registered.set(u64::from(entry.is_some()));
		match entry {
			Some((account, node)) => {
				m.bond.set(node.bond as f64);
				m.last_alive.set(u64::from(node.last_alive));
				m.ready_models.set(node.ready_models.len() as u64);
				m.reputation
					.set(f64::from(storage.reputation(account).deconstruct()) / 1e9);
			},
			None => {
				m.bond.set(0.0);
				m.ready_models.set(0);
				m.reputation.set(0.0);
			},
		}
	}
}

/// Follows finality until the node stops, counting into `tracker`.
pub async fn run(
	client: Arc<crate::service::FullClient>,
	keystore: sp_keystore::KeystorePtr,
	mut tracker: Tracker,
) {
	let mut finality = client.finality_notification_stream();
	while let Some(notification) = finality.next().await {
		let keys = keystore.ed25519_public_keys(pallet_node_registry::KEY_TYPE);
		for (hash, number) in crate::chain_read::finalized_blocks(&notification) {
			let storage = StorageAt::at(client.clone(), hash, number);
			let own = storage.own_accounts(&keys);
			for record in &storage.events() {
				if let RuntimeEvent::ProofOfInference(event) = &record.event {
					tracker.on_event(number, &own, event);
				}
			}
			if hash == notification.hash {
				tracker.read_registry(&storage, &own);
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

	fn submitted(job_id: u64, assignees: &[u8]) -> PoiEvent<Runtime> {
		PoiEvent::JobSubmitted {
			job_id,
			owner: account(9),
			model: 0,
			assignees: assignees.iter().map(|n| account(*n)).collect(),
			fee: 100,
		}
	}

	#[test]
	fn own_jobs_are_counted_by_what_became_of_them() {
		let registry = Registry::new();
		let mut tracker = Tracker::new(ChainMetrics::register(&registry).expect("register"));
		let me = [account(1)];
		// Job 0: mine, revealed, in the paid majority. Job 1: mine, never revealed. Job 2:
		// others' only. Job 3: mine, revealed, the job failed.
		for (job, assignees) in [
			(0, &[1u8, 2, 3][..]),
			(1, &[1, 2]),
			(2, &[2, 3]),
			(3, &[1, 3]),
		] {
			tracker.on_event(10, &me, &submitted(job, assignees));
		}
		for job in [0, 3] {
			tracker.on_event(
				12,
				&me,
				&PoiEvent::Committed {
					job_id: job,
					node: account(1),
				},
			);
			tracker.on_event(
				15,
				&me,
				&PoiEvent::Revealed {
					job_id: job,
					node: account(1),
					result_hash: [0; 32],
				},
			);
		}
		// Someone else's commitment is not ours.
		tracker.on_event(
			12,
			&me,
			&PoiEvent::Committed {
				job_id: 2,
				node: account(2),
			},
		);
		for (job, paid) in [(0, &[1u8, 2][..]), (1, &[2]), (2, &[2, 3])] {
			let event = PoiEvent::JobCompleted {
				job_id: job,
				result_hash: [0; 32],
				shares: paid.iter().map(|n| (account(*n), 10)).collect(),
				release_at: None,
			};
			tracker.on_event(40, &me, &event);
		}
		tracker.on_event(
			40,
			&me,
			&PoiEvent::JobFailed {
				job_id: 3,
				reason: pallet_proof_of_inference::FailureReason::NoMajority,
				refunded: 0,
				paid: vec![],
				burnt: 0,
			},
		);
		tracker.on_event(
			40,
			&me,
			&PoiEvent::NodeSlashed {
				job_id: 1,
				node: account(1),
				reason: SlashReason::Unopened,
				amount: 250,
			},
		);
		tracker.on_event(
			50,
			&me,
			&PoiEvent::Challenged {
				job_id: 0,
				challenger: account(9),
				deposit: 5,
				auditors: vec![account(4)],
			},
		);
		tracker.on_event(
			50,
			&me,
			&PoiEvent::Challenged {
				job_id: 2,
				challenger: account(9),
				deposit: 5,
				auditors: vec![account(1)],
			},
		);

		let m = &tracker.metrics;
		assert_eq!(m.jobs_assigned.with_label_values(&[]).get(), 3);
		assert_eq!(m.commits.with_label_values(&[]).get(), 2);
		assert_eq!(m.reveals.with_label_values(&[]).get(), 2);
		let settled = |result: &str| m.jobs_settled.with_label_values(&[result]).get();
		assert_eq!(
			(
				settled("agreed"),
				settled("missed"),
				settled("failed"),
				settled("outvoted")
			),
			(1, 1, 1, 0)
		);
		assert_eq!(m.settlement.with_label_values(&[]).get_sample_count(), 3);
		assert_eq!(m.settlement.with_label_values(&[]).get_sample_sum(), 90.0);
		assert_eq!(m.slashes.with_label_values(&["unopened"]).get(), 1);
		assert_eq!(m.slashed.get(), 250.0);
		assert_eq!(m.disputes.with_label_values(&["worker"]).get(), 1);
		assert_eq!(m.disputes.with_label_values(&["auditor"]).get(), 1);
		let network = |event: &str| m.network_jobs.with_label_values(&[event]).get();
		assert_eq!(
			(
				network("submitted"),
				network("completed"),
				network("failed")
			),
			(4, 3, 1)
		);
	}

	#[test]
	fn the_tracked_jobs_are_bounded() {
		let registry = Registry::new();
		let mut tracker = Tracker::new(ChainMetrics::register(&registry).expect("register"));
		for job in 0..(TRACKED_JOBS as u64 + 10) {
			tracker.on_event(1, &[account(1)], &submitted(job, &[1]));
		}
		assert_eq!(tracker.jobs.len(), TRACKED_JOBS);
		assert_eq!(
			tracker.jobs.keys().next(),
			Some(&10),
			"the oldest went first"
		);
	}
}
