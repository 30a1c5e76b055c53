//! The chain specifications committed in `chain-specs/` must be exactly what the node generates,
//! so they can never drift from the runtime. `scripts/gen-chain-specs.sh` regenerates them.

use std::{path::PathBuf, process::Command};

fn repo_root() -> PathBuf {
	PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn generated(chain: &str, raw: bool) -> String {
	let mut cmd = Command::new(env!("CARGO_BIN_EXE_cognitive-node"));
	cmd.args(["build-spec", "--chain", chain, "--disable-default-bootnode"]);
	if raw {
		cmd.arg("--raw");
	}
	let output = cmd.output().expect("run cognitive-node build-spec");
	assert!(
		output.status.success(),
		"build-spec --chain {chain} failed:\n{}",
		String::from_utf8_lossy(&output.stderr)
	);
	String::from_utf8(output.stdout).expect("chain spec is UTF-8")
}

fn check(chain: &str, raw: bool) {
	let file = repo_root()
		.join("chain-specs")
		.join(format!("{chain}{}.json", if raw { "-raw" } else { "" }));
	let committed = std::fs::read_to_string(&file)
		.unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
	let fresh = generated(chain, raw);
	assert!(
		committed.trim_end() == fresh.trim_end(),
		"{} differs from `cognitive-node build-spec --chain {chain}{}`; run scripts/gen-chain-specs.sh",
		file.display(),
		if raw { " --raw" } else { "" }
	);
}

#[test]
fn dev_plain_spec_is_current() {
	check("dev", false);
}

#[test]
fn dev_raw_spec_is_current() {
	check("dev", true);
}

#[test]
fn local_plain_spec_is_current() {
	check("local", false);
}

#[test]
fn local_raw_spec_is_current() {
	check("local", true);
}

#[test]
fn raw_specs_have_distinct_genesis_and_the_expected_authorities() {
	let dev: serde_json::Value = serde_json::from_str(&generated("dev", false)).expect("json");
	let local: serde_json::Value = serde_json::from_str(&generated("local", false)).expect("json");
	assert_eq!(dev["id"], "cognitive_dev");
	assert_eq!(local["id"], "cognitive_local");
	assert_eq!(dev["properties"]["tokenSymbol"], "COG");
	let aura = |spec: &serde_json::Value| {
		spec["genesis"]["runtimeGenesis"]["patch"]["aura"]["authorities"]
			.as_array()
			.map(|a| a.len())
			.unwrap_or(0)
	};
	assert_eq!(aura(&dev), 1, "dev has Alice alone");
	assert_eq!(aura(&local), 3, "local has Alice, Bob and Charlie");
}
