//! The engine as seen by the runtime's off-chain worker: [`JobHost`] implements
//! [`InferenceHost`], the trait behind the `inference_host_api` host functions.
//!
//! The off-chain worker polls; it never waits. The first poll of a job queues it on the
//! engine, later polls report `Queued`, `Running`, then the result, which stays here until the
//! worker has stored it and calls `release_job`. A job whose model is missing or that finds the
//! queue full is not remembered, so a later poll tries again.

use crate::engine::{
	CancelToken, Engine, EngineError, GenerateRequest, Generation, Input, Sampling,
};
use inference_primitives::{InferenceHost, JobFailure, JobId, JobOutput, JobRequest, JobStatus};
use parking_lot::Mutex;
use std::{
	collections::HashMap,
	sync::{
		atomic::{AtomicBool, Ordering},
		Arc,
	},
};

enum Slot {
	Pending {
		receiver: crate::engine::GenerationReceiver,
		started: Arc<AtomicBool>,
	},
	Finished(JobStatus),
}

/// Tracks on-chain jobs run on an [`Engine`].
pub struct JobHost {
	engine: Arc<Engine>,
	jobs: Mutex<HashMap<JobId, Slot>>,
	max_jobs: usize,
}

impl JobHost {
	/// A host that remembers at most `max_jobs` jobs (pending or unreleased).
	pub fn new(engine: Arc<Engine>, max_jobs: usize) -> Self {
		Self {
			engine,
			jobs: Mutex::new(HashMap::new()),
			max_jobs,
		}
	}

	/// Jobs pending or finished and not yet released.
	pub fn tracked(&self) -> usize {
		self.jobs.lock().len()
	}
}

fn failure(error: EngineError) -> JobFailure {
	match error {
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

impl InferenceHost for JobHost {
	fn poll_job(&self, request: JobRequest) -> JobStatus {
		let mut jobs = self.jobs.lock();
		if let Some(slot) = jobs.get_mut(&request.job_id) {
			if let Slot::Pending { receiver, started } = slot {
				match receiver.try_recv() {
					Ok(None) => {
						return if started.load(Ordering::Relaxed) {
							JobStatus::Running
						} else {
							JobStatus::Queued
						}
					},
					Ok(Some(Ok(generation))) => {
						*slot = Slot::Finished(JobStatus::Done(output(generation)))
					},
					Ok(Some(Err(error))) => {
						*slot = Slot::Finished(JobStatus::Failed(failure(error)))
					},
					Err(_) => *slot = Slot::Finished(JobStatus::Failed(JobFailure::Cancelled)),
				}
			}
			return match slot {
				Slot::Finished(status) => status.clone(),
				Slot::Pending { .. } => JobStatus::Queued,
			};
		}
		if jobs.len() >= self.max_jobs {
			return JobStatus::Failed(JobFailure::QueueFull);
		}
		let Ok(prompt) = String::from_utf8(request.prompt) else {
			// The chain only accepts UTF-8 prompts; anything else is a bug worth a record.
			let status = JobStatus::Failed(JobFailure::Engine(b"prompt is not UTF-8".to_vec()));
			jobs.insert(request.job_id, Slot::Finished(status.clone()));
			return status;
		};
		let generate = GenerateRequest {
			model: request.model_sha256,
			input: Input::Text(prompt),
			max_tokens: request.max_tokens,
			profile: request.profile,
			sampling: Sampling::Greedy,
		};
		match self.engine.submit(generate, None, CancelToken::new()) {
			Ok((receiver, started)) => {
				jobs.insert(request.job_id, Slot::Pending { receiver, started });
				JobStatus::Queued
			},
			// Transient: not remembered, the next poll retries.
			Err(e @ (EngineError::UnknownModel(_) | EngineError::QueueFull(_))) => {
				JobStatus::Failed(failure(e))
			},
			Err(e) => {
				let status = JobStatus::Failed(failure(e));
				jobs.insert(request.job_id, Slot::Finished(status.clone()));
				status
			},
		}
	}

	fn release_job(&self, job_id: JobId) {
		self.jobs.lock().remove(&job_id);
	}
}
