//! Metrics of the inference engine and of the APIs in front of it.
//!
//! Counts and timings come from two places, each of which sees what the other cannot:
//!
//! - the engine's [`EngineObserver`] hook, for every request that leaves the engine: the token
//!   rates, time to first token and queue wait of answered requests (by lane), the outcomes
//!   of on-chain jobs (source `chain`: only the off-chain worker's job host submits on the
//!   chain lane), and model loads;
//! - the inference APIs ([`Tally`]), for the requests of JSON-RPC (`rpc`) and the OpenAI API
//!   (`http`): they also see the refusals that happen before the engine (rate limits,
//!   per-connection bounds) and the callers who leave before the answer.
//!
//! Gauges (queue depths, running generations, loaded models, the model store) are read from the
//! engine when Prometheus scrapes, so they are never stale and cost nothing in between.

use inference_engine::{Engine, EngineError, EngineObserver, Generation, Lane, ModelHash};
use std::{
	path::Path,
	sync::{Arc, Weak},
	time::Duration,
};
use substrate_prometheus_endpoint::{
	prometheus::Error, CounterVec, Histogram, HistogramOpts, HistogramVec, MetricSource, Opts,
	Registry, SourcedGauge, U64,
};

/// Where a request came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
	/// An on-chain job, run by the off-chain worker.
	Chain,
	/// `inference_generate` / `inference_subscribeGenerate` (either RPC port).
	Rpc,
	/// The OpenAI-compatible HTTP API.
	Http,
}

impl Source {
	fn label(self) -> &'static str {
		match self {
			Self::Chain => "chain",
			Self::Rpc => "rpc",
			Self::Http => "http",
		}
	}
}

/// How a request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
	/// Answered.
	Ok,
	/// Refused for what it asked: an unknown model, a prompt or `max_tokens` out of bounds,
	/// bad sampling or stop sequences, a template that does not render.
	Invalid,
	/// Refused for want of room: a full queue, the memory budget, a rate limit or an
	/// in-flight bound, inference disabled, the engine stopping.
	Refused,
	/// The caller left, or the job host gave up at the job's deadline.
	Cancelled,
	/// llama.cpp or the model store failed.
	Failed,
}

impl Outcome {
	fn label(self) -> &'static str {
		match self {
			Self::Ok => "ok",
			Self::Invalid => "invalid",
			Self::Refused => "refused",
			Self::Cancelled => "cancelled",
			Self::Failed => "failed",
		}
	}

	/// The outcome of a request the engine answered with `error`.
	pub fn of_engine_error(error: &EngineError) -> Self {
		match error {
			EngineError::UnknownModel(_)
			| EngineError::PromptTooLarge { .. }
			| EngineError::ContextOverflow { .. }
			| EngineError::BadMaxTokens(_)
			| EngineError::BadProfile(_)
			| EngineError::BadSampling(_)
			| EngineError::BadStop(_)
			| EngineError::Template(_) => Self::Invalid,
			EngineError::QueueFull(_)
			| EngineError::MemoryBudget { .. }
			| EngineError::ShuttingDown => Self::Refused,
			EngineError::Cancelled => Self::Cancelled,
			EngineError::Llama(_) | EngineError::Store(_) => Self::Failed,
		}
	}
}

fn lane_label(lane: Lane) -> &'static str {
	match lane {
		Lane::Chain => "chain",
		Lane::Public => "public",
	}
}

/// Token rates, tokens per second: from a slow CPU on a large model to a GPU on a small one.
const RATE_BUCKETS: [f64; 12] = [
	1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0,
];
/// Waits and latencies, seconds.
const SECONDS_BUCKETS: [f64; 12] = [
	0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0,
];

/// The engine's and the APIs' counters and histograms.
pub struct InferenceMetrics {
	requests: CounterVec<U64>,
	tokens: CounterVec<U64>,
	prompt_rate: HistogramVec,
	generation_rate: HistogramVec,
	first_token: HistogramVec,
	queue_wait: HistogramVec,
	model_load: Histogram,
}

