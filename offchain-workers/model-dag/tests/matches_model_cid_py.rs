//! The Rust DAG builder against the two independent sources of the chain's CIDs:
//! `scripts/model-cid.py` on generated files of many sizes (small layouts, so that trees of
//! three and four levels come from a few kilobytes), and `runtime/models.json` — the CIDs in
//! the genesis whitelist — on the real model files in the model store.

use model_dag::{build, build_from_reader, Layout};
use std::{path::PathBuf, process::Command};

const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// Deterministic pseudo-random bytes (xorshift), so a failure names a reproducible file.
fn file_bytes(len: usize, seed: u64) -> Vec<u8> {
	let mut state = seed | 1;
	(0..len)
		.map(|_| {
			state ^= state << 13;
			state ^= state >> 7;
			state ^= state << 17;
			state as u8
		})
		.collect()
}

fn hex(bytes: &[u8]) -> String {
	bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `model-cid.py`'s `(cid, sha256, size)` for `bytes` under the given layout.
fn python(bytes: &[u8], chunk: usize, links: usize) -> (String, String, u64) {
	let path = std::env::temp_dir().join(format!(
		"model-dag-{}-{}-{chunk}-{links}.bin",
		std::process::id(),
		bytes.len()
	));
	std::fs::write(&path, bytes).expect("write the test file");
	let output = Command::new("python3")
		.arg(format!("{REPO}/scripts/model-cid.py"))
		.args(["--chunk", &chunk.to_string(), "--links", &links.to_string()])
		.arg(&path)
		.output()
		.expect("run python3 scripts/model-cid.py");
	let _ = std::fs::remove_file(&path);
	assert!(
		output.status.success(),
		"model-cid.py failed: {}",
		String::from_utf8_lossy(&output.stderr)
	);
	let stdout = String::from_utf8(output.stdout).expect("utf-8");
	let field = |name: &str| {
		stdout
			.lines()
			.find_map(|l| l.strip_prefix(&format!("{name} ")))
			.unwrap_or_else(|| panic!("no {name} in {stdout}"))
			.to_string()
	};
	let size = field("size").parse().expect("size");
	(field("cid"), field("sha256"), size)
}

#[test]
fn small_layouts_match_the_script_at_every_shape() {
	let (chunk, links) = (1024, 4);
	let layout = Layout::new(chunk, links).unwrap();
	// One byte; one chunk short, exact and plus one; a full node of leaves and one more leaf
	// (a second level); 16 leaves (exactly two levels) and 17 (a third); 64 and 65 leaves (a
	// fourth level); and an odd size with a short last leaf.
	let sizes = [
		1,
		chunk - 1,
		chunk,
		chunk + 1,
		4 * chunk,
		4 * chunk + 1,
		16 * chunk,
		16 * chunk + 1,
		64 * chunk,
		64 * chunk + 1,
		37 * chunk + 511,
	];
	for (i, size) in sizes.into_iter().enumerate() {
		let bytes = file_bytes(size, i as u64 + 1);
		let dag = build(&bytes, layout).unwrap();
		let (cid, sha256, file_size) = python(&bytes, chunk, links);
		assert_eq!(dag.root.to_string(), cid, "{size} bytes");
		assert_eq!(hex(&dag.sha256), sha256, "{size} bytes");
		assert_eq!(dag.file_size, file_size, "{size} bytes");
	}
}

#[test]
fn the_model_layout_matches_the_script() {
	let chunk = Layout::MODEL.chunk_size();
	for (i, size) in [1000, chunk, chunk + 1, 3 * chunk + 12_345]
		.into_iter()
		.enumerate()
	{
		let bytes = file_bytes(size, 100 + i as u64);
		let dag = build(&bytes, Layout::MODEL).unwrap();
		let (cid, sha256, _) = python(&bytes, chunk, Layout::MODEL.max_links());
		assert_eq!(dag.root.to_string(), cid, "{size} bytes");
		assert_eq!(hex(&dag.sha256), sha256, "{size} bytes");
	}
}

/// Every model in `runtime/models.json` whose file is in the store (setup installs them all)
/// has the CID, sha256 and size the chain's genesis whitelist gives it.
#[test]
fn installed_models_have_the_chains_cids() {
	let facts: serde_json::Value = serde_json::from_str(
		&std::fs::read_to_string(format!("{REPO}/runtime/models.json")).expect("models.json"),
	)
	.expect("models.json is JSON");
	let store = std::env::var_os("COGNITIVE_MODEL_STORE")
		.map(PathBuf::from)
		.unwrap_or_else(|| {
			PathBuf::from(std::env::var_os("HOME").expect("HOME"))
				.join(".local/share/cognitive-internet/models")
		});
	let models = facts["models"].as_array().expect("a models array");
	assert!(!models.is_empty());
	for model in models {
		let sha256 = model["sha256"].as_str().expect("sha256");
		let path = store.join(format!("{sha256}.gguf"));
		let file = std::fs::File::open(&path).unwrap_or_else(|e| {
			panic!(
				"{} missing at {} ({e}); install it with scripts/install-models.sh",
				model["name"],
				path.display()
			)
		});
		let dag = build_from_reader(std::io::BufReader::new(file), Layout::MODEL).unwrap();
		assert_eq!(dag.root.to_string(), model["cid"].as_str().unwrap());
		assert_eq!(hex(&dag.sha256), sha256);
		assert_eq!(Some(dag.file_size), model["sizeBytes"].as_u64());
	}
}
