//! `cognitive-node hardware check` and `hardware capabilities`, run as an operator runs them: on
//! fixture copies of `/proc` and `/sys` (a machine that meets the prototype tier and one that
//! does not, in hardware/tests/fixtures) and on the machine the tests run on, whose JSON report
//! is parsed and checked against what the kernel says.

use serde_json::Value;
use std::{
	path::{Path, PathBuf},
	process::{Command, Output},
};

fn node() -> Command {
	Command::new(env!("CARGO_BIN_EXE_cognitive-node"))
}

fn fixture(name: &str) -> PathBuf {
	Path::new(env!("CARGO_MANIFEST_DIR"))
		.join("../hardware/tests/fixtures")
		.join(name)
}

fn run(args: &[&str]) -> Output {
	node().args(args).output().expect("run cognitive-node")
}

fn json_of(output: &Output) -> Value {
	let stdout = String::from_utf8_lossy(&output.stdout);
	serde_json::from_str(&stdout).unwrap_or_else(|e| {
		panic!(
			"not JSON ({e}):\n{stdout}\nstderr:\n{}",
			String::from_utf8_lossy(&output.stderr)
		)
	})
}

/// Held by the tests that run a benchmark: two at once would share the cores and time each
/// other (llama.cpp's threads spin at barriers, so more of them than cores is slow for all).
static BENCHMARK: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn check_status<'a>(report: &'a Value, requirement: &str) -> &'a str {
	report["checks"]
		.as_array()
		.and_then(|checks| checks.iter().find(|c| c["requirement"] == requirement))
		.and_then(|c| c["status"].as_str())
		.unwrap_or_else(|| panic!("no {requirement} check in {report:#}"))
}

#[test]
fn fixture_machines_get_their_verdict_as_the_exit_status() {
	let proto = fixture("prototype-machine");
	let proto = proto.to_str().expect("utf-8 path");
	// Everything measurable passes; the benchmark cannot run on another machine's files, so the
	// verdict is "unknown" (2), not "pass".
	let out = run(&[
		"hardware",
		"check",
		"--tier",
		"prototype",
		"--json",
		"--root",
		proto,
	]);
	let report = json_of(&out);
	assert_eq!(out.status.code(), Some(2), "{report:#}");
	assert_eq!(report["verdict"], "unknown");
	assert_eq!(check_status(&report, "x86_64_level"), "pass");
	assert_eq!(check_status(&report, "nic_mbps"), "pass");
	assert_eq!(
		check_status(&report, "generation_tokens_per_second"),
		"unknown"
	);

	let old = fixture("old-desktop");
	let old = old.to_str().expect("utf-8 path");
	let out = run(&[
		"hardware",
		"check",
		"--tier",
		"development",
		"--json",
		"--root",
		old,
	]);
	let report = json_of(&out);
	assert_eq!(out.status.code(), Some(1), "{report:#}");
	assert_eq!(report["verdict"], "fail");
	assert_eq!(check_status(&report, "x86_64_level"), "fail");

	// The text report says the same, one line per requirement.
	let out = run(&["hardware", "check", "--tier", "development", "--root", old]);
	assert_eq!(out.status.code(), Some(1));
	let text = String::from_utf8_lossy(&out.stdout);
	assert!(
		text.contains("FAIL") && text.contains("missing avx2 bmi1"),
		"{text}"
	);
}

#[test]
fn bad_tiers_and_spec_files_are_clear_errors() {
	let out = run(&["hardware", "check", "--tier", "datacenter", "--no-bench"]);
	assert_eq!(out.status.code(), Some(1));
	let stderr = String::from_utf8_lossy(&out.stderr);
	assert!(
		stderr.contains("no tier `datacenter`") && !stderr.contains("panicked"),
		"{stderr}"
	);

	let dir = std::env::temp_dir().join(format!("cognitive-hw-spec-{}", std::process::id()));
	std::fs::create_dir_all(&dir).expect("temp dir");
	let spec = dir.join("spec.toml");
	std::fs::write(&spec, "[[tier]]\nname = \"x\"\n").expect("write");
	let out = node()
		.args(["hardware", "check", "--no-bench", "--spec"])
		.arg(&spec)
		.output()
		.expect("run");
	let stderr = String::from_utf8_lossy(&out.stderr);
	assert_eq!(out.status.code(), Some(1), "{stderr}");
	assert!(
		stderr.contains("hardware spec") && !stderr.contains("panicked"),
		"{stderr}"
	);
	std::fs::remove_dir_all(&dir).ok();
}

fn mem_total_mib() -> u64 {
	std::fs::read_to_string("/proc/meminfo")
		.expect("meminfo")
		.lines()
		.find_map(|l| l.strip_prefix("MemTotal:"))
		.and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
		.expect("MemTotal")
		/ 1024
}