impl InferenceMetrics {
	/// Registers the engine's metrics in `registry` and returns the observer to give the engine
	/// ([`Engine::set_observer`]). The gauges hold only a weak reference to the engine.
	pub fn register(registry: &Registry, engine: &Arc<Engine>) -> Result<Arc<Self>, Error> {
		use super::{collector, counter_vec, histogram_vec};
		let metrics = Self {
			requests: counter_vec(
				registry,
				"cognitive_inference_requests_total",
				"Inference requests by source (chain, rpc, http) and outcome (ok, invalid, \
				 refused, cancelled, failed)",
				&["source", "outcome"],
			)?,
			tokens: counter_vec(
				registry,
				"cognitive_inference_tokens_total",
				"Tokens of answered requests by lane (chain, public) and kind (prompt, generated)",
				&["lane", "kind"],
			)?,
			prompt_rate: histogram_vec(
				registry,
				"cognitive_inference_prompt_tokens_per_second",
				"Prompt evaluation speed of answered requests, tokens per second, by lane",
				&["lane"],
				&RATE_BUCKETS,
			)?,
			generation_rate: histogram_vec(
				registry,
				"cognitive_inference_generation_tokens_per_second",
				"Generation speed of answered requests, tokens per second, by lane",
				&["lane"],
				&RATE_BUCKETS,
			)?,
			first_token: histogram_vec(
				registry,
				"cognitive_inference_time_to_first_token_seconds",
				"From queueing to the first generated token (queue wait, model lookup or load, \
				 prompt evaluation), by lane",
				&["lane"],
				&SECONDS_BUCKETS,
			)?,
			queue_wait: histogram_vec(
				registry,
				"cognitive_inference_queue_wait_seconds",
				"Time answered requests waited for a worker, by lane",
				&["lane"],
				&SECONDS_BUCKETS,
			)?,
			model_load: collector(
				registry,
				Histogram::with_opts(
					HistogramOpts::new(
						"cognitive_inference_model_load_seconds",
						"Loading a model file into llama.cpp",
					)
					.buckets(SECONDS_BUCKETS.to_vec()),
				),
			)?,
		};
		let weak = Arc::downgrade(engine);
		for figure in EngineFigure::ALL {
			let (name, help, labels) = figure.describe();
			let opts = Opts::new(name, help)
				.variable_labels(labels.iter().map(|l| l.to_string()).collect());
			let source = EngineGauges {
				engine: weak.clone(),
				figure,
			};
			collector(registry, SourcedGauge::new(&opts, source))?;
		}
		Ok(Arc::new(metrics))
	}

	/// Counts a request of `source` that ended with `outcome`.
	pub fn request(&self, source: Source, outcome: Outcome) {
		self.requests
			.with_label_values(&[source.label(), outcome.label()])
			.inc();
	}
}

impl EngineObserver for InferenceMetrics {
	fn request_done(&self, lane: Lane, result: Result<&Generation, &EngineError>) {
		// Public requests are counted by the API that took them, which knows their source.
		if lane == Lane::Chain {
			let outcome = result.map_or_else(Outcome::of_engine_error, |_| Outcome::Ok);
			self.request(Source::Chain, outcome);
		}
		let Ok(generation) = result else { return };
		let lane = lane_label(lane);
		let t = &generation.timings;
		self.tokens
			.with_label_values(&[lane, "prompt"])
			.inc_by(generation.prompt_tokens.len() as u64);
		self.tokens
			.with_label_values(&[lane, "generated"])
			.inc_by(generation.output_tokens.len() as u64);
		if t.prompt_tokens_per_second > 0.0 {
			self.prompt_rate
				.with_label_values(&[lane])
				.observe(t.prompt_tokens_per_second);
		}
		if t.generation_tokens_per_second > 0.0 {
			self.generation_rate
				.with_label_values(&[lane])
				.observe(t.generation_tokens_per_second);
		}
		self.queue_wait
			.with_label_values(&[lane])
			.observe(t.queue_ms / 1e3);
		if !generation.output_tokens.is_empty() {
			// The first token comes one decode step after the prompt: that step is the
			// average time per generated token.
			let per_token_ms = t.generation_ms / generation.output_tokens.len() as f64;
			let first = t.queue_ms + t.load_ms + t.prompt_ms + per_token_ms;
			self.first_token
				.with_label_values(&[lane])
				.observe(first / 1e3);
		}
	}

	fn model_loaded(&self, _model: &ModelHash, _bytes: u64, took: Duration) {
		self.model_load.observe(took.as_secs_f64());
	}
}

/// Counts one API request: refused before it reached the engine ([`Tally::refused`]), or
/// settled by [`Tally::done`]; dropped unsettled (the caller left while it ran), it counts as
/// cancelled.
pub struct Tally {
	metrics: Option<Arc<InferenceMetrics>>,
	source: Source,
	settled: bool,
}

impl Tally {
	/// A request of `source` in progress.
	pub fn new(metrics: Option<Arc<InferenceMetrics>>, source: Source) -> Self {
		Self {
			metrics,
			source,
			settled: false,
		}
	}

