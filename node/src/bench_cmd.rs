//! `cognitive-node bench`: the fixed benchmark of `hardware/spec.toml` (its prompt, eight times
//! over, and its number of greedy tokens) on every model of the store, or the ones named: prompt and generation
//! tokens per second, time to the first token and the memory the model takes while it
//! generates. The figures are kept beside the models (`ratings.json` in the store), where the
//! running node reads them and reports them in `inference_nodeInfo`.
//!
//! With more than one model, each is measured in a process of its own, so one model's pages and
//! context never count in another's memory.

use crate::model_cmd::StoreArgs;
use cognitive_hardware::Spec;
use inference_engine::{
	Engine, EngineConfig, GenerateRequest, Generation, Input, ModelHash, ModelStore, Sampling,
	StoredModel,
};
use inference_primitives::ExecutionProfile;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The file in the model store that keeps the last benchmark's figures.
pub const RATINGS_FILE: &str = "ratings.json";

/// Version of [`Ratings`]' layout; a file of another version is ignored.
const RATINGS_VERSION: u32 = 2;

/// The specification's prompt is one sentence, a dozen tokens: too few for a prompt figure that
/// says how the model takes a real prompt. The rating evaluates it this many times over (about
/// a hundred tokens, one batch).
const PROMPT_REPEATS: u32 = 8;

/// `cognitive-node bench`.
#[derive(Debug, clap::Parser)]
pub struct BenchCmd {
	/// A model to measure, by name or sha256 (repeatable). Default: every model in the store.
	#[arg(long = "model", value_name = "NAME|SHA256")]
	models: Vec<String>,
	/// Measured runs per model, after one unmeasured run; the median run is reported.
	#[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
	runs: u32,
	/// Threads per generation (default: the node's default, every core up to 8).
	#[arg(long, value_parser = clap::value_parser!(i32).range(1..=256))]
	threads: Option<i32>,
	/// Print the figures as JSON.
	#[arg(long)]
	json: bool,
	/// Do not keep the figures in the store's `ratings.json`.
	#[arg(long)]
	no_save: bool,
	/// The model store.
	#[clap(flatten)]
	store: StoreArgs,
}

/// What one benchmark run of the whole store measured.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Ratings {
	/// Layout version ([`RATINGS_VERSION`]).
	pub version: u32,
	/// The engine build that was measured.
	pub engine_class: crate::inference::rpc::types::EngineClassView,
	/// Threads per generation.
	pub threads: i32,
	/// Logical CPUs of the machine.
	pub cpu_cores: usize,
	/// The benchmark: its prompt, tokens per run and measured runs.
	pub benchmark: BenchmarkView,
	/// One entry per model, in the store's order.
	pub models: Vec<ModelRating>,
}

/// The fixed benchmark as it was run.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BenchmarkView {
	/// The specification's prompt (plain text, no chat template) ...
	pub prompt: String,
	/// ... evaluated this many times over, separated by spaces.
	pub prompt_repeats: u32,
	/// Tokens asked for per run (greedy).
	pub tokens: u32,
	/// Measured runs per model.
	pub runs: u32,
}

/// One model's figures (the median of the measured runs by generation speed).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ModelRating {
	/// The name in the store.
	pub name: String,
	/// sha256 of the file, `0x`-prefixed hex (what the model registry keys models by).
	pub sha256: String,
	/// Prompt tokens per run.
	pub prompt_tokens: usize,
	/// Prompt tokens evaluated per second.
	pub prompt_tokens_per_second: f64,
	/// Tokens generated per run (fewer than asked where the model ended its answer).
	pub generation_tokens: usize,
	/// Tokens generated per second.
	pub generation_tokens_per_second: f64,
	/// From the start of the prompt's evaluation to the first token, in milliseconds.
	pub first_token_ms: f64,
	/// Loading the model (file to memory, first use), in milliseconds.
	pub load_ms: f64,
	/// Peak resident memory of the process while the model was loaded and generating, above
	/// what it held before, in MiB; `null` where `/proc` could not tell.
	pub memory_mib: Option<u64>,
	/// The same figures as the registry's `rate_models` takes them.
	pub on_chain: OnChainFigures,
}

/// A rating as `nodeRegistry.rateModels` takes it, but for the model's id, which only the chain
/// knows (its `modelRegistry.modelBySha256`): `{ model, ...onChain }` is one entry of the call.
/// Rates in thousandths of a token per second, times in whole milliseconds, memory in MiB (0
/// where unknown); rounded to the nearest, saturating.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct OnChainFigures {
	/// Prompt tokens per second × 1000.
	pub prompt_milli_tps: u32,
	/// Generated tokens per second × 1000.
	pub generation_milli_tps: u32,
	/// Time to the first token, ms.
	pub first_token_ms: u32,
	/// Peak memory, MiB.
	pub memory_mib: u32,
}

