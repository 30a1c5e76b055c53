//! The chain specifications committed in `chain-specs/` must be what the node generates, so they
//! can never drift from the runtime's genesis presets. `scripts/gen-chain-specs.sh` regenerates
//! them.
//!
//! Everything but the runtime WASM blob is compared exactly. The blob is compared by the runtime
//! version embedded in it (spec name, spec/impl/transaction version, runtime APIs) because its
//! bytes depend on the directory the repository was built in: cargo hashes the absolute path of
//! the runtime crate into the WASM build, which changes the order of the metadata type registry
//! and of the runtime-API list (measured: a clone in another directory built a blob 9 bytes
//! longer with the same version).
//! See `docs/build.md`.

use std::{path::PathBuf, process::Command};

use sc_executor::RuntimeVersion;
use serde_json::Value;

/// Storage key of the runtime code in a raw chain spec: `:code`.
const CODE_KEY: &str = "0x3a636f6465";

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

/// Removes the runtime code from a chain spec and returns it (hex string).
fn take_code(spec: &mut Value, raw: bool) -> String {
	let slot = if raw {
		spec.pointer_mut(&format!("/genesis/raw/top/{CODE_KEY}"))
	} else {
		spec.pointer_mut("/genesis/runtimeGenesis/code")
	};
	let slot = slot.expect("chain spec has runtime code");
	let code = slot.as_str().expect("code is a hex string").to_owned();
	*slot = Value::Null;
	code
}

/// The version embedded in a runtime blob, with its API list sorted: the linker may place the
/// API entries in another order when the blob is built in another directory.
fn embedded_version(code_hex: &str) -> RuntimeVersion {
	let code = sp_core::bytes::from_hex(code_hex).expect("code is valid hex");
	let blob = sc_executor_common::runtime_blob::RuntimeBlob::uncompress_if_needed(&code)
		.expect("code is a (compressed) WASM blob");
	let mut version = sc_executor::read_embedded_version(&blob)
		.expect("readable version section")
		.expect("the runtime embeds its version");
	version.apis.to_mut().sort();
	version
}

fn check(chain: &str, raw: bool) {
	let name = format!("{chain}{}.json", if raw { "-raw" } else { "" });
	let file = repo_root().join("chain-specs").join(&name);
	let committed = std::fs::read_to_string(&file)
		.unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
	let mut committed: Value = serde_json::from_str(&committed).expect("committed spec is JSON");
	let mut fresh: Value = serde_json::from_str(&generated(chain, raw)).expect("spec is JSON");

	let committed_code = take_code(&mut committed, raw);
	let fresh_code = take_code(&mut fresh, raw);
	assert!(
		committed == fresh,
		"chain-specs/{name} differs from `cognitive-node build-spec --chain {chain}{}`; \
		 run scripts/gen-chain-specs.sh",
		if raw { " --raw" } else { "" }
	);
	assert_eq!(
		embedded_version(&committed_code),
		embedded_version(&fresh_code),
		"the runtime in chain-specs/{name} is another version than the node's; \
		 run scripts/gen-chain-specs.sh"
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
fn prototype_template_plain_spec_is_current() {
	check("prototype-template", false);
}

#[test]
fn prototype_template_raw_spec_is_current() {
	check("prototype-template", true);
}

/// `--chain prototype` is the committed raw spec itself (built into the node); its runtime must
/// be this build's, so the spec is regenerated (scripts/gen-chain-specs.sh) with the runtime
/// until the network launches. Its genesis is checked against its machines by
/// `zombienet/tests/prototype-spec.test.cjs`.
#[test]
fn prototype_raw_spec_is_current() {
	check("prototype", true);
}

#[test]
fn specs_have_the_expected_identity_and_authorities() {
	let dev: Value = serde_json::from_str(&generated("dev", false)).expect("json");
	let local: Value = serde_json::from_str(&generated("local", false)).expect("json");
	let prototype: Value =
		serde_json::from_str(&generated("prototype-template", false)).expect("json");
	assert_eq!(dev["id"], "cognitive_dev");
	assert_eq!(local["id"], "cognitive_local");
	assert_eq!(prototype["id"], "cognitive_prototype");
	assert_eq!(prototype["name"], "Cognitive Internet Prototype (template)");
	assert_eq!(prototype["chainType"], "Live");
	assert_eq!(prototype["protocolId"], "cognitive");
	assert_eq!(prototype["properties"], dev["properties"]);
	assert_eq!(dev["protocolId"], "cognitive");
	assert_eq!(dev["properties"]["tokenSymbol"], "COG");
	assert_eq!(dev["properties"]["tokenDecimals"], 12);
	// Validators come from the session keys and the validator set's genesis candidates.
	let validators = |spec: &Value| {
		let patch = &spec["genesis"]["runtimeGenesis"]["patch"];
		let keys = patch["session"]["keys"].as_array().map(|a| a.len());
		let set = patch["validatorSet"]["validators"]
			.as_array()
			.map(|a| a.len());
		assert_eq!(keys, set, "every genesis validator has session keys");
		keys.unwrap_or(0)
	};
	assert_eq!(validators(&dev), 1, "dev: Alice alone validates");
	assert_eq!(validators(&local), 3, "local: Alice, Bob and Charlie");
	assert_eq!(
		validators(&prototype),
		3,
		"prototype template: three validators"
	);
	// The dev chain's validator is also an inference node, so jobs work at once.
	let nodes = |spec: &Value| {
		spec["genesis"]["runtimeGenesis"]["patch"]["nodeRegistry"]["nodes"]
			.as_array()
			.map(|a| a.len())
			.unwrap_or(0)
	};
	assert_eq!(nodes(&dev), 1, "dev: Alice is an inference node");
	assert_eq!(nodes(&local), 3);
	// A network that holds value: not the local testnet's genesis under another name.
	assert_ne!(
		prototype["genesis"]["runtimeGenesis"]["patch"],
		local["genesis"]["runtimeGenesis"]["patch"],
		"prototype must differ from local (governance tracks, reputation)"
	);
}
