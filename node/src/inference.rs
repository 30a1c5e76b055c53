//! The node's inference engine: command-line settings, start-up (model store, preloading) and
//! the keystore-backed signer of JSON-RPC proofs. The engine is handed to off-chain workers as
//! an externalities extension (see `service.rs`) and to the `inference_*` RPC methods
//! (`inference_rpc.rs`).

use inference_engine::{proof::ProofSigner, Engine, EngineConfig, JobHost, ModelStore};
use inference_primitives::ExecutionProfile;
use pallet_node_registry::KEY_TYPE;
use sp_core::ed25519;
use sp_keystore::KeystorePtr;
use std::{path::PathBuf, sync::Arc};

/// How many on-chain jobs the off-chain worker host tracks at once (pending or unreleased).
const MAX_TRACKED_JOBS: usize = 256;

/// Inference settings of `cognitive-node`.
#[derive(Debug, Clone, clap::Args)]
pub struct InferenceParams {
	/// Directory of the model store (`<sha256>.gguf` files, see scripts/install-models.sh).
	/// Default: `$COGNITIVE_MODEL_STORE`, else `~/.local/share/cognitive-internet/models`.
	#[arg(long, value_name = "PATH")]
	pub model_store: Option<PathBuf>,

	/// Run no inference engine: off-chain workers skip jobs and `inference_*` RPC calls fail.
	#[arg(long)]
	pub no_inference: bool,

	/// CPU threads per generation (results do not depend on it). Default: all cores, up to 8.
	#[arg(long, value_name = "N")]
	pub inference_threads: Option<u16>,

	/// Generations that run at the same time.
	#[arg(long, value_name = "N", default_value_t = 1)]
	pub inference_workers: u16,

	/// Requests that may wait for a free worker; more are refused (queue full).
	#[arg(long, value_name = "N", default_value_t = 16)]
	pub inference_queue: u16,

	/// MiB of model files kept loaded; idle models are unloaded least recently used first.
	#[arg(long, value_name = "MIB", default_value_t = 2048)]
	pub inference_memory_mib: u32,

	/// Largest prompt accepted over JSON-RPC, in bytes (after the chat template).
	#[arg(long, value_name = "BYTES", default_value_t = 8192)]
	pub rpc_max_prompt_bytes: u32,

	/// Largest `maxTokens` accepted over JSON-RPC.
	#[arg(long, value_name = "N", default_value_t = 512)]
	pub rpc_max_tokens: u32,

	/// Inference requests one JSON-RPC connection may have in flight.
	#[arg(long, value_name = "N", default_value_t = 2)]
	pub rpc_max_inference_per_connection: u16,
}

impl InferenceParams {
	/// The model store directory.
	pub fn store_dir(&self) -> PathBuf {
		if let Some(dir) = &self.model_store {
			return dir.clone();
		}
		if let Some(dir) = std::env::var_os("COGNITIVE_MODEL_STORE") {
			return PathBuf::from(dir);
		}
		let home = std::env::var_os("HOME")
			.map(PathBuf::from)
			.unwrap_or_else(|| ".".into());
		home.join(".local/share/cognitive-internet/models")
	}
}

/// The running engine and what RPC and off-chain workers need from it.
#[derive(Clone)]
pub struct Inference {
	/// The engine.
	pub engine: Arc<Engine>,
	/// The engine as the off-chain workers' host.
	pub host: Arc<JobHost>,
	/// Limits of the RPC methods.
	pub rpc_limits: RpcLimits,
}

/// Limits of the `inference_*` RPC methods.
#[derive(Clone, Copy, Debug)]
pub struct RpcLimits {
	/// Largest prompt in bytes.
	pub max_prompt_bytes: usize,
	/// Largest `maxTokens`.
	pub max_tokens: u32,
	/// In-flight requests per connection.
	pub max_per_connection: usize,
}