impl OnChainFigures {
	fn of(
		prompt_tokens_per_second: f64,
		generation_tokens_per_second: f64,
		first_token_ms: f64,
		memory_mib: Option<u64>,
	) -> Self {
		// `as` saturates floats (and maps NaN to 0): a wild figure cannot wrap.
		let whole = |x: f64| x.round() as u32;
		Self {
			prompt_milli_tps: whole(prompt_tokens_per_second * 1000.0),
			generation_milli_tps: whole(generation_tokens_per_second * 1000.0),
			first_token_ms: whole(first_token_ms),
			memory_mib: memory_mib.map_or(0, |m| u32::try_from(m).unwrap_or(u32::MAX)),
		}
	}

	/// The call's entry for `model`, the id the chain gives the rated file (what a client
	/// builds as `{ model, ...onChain }`; the tests hold the two forms equal).
	#[cfg(test)]
	pub fn with_model(
		self,
		model: pallet_model_registry::ModelId,
	) -> pallet_node_registry::ModelRating {
		pallet_node_registry::ModelRating {
			model,
			prompt_milli_tps: self.prompt_milli_tps,
			generation_milli_tps: self.generation_milli_tps,
			first_token_ms: self.first_token_ms,
			memory_mib: self.memory_mib,
		}
	}
}

impl BenchCmd {
	/// Runs the benchmark; prints and (unless `--no-save`) keeps the figures.
	pub fn run(&self) -> Result<(), String> {
		let spec = Spec::builtin().map_err(|e| e.to_string())?;
		let store = self.store.open()?;
		let models = self.chosen(&store)?;
		let threads = self.threads.unwrap_or(EngineConfig::default().threads);
		let prompt = vec![spec.benchmark.prompt.as_str(); PROMPT_REPEATS as usize].join(" ");
		let mut rated = Vec::with_capacity(models.len());
		for model in &models {
			if !self.json {
				eprintln!(
					"benchmarking {} ({} runs of {} tokens)...",
					model.name, self.runs, spec.benchmark.tokens
				);
			}
			rated.push(if models.len() == 1 {
				measure(
					&store,
					model,
					&prompt,
					spec.benchmark.tokens,
					threads,
					self.runs,
				)?
			} else {
				self.measure_apart(&store, model, threads)?
			});
		}
		let ratings = Ratings {
			version: RATINGS_VERSION,
			engine_class: crate::inference::rpc::types::EngineClassView::of_this_build(),
			threads,
			cpu_cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
			benchmark: BenchmarkView {
				prompt: spec.benchmark.prompt.clone(),
				prompt_repeats: PROMPT_REPEATS,
				tokens: spec.benchmark.tokens,
				runs: self.runs,
			},
			models: rated,
		};
		let json = serde_json::to_string_pretty(&ratings)
			.map_err(|e| format!("cannot print JSON: {e}"))?;
		if self.json {
			println!("{json}");
		} else {
			println!(
				"{:<36} {:>12} {:>12} {:>12} {:>10}",
				"model", "prompt tok/s", "gen tok/s", "first tok ms", "memory MiB"
			);
			for m in &ratings.models {
				let memory = m
					.memory_mib
					.map_or_else(|| "unknown".into(), |v| v.to_string());
				println!(
					"{:<36} {:>12.1} {:>12.1} {:>12.1} {:>10}",
					m.name,
					m.prompt_tokens_per_second,
					m.generation_tokens_per_second,
					m.first_token_ms,
					memory
				);
			}
		}
		if !self.no_save {
			let path = store.dir().join(RATINGS_FILE);
			write_atomically(&path, json.as_bytes())?;
			if !self.json {
				println!("kept in {}", path.display());
			}
		}
		Ok(())
	}

	/// Measures `model` in a process of its own (this command for that one model): an engine
	/// frees a model's memory only once its worker threads have wound down, so in one process
	/// the next model's figure would start from memory the last one still held.
	fn measure_apart(
		&self,
		store: &ModelStore,
		model: &StoredModel,
		threads: i32,
	) -> Result<ModelRating, String> {
		let exe = std::env::current_exe()
			.map_err(|e| format!("cannot find this program to run the benchmark: {e}"))?;
		let out = std::process::Command::new(exe)
			.args(["bench", "--json", "--no-save", "--model", &model.sha256])
			.args([
				"--runs",
				&self.runs.to_string(),
				"--threads",
				&threads.to_string(),
			])
			.arg("--model-store")
			.arg(store.dir())
			.stderr(std::process::Stdio::inherit())
			.output()
			.map_err(|e| format!("cannot run the benchmark of {}: {e}", model.name))?;
		if !out.status.success() {
			return Err(format!(
				"the benchmark of {} failed ({})",
				model.name, out.status
			));
		}
		serde_json::from_slice::<Ratings>(&out.stdout)
			.ok()
			.and_then(|r| r.models.into_iter().next())
			.ok_or_else(|| format!("the benchmark of {} printed no figures", model.name))
	}

