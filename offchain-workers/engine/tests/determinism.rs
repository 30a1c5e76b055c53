//! Determinism: one job, run with different thread counts and batch sizes in one process, must
//! give the identical `result_hash` (flash attention off, fresh context per run), both with
//! greedy decoding and sampled (temperature 0.7, top-p 0.95, a fixed seed: the crate's own
//! reproducible sampler over llama.cpp's logits). docs/determinism.md explains what breaks it.
//!
//! Each engine also runs the job once the way validators do, through the [`JobHost`] (the
//! chain lane) with the job's on-chain sampling settings, which must agree with the direct runs.
//!
//! Runs on the tiny generated model and on the real SmolLM2-135M-Instruct from the model store
//! (`scripts/install-models.sh` puts it there; `COGNITIVE_MODEL_STORE` overrides the location).

use inference_engine::{
	engine_class, Engine, EngineConfig, GenerateRequest, Input, JobHost, ModelHash, ModelStore,
	Sampling,
};
use inference_primitives::{
	job_digest, result_hash, ExecutionProfile, HostJobStatus, InferenceHost, JobRequest,
	JobSampling, PromptFormat,
};
use std::{path::PathBuf, sync::Arc, time::Duration};

mod common;

/// Thread counts × (n_batch, n_ubatch). The prompt is longer than the smallest batches, so the
/// prompt is evaluated in different chunkings.
const THREADS: [i32; 2] = [1, 2];
const BATCHES: [(u32, u32); 3] = [(512, 512), (64, 32), (16, 16)];

fn prompt() -> String {
	"<|im_start|>user\nList the steps a validator takes to verify an inference job, and explain \
	 why each step matters for the security of the network.<|im_end|>\n<|im_start|>assistant\n"
		.to_string()
}

/// The sampled runs' settings, as a job on chain carries them (temperature 0.7, top-p 0.95).
const SAMPLED: JobSampling = JobSampling::Sampled {
	temperature_milli: 700,
	top_p_ppm: 950_000,
	seed: 0x00C0_FFEE_2026,
};

/// `result_hash` of each run, by thread count and batch sizes, with `job_sampling`; each
/// engine also runs the job once through the job host.
fn hashes_for(
	store_dir: PathBuf,
	model: ModelHash,
	max_tokens: u32,
	job_sampling: JobSampling,
) -> Vec<(String, [u8; 32])> {
	let sampling = Sampling::from(job_sampling);
	let mut out = Vec::new();
	for threads in THREADS {
		let store = ModelStore::open(&store_dir).expect("store");
		let engine = Arc::new(
			Engine::new(
				store,
				EngineConfig {
					threads,
					..Default::default()
				},
			)
			.expect("engine"),
		);
		for (n_batch, n_ubatch) in BATCHES {
			let profile = ExecutionProfile {
				n_ctx: 1024,
				n_batch,
				n_ubatch,
			};
			let done = engine
				.generate_blocking(GenerateRequest {
					model,
					input: Input::Text(prompt()),
					max_tokens,
					profile,
					sampling,
					stop: Vec::new(),
				})
				.expect("generate");
			assert!(
				done.prompt_tokens.len() > 16,
				"prompt must span several batches"
			);
			let hash = result_hash(1, &model, &done.prompt_tokens, &done.output_tokens);
			println!(
				"{sampling:?} threads={threads} n_batch={n_batch} n_ubatch={n_ubatch}: {} tokens, \
				 {:.1} tok/s, result_hash=0x{}",
				done.output_tokens.len(),
				done.timings.generation_tokens_per_second,
				hex(&hash)
			);
			out.push((
				format!("threads={threads} batch={n_batch}/{n_ubatch}"),
				hash,
			));
		}
		let (tokens, hash) = run_as_job(&engine, model, max_tokens, job_sampling);
		println!(
			"{sampling:?} threads={threads} via the job host: {tokens} tokens, result_hash=0x{}",
			hex(&hash)
		);
		out.push((format!("threads={threads} job host"), hash));
	}
	out
}

/// The job as an off-chain worker hands it to the host, polled until it is done.
fn run_as_job(
	engine: &Arc<Engine>,
	model: ModelHash,
	max_tokens: u32,
	sampling: JobSampling,
) -> (usize, [u8; 32]) {
	let host = JobHost::new(engine.clone(), 4);
	let profile = ExecutionProfile {
		n_ctx: 1024,
		n_batch: 512,
		n_ubatch: 512,
	};
	let prompt = prompt().into_bytes();
	let job = JobRequest {
		job_id: 1,
		job_digest: job_digest(
			1,
			&0u64,
			&model,
			&profile,
			&PromptFormat::Text,
			&prompt,
			max_tokens,
			&sampling,
			&1u32,
		),
		model_sha256: model,
		format: PromptFormat::Text,
		prompt,
		max_tokens,
		sampling,
		profile,
		class: engine_class(),
		expires_at_ms: u64::MAX / 2,
	};
	loop {
		match host.poll_job(job.clone()) {
			HostJobStatus::Queued | HostJobStatus::Running => {
				std::thread::sleep(Duration::from_millis(5))
			},
			HostJobStatus::Done(output) => {
				let hash = result_hash(1, &model, &output.prompt_tokens, &output.output_tokens);
				return (output.output_tokens.len(), hash);
			},
			other => panic!("the job failed: {other:?}"),
		}
	}
}

fn hex(b: &[u8]) -> String {
	b.iter().map(|x| format!("{x:02x}")).collect()
}

fn assert_all_equal(runs: &[(String, [u8; 32])]) {
	let (first_name, first) = &runs[0];
	for (name, hash) in runs {
		assert_eq!(hash, first, "{name} differs from {first_name}");
	}
}

#[test]
fn tiny_model_hash_is_identical_across_threads_and_batches() {
	let dir = std::env::temp_dir().join(format!("determinism-tiny-{}", std::process::id()));
	let _ = std::fs::remove_dir_all(&dir);
	let store = ModelStore::open(dir.join("store")).expect("store");
	let file = dir.join("tiny.gguf");
	tiny_gguf::write_tiny_model(&file, &Default::default()).expect("tiny model");
	let model = store
		.import(&file, "tiny", None)
		.expect("import")
		.hash()
		.expect("hash");
	let greedy = hashes_for(dir.join("store"), model, 48, JobSampling::Greedy);
	assert_all_equal(&greedy);
	let sampled = hashes_for(dir.join("store"), model, 48, SAMPLED);
	assert_all_equal(&sampled);
	assert_ne!(greedy[0].1, sampled[0].1, "sampling changed nothing");
}

#[test]
fn smollm2_hash_is_identical_across_threads_and_batches() {
	let (store_dir, model) = common::smollm2_in_store();
	let greedy = hashes_for(store_dir.clone(), model, 32, JobSampling::Greedy);
	assert_all_equal(&greedy);
	let sampled = hashes_for(store_dir, model, 32, SAMPLED);
	assert_all_equal(&sampled);
	assert_ne!(greedy[0].1, sampled[0].1, "sampling changed nothing");
}
