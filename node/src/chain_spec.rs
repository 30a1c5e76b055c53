//! The chain specifications the node knows by name: `dev`, `local`, `prototype` and
//! `prototype-template`.
//!
//! `dev`, `local` and `prototype-template` are built from the runtime's genesis presets (see
//! `cognitive_runtime::genesis_config_presets`); their JSON files are kept in `chain-specs/` and
//! checked against the node's output by a test. `prototype` is the network of three real
//! machines: a raw spec generated once from the template and the machines' keys
//! (`scripts/gen-prototype-spec.sh`), committed, and built into the node as it is, so every
//! machine runs the same genesis whatever directory its node was built in.

use cognitive_runtime::{SS58_PREFIX, TOKEN_DECIMALS, TOKEN_SYMBOL, WASM_BINARY};
use sc_service::{ChainType, Properties};

/// The chain specification type of this node (no chain-spec extensions).
pub type ChainSpec = sc_service::GenericChainSpec;

/// Network protocol id: keeps this chain's nodes from talking to other Substrate chains' nodes.
const PROTOCOL_ID: &str = "cognitive";

/// Token properties that Polkadot.js reads to display balances and addresses.
fn properties() -> Properties {
	let mut properties = Properties::new();
	properties.insert("tokenSymbol".into(), TOKEN_SYMBOL.into());
	properties.insert("tokenDecimals".into(), TOKEN_DECIMALS.into());
	properties.insert("ss58Format".into(), SS58_PREFIX.into());
	properties
}

fn wasm_binary() -> Result<&'static [u8], String> {
	WASM_BINARY.ok_or_else(|| {
		"the runtime WASM was not built into this binary (was it built with SKIP_WASM_BUILD=1?)"
			.to_string()
	})
}

/// A chain spec built from one of the runtime's genesis presets.
fn from_preset(
	name: &str,
	id: &str,
	chain_type: ChainType,
	preset: &str,
) -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm_binary()?, None)
		.with_name(name)
		.with_id(id)
		.with_chain_type(chain_type)
		.with_protocol_id(PROTOCOL_ID)
		.with_genesis_config_preset_name(preset)
		.with_properties(properties())
		.build())
}

/// Single-validator development chain: Alice authors and finalizes every block.
pub fn development() -> Result<ChainSpec, String> {
	from_preset(
		"Cognitive Internet Development",
		"cognitive_dev",
		ChainType::Development,
		sp_genesis_builder::DEV_RUNTIME_PRESET,
	)
}

/// Local 3-validator testnet: Alice, Bob and Charlie.
pub fn local_testnet() -> Result<ChainSpec, String> {
	from_preset(
		"Cognitive Internet Local Testnet",
		"cognitive_local",
		ChainType::Local,
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET,
	)
}

/// The template of the prototype network: the settings of a network that holds value (day-scale
/// governance tracks, slower reputation: the runtime's `prototype` preset) with the local
/// testnet's development keys, which `scripts/gen-prototype-spec.sh` replaces by the machines'.
pub fn prototype_template() -> Result<ChainSpec, String> {
	from_preset(
		"Cognitive Internet Prototype (template)",
		"cognitive_prototype",
		ChainType::Live,
		cognitive_runtime::genesis_config_presets::PROTOTYPE_RUNTIME_PRESET,
	)
}

/// The committed raw spec of the prototype network (`chain-specs/prototype-raw.json`).
const PROTOTYPE_RAW: &[u8] = include_bytes!("../../chain-specs/prototype-raw.json");

/// The prototype network of three machines, from its committed raw spec.
pub fn prototype() -> Result<ChainSpec, String> {
	ChainSpec::from_json_bytes(PROTOTYPE_RAW)
		.map_err(|e| format!("the built-in prototype spec is invalid: {e}"))
}

/// Resolves a `--chain` argument: a known name, or the path of a chain-spec JSON file.
pub fn load(id: &str) -> Result<Box<dyn sc_service::ChainSpec>, String> {
	Ok(match id {
		"dev" => Box::new(development()?),
		"" | "local" => Box::new(local_testnet()?),
		"prototype" => Box::new(prototype()?),
		"prototype-template" => Box::new(prototype_template()?),
		path => {
			let path = std::path::PathBuf::from(path);
			if !path.is_file() {
				return Err(format!(
					"unknown chain `{id}`: expected `dev`, `local`, `prototype`, `prototype-template` \
					 or the path of a chain specification JSON file"
				));
			}
			Box::new(
				ChainSpec::from_json_file(path.clone())
					.map_err(|e| format!("invalid chain specification {}: {e}", path.display()))?,
			)
		},
	})
}
