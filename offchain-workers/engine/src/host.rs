//! The engine as seen by the runtime's off-chain worker: [`JobHost`] implements
//! [`InferenceHost`], the trait behind the `inference_host_api` host functions.
//!
//! The off-chain worker polls; it never waits. The first poll of a job queues it on the
//! engine's chain lane ([`Lane::Chain`]); later polls report `Queued`, `Running`, then the
//! result, which stays here until the worker has stored it and calls `release_job`.
//!
//! Slots are keyed by the job's digest ([`JobRequest::job_digest`]), never by its id: after a
//! reorg the same id can name another job, which must not be answered with the old result.
//!
//! ## Nothing leaks (audit H-4)
//!
//! The host remembers at most `max_jobs` jobs. A worker that never releases a job (it crashed,
//! the job was reorged away, it gave up) must not fill that room for good, so every slot carries
//! the job's deadline ([`JobRequest::expires_at_ms`]) and every call first sweeps:
//!
//! - a pending job whose deadline passed is cancelled (the engine drops it, queued or running)
//!   and forgotten: its result could no longer be committed;
//! - a finished job (done or failed) is forgotten [`FINISHED_GRACE_MS`] after its deadline,
//!   which leaves a late worker time to read and release it.
//!
//! A request whose deadline already passed is answered `Failed(Expired)` without running it.
//! Failures that a later poll could cure (missing model, full queue) are not remembered.
//!
//! ## Determinism class (audit M-2)
//!
//! A job names the engine build its results are compared under. A host of another class would
//! compute tokens the model's other validators do not, so it answers `Failed(ClassMismatch)`
//! without running anything, and [`InferenceHost::ready_for`] says `false` for that class.

use crate::{
	engine_class,
	observe::JobObserver,
	pool::Engine,
	types::{
		CancelToken, ChatMessage, EngineError, GenerateRequest, Generation, GenerationReceiver,
		Input, Lane,
	},
};
use inference_primitives::{
	EngineClass, Hash256, HostJobStatus, InferenceHost, JobFailure, JobOutput, JobPrompt,
	JobRequest, PromptFormat, Sha256,
};
use parking_lot::Mutex;
use std::{
	collections::HashMap,
	sync::{
		atomic::{AtomicBool, Ordering},
		Arc, OnceLock,
	},
	time::{SystemTime, UNIX_EPOCH},
};

/// How long a finished job's result is kept after its deadline for the worker to release it.
pub const FINISHED_GRACE_MS: u64 = 60_000;

/// The host's clock: Unix time in milliseconds, the same scale as
/// [`JobRequest::expires_at_ms`] (the off-chain worker's clock is the system clock).
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// The system clock in Unix milliseconds (0 if it reads before 1970).
pub fn system_clock_ms() -> u64 {
	SystemTime::now()
		.duration_since(UNIX_EPOCH)
		.map(|d| d.as_millis().min(u64::MAX as u128) as u64)
		.unwrap_or(0)
}

enum State {
	Pending {
		receiver: GenerationReceiver,
		started: Arc<AtomicBool>,
		cancel: CancelToken,
		/// For the [`JobObserver`]: the on-chain job and when it was queued.
		job_id: u64,
		queued_at_ms: u64,
	},
	Finished(HostJobStatus),
}

struct Slot {
	/// The job's deadline; a later poll may extend it, never shorten it.
	expires_at_ms: u64,
	state: State,
}

/// Tracks on-chain jobs run on an [`Engine`].
pub struct JobHost {
	engine: Arc<Engine>,
	jobs: Mutex<HashMap<Hash256, Slot>>,
	max_jobs: usize,
	clock: Clock,
	observer: OnceLock<Arc<dyn JobObserver>>,
}

impl JobHost {
	/// A host that remembers at most `max_jobs` jobs (pending, or finished and not yet released
	/// or expired), on the system clock.
	pub fn new(engine: Arc<Engine>, max_jobs: usize) -> Self {
		Self::with_clock(engine, max_jobs, Arc::new(system_clock_ms))
	}