fn logical_cpus() -> u64 {
	std::fs::read_to_string("/proc/cpuinfo")
		.expect("cpuinfo")
		.lines()
		.filter(|l| l.starts_with("processor"))
		.count() as u64
}

/// The whole check on this machine, benchmark included (the genesis model is in the store:
/// scripts/setup.sh installs it). Whatever the verdict, it must agree with the exit status,
/// every figure with the kernel's, and firmware facts must be unknown exactly when the kernel
/// has no DMI tables (the project's virtual CI machines have none).
#[test]
fn this_machine_is_measured_and_benchmarked() {
	let _one_at_a_time = BENCHMARK.lock().unwrap_or_else(|e| e.into_inner());
	let out = run(&["hardware", "check", "--tier", "development", "--json"]);
	let report = json_of(&out);
	let verdict = report["verdict"].as_str().expect("verdict");
	let expected_code = match verdict {
		"pass" => 0,
		"fail" => 1,
		_ => 2,
	};
	assert_eq!(out.status.code(), Some(expected_code), "{report:#}");

	let machine = &report["machine"];
	assert_eq!(machine["cpu"]["logical_cpus"]["value"], logical_cpus());
	assert_eq!(machine["memory_mib"]["value"], mem_total_mib());
	let has_dmi = Path::new("/sys/class/dmi/id/bios_vendor").exists();
	let firmware_state = machine["firmware"]["coreboot"]["state"].as_str();
	assert_eq!(
		firmware_state,
		Some(if has_dmi { "known" } else { "unknown" }),
		"{machine:#}"
	);

	let bench = &report["benchmark"];
	assert_eq!(
		bench["state"], "known",
		"the benchmark did not run: {bench:#}"
	);
	assert!(bench["value"]["generation_tokens_per_second"]
		.as_f64()
		.is_some_and(|t| t > 0.0));
	assert!(bench["value"]["tokens"].as_u64().is_some_and(|t| t > 0));
	assert_ne!(
		check_status(&report, "generation_tokens_per_second"),
		"unknown"
	);
}

#[test]
fn capabilities_are_what_the_kernel_reports() {
	let out = run(&["hardware", "capabilities", "--json"]);
	assert!(
		out.status.success(),
		"{}",
		String::from_utf8_lossy(&out.stderr)
	);
	let v = json_of(&out);
	let caps = &v["capabilities"];
	assert_eq!(caps["cpuCores"], logical_cpus());
	assert_eq!(caps["ramMib"], mem_total_mib());
	assert_eq!(caps["accelerators"][0], "Cpu");
	assert_eq!(caps["modelFormats"], serde_json::json!(["Gguf"]));
	assert_eq!(caps["class"]["cpuTarget"], "x86-64-v3");
	// The encoded call: NodeRegistry's pallet index, then call index 1 (update_capabilities).
	let call = v["updateCapabilitiesCall"].as_str().expect("call hex");
	assert!(call.starts_with("0x") && call.len() > 20, "{call}");

	// The same declaration for a fixture machine: its 16 GiB AMD card is declared as ROCm.
	let proto = fixture("prototype-machine");
	let out = run(&[
		"hardware",
		"capabilities",
		"--json",
		"--root",
		proto.to_str().expect("path"),
	]);
	let v = json_of(&out);
	assert_eq!(v["capabilities"]["cpuCores"], 8);
	assert_eq!(v["capabilities"]["gpuMemoryMib"], 16384);
	assert_eq!(
		v["capabilities"]["accelerators"],
		serde_json::json!(["Cpu", "Rocm"])
	);
}

/// The default model store (scripts/setup.sh installs the genesis model there), as the node
/// finds it.
fn default_store() -> PathBuf {
	std::env::var_os("COGNITIVE_MODEL_STORE")
		.map(PathBuf::from)
		.unwrap_or_else(|| {
			PathBuf::from(std::env::var_os("HOME").expect("HOME"))
				.join(".local/share/cognitive-internet/models")
		})
}

/// The network's models in runtime/models.json: (name, sha256 hex, size in bytes), the genesis
/// model first.
fn known_models() -> Vec<(String, String, u64)> {
	let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime/models.json");
	let file: Value =
		serde_json::from_slice(&std::fs::read(path).expect("runtime/models.json")).expect("JSON");
	let mut models: Vec<&Value> = file["models"].as_array().expect("models").iter().collect();
	models.sort_by_key(|m| m["genesis"] != true);
	models
		.into_iter()
		.map(|m| {
			(
				m["name"].as_str().expect("name").into(),
				m["sha256"].as_str().expect("sha256").into(),
				m["sizeBytes"].as_u64().expect("sizeBytes"),
			)
		})
		.collect()
}