	/// The request ended with `outcome`.
	pub fn done(mut self, outcome: Outcome) {
		self.record(outcome);
	}

	fn record(&mut self, outcome: Outcome) {
		if !self.settled {
			self.settled = true;
			if let Some(metrics) = &self.metrics {
				metrics.request(self.source, outcome);
			}
		}
	}
}

impl Drop for Tally {
	fn drop(&mut self) {
		self.record(Outcome::Cancelled);
	}
}

/// One gauge family read from the engine at scrape time.
#[derive(Clone, Copy, Debug)]
enum EngineFigure {
	QueueDepth,
	QueueCapacity,
	Running,
	Workers,
	ModelsLoaded,
	ModelsLoadedBytes,
	MemoryBudget,
	StoreModels,
	StoreBytes,
	StoreFree,
	StoreTotal,
}

impl EngineFigure {
	const ALL: [Self; 11] = [
		Self::QueueDepth,
		Self::QueueCapacity,
		Self::Running,
		Self::Workers,
		Self::ModelsLoaded,
		Self::ModelsLoadedBytes,
		Self::MemoryBudget,
		Self::StoreModels,
		Self::StoreBytes,
		Self::StoreFree,
		Self::StoreTotal,
	];

	/// Name, help and labels.
	fn describe(self) -> (&'static str, &'static str, &'static [&'static str]) {
		match self {
			Self::QueueDepth => (
				"cognitive_inference_queue_depth",
				"Requests waiting for a worker, by lane (chain, public)",
				&["lane"],
			),
			Self::QueueCapacity => (
				"cognitive_inference_queue_capacity",
				"Requests that may wait for a worker, by lane; more are refused",
				&["lane"],
			),
			Self::Running => (
				"cognitive_inference_running",
				"Generations running now (busy workers)",
				&[],
			),
			Self::Workers => (
				"cognitive_inference_workers",
				"Worker threads, by kind (shared: both lanes, chain: chain jobs only)",
				&["kind"],
			),
			Self::ModelsLoaded => (
				"cognitive_inference_models_loaded",
				"Models loaded in llama.cpp",
				&[],
			),
			Self::ModelsLoadedBytes => (
				"cognitive_inference_models_loaded_bytes",
				"Bytes of the model files loaded in llama.cpp",
				&[],
			),
			Self::MemoryBudget => (
				"cognitive_inference_memory_budget_bytes",
				"Bytes of model files the engine may keep loaded (--inference-memory-mib)",
				&[],
			),
			Self::StoreModels => (
				"cognitive_model_store_models",
				"Models in the node's model store",
				&[],
			),
			Self::StoreBytes => (
				"cognitive_model_store_bytes",
				"Bytes of the model files in the node's model store",
				&[],
			),
			Self::StoreFree => (
				"cognitive_model_store_filesystem_free_bytes",
				"Bytes free for an unprivileged user on the model store's file system",
				&[],
			),
			Self::StoreTotal => (
				"cognitive_model_store_filesystem_size_bytes",
				"Size of the model store's file system in bytes",
				&[],
			),
		}
	}
}

#[derive(Clone)]
struct EngineGauges {
	engine: Weak<Engine>,
	figure: EngineFigure,
}

impl MetricSource for EngineGauges {
	type N = u64;

	fn collect(&self, mut set: impl FnMut(&[&str], u64)) {
		let Some(engine) = self.engine.upgrade() else {
			return;
		};
		let config = engine.config();
		match self.figure {
			EngineFigure::QueueDepth => {
				set(&["chain"], engine.chain_queue_depth() as u64);
				set(&["public"], engine.public_queue_depth() as u64);
			},
			EngineFigure::QueueCapacity => {
				set(&["chain"], config.chain_queue_capacity as u64);
				set(&["public"], config.queue_capacity as u64);
			},
			EngineFigure::Running => set(&[], engine.running() as u64),
			EngineFigure::Workers => {
				set(&["shared"], config.workers.max(1) as u64);
				set(&["chain"], config.chain_workers as u64);
			},
			EngineFigure::ModelsLoaded => set(&[], engine.loaded_models().len() as u64),
			EngineFigure::ModelsLoadedBytes => set(
				&[],
				engine.loaded_models().iter().map(|(_, bytes)| bytes).sum(),
			),
			EngineFigure::MemoryBudget => set(&[], config.memory_budget_bytes),
			EngineFigure::StoreModels | EngineFigure::StoreBytes => {
				// A store that cannot be listed reports nothing rather than zero.
				if let Ok(models) = engine.store().list() {
					match self.figure {
						EngineFigure::StoreModels => set(&[], models.len() as u64),
						_ => set(&[], models.iter().map(|m| m.size_bytes).sum()),
					}
				}
			},
			EngineFigure::StoreFree | EngineFigure::StoreTotal => {
				if let Some((free, total)) = filesystem_space(engine.store().dir()) {
					let value = match self.figure {
						EngineFigure::StoreFree => free,
						_ => total,
					};
					set(&[], value);
				}
			},
		}
	}
}

