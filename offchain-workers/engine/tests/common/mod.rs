//! What the tests on the real SmolLM2 share: its facts from `runtime/models.json` (the one
//! source of the models' facts) and the model store setup installs it in.

use inference_engine::{ModelHash, ModelStore};
use std::path::PathBuf;

/// A field of SmolLM2's entry in `runtime/models.json`, by its path of keys.
pub fn smollm2_fact(path: &[&str]) -> String {
	let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../../runtime/models.json");
	let models: serde_json::Value =
		serde_json::from_str(&std::fs::read_to_string(file).expect("runtime/models.json"))
			.expect("models.json parses");
	let entry = models["models"]
		.as_array()
		.and_then(|m| m.iter().find(|m| m["key"] == "smollm2"))
		.expect("smollm2 in models.json");
	path.iter()
		.fold(entry, |value, key| &value[*key])
		.as_str()
		.unwrap_or_else(|| panic!("smollm2 has no {path:?}"))
		.to_string()
}

/// The node's model store (`COGNITIVE_MODEL_STORE`, else the default), and SmolLM2's hash,
/// which must be in it.
pub fn smollm2_in_store() -> (PathBuf, ModelHash) {
	let store_dir = std::env::var_os("COGNITIVE_MODEL_STORE")
		.map(PathBuf::from)
		.unwrap_or_else(|| {
			PathBuf::from(std::env::var_os("HOME").expect("HOME"))
				.join(".local/share/cognitive-internet/models")
		});
	let model = inference_engine::store::parse_hash(&smollm2_fact(&["sha256"])).expect("hash");
	assert!(
		ModelStore::open(&store_dir)
			.expect("store")
			.contains(&model),
		"SmolLM2 is not in {}: run scripts/install-models.sh",
		store_dir.display()
	);
	(store_dir, model)
}
