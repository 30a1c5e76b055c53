//! The engine's scheduling: two bounded queues and the worker threads that drain them.
//!
//! Callers [`Engine::submit`] a [`GenerateRequest`] on a [`Lane`] and get a future-compatible
//! receiver for the [`Generation`]; tokens can be streamed on the way and a [`CancelToken`]
//! stops a request whether it is still queued or already generating. Work runs only on the
//! engine's own threads, so neither block import nor RPC handlers ever wait on llama.cpp.
//!
//! On-chain jobs have deadlines and public requests do not, so they never compete on equal
//! terms (audit H-5):
//!
//! - each lane has its own bounded queue, so a flood of public requests cannot take the room a
//!   chain job needs;
//! - the `workers` shared threads always take a waiting chain job before a public request;
//! - `chain_workers` extra threads run nothing but chain jobs, so a chain job starts at once
//!   even while every shared worker is busy with a long public generation;
//! - the [`gate`](crate::gate) bounds how many generations compute at once to what the cores
//!   hold, and a public generation pauses between two tokens while a chain job needs its slot.

use crate::{
	gate::ComputeGate,
	llama::{self, ModelCache},
	observe::{EngineObserver, ObserverSlot},
	store::{ModelHash, ModelStore},
	types::{
		CancelToken, EngineConfig, EngineError, GenerateRequest, Generation, GenerationReceiver,
		Input, Lane, TokenEvent,
	},
};
use futures::channel::{mpsc, oneshot};
use parking_lot::{Condvar, Mutex};
use std::{
	collections::VecDeque,
	sync::{
		atomic::{AtomicBool, AtomicUsize, Ordering},
		Arc,
	},
	time::Instant,
};

struct Task {
	request: GenerateRequest,
	lane: Lane,
	stream: Option<mpsc::UnboundedSender<TokenEvent>>,
	cancel: CancelToken,
	started: Arc<AtomicBool>,
	reply: oneshot::Sender<Result<Generation, EngineError>>,
	enqueued: Instant,
}

impl Task {
	/// Reports the outcome to the observer, then to the caller.
	fn answer(self, result: Result<Generation, EngineError>, observer: &ObserverSlot) {
		observer.request_done(self.lane, result.as_ref());
		let _ = self.reply.send(result);
	}
}

/// What a worker thread may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
	/// Chain jobs first, then public requests.
	Shared,
	/// Chain jobs only.
	ChainOnly,
}

#[derive(Default)]
struct Queues {
	chain: VecDeque<Task>,
	public: VecDeque<Task>,
}

impl Queues {
	fn lane(&mut self, lane: Lane) -> &mut VecDeque<Task> {
		match lane {
			Lane::Chain => &mut self.chain,
			Lane::Public => &mut self.public,
		}
	}

	/// The next task a worker of `role` runs: a chain job whenever one waits.
	fn next(&mut self, role: Role) -> Option<Task> {
		match role {
			Role::Shared => self.chain.pop_front().or_else(|| self.public.pop_front()),
			Role::ChainOnly => self.chain.pop_front(),
		}
	}

	/// Answers every waiting task whose token fired, so that cancelled work (for example a
	/// chain job the job host gave up on at its deadline) stops holding queue room at once
	/// instead of when a worker reaches it.
	fn drop_cancelled(&mut self, observer: &ObserverSlot) {
		for queue in [&mut self.chain, &mut self.public] {
			if !queue.iter().any(|t| t.cancel.is_cancelled()) {
				continue;
			}
			let (cancelled, kept): (VecDeque<Task>, VecDeque<Task>) =
				queue.drain(..).partition(|t| t.cancel.is_cancelled());
			*queue = kept;
			for task in cancelled {
				task.answer(Err(EngineError::Cancelled), observer);
			}
		}
	}

	/// Refuses everything left so that no caller waits forever on a stopped engine.
	fn refuse_all(&mut self, observer: &ObserverSlot) {
		for task in self.chain.drain(..).chain(self.public.drain(..)) {
			task.answer(Err(EngineError::ShuttingDown), observer);
		}
	}
}

struct Inner {
	config: EngineConfig,
	models: ModelCache,
	gate: ComputeGate,
	queues: Mutex<Queues>,
	/// Wakes shared workers (any task).
	shared_wake: Condvar,
	/// Wakes chain-only workers (chain jobs).
	chain_wake: Condvar,
	running: AtomicUsize,
	shutdown: AtomicBool,
	observer: ObserverSlot,
}

