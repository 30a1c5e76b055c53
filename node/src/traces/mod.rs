//! Traces of on-chain jobs, exported over OTLP when `--otlp-endpoint` is given.
//!
//! - [`jobs`]: a job's life as spans (submitted, assigned, queued, prompt, generation, commit,
//!   reveal, settled) with the job id as the trace key, so the spans every assigned node sends
//!   join one trace at the collector;
//! - [`otlp`]: the spans' OTLP/HTTP JSON encoding and the task that posts them.
//!
//! docs/observability.md lists every span and its attributes.

pub mod jobs;
pub mod otlp;

use std::sync::Arc;

/// Trace export settings.
#[derive(Debug, Clone, clap::Args)]
pub struct TraceParams {
	/// Export the spans of this node's on-chain jobs over OTLP/HTTP (JSON) to this collector:
	/// `http://HOST:PORT` (posts to `/v1/traces`). Every assigned node names a job's trace by
	/// the job id, so their spans join one trace. Off unless given.
	#[arg(long, value_name = "URL")]
	pub otlp_endpoint: Option<otlp::Endpoint>,
}

/// Starts the trace export (if configured): the task that posts spans and the one that follows
/// finality, both on `spawner`. Returns the span maker, to be given to the job host.
pub fn start(
	params: &TraceParams,
	instance: String,
	client: Arc<crate::service::FullClient>,
	keystore: sp_keystore::KeystorePtr,
	genesis: [u8; 32],
	spawner: &sc_service::SpawnTaskHandle,
) -> Option<Arc<jobs::JobTraces>> {
	let endpoint = params.otlp_endpoint.clone()?;
	log::info!(target: "traces", "exporting job traces over OTLP to {endpoint:?}");
	let (exporter, post) = otlp::Exporter::new(endpoint, instance);
	spawner.spawn("otlp-export", None, post);
	let traces = Arc::new(jobs::JobTraces::new(exporter, genesis));
	spawner.spawn(
		"job-traces",
		None,
		jobs::run(client, keystore, traces.clone()),
	);
	Some(traces)
}
