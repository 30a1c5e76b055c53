//! The node's own Prometheus metrics, registered in Substrate's registry (the one that
//! `--prometheus-port` serves, next to Substrate's `substrate_*` series), so one scrape of a
//! node gives both.
//!
//! - [`inference`]: the engine and the inference APIs: requests by source and outcome, queue
//!   depths, running generations, token rates, time to first token, model loads and memory;
//! - [`chain`]: what the chain says about this node, read from every finalized block: its
//!   proof-of-inference work (jobs assigned, committed, revealed, agreed, missed, slashed,
//!   challenged, settlement latency) and its registry entry (status, reputation, bond,
//!   liveness);
//! - [`transfer`]: the model-transfer endpoint: blocks and bytes fetched and served, refused
//!   wants, failures by provider.
//!
//! Every name, label and value set is listed in `docs/observability.md`. Labels take only the
//! fixed values written here (a lane, a source, an outcome, a slash reason), never a request's
//! own data, so the number of series is bounded.

pub mod chain;
pub mod inference;
pub mod transfer;

use substrate_prometheus_endpoint::{
	prometheus::{core::Collector, Error},
	register, CounterVec, HistogramOpts, HistogramVec, Opts, Registry, U64,
};

/// A counter with `labels`, registered.
fn counter_vec(
	registry: &Registry,
	name: &str,
	help: &str,
	labels: &[&str],
) -> Result<CounterVec<U64>, Error> {
	register(CounterVec::new(Opts::new(name, help), labels)?, registry)
}

/// A histogram with `labels` and `buckets`, registered.
fn histogram_vec(
	registry: &Registry,
	name: &str,
	help: &str,
	labels: &[&str],
	buckets: &[f64],
) -> Result<HistogramVec, Error> {
	let opts = HistogramOpts::new(name, help).buckets(buckets.to_vec());
	register(HistogramVec::new(opts, labels)?, registry)
}

/// Registers a collector built by `make`.
fn collector<T: Clone + Collector + 'static>(
	registry: &Registry,
	make: Result<T, Error>,
) -> Result<T, Error> {
	register(make?, registry)
}