impl Inner {
	/// Stops every worker after its current request. The flag is set under the queue lock:
	/// a worker checks it under that lock right before it sleeps, so the wake-up below cannot
	/// slip in between and leave it sleeping forever.
	fn stop(&self) {
		{
			let _queues = self.queues.lock();
			self.shutdown.store(true, Ordering::Relaxed);
		}
		self.shared_wake.notify_all();
		self.chain_wake.notify_all();
	}
}

/// The engine. Dropping it stops the workers after their current request.
pub struct Engine {
	inner: Arc<Inner>,
}

impl Engine {
	/// Starts the worker threads: `workers` (at least one) shared ones and `chain_workers`
	/// that only run chain jobs.
	pub fn new(store: ModelStore, config: EngineConfig) -> Result<Self, EngineError> {
		llama::backend()?;
		let shared = config.workers.max(1);
		let chain_only = config.chain_workers;
		let observer = ObserverSlot::default();
		let models = ModelCache::new(store, config.memory_budget_bytes, observer.clone());
		let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
		let gate = ComputeGate::new(ComputeGate::slots_for(cores, config.threads));
		let inner = Arc::new(Inner {
			config,
			models,
			gate,
			queues: Mutex::new(Queues::default()),
			shared_wake: Condvar::new(),
			chain_wake: Condvar::new(),
			running: AtomicUsize::new(0),
			shutdown: AtomicBool::new(false),
			observer,
		});
		let roles = (0..shared)
			.map(|i| (Role::Shared, format!("inference-{i}")))
			.chain((0..chain_only).map(|i| (Role::ChainOnly, format!("inference-chain-{i}"))));
		for (role, name) in roles {
			let worker = inner.clone();
			if let Err(e) = std::thread::Builder::new()
				.name(name)
				.spawn(move || worker_loop(worker, role))
			{
				// The threads already started would otherwise wait forever.
				inner.stop();
				return Err(EngineError::Llama(format!(
					"cannot start a worker thread: {e}"
				)));
			}
		}
		Ok(Self { inner })
	}

	/// Reports every request that leaves the engine, and every model load, to `observer`
	/// (the node's metrics). Only the first observer set is kept: `false` if one was already.
	pub fn set_observer(&self, observer: Arc<dyn EngineObserver>) -> bool {
		self.inner.observer.set(observer)
	}

	/// The model store.
	pub fn store(&self) -> &ModelStore {
		self.inner.models.store()
	}

	/// The configuration.
	pub fn config(&self) -> &EngineConfig {
		&self.inner.config
	}

	/// Requests waiting for a worker, both lanes together.
	pub fn queue_depth(&self) -> usize {
		let queues = self.inner.queues.lock();
		queues.chain.len() + queues.public.len()
	}

	/// Chain jobs waiting for a worker.
	pub fn chain_queue_depth(&self) -> usize {
		self.inner.queues.lock().chain.len()
	}

	/// Public requests waiting for a worker.
	pub fn public_queue_depth(&self) -> usize {
		self.inner.queues.lock().public.len()
	}

	/// Requests being generated.
	pub fn running(&self) -> usize {
		self.inner.running.load(Ordering::Relaxed)
	}

	/// Loaded models and their sizes, most recently used first.
	pub fn loaded_models(&self) -> Vec<(ModelHash, u64)> {
		self.inner.models.loaded()
	}

	/// Loads a model now (at node start), so the first request does not pay for it.
	pub fn preload(&self, model: &ModelHash) -> Result<(), EngineError> {
		self.inner.models.load(model).map(|_| ())
	}

	/// Queues a request on `lane`. The checks that need no model (sizes, queue room) fail here,
	/// at once; the rest arrive through the receiver. The returned flag turns true when a
	/// worker starts on the request.
	pub fn submit(
		&self,
		request: GenerateRequest,
		stream: Option<mpsc::UnboundedSender<TokenEvent>>,
		cancel: CancelToken,
		lane: Lane,
	) -> Result<(GenerationReceiver, Arc<AtomicBool>), EngineError> {
		self.try_submit(request, stream, cancel, lane)
			.inspect_err(|e| self.inner.observer.request_done(lane, Err(e)))
	}