	/// [`JobHost::new`] with another clock (tests move time by hand).
	pub fn with_clock(engine: Arc<Engine>, max_jobs: usize, clock: Clock) -> Self {
		Self {
			engine,
			jobs: Mutex::new(HashMap::new()),
			max_jobs,
			clock,
			observer: OnceLock::new(),
		}
	}

	/// Reports each job the host runs to `observer` when its generation is collected. Only the
	/// first observer set is kept: `false` if one was already.
	pub fn set_observer(&self, observer: Arc<dyn JobObserver>) -> bool {
		self.observer.set(observer).is_ok()
	}

	/// Jobs pending, or finished and not yet released or expired.
	pub fn tracked(&self) -> usize {
		self.jobs.lock().len()
	}

	/// The engine jobs run on.
	pub fn engine(&self) -> &Arc<Engine> {
		&self.engine
	}

	/// Forgets what no worker can use any more; see the module documentation.
	fn sweep(jobs: &mut HashMap<Hash256, Slot>, now: u64) {
		jobs.retain(|_, slot| match &slot.state {
			State::Pending { cancel, .. } => {
				if passed(slot.expires_at_ms, now) {
					cancel.cancel();
					false
				} else {
					true
				}
			},
			State::Finished(_) => {
				!passed(slot.expires_at_ms.saturating_add(FINISHED_GRACE_MS), now)
			},
		});
	}
}

/// Whether `deadline` has passed at `now` (the deadline itself is still in time).
fn passed(deadline: u64, now: u64) -> bool {
	now > deadline
}

/// The engine's input for a job's stored prompt: text, or chat messages pinned to the template
/// the chain recorded (the engine refuses to render them with any other).
fn job_input(format: &PromptFormat, prompt: Vec<u8>) -> Result<Input, JobFailure> {
	let utf8 = |bytes: Vec<u8>| {
		String::from_utf8(bytes).map_err(|_| JobFailure::Engine(b"prompt is not UTF-8".to_vec()))
	};
	let template_sha256 = match format {
		// A text prompt goes as it is, without a copy.
		PromptFormat::Text => return Ok(Input::Text(utf8(prompt)?)),
		PromptFormat::Chat { template_sha256 } => template_sha256,
	};
	match JobPrompt::from_stored(format, &prompt) {
		Some(JobPrompt::Chat(turns)) => {
			let messages = turns
				.into_iter()
				.map(|turn| {
					Ok(ChatMessage {
						role: turn.role.as_str().to_owned(),
						content: utf8(turn.content)?,
					})
				})
				.collect::<Result<_, JobFailure>>()?;
			Ok(Input::Chat {
				messages,
				template_sha256: Some(*template_sha256),
			})
		},
		_ => Err(JobFailure::ChatTemplate(
			b"the stored chat messages do not decode".to_vec(),
		)),
	}
}

fn failure(error: EngineError) -> JobFailure {
	match error {
		EngineError::Template(message) => JobFailure::ChatTemplate(message.into_bytes()),
		EngineError::UnknownModel(_) => JobFailure::UnknownModel,
		EngineError::ContextOverflow { .. } | EngineError::PromptTooLarge { .. } => {
			JobFailure::PromptTooLong
		},
		EngineError::QueueFull(_) => JobFailure::QueueFull,
		EngineError::Cancelled | EngineError::ShuttingDown => JobFailure::Cancelled,
		other => JobFailure::Engine(other.to_string().into_bytes()),
	}
}

fn output(generation: Generation) -> JobOutput {
	JobOutput {
		prompt_tokens: generation.prompt_tokens,
		output_tokens: generation.output_tokens,
		text: generation.output_bytes,
	}
}

