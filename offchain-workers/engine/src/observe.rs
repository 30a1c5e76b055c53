//! What the engine tells an observer (the node's metrics) about its work.
//!
//! The engine knows nothing of Prometheus: it calls an [`EngineObserver`] once per request that
//! leaves it (refused at [`Engine::submit`](crate::Engine::submit), cancelled, failed or
//! answered) and once per model it loads from disk. The calls happen on the caller's or the
//! worker's thread, after the work, so an observer must be quick and must not block (counting
//! into atomics is the intended use).

use crate::{
	store::ModelHash,
	types::{EngineError, Generation, Lane, Timings},
};
use std::{
	sync::{Arc, OnceLock},
	time::Duration,
};

/// Receives the engine's reports. Both methods have empty defaults, so an observer implements
/// only what it needs.
pub trait EngineObserver: Send + Sync {
	/// A request on `lane` left the engine: `Ok` with its generation (timings filled in,
	/// `queue_ms` included), or the error it was refused or failed with.
	fn request_done(&self, _lane: Lane, _result: Result<&Generation, &EngineError>) {}

	/// `model` (`bytes` long) was loaded from the store, which took `took`; a model found
	/// already loaded is not reported.
	fn model_loaded(&self, _model: &ModelHash, _bytes: u64, _took: Duration) {}
}

/// Receives the [`JobHost`](crate::JobHost)'s report of each on-chain job it ran (the node's
/// traces): which job, when it was queued, and where the time went.
pub trait JobObserver: Send + Sync {
	/// Job `job_id`, queued at `queued_at_ms` (the host's clock, Unix milliseconds), finished
	/// with `timings`. Called once per job, from the off-chain worker's poll that collects it.
	fn job_ran(&self, job_id: u64, queued_at_ms: u64, timings: &Timings);
}

/// The engine's observer, set at most once after the engine is built; shared by the workers
/// and the model cache. Unset, reports go nowhere.
#[derive(Clone, Default)]
pub(crate) struct ObserverSlot(Arc<OnceLock<Arc<dyn EngineObserver>>>);

impl ObserverSlot {
	/// Sets the observer; `false` if one was set before (the first one stays).
	pub(crate) fn set(&self, observer: Arc<dyn EngineObserver>) -> bool {
		self.0.set(observer).is_ok()
	}

	pub(crate) fn request_done(&self, lane: Lane, result: Result<&Generation, &EngineError>) {
		if let Some(observer) = self.0.get() {
			observer.request_done(lane, result);
		}
	}

	pub(crate) fn model_loaded(&self, model: &ModelHash, bytes: u64, took: Duration) {
		if let Some(observer) = self.0.get() {
			observer.model_loaded(model, bytes, took);
		}
	}
}