	/// The models to measure: those named, else all of the store (an empty store is an error:
	/// there is nothing to rate).
	fn chosen(&self, store: &ModelStore) -> Result<Vec<StoredModel>, String> {
		if self.models.is_empty() {
			let all = store.list().map_err(|e| e.to_string())?;
			if all.is_empty() {
				return Err(format!(
					"the model store {} holds no models; install them with \
					 scripts/install-models.sh or `cognitive-node model import`",
					store.dir().display()
				));
			}
			return Ok(all);
		}
		self.models
			.iter()
			.map(|m| store.resolve(m).map_err(|e| format!("{m}: {e}")))
			.collect()
	}
}

/// The figures kept in `store_dir` by the last `cognitive-node bench`, if they are readable and
/// were measured with this engine build (figures of another build say nothing about this one).
pub fn saved(store_dir: &Path) -> Option<Ratings> {
	let bytes = std::fs::read(store_dir.join(RATINGS_FILE)).ok()?;
	let ratings: Ratings = serde_json::from_slice(&bytes)
		.map_err(|e| log::warn!(target: "inference", "ignoring {RATINGS_FILE}: {e}"))
		.ok()?;
	(ratings.version == RATINGS_VERSION
		&& ratings.engine_class == crate::inference::rpc::types::EngineClassView::of_this_build())
	.then_some(ratings)
}

/// The determinism profile a model runs with: its own where the network knows it
/// (`runtime/models.json`), else the engine's default.
fn profile_of(hash: &ModelHash) -> ExecutionProfile {
	cognitive_runtime::genesis_config_presets::known_models()
		.into_iter()
		.find(|(_, m)| &m.sha256 == hash)
		.map_or(EngineConfig::default().default_profile, |(_, m)| {
			ExecutionProfile {
				n_ctx: m.profile.n_ctx,
				n_batch: m.profile.n_batch,
				n_ubatch: m.profile.n_ubatch,
			}
		})
}

/// Measures one model: an engine of its own with `threads` threads, the model loaded (timed),
/// one unmeasured run, then `runs` measured ones; the median by generation speed is kept.
pub fn measure(
	store: &ModelStore,
	model: &StoredModel,
	prompt: &str,
	tokens: u32,
	threads: i32,
	runs: u32,
) -> Result<ModelRating, String> {
	let hash = model
		.hash()
		.ok_or_else(|| format!("{}: corrupt model store entry", model.name))?;
	let memory = PeakMemory::start();
	let engine = Engine::new(
		ModelStore::open(store.dir()).map_err(|e| e.to_string())?,
		EngineConfig {
			threads,
			..Default::default()
		},
	)
	.map_err(|e| e.to_string())?;
	let t_load = std::time::Instant::now();
	engine
		.preload(&hash)
		.map_err(|e| format!("{}: {e}", model.name))?;
	let load_ms = t_load.elapsed().as_secs_f64() * 1e3;
	let request = GenerateRequest {
		model: hash,
		input: Input::Text(prompt.to_string()),
		max_tokens: tokens,
		profile: profile_of(&hash),
		sampling: Sampling::Greedy,
		stop: Vec::new(),
	};
	let run = || {
		engine
			.generate_blocking(request.clone())
			.map_err(|e| format!("{}: {e}", model.name))
	};
	run()?;
	let mut measured: Vec<Generation> = (0..runs).map(|_| run()).collect::<Result<_, _>>()?;
	let memory_mib = memory.and_then(|m| m.mib_above_start());
	measured.sort_by(|a, b| {
		a.timings
			.generation_tokens_per_second
			.total_cmp(&b.timings.generation_tokens_per_second)
	});
	let median = &measured[measured.len() / 2];
	if median.output_tokens.is_empty() {
		return Err(format!(
			"{}: the model ended its answer before its first token; nothing to time",
			model.name
		));
	}
	Ok(ModelRating {
		name: model.name.clone(),
		sha256: format!("0x{}", model.sha256),
		prompt_tokens: median.prompt_tokens.len(),
		prompt_tokens_per_second: median.timings.prompt_tokens_per_second,
		generation_tokens: median.output_tokens.len(),
		generation_tokens_per_second: median.timings.generation_tokens_per_second,
		first_token_ms: median.timings.prompt_ms,
		load_ms,
		memory_mib,
		on_chain: OnChainFigures::of(
			median.timings.prompt_tokens_per_second,
			median.timings.generation_tokens_per_second,
			median.timings.prompt_ms,
			memory_mib,
		),
	})
}