/// Starts the engine (unless `--no-inference`) and preloads the store's models in the
/// background, so the first job does not pay for loading.
pub fn start(params: &InferenceParams) -> Result<Option<Inference>, String> {
	if params.no_inference {
		log::info!(target: "inference", "inference engine disabled (--no-inference)");
		return Ok(None);
	}
	let dir = params.store_dir();
	let store = ModelStore::open(&dir)
		.map_err(|e| format!("cannot open the model store {}: {e}", dir.display()))?;
	let mut config = EngineConfig {
		workers: params.inference_workers.max(1) as usize,
		queue_capacity: params.inference_queue.max(1) as usize,
		memory_budget_bytes: u64::from(params.inference_memory_mib) << 20,
		max_prompt_bytes: params.rpc_max_prompt_bytes as usize,
		max_tokens: params.rpc_max_tokens.max(1),
		default_profile: ExecutionProfile {
			n_ctx: 2048,
			n_batch: 512,
			n_ubatch: 512,
		},
		..EngineConfig::default()
	};
	if let Some(threads) = params.inference_threads {
		config.threads = i32::from(threads.max(1));
	}
	// On-chain prompts are bounded by the runtime; the engine must accept every valid one.
	config.max_prompt_bytes = config
		.max_prompt_bytes
		.max(cognitive_runtime::MAX_PROMPT_BYTES as usize);
	config.max_tokens = config.max_tokens.max(cognitive_runtime::MAX_JOB_TOKENS);
	let rpc_limits = RpcLimits {
		max_prompt_bytes: params.rpc_max_prompt_bytes as usize,
		max_tokens: params.rpc_max_tokens.max(1),
		max_per_connection: params.rpc_max_inference_per_connection.max(1) as usize,
	};
	let models = store.list().map_err(|e| e.to_string())?;
	log::info!(
		target: "inference",
		"model store {}: {} model(s){}; {} thread(s) per generation, {} worker(s), queue {}",
		dir.display(),
		models.len(),
		models.iter().map(|m| format!(" {} ({})", m.name, &m.sha256[..12])).collect::<String>(),
		config.threads,
		config.workers,
		config.queue_capacity,
	);
	let engine = Arc::new(Engine::new(store, config).map_err(|e| e.to_string())?);
	let preload = engine.clone();
	std::thread::Builder::new()
		.name("inference-preload".into())
		.spawn(move || {
			for model in models {
				let Some(hash) = model.hash() else { continue };
				match preload.preload(&hash) {
					Ok(()) => log::info!(target: "inference", "model {} loaded", model.name),
					Err(e) => {
						log::warn!(target: "inference", "model {} not loaded: {e}", model.name)
					},
				}
			}
		})
		.map_err(|e| e.to_string())?;
	let host = Arc::new(JobHost::new(engine.clone(), MAX_TRACKED_JOBS));
	Ok(Some(Inference {
		engine,
		host,
		rpc_limits,
	}))
}

/// Signs proofs with the node's inference key (`infr`, ed25519) from the keystore. The secret
/// never leaves the keystore; the signature is plain ed25519, so any implementation (ed25519-dalek
/// in `inference_engine::proof::verify`, Node's crypto, @polkadot/util-crypto) verifies it.
pub struct KeystoreSigner {
	keystore: KeystorePtr,
}

impl KeystoreSigner {
	/// Signs with the first `infr` key of `keystore`.
	pub fn new(keystore: KeystorePtr) -> Self {
		Self { keystore }
	}

	fn key(&self) -> Option<ed25519::Public> {
		let mut keys = self.keystore.ed25519_public_keys(KEY_TYPE);
		keys.sort();
		keys.into_iter().next()
	}
}

impl ProofSigner for KeystoreSigner {
	fn public_key(&self) -> Option<[u8; 32]> {
		self.key().map(|k| k.0)
	}

	fn sign(&self, message: &[u8]) -> Option<[u8; 64]> {
		let key = self.key()?;
		self.keystore
			.ed25519_sign(KEY_TYPE, &key, message)
			.ok()
			.flatten()
			.map(|s| s.0)
	}
}