/// Bytes available to an unprivileged user, and the size, of the file system holding `path`.
fn filesystem_space(path: &Path) -> Option<(u64, u64)> {
	use std::os::unix::ffi::OsStrExt;
	let path = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
	let mut stat = std::mem::MaybeUninit::<libc::statvfs>::uninit();
	// SAFETY: `path` is a NUL-terminated string that outlives the call, and `stat` points to
	// memory for one `statvfs`, which the call fills in whole when it returns 0.
	let stat = unsafe {
		if libc::statvfs(path.as_ptr(), stat.as_mut_ptr()) != 0 {
			return None;
		}
		stat.assume_init()
	};
	let block = stat.f_frsize as u64;
	Some((
		(stat.f_bavail as u64).saturating_mul(block),
		(stat.f_blocks as u64).saturating_mul(block),
	))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_file_system_of_a_directory_has_a_size_and_room() {
		let (free, total) = filesystem_space(Path::new("/")).expect("statvfs of /");
		assert!(total > 0 && free <= total, "free {free} of {total}");
		assert_eq!(filesystem_space(Path::new("/no/such/dir/anywhere")), None);
	}

	#[test]
	fn every_engine_error_has_an_outcome() {
		assert_eq!(
			Outcome::of_engine_error(&EngineError::QueueFull(3)),
			Outcome::Refused
		);
		assert_eq!(
			Outcome::of_engine_error(&EngineError::UnknownModel("x".into())),
			Outcome::Invalid
		);
		assert_eq!(
			Outcome::of_engine_error(&EngineError::Cancelled),
			Outcome::Cancelled
		);
		assert_eq!(
			Outcome::of_engine_error(&EngineError::Llama("boom".into())),
			Outcome::Failed
		);
	}

	#[test]
	fn a_tally_counts_once_and_a_dropped_one_as_cancelled() {
		let registry = Registry::new();
		let dir = std::env::temp_dir().join(format!("metrics-tally-{}", std::process::id()));
		let store = inference_engine::ModelStore::open(&dir).expect("store");
		let engine =
			Arc::new(Engine::new(store, Default::default()).expect("an engine without models"));
		let metrics = InferenceMetrics::register(&registry, &engine).expect("register");
		Tally::new(Some(metrics.clone()), Source::Http).done(Outcome::Ok);
		drop(Tally::new(Some(metrics.clone()), Source::Http));
		Tally::new(Some(metrics.clone()), Source::Rpc).done(Outcome::Refused);
		let count = |source: &str, outcome: &str| {
			metrics.requests.with_label_values(&[source, outcome]).get()
		};
		assert_eq!(count("http", "ok"), 1);
		assert_eq!(count("http", "cancelled"), 1);
		assert_eq!(count("rpc", "refused"), 1);
		assert_eq!(count("rpc", "ok"), 0);

		// The scrape-time gauges read the engine, and the store's file system.
		let text = gather(&registry);
		for line in [
			"cognitive_inference_queue_capacity{lane=\"public\"} 16",
			"cognitive_inference_queue_depth{lane=\"chain\"} 0",
			"cognitive_inference_running 0",
			"cognitive_inference_workers{kind=\"chain\"} 1",
			"cognitive_model_store_models 0",
		] {
			assert!(text.lines().any(|l| l == line), "{line} in:\n{text}");
		}
		assert!(text.contains("cognitive_model_store_filesystem_free_bytes "));
		// Gone with the engine.
		drop(engine);
		assert!(!gather(&registry).contains("cognitive_inference_running"));
		let _ = std::fs::remove_dir_all(&dir);
	}

	fn gather(registry: &Registry) -> String {
		use substrate_prometheus_endpoint::prometheus::{Encoder, TextEncoder};
		let mut buffer = Vec::new();
		TextEncoder::new()
			.encode(&registry.gather(), &mut buffer)
			.expect("encode");
		String::from_utf8(buffer).expect("utf-8")
	}
}
