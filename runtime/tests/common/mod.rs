//! What the runtime's integration tests share.

use cognitive_runtime::{BuildStorage, RuntimeGenesisConfig, System};
use serde_json::Value;

/// `patch` merged into `base`, as a genesis preset patches the default configuration.
pub fn merge(base: &mut Value, patch: Value) {
	match (base, patch) {
		(Value::Object(base), Value::Object(patch)) => {
			for (key, value) in patch {
				merge(base.entry(key).or_insert(Value::Null), value);
			}
		},
		(base, patch) => *base = patch,
	}
}

/// The genesis of `preset` (a patch of the default configuration), at block 1.
pub fn ext(preset: Value) -> sp_io::TestExternalities {
	let mut json = serde_json::to_value(RuntimeGenesisConfig::default()).unwrap();
	merge(&mut json, preset);
	let config: RuntimeGenesisConfig = serde_json::from_value(json).unwrap();
	let mut ext = sp_io::TestExternalities::new(config.build_storage().unwrap());
	ext.execute_with(|| System::set_block_number(1));
	ext
}