/// The process's peak resident memory from now on: Linux's high-water mark (`VmHWM`) is reset
/// to the current resident size (`clear_refs` 5), and read back later.
struct PeakMemory {
	start_kib: u64,
}

impl PeakMemory {
	/// `None` where `/proc` cannot reset or tell the high-water mark.
	fn start() -> Option<Self> {
		std::fs::write("/proc/self/clear_refs", "5").ok()?;
		Some(Self {
			start_kib: status_kib("VmRSS")?,
		})
	}

	fn mib_above_start(&self) -> Option<u64> {
		Some(status_kib("VmHWM")?.saturating_sub(self.start_kib) / 1024)
	}
}

/// A `kB` figure of `/proc/self/status`.
fn status_kib(field: &str) -> Option<u64> {
	let status = std::fs::read_to_string("/proc/self/status").ok()?;
	status
		.lines()
		.find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))?
		.trim()
		.strip_suffix("kB")?
		.trim()
		.parse()
		.ok()
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so a
/// reader sees the old file or the new one, never half of one.
fn write_atomically(path: &PathBuf, bytes: &[u8]) -> Result<(), String> {
	let tmp = path.with_extension("json.tmp");
	std::fs::write(&tmp, bytes)
		.and_then(|()| std::fs::rename(&tmp, path))
		.map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn status_fields_are_read_in_kib() {
		// This process has a resident size and a high-water mark not below it.
		let rss = status_kib("VmRSS").expect("VmRSS");
		let hwm = status_kib("VmHWM").expect("VmHWM");
		assert!(rss > 0 && hwm >= rss);
		assert_eq!(status_kib("NoSuchField"), None);
	}

	#[test]
	fn on_chain_figures_are_rounded_and_read_as_the_call_takes_them() {
		let figures = OnChainFigures::of(249.2004, 96.7, 449.5, Some(167));
		assert_eq!(
			figures,
			OnChainFigures {
				prompt_milli_tps: 249_200,
				generation_milli_tps: 96_700,
				first_token_ms: 450,
				memory_mib: 167,
			}
		);
		let wild = OnChainFigures::of(f64::NAN, 1e12, -3.0, Some(u64::MAX));
		assert_eq!(
			(
				wild.prompt_milli_tps,
				wild.generation_milli_tps,
				wild.first_token_ms,
				wild.memory_mib
			),
			(0, u32::MAX, 0, u32::MAX)
		);
		assert_eq!(OnChainFigures::of(1.0, 1.0, 1.0, None).memory_mib, 0);
		// `{ model, ...onChain }` (what a client builds from the JSON) is the pallet's entry
		// in its own serde form, whose names are the call's fields in Polkadot.js.
		let mut entry = serde_json::to_value(figures).unwrap();
		entry["model"] = 7.into();
		assert_eq!(entry, serde_json::to_value(figures.with_model(7)).unwrap());
	}

	#[test]
	fn saved_figures_of_another_build_or_layout_are_ignored() {
		let dir = std::env::temp_dir().join(format!("cognitive-bench-{}", std::process::id()));
		std::fs::create_dir_all(&dir).unwrap();
		assert!(saved(&dir).is_none(), "no file");
		let ratings = Ratings {
			version: RATINGS_VERSION,
			engine_class: crate::inference::rpc::types::EngineClassView::of_this_build(),
			threads: 2,
			cpu_cores: 2,
			benchmark: BenchmarkView {
				prompt: "p".into(),
				prompt_repeats: 1,
				tokens: 8,
				runs: 1,
			},
			models: vec![],
		};
		let path = dir.join(RATINGS_FILE);
		write_atomically(&path, &serde_json::to_vec(&ratings).unwrap()).unwrap();
		assert_eq!(saved(&dir), Some(ratings.clone()));
		let mut other = ratings.clone();
		other.engine_class.engine_version = "llama-cpp-2 0.0.1".into();
		write_atomically(&path, &serde_json::to_vec(&other).unwrap()).unwrap();
		assert!(saved(&dir).is_none(), "another engine build");
		let mut newer = ratings;
		newer.version += 1;
		write_atomically(&path, &serde_json::to_vec(&newer).unwrap()).unwrap();
		assert!(saved(&dir).is_none(), "another layout");
		std::fs::write(&path, b"{ not json").unwrap();
		assert!(saved(&dir).is_none(), "a broken file");
		std::fs::remove_dir_all(&dir).unwrap();
	}
}
