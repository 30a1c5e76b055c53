//! Metrics of the model-transfer endpoint (IPFS bitswap): blocks and bytes fetched and served,
//! refused wants, and what went wrong with which provider. The endpoint keeps the counts
//! (`ModelNet::fetch_stats`, `ModelNet::serve_stats`); they are read when Prometheus scrapes.

use model_transfer::{FetchState, ModelNet};
use substrate_prometheus_endpoint::{
	prometheus::Error, MetricSource, Opts, Registry, SourcedCounter, SourcedGauge,
};

/// One family read from the endpoint.
#[derive(Clone, Copy, Debug)]
enum Figure {
	FetchedBlocks,
	FetchedBytes,
	DuplicateBlocks,
	ServedBlocks,
	ServedBytes,
	RefusedWants,
	PeerFailures,
	Fetches,
}

impl Figure {
	/// Name, help, labels.
	fn describe(self) -> (&'static str, &'static str, &'static [&'static str]) {
		match self {
			Self::FetchedBlocks => (
				"cognitive_model_transfer_fetched_blocks_total",
				"Wanted blocks of models received from providers and checked, per fetch that took them",
				&[],
			),
			Self::FetchedBytes => (
				"cognitive_model_transfer_fetched_bytes_total",
				"Bytes of the wanted blocks received",
				&[],
			),
			Self::DuplicateBlocks => (
				"cognitive_model_transfer_duplicate_blocks_total",
				"Blocks received again after another provider's copy was taken",
				&[],
			),
			Self::ServedBlocks => (
				"cognitive_model_transfer_served_blocks_total",
				"Blocks of models sent to peers",
				&[],
			),
			Self::ServedBytes => (
				"cognitive_model_transfer_served_bytes_total",
				"Bytes of the blocks sent",
				&[],
			),
			Self::RefusedWants => (
				"cognitive_model_transfer_refused_wants_total",
				"Peers' wants not served, by reason (dont_have: not here; over_limit: the peer's \
				 queue was full)",
				&["reason"],
			),
			Self::PeerFailures => (
				"cognitive_model_transfer_peer_failures_total",
				"What went wrong with providers, by peer id and kind (corrupt: an interior node \
				 that does not match its CID; unsolicited: a block no running fetch wanted, corrupt \
				 or late; dont_have: a want refused; timeout: wants left unanswered, once per \
				 check that found any)",
				&["peer", "kind"],
			),
			Self::Fetches => (
				"cognitive_model_transfer_fetches",
				"Fetches since the node started, by state (running, verifying, done, failed)",
				&["state"],
			),
		}
	}
}

#[derive(Clone)]
struct Transfer {
	net: ModelNet,
	figure: Figure,
}

impl MetricSource for Transfer {
	type N = u64;

	fn collect(&self, mut set: impl FnMut(&[&str], u64)) {
		match self.figure {
			Figure::FetchedBlocks => set(&[], self.net.fetch_stats().blocks),
			Figure::FetchedBytes => set(&[], self.net.fetch_stats().bytes),
			Figure::DuplicateBlocks => set(&[], self.net.fetch_stats().duplicates),
			Figure::ServedBlocks => set(&[], self.net.serve_stats().blocks),
			Figure::ServedBytes => set(&[], self.net.serve_stats().bytes),
			Figure::RefusedWants => {
				let stats = self.net.serve_stats();
				set(&["dont_have"], stats.dont_have);
				set(&["over_limit"], stats.over_limit);
			},
			Figure::PeerFailures => {
				for (peer, failures) in self.net.fetch_stats().peer_failures {
					let peer = peer.to_string();
					set(&[&peer, "corrupt"], failures.corrupt);
					set(&[&peer, "unsolicited"], failures.unsolicited);
					set(&[&peer, "dont_have"], failures.dont_have);
					set(&[&peer, "timeout"], failures.timeouts);
				}
			},
			Figure::Fetches => {
				let mut counts = [0u64; 4];
				for progress in self.net.progress() {
					let slot = match progress.state {
						FetchState::Running => 0,
						FetchState::Verifying => 1,
						FetchState::Done => 2,
						FetchState::Failed(_) => 3,
					};
					counts[slot] += 1;
				}
				for (state, count) in ["running", "verifying", "done", "failed"]
					.iter()
					.zip(counts)
				{
					set(&[state], count);
				}
			},
		}
	}
}

/// Registers the endpoint's metrics in `registry`.
pub fn register(registry: &Registry, net: &ModelNet) -> Result<(), Error> {
	for figure in [
		Figure::FetchedBlocks,
		Figure::FetchedBytes,
		Figure::DuplicateBlocks,
		Figure::ServedBlocks,
		Figure::ServedBytes,
		Figure::RefusedWants,
		Figure::PeerFailures,
		Figure::Fetches,
	] {
		let (name, help, labels) = figure.describe();
		let opts =
			Opts::new(name, help).variable_labels(labels.iter().map(|l| l.to_string()).collect());
		let source = Transfer {
			net: net.clone(),
			figure,
		};
		match figure {
			Figure::Fetches => {
				super::collector(registry, SourcedGauge::new(&opts, source))?;
			},
			_ => {
				super::collector(registry, SourcedCounter::new(&opts, source))?;
			},
		}
	}
	Ok(())
}
