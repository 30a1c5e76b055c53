//! How many on-chain jobs one node finishes within a commit period: the measurement behind the
//! runtime's `MaxPendingPerNode` (docs/security.md, "Sizing the pending limit").
//!
//! `bench_job_capacity STORE_DIR MODEL THREADS MAX_PROMPT_BYTES MAX_TOKENS COMMIT_SECONDS RUNS`
//!
//! The worst job the runtime accepts is a prompt of `MAX_PROMPT_BYTES` bytes that tokenizes to
//! as many tokens as possible (digits without spaces: one token each) and `MAX_TOKENS` generated
//! tokens. Greedy decoding may stop at an end-of-generation token before `MAX_TOKENS`, so the
//! worst case is computed from the measured parts: context creation + prompt evaluation +
//! `MAX_TOKENS` × the measured time per generated token. The baseline, measured in the same run,
//! is a typical job (a one-line chat question, 24 tokens). Jobs run one after another on the
//! chain lane, as the off-chain worker's jobs do.

use inference_engine::{
	CancelToken, Engine, EngineConfig, GenerateRequest, Input, Lane, ModelStore, Sampling,
};
use inference_primitives::ExecutionProfile;
use std::time::Instant;

fn main() {
	if let Err(e) = run() {
		eprintln!("bench_job_capacity: {e}");
		std::process::exit(1);
	}
}

struct Measured {
	wall_ms: f64,
	load_ms: f64,
	prompt_ms: f64,
	prompt_tokens: usize,
	ms_per_token: f64,
	output_tokens: usize,
}

fn job(engine: &Engine, request: &GenerateRequest) -> Result<Measured, String> {
	let t0 = Instant::now();
	let (receiver, _) = engine
		.submit(request.clone(), None, CancelToken::new(), Lane::Chain)
		.map_err(|e| e.to_string())?;
	let done = futures::executor::block_on(receiver)
		.map_err(|_| "engine stopped".to_string())?
		.map_err(|e| e.to_string())?;
	let out = done.output_tokens.len().max(1);
	Ok(Measured {
		wall_ms: t0.elapsed().as_secs_f64() * 1e3,
		load_ms: done.timings.load_ms,
		prompt_ms: done.timings.prompt_ms,
		prompt_tokens: done.prompt_tokens.len(),
		ms_per_token: done.timings.generation_ms / out as f64,
		output_tokens: done.output_tokens.len(),
	})
}

fn median(mut xs: Vec<f64>) -> f64 {
	xs.sort_by(|a, b| a.total_cmp(b));
	xs[xs.len() / 2]
}

fn run() -> Result<(), String> {
	let args: Vec<String> = std::env::args().collect();
	if args.len() != 8 {
		return Err(
			"usage: bench_job_capacity STORE_DIR MODEL THREADS MAX_PROMPT_BYTES \
		            MAX_TOKENS COMMIT_SECONDS RUNS"
				.into(),
		);
	}
	let number = |i: usize, what: &str| -> Result<u64, String> {
		args[i]
			.parse()
			.map_err(|_| format!("{what} must be a number"))
	};
	let store = ModelStore::open(&args[1]).map_err(|e| e.to_string())?;
	let model = store.resolve(&args[2]).map_err(|e| e.to_string())?;
	let hash = model.hash().ok_or("corrupt store entry")?;
	let threads = number(3, "THREADS")? as i32;
	let max_prompt = number(4, "MAX_PROMPT_BYTES")? as usize;
	let max_tokens = number(5, "MAX_TOKENS")? as u32;
	let commit_seconds = number(6, "COMMIT_SECONDS")? as f64;
	let runs = number(7, "RUNS")?.max(1);
	let engine = Engine::new(
		store,
		EngineConfig {
			threads,
			max_prompt_bytes: max_prompt.max(8 * 1024),
			max_tokens: max_tokens.max(512),
			..Default::default()
		},
	)
	.map_err(|e| e.to_string())?;
	engine.preload(&hash).map_err(|e| e.to_string())?;
	let profile = ExecutionProfile {
		n_ctx: 2048,
		n_batch: 512,
		n_ubatch: 512,
	};
	let request = |prompt: String, max_tokens: u32| GenerateRequest {
		model: hash,
		input: Input::Text(prompt),
		max_tokens,
		profile,
		sampling: Sampling::Greedy,
		stop: Vec::new(),
	};
	let digits: String = (0..max_prompt)
		.map(|i| char::from(b'0' + (i * 7 % 10) as u8))
		.collect();
	let worst = request(digits, max_tokens);
	let typical = request(
		"<|im_start|>user\nName the largest planet in the solar system.<|im_end|>\n\
		 <|im_start|>assistant\n"
			.into(),
		24,
	);
	// Warm-up (page cache, allocator, thread pool), unmeasured.
	job(&engine, &typical)?;
	let (mut worst_runs, mut typical_runs) = (Vec::new(), Vec::new());
	for run in 0..runs {
		let w = job(&engine, &worst)?;
		let t = job(&engine, &typical)?;
		println!(
			"run {run}: worst prompt {} tokens in {:.0} ms, {} tokens at {:.1} ms/token; \
			 typical job {:.0} ms",
			w.prompt_tokens, w.prompt_ms, w.output_tokens, w.ms_per_token, t.wall_ms
		);
		worst_runs.push(w);
		typical_runs.push(t.wall_ms);
	}
	let worst_ms = median(
		worst_runs
			.iter()
			.map(|w| w.load_ms + w.prompt_ms + f64::from(max_tokens) * w.ms_per_token)
			.collect(),
	);
	let typical_ms = median(typical_runs);
	let prompt_tokens = worst_runs[0].prompt_tokens;
	let per_period = (commit_seconds * 1e3 / worst_ms).floor();
	println!(
		"worst-case job: {prompt_tokens}-token prompt ({max_prompt} bytes) + {max_tokens} tokens \
		 = {:.2} s on {threads} thread(s)",
		worst_ms / 1e3
	);
	println!(
		"baseline, typical job (one-line question, 24 tokens): {:.2} s",
		typical_ms / 1e3
	);
	println!(
		"worst-case jobs finished within a {commit_seconds:.0} s commit period by one worker: \
		 {per_period}"
	);
	Ok(())
}