/// `cognitive-node bench` on a store of its own holding the network's two models (scripts/
/// setup.sh installs both in the default store), the larger one named first: a rating each,
/// with figures of this machine and the memory of each at least half its file (the model maps
/// it and reads it every token; measured in one process, the second model's memory would have
/// started from what the first still held and come out as 0), kept in the store's ratings.json
/// exactly as printed; `--no-save` leaves a store as it was; an empty store and an unknown model
/// are clear errors.
#[test]
fn bench_rates_the_models_of_the_store_and_keeps_the_figures() {
	let _one_at_a_time = BENCHMARK.lock().unwrap_or_else(|e| e.into_inner());
	let models = known_models();
	assert!(models.len() >= 2, "{models:?}");
	let (genesis, other) = (&models[0], &models[1]);
	let dir = std::env::temp_dir().join(format!("cognitive-bench-cli-{}", std::process::id()));
	let _ = std::fs::remove_dir_all(&dir);
	let store = dir.join("store");
	for (name, sha256, _) in [genesis, other] {
		let source = default_store().join(format!("{sha256}.gguf"));
		let import = node()
			.args(["model", "import", "--name", name, "--model-store"])
			.arg(&store)
			.arg(&source)
			.output()
			.expect("model import");
		assert!(
			import.status.success(),
			"importing {}: {}",
			source.display(),
			String::from_utf8_lossy(&import.stderr)
		);
	}
	let store_arg = store.to_str().expect("path");
	// One measured run per model, on `store`; it must succeed.
	let bench = |args: &[&str]| {
		let out = run(&[&["bench", "--runs", "1", "--model-store", store_arg], args].concat());
		assert!(
			out.status.success(),
			"{}",
			String::from_utf8_lossy(&out.stderr)
		);
		out
	};
	let printed = json_of(&bench(&[
		"--json", "--model", &other.0, "--model", &genesis.0,
	]));
	let rated = printed["models"].as_array().expect("models");
	assert_eq!(rated.len(), 2, "{printed:#}");
	for (rating, (name, sha256, size_bytes)) in rated.iter().zip([other, genesis]) {
		assert_eq!(rating["name"], name.as_str());
		assert_eq!(rating["sha256"], format!("0x{sha256}"));
		assert!(rating["promptTokens"].as_u64().is_some_and(|n| n > 0));
		let tokens = rating["generationTokens"]
			.as_u64()
			.expect("generationTokens");
		assert!(tokens > 0 && tokens <= printed["benchmark"]["tokens"].as_u64().expect("tokens"));
		for figure in [
			"promptTokensPerSecond",
			"generationTokensPerSecond",
			"firstTokenMs",
		] {
			assert!(
				rating[figure].as_f64().is_some_and(|v| v > 0.0),
				"{figure}: {rating:#}"
			);
		}
		let memory = rating["memoryMib"].as_u64().expect("memoryMib");
		assert!(
			memory >= size_bytes / 2 / (1 << 20),
			"{memory} MiB for {name}, {size_bytes} bytes"
		);
		// The figures as `nodeRegistry.rateModels` takes them.
		let on_chain = &rating["onChain"];
		let milli = |figure: &str| (rating[figure].as_f64().unwrap_or(0.0) * 1000.0).round();
		assert_eq!(
			on_chain["promptMilliTps"].as_f64(),
			Some(milli("promptTokensPerSecond"))
		);
		assert_eq!(
			on_chain["generationMilliTps"].as_f64(),
			Some(milli("generationTokensPerSecond"))
		);
		assert_eq!(on_chain["memoryMib"].as_u64(), Some(memory));
	}
	assert_eq!(printed["threads"].as_i64().map(|t| t > 0), Some(true));
	assert_eq!(printed["engineClass"]["cpuTarget"], "x86-64-v3");
	let kept: Value =
		serde_json::from_slice(&std::fs::read(store.join("ratings.json")).expect("ratings.json"))
			.expect("JSON");
	assert_eq!(kept, printed);

	std::fs::remove_file(store.join("ratings.json")).expect("remove ratings.json");
	let out = bench(&["--no-save", "--model", &genesis.0]);
	assert!(String::from_utf8_lossy(&out.stdout).contains(genesis.0.as_str()));
	assert!(
		!store.join("ratings.json").exists(),
		"--no-save wrote the file"
	);

	let out = run(&[
		"bench",
		"--model",
		"no-such-model",
		"--model-store",
		store_arg,
	]);
	assert!(!out.status.success());
	assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-model"));
	let empty = dir.join("empty");
	std::fs::create_dir_all(&empty).expect("empty store");
	let out = run(&["bench", "--model-store", empty.to_str().expect("path")]);
	assert!(!out.status.success());
	assert!(String::from_utf8_lossy(&out.stderr).contains("holds no models"));
	std::fs::remove_dir_all(&dir).expect("clean up");
}
