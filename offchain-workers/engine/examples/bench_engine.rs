//! In-process throughput of the engine, the baseline of `scripts/bench-inference.sh` and
//! `scripts/bench-openai.sh`.
//!
//! `bench_engine STORE_DIR MODEL(name or sha256) THREADS RUNS MAX_TOKENS PROMPT [--chat] [--stdin]`
//! runs once unmeasured, then prints one line per run, a line `in-process ttft: <ms> ms` (mean
//! time from submission to the first generated token) and last a summary line `in-process:
//! <tokens> tokens in <ms> ms = <tok/s> tok/s` (wall time from submission to the finished
//! generation, the quantity the scripts measure over JSON-RPC and HTTP; like those requests it
//! runs on the engine's public lane). With `--chat` the prompt is one user message rendered
//! with the model's own chat template, as an OpenAI chat completion is.
//!
//! With `--stdin` (RUNS is then ignored) it prints `ready` after the warm-up and then runs one
//! generation per line read from standard input, answering each with `<tokens> <wall ms> <ms
//! to first token>`, so that a driver can interleave its runs with another path's and both
//! see the same machine conditions.

use futures::StreamExt;
use inference_engine::{
	CancelToken, ChatMessage, Engine, EngineConfig, GenerateRequest, Input, Lane, ModelStore,
	Sampling,
};
use inference_primitives::ExecutionProfile;
use std::time::Instant;

fn main() {
	if let Err(e) = run() {
		eprintln!("bench_engine: {e}");
		std::process::exit(1);
	}
}

/// One generation: (tokens, wall ms, ms to the first token).
fn measure(engine: &Engine, request: &GenerateRequest) -> Result<(usize, f64, f64), String> {
	let t0 = Instant::now();
	let (tx, mut rx) = futures::channel::mpsc::unbounded();
	let (receiver, _) = engine
		.submit(request.clone(), Some(tx), CancelToken::new(), Lane::Public)
		.map_err(|e| e.to_string())?;
	let first = futures::executor::block_on(async {
		while let Some(event) = rx.next().await {
			if event.id.is_some() {
				return Some(t0.elapsed().as_secs_f64() * 1e3);
			}
		}
		None
	});
	// The rest of the stream is left in the channel: reading it would add work the engine
	// does not do for an unstreamed request.
	let done = futures::executor::block_on(receiver)
		.map_err(|_| "the engine shut down".to_string())?
		.map_err(|e| e.to_string())?;
	let elapsed = t0.elapsed().as_secs_f64() * 1e3;
	Ok((done.output_tokens.len(), elapsed, first.unwrap_or(elapsed)))
}

fn run() -> Result<(), String> {
	let (flags, args): (Vec<String>, Vec<String>) =
		std::env::args().partition(|a| a == "--chat" || a == "--stdin");
	let chat = flags.iter().any(|f| f == "--chat");
	let interactive = flags.iter().any(|f| f == "--stdin");
	if args.len() != 7 {
		return Err(
			"usage: bench_engine STORE_DIR MODEL THREADS RUNS MAX_TOKENS PROMPT \
		            [--chat] [--stdin]"
				.into(),
		);
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
	let input = if chat {
		Input::Chat {
			messages: vec![ChatMessage {
				role: "user".into(),
				content: args[6].clone(),
			}],
			template_sha256: None,
		}
	} else {
		Input::Text(args[6].clone())
	};
	let request = GenerateRequest {
		model: hash,
		input,
		max_tokens,
		profile: ExecutionProfile {
			n_ctx: 2048,
			n_batch: 512,
			n_ubatch: 512,
		},
		sampling: Sampling::Greedy,
		stop: Vec::new(),
	};
	// One unmeasured run first, as the other sides do: page cache, allocator, thread pool.
	measure(&engine, &request)?;
	if interactive {
		use std::io::{BufRead, Write};
		let mut out = std::io::stdout().lock();
		writeln!(out, "ready").map_err(|e| e.to_string())?;
		out.flush().map_err(|e| e.to_string())?;
		for line in std::io::stdin().lock().lines() {
			line.map_err(|e| e.to_string())?;
			let (n, elapsed, first) = measure(&engine, &request)?;
			writeln!(out, "{n} {elapsed:.3} {first:.3}").map_err(|e| e.to_string())?;
			out.flush().map_err(|e| e.to_string())?;
		}
		return Ok(());
	}
	let (mut tokens, mut ms, mut ttft) = (0usize, 0f64, 0f64);
	for run in 0..runs {
		let (n, elapsed, first) = measure(&engine, &request)?;
		println!("run {run}: {n} tokens in {elapsed:.0} ms, first token after {first:.1} ms");
		tokens += n;
		ms += elapsed;
		ttft += first;
	}
	println!("in-process ttft: {:.1} ms", ttft / f64::from(runs.max(1)));
	println!(
		"in-process: {tokens} tokens in {ms:.0} ms = {:.1} tok/s",
		tokens as f64 * 1e3 / ms
	);
	Ok(())
}
