//! Determinism: one job, run with different thread counts and batch sizes in one process, must
//! give the identical `result_hash` (flash attention off, greedy, fresh context per run).
//! docs/determinism.md explains what breaks it.
//!
//! Runs on the tiny generated model and on the real SmolLM2-135M-Instruct from the model store
//! (`scripts/install-models.sh` puts it there; `COGNITIVE_MODEL_STORE` overrides the location).

use inference_engine::{
	Engine, EngineConfig, GenerateRequest, Input, ModelHash, ModelStore, Sampling,
};
use inference_primitives::{result_hash, ExecutionProfile};
use std::path::PathBuf;

const SMOLLM2_SHA256: &str = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";

/// Thread counts × (n_batch, n_ubatch). The prompt is longer than the smallest batches, so the
/// prompt is evaluated in different chunkings.
const THREADS: [i32; 2] = [1, 2];
const BATCHES: [(u32, u32); 3] = [(512, 512), (64, 32), (16, 16)];

fn prompt() -> String {
	"<|im_start|>user\nList the steps a validator takes to verify an inference job, and explain \
	 why each step matters for the security of the network.<|im_end|>\n<|im_start|>assistant\n"
		.to_string()
}

fn hashes_for(store_dir: PathBuf, model: ModelHash, max_tokens: u32) -> Vec<(String, [u8; 32])> {
	let mut out = Vec::new();
	for threads in THREADS {
		let store = ModelStore::open(&store_dir).expect("store");
		let engine = Engine::new(
			store,
			EngineConfig {
				threads,
				..Default::default()
			},
		)
		.expect("engine");
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
					sampling: Sampling::Greedy,
				})
				.expect("generate");
			assert!(
				done.prompt_tokens.len() > 16,
				"prompt must span several batches"
			);
			let hash = result_hash(1, &model, &done.prompt_tokens, &done.output_tokens);
			println!(
				"threads={threads} n_batch={n_batch} n_ubatch={n_ubatch}: {} tokens, {:.1} tok/s, \
				 result_hash=0x{}",
				done.output_tokens.len(),
				done.timings.generation_tokens_per_second,
				hex(&hash)
			);
			out.push((
				format!("threads={threads} batch={n_batch}/{n_ubatch}"),
				hash,
			));
		}
	}
	out
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
	assert_all_equal(&hashes_for(dir.join("store"), model, 48));
}

#[test]
fn smollm2_hash_is_identical_across_threads_and_batches() {
	let store_dir = std::env::var_os("COGNITIVE_MODEL_STORE")
		.map(PathBuf::from)
		.unwrap_or_else(|| {
			PathBuf::from(std::env::var_os("HOME").expect("HOME"))
				.join(".local/share/cognitive-internet/models")
		});
	let model = inference_engine::store::parse_hash(SMOLLM2_SHA256).expect("hash");
	assert!(
		ModelStore::open(&store_dir)
			.expect("store")
			.contains(&model),
		"SmolLM2 is not in {}: run scripts/install-models.sh",
		store_dir.display()
	);
	assert_all_equal(&hashes_for(store_dir, model, 32));
}
