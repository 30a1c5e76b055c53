//! In-process throughput of the engine, the baseline of `scripts/bench-inference.sh`.
//!
//! `bench_engine STORE_DIR MODEL(name or sha256) THREADS RUNS MAX_TOKENS PROMPT`
//! runs once unmeasured, then prints one line per run and a summary line `in-process: <tokens> tokens in <ms> ms =
//! <tok/s> tok/s` (wall time of `generate_blocking`, the same quantity the script measures
//! over JSON-RPC; like JSON-RPC requests, it runs on the engine's public lane).

use inference_engine::{Engine, EngineConfig, GenerateRequest, Input, ModelStore, Sampling};
use inference_primitives::ExecutionProfile;
use std::time::Instant;

fn main() {
	if let Err(e) = run() {
		eprintln!("bench_engine: {e}");
		std::process::exit(1);
	}
}

fn run() -> Result<(), String> {
	let args: Vec<String> = std::env::args().collect();
	if args.len() != 7 {
		return Err("usage: bench_engine STORE_DIR MODEL THREADS RUNS MAX_TOKENS PROMPT".into());
	}
	let store = ModelStore::open(&args[1]).map_err(|e| e.to_string())?;
	let model = store.resolve(&args[2]).map_err(|e| e.to_string())?;
	let hash = model.hash().ok_or("corrupt store entry")?;
	let threads: i32 = args[3].parse().map_err(|_| "THREADS must be a number")?;
	let runs: u32 = args[4].parse().map_err(|_| "RUNS must be a number")?;
	let max_tokens: u32 = args[5].parse().map_err(|_| "MAX_TOKENS must be a number")?;
	let engine = Engine::new(
		store,
		EngineConfig {
			threads,
			..Default::default()
		},
	)
	.map_err(|e| e.to_string())?;
	engine.preload(&hash).map_err(|e| e.to_string())?;
	let request = GenerateRequest {
		model: hash,
		input: Input::Text(args[6].clone()),
		max_tokens,
		profile: ExecutionProfile {
			n_ctx: 2048,
			n_batch: 512,
			n_ubatch: 512,
		},
		sampling: Sampling::Greedy,
	};
	// One unmeasured run first, as the JSON-RPC side does: page cache, allocator, thread pool.
	engine
		.generate_blocking(request.clone())
		.map_err(|e| e.to_string())?;
	let (mut tokens, mut ms) = (0usize, 0f64);
	for run in 0..runs {
		let t0 = Instant::now();
		let done = engine
			.generate_blocking(request.clone())
			.map_err(|e| e.to_string())?;
		let elapsed = t0.elapsed().as_secs_f64() * 1e3;
		println!(
			"run {run}: {} tokens in {elapsed:.0} ms (engine-reported generation {:.1} tok/s)",
			done.output_tokens.len(),
			done.timings.generation_tokens_per_second
		);
		tokens += done.output_tokens.len();
		ms += elapsed;
	}
	println!(
		"in-process: {tokens} tokens in {ms:.0} ms = {:.1} tok/s",
		tokens as f64 * 1e3 / ms
	);
	Ok(())
}