/// The status of a slot, collecting the engine's answer if it arrived.
fn slot_status(slot: &mut Slot, observer: Option<&Arc<dyn JobObserver>>) -> HostJobStatus {
	if let State::Pending {
		receiver,
		started,
		job_id,
		queued_at_ms,
		..
	} = &mut slot.state
	{
		let finished = match receiver.try_recv() {
			Ok(None) => {
				return if started.load(Ordering::Relaxed) {
					HostJobStatus::Running
				} else {
					HostJobStatus::Queued
				}
			},
			Ok(Some(Ok(generation))) => {
				if let Some(observer) = observer {
					observer.job_ran(*job_id, *queued_at_ms, &generation.timings);
				}
				HostJobStatus::Done(output(generation))
			},
			Ok(Some(Err(error))) => HostJobStatus::Failed(failure(error)),
			// The engine dropped the request without an answer (it stopped).
			Err(_) => HostJobStatus::Failed(JobFailure::Cancelled),
		};
		slot.state = State::Finished(finished);
	}
	match &slot.state {
		State::Finished(status) => status.clone(),
		State::Pending { .. } => HostJobStatus::Queued,
	}
}

impl InferenceHost for JobHost {
	fn poll_job(&self, request: JobRequest) -> HostJobStatus {
		let now = (self.clock)();
		let mut jobs = self.jobs.lock();
		Self::sweep(&mut jobs, now);
		if request.class != engine_class() {
			// Not remembered: nothing ran, and nothing will for this class.
			return HostJobStatus::Failed(JobFailure::ClassMismatch);
		}
		if let Some(slot) = jobs.get_mut(&request.job_digest) {
			slot.expires_at_ms = slot.expires_at_ms.max(request.expires_at_ms);
			return slot_status(slot, self.observer.get());
		}
		if passed(request.expires_at_ms, now) {
			return HostJobStatus::Failed(JobFailure::Expired);
		}
		// Checked after the sweep, so room held by jobs nobody can use any more is free again.
		if jobs.len() >= self.max_jobs {
			return HostJobStatus::Failed(JobFailure::QueueFull);
		}
		let (digest, expires_at_ms) = (request.job_digest, request.expires_at_ms);
		let remember = |jobs: &mut HashMap<Hash256, Slot>, status: HostJobStatus| {
			let state = State::Finished(status.clone());
			jobs.insert(
				digest,
				Slot {
					expires_at_ms,
					state,
				},
			);
			status
		};
		let input = match job_input(&request.format, request.prompt) {
			Ok(input) => input,
			// The chain only stores prompts that read back; anything else is a bug worth a
			// record, and every node of the class refuses it alike.
			Err(failure) => return remember(&mut jobs, HostJobStatus::Failed(failure)),
		};
		let generate = GenerateRequest {
			model: request.model_sha256,
			input,
			max_tokens: request.max_tokens,
			profile: request.profile,
			sampling: request.sampling.into(),
			stop: Vec::new(),
		};
		let cancel = CancelToken::new();
		match self
			.engine
			.submit(generate, None, cancel.clone(), Lane::Chain)
		{
			Ok((receiver, started)) => {
				let state = State::Pending {
					receiver,
					started,
					cancel,
					job_id: request.job_id,
					queued_at_ms: now,
				};
				jobs.insert(
					digest,
					Slot {
						expires_at_ms,
						state,
					},
				);
				HostJobStatus::Queued
			},
			// Transient: not remembered, the next poll retries.
			Err(e @ (EngineError::UnknownModel(_) | EngineError::QueueFull(_))) => {
				HostJobStatus::Failed(failure(e))
			},
			Err(e) => remember(&mut jobs, HostJobStatus::Failed(failure(e))),
		}
	}

	fn release_job(&self, job_digest: Hash256) {
		let mut jobs = self.jobs.lock();
		if let Some(Slot {
			state: State::Pending { cancel, .. },
			..
		}) = jobs.remove(&job_digest)
		{
			// The worker gave up on it: do not spend a worker on it any more.
			cancel.cancel();
		}
		Self::sweep(&mut jobs, (self.clock)());
	}

	fn ready_for(&self, model_sha256: Sha256, class: EngineClass) -> bool {
		Self::sweep(&mut self.jobs.lock(), (self.clock)());
		class == engine_class() && self.engine.store().verified(&model_sha256).is_ok()
	}
}