	fn try_submit(
		&self,
		request: GenerateRequest,
		stream: Option<mpsc::UnboundedSender<TokenEvent>>,
		cancel: CancelToken,
		lane: Lane,
	) -> Result<(GenerationReceiver, Arc<AtomicBool>), EngineError> {
		let config = &self.inner.config;
		if self.inner.shutdown.load(Ordering::Relaxed) {
			return Err(EngineError::ShuttingDown);
		}
		if request.max_tokens == 0 || request.max_tokens > config.max_tokens {
			return Err(EngineError::BadMaxTokens(config.max_tokens));
		}
		let bytes = match &request.input {
			Input::Text(t) => t.len(),
			Input::Chat { messages: m, .. } => {
				m.iter().map(|m| m.role.len() + m.content.len()).sum()
			},
		};
		if bytes > config.max_prompt_bytes {
			return Err(EngineError::PromptTooLarge {
				bytes,
				limit: config.max_prompt_bytes,
			});
		}
		llama::check_profile(&request.profile)?;
		request.sampling.sampler()?;
		crate::stop::check(&request.stop)?;
		if !self.store().contains(&request.model) {
			return Err(EngineError::UnknownModel(hex::encode(request.model)));
		}
		let capacity = match lane {
			Lane::Chain => config.chain_queue_capacity,
			Lane::Public => config.queue_capacity,
		};
		let (reply, receiver) = oneshot::channel();
		let started = Arc::new(AtomicBool::new(false));
		{
			let mut queues = self.inner.queues.lock();
			queues.drop_cancelled(&self.inner.observer);
			let queue = queues.lane(lane);
			if queue.len() >= capacity {
				return Err(EngineError::QueueFull(queue.len()));
			}
			queue.push_back(Task {
				request,
				lane,
				stream,
				cancel,
				started: started.clone(),
				reply,
				enqueued: Instant::now(),
			});
		}
		match lane {
			// Whichever of the two kinds of worker is idle takes it; the other goes back to
			// sleep.
			Lane::Chain => {
				self.inner.chain_wake.notify_one();
				self.inner.shared_wake.notify_one();
			},
			Lane::Public => {
				self.inner.shared_wake.notify_one();
			},
		}
		Ok((receiver, started))
	}

	/// Submits on [`Lane::Public`] and waits (for tools, tests and benchmarks; never call it on
	/// an async runtime's thread).
	pub fn generate_blocking(&self, request: GenerateRequest) -> Result<Generation, EngineError> {
		let (receiver, _) = self.submit(request, None, CancelToken::new(), Lane::Public)?;
		futures::executor::block_on(receiver).map_err(|_| EngineError::ShuttingDown)?
	}
}

impl Drop for Engine {
	fn drop(&mut self) {
		self.inner.stop();
	}
}

fn worker_loop(inner: Arc<Inner>, role: Role) {
	loop {
		let task = {
			let mut queues = inner.queues.lock();
			loop {
				if inner.shutdown.load(Ordering::Relaxed) {
					queues.refuse_all(&inner.observer);
					return;
				}
				if let Some(task) = queues.next(role) {
					break task;
				}
				match role {
					Role::Shared => inner.shared_wake.wait(&mut queues),
					Role::ChainOnly => inner.chain_wake.wait(&mut queues),
				}
			}
		};
		if task.cancel.is_cancelled() {
			task.answer(Err(EngineError::Cancelled), &inner.observer);
			continue;
		}
		task.started.store(true, Ordering::Relaxed);
		inner.running.fetch_add(1, Ordering::Relaxed);
		let queue_ms = task.enqueued.elapsed().as_secs_f64() * 1e3;
		// A panic in llama.cpp glue must not take the worker (or the node) down.
		let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
			llama::generate(
				&inner.models,
				&inner.config,
				&task.request,
				task.stream.as_ref(),
				&task.cancel,
				(&inner.gate, task.lane),
			)
		}))
		.unwrap_or_else(|_| Err(EngineError::Llama("generation panicked".into())));
		inner.running.fetch_sub(1, Ordering::Relaxed);
		let result = result.map(|mut g| {
			g.timings.queue_ms = queue_ms;
			g
		});
		task.answer(result, &inner.observer);
	}
}
