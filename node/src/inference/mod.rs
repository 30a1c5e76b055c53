//! The node's inference engine: command-line settings, start-up (model store, preloading) and
//! the keystore-backed signer of JSON-RPC proofs and key ownership proofs.
//!
//! The engine reaches two users:
//!
//! - off-chain workers, as an externalities extension (see `service.rs`): the [`JobHost`] runs
//!   on-chain jobs on the engine's chain lane, ahead of any public request;
//! - the `inference_*` JSON-RPC methods ([`rpc`]), on Substrate's RPC port for trusted callers
//!   and on a dedicated inference port for the public, where generation is limited per client
//!   address.

pub mod openai;
pub mod rpc;

use inference_engine::{proof::ProofSigner, Engine, EngineConfig, JobHost, ModelStore};
use inference_primitives::ExecutionProfile;
use pallet_node_registry::KEY_TYPE;
use sp_core::ed25519;
use sp_keystore::KeystorePtr;
use std::{
	net::{Ipv4Addr, SocketAddr},
	path::PathBuf,
	sync::Arc,
};

/// How many on-chain jobs the off-chain worker host tracks at once (pending, or finished and not
/// yet released or expired).
const MAX_TRACKED_JOBS: usize = 256;

/// The default port of the dedicated inference JSON-RPC server.
pub const DEFAULT_INFERENCE_RPC_PORT: u16 = 9955;

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

	/// Generations that run at the same time (workers shared by on-chain jobs and public
	/// requests; each takes a waiting on-chain job first).
	#[arg(long, value_name = "N", default_value_t = 1)]
	pub inference_workers: u16,

	/// Extra workers that only run on-chain jobs, so that public requests never delay them.
	#[arg(long, value_name = "N", default_value_t = 1)]
	pub inference_chain_workers: u16,

	/// Public requests that may wait for a free worker; more are refused (queue full).
	#[arg(long, value_name = "N", default_value_t = 16)]
	pub inference_queue: u16,

	/// On-chain jobs that may wait for a free worker (a bound of its own, so public requests
	/// cannot fill it).
	#[arg(long, value_name = "N", default_value_t = 64)]
	pub inference_chain_queue: u16,

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

	/// Port of the dedicated inference JSON-RPC server (HTTP and WebSocket), where anyone may
	/// call `inference_generate` within per-address limits. `0` disables it, and so does
	/// `--no-inference`. Default: 9955; a busy default port only disables the server (with a
	/// warning), a busy port given here stops the node.
	#[arg(long, value_name = "PORT")]
	pub inference_rpc_port: Option<u16>,

	/// Run no dedicated inference JSON-RPC server (same as `--inference-rpc-port 0`).
	#[arg(long, conflicts_with = "inference_rpc_port")]
	pub no_inference_rpc: bool,

	/// Listen on every interface (0.0.0.0) with the inference JSON-RPC server, not only on
	/// 127.0.0.1.
	#[arg(long)]
	pub inference_rpc_external: bool,

	/// Generation requests one client address may have in flight on the inference port (an
	/// IPv6 client is counted by its /64 network).
	#[arg(long, value_name = "N", default_value_t = 2)]
	pub inference_rpc_max_per_ip: u16,

	/// Generation requests one client address may start per minute on the inference port.
	#[arg(long, value_name = "N", default_value_t = 30)]
	pub inference_rpc_rate_per_ip: u32,

	/// Serve the OpenAI-compatible HTTP API (`/v1/chat/completions`, `/v1/completions`,
	/// `/v1/models`) on this port, with the inference port's per-address limits. Off unless
	/// given (and with `--no-inference`); a busy port stops the node.
	#[arg(long, value_name = "PORT")]
	pub openai_port: Option<u16>,

	/// Listen on every interface (0.0.0.0) with the OpenAI API, not only on 127.0.0.1.
	#[arg(long, requires = "openai_port")]
	pub openai_external: bool,

	/// A model the OpenAI API answers by relaying to another OpenAI-compatible server
	/// (llama.cpp's llama-server, Ollama, vLLM): `NAME=[UPSTREAM_MODEL@]http://HOST:PORT/v1`.
	/// Repeatable. Its answers are marked as not deterministic and carry no receipt; on-chain
	/// jobs never go there.
	#[arg(long, value_name = "SPEC", requires = "openai_port")]
	pub openai_remote: Vec<openai::remote::RemoteSpec>,

	/// Requests in flight per remote back end; more are answered 503 `overloaded`.
	#[arg(long, value_name = "N", default_value_t = 4)]
	pub openai_remote_max_concurrent: u16,

	/// Seconds to wait for a remote back end to connect and answer (its first byte).
	#[arg(long, value_name = "SECS", default_value_t = 120)]
	pub openai_remote_timeout_secs: u64,

	/// Answer with this node's own error, instead of a peer's answer, a request for a model it
	/// does not serve or that its full queue refuses. By default such requests go to a peer
	/// that serves the model, chosen from the registry (docs/openai.md).
	#[arg(long, requires = "openai_port")]
	pub openai_no_forward: bool,
}

impl InferenceParams {
	/// The model store directory.
	pub fn store_dir(&self) -> PathBuf {
		store_dir(self.model_store.as_ref())
	}

	/// The limits of the `inference_*` RPC methods.
	pub fn rpc_limits(&self) -> RpcLimits {
		RpcLimits {
			max_prompt_bytes: self.rpc_max_prompt_bytes as usize,
			max_tokens: self.rpc_max_tokens.max(1),
			max_per_connection: self.rpc_max_inference_per_connection.max(1) as usize,
			max_per_ip: self.inference_rpc_max_per_ip.max(1) as usize,
			rate_per_ip_per_minute: self.inference_rpc_rate_per_ip.max(1),
		}
	}

	/// Where the dedicated inference RPC server listens, if it runs: not with
	/// `--no-inference-rpc`, `--inference-rpc-port 0` or `--no-inference` (without an engine
	/// there is nothing to serve there; off-chain outputs exist only where an engine ran).
	pub fn rpc_port(&self) -> Option<PortConfig> {
		if self.no_inference_rpc || self.no_inference {
			return None;
		}
		let port = self
			.inference_rpc_port
			.unwrap_or(DEFAULT_INFERENCE_RPC_PORT);
		if port == 0 {
			return None;
		}
		let ip = if self.inference_rpc_external {
			Ipv4Addr::UNSPECIFIED
		} else {
			Ipv4Addr::LOCALHOST
		};
		Some(PortConfig {
			addr: SocketAddr::from((ip, port)),
			explicit: self.inference_rpc_port.is_some(),
		})
	}
}

impl InferenceParams {
	/// Where the OpenAI API listens, if it runs.
	pub fn openai_addr(&self) -> Option<SocketAddr> {
		let port = self.openai_port.filter(|_| !self.no_inference)?;
		let ip = if self.openai_external {
			Ipv4Addr::UNSPECIFIED
		} else {
			Ipv4Addr::LOCALHOST
		};
		Some(SocketAddr::from((ip, port)))
	}
}

/// Where the dedicated inference RPC server listens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortConfig {
	/// The address to bind.
	pub addr: SocketAddr,
	/// Whether the operator chose the port (`--inference-rpc-port`). Only then is a busy port
	/// an error: several nodes on one machine (zombienet, tests) would otherwise all need the
	/// flag just to start.
	pub explicit: bool,
}

/// What the service needs to serve the `inference_*` methods: their limits and, if the
/// dedicated inference port runs, its bound listener (bound before the node starts, so that a
/// busy port the operator chose stops the node with a clear error).
pub struct RpcSetup {
	/// Limits of the methods.
	pub limits: RpcLimits,
	/// The inference port's listener.
	pub listener: Option<std::net::TcpListener>,
	/// The OpenAI API's listener.
	pub openai_listener: Option<std::net::TcpListener>,
	/// The OpenAI API's remote back ends.
	pub openai_remotes: openai::remote::Remotes,
	/// Whether the OpenAI API forwards what it cannot answer to peers.
	pub openai_forward: bool,
}

impl RpcSetup {
	/// Binds the inference port as `params` say.
	pub fn new(params: &InferenceParams) -> Result<Self, String> {
		let listener = match params.rpc_port() {
			Some(port) => rpc::port::bind(&port)?,
			None => None,
		};
		let openai_listener = match params.openai_addr() {
			Some(addr) => Some(
				std::net::TcpListener::bind(addr)
					.and_then(|l| l.set_nonblocking(true).map(|()| l))
					.map_err(|e| format!("the OpenAI API cannot listen on {addr}: {e}"))?,
			),
			None => None,
		};
		Ok(Self {
			limits: params.rpc_limits(),
			listener,
			openai_listener,
			openai_remotes: openai::remote::Remotes::new(
				params.openai_remote.clone(),
				usize::from(params.openai_remote_max_concurrent),
				std::time::Duration::from_secs(params.openai_remote_timeout_secs.max(1)),
			),
			openai_forward: !params.openai_no_forward,
		})
	}

	/// The inference port, if it runs.
	pub fn port(&self) -> Option<u16> {
		self.listener
			.as_ref()
			.and_then(|l| l.local_addr().ok())
			.map(|a| a.port())
	}

	/// Largest request body on the inference port: room for a prompt (or messages) of the
	/// largest allowed size even if every byte is JSON-escaped, and never less than 1 MiB.
	pub fn max_request_bytes(&self) -> u32 {
		let bytes = self
			.limits
			.max_prompt_bytes
			.saturating_mul(6)
			.saturating_add(64 << 10)
			.max(1 << 20);
		u32::try_from(bytes).unwrap_or(u32::MAX)
	}
}

/// The running engine and what RPC and off-chain workers need from it.
#[derive(Clone)]
pub struct Inference {
	/// The engine.
	pub engine: Arc<Engine>,
	/// The engine as the off-chain workers' host.
	pub host: Arc<JobHost>,
	/// The engine's metrics, when the node serves Prometheus metrics: the APIs count their
	/// requests into them.
	pub metrics: Option<Arc<crate::metrics::inference::InferenceMetrics>>,
}

/// Limits of the `inference_*` RPC methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RpcLimits {
	/// Largest prompt in bytes.
	pub max_prompt_bytes: usize,
	/// Largest `maxTokens`.
	pub max_tokens: u32,
	/// Generation requests in flight per connection (on both ports).
	pub max_per_connection: usize,
	/// Generation requests in flight per client address (inference port).
	pub max_per_ip: usize,
	/// Generation requests started per minute per client address (inference port).
	pub rate_per_ip_per_minute: u32,
}

/// The model store directory: `explicit` (`--model-store`), else `$COGNITIVE_MODEL_STORE`, else
/// `~/.local/share/cognitive-internet/models`.
pub fn store_dir(explicit: Option<&PathBuf>) -> PathBuf {
	if let Some(dir) = explicit {
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
		chain_workers: params.inference_chain_workers as usize,
		queue_capacity: params.inference_queue.max(1) as usize,
		chain_queue_capacity: params.inference_chain_queue.max(1) as usize,
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
	// On-chain prompts are bounded by the runtime; the engine must accept every valid one. The
	// RPC layer enforces the (possibly smaller) RPC limits itself.
	config.max_prompt_bytes = config
		.max_prompt_bytes
		.max(cognitive_runtime::MAX_PROMPT_BYTES as usize);
	config.max_tokens = config.max_tokens.max(cognitive_runtime::MAX_JOB_TOKENS);
	let models = store.list().map_err(|e| e.to_string())?;
	log::info!(
		target: "inference",
		"model store {}: {} model(s){}; {} thread(s) per generation, {} shared worker(s), {} \
		 chain-only worker(s), public queue {}, chain queue {}",
		dir.display(),
		models.len(),
		models.iter().map(|m| format!(" {} ({})", m.name, &m.sha256[..12])).collect::<String>(),
		config.threads,
		config.workers,
		config.chain_workers,
		config.queue_capacity,
		config.chain_queue_capacity,
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
		metrics: None,
	}))
}

/// Signs with the node's inference key (`infr`, ed25519) from the keystore: JSON-RPC proofs
/// (`inference_engine::proof::proof_message`, version 2) and key ownership proofs
/// (`pallet_node_registry::key_ownership_payload`). The secret never leaves the keystore; the
/// signature is plain ed25519, so any implementation (ed25519-dalek, Node's crypto,
/// @polkadot/util-crypto) verifies it.
pub struct KeystoreSigner {
	keystore: KeystorePtr,
}

impl KeystoreSigner {
	/// Signs with the first `infr` key of `keystore` (in byte order, so the choice is stable
	/// when an operator has inserted several).
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

#[cfg(test)]
mod tests {
	use super::*;
	use clap::Parser;

	#[derive(Debug, Parser)]
	struct Flags {
		#[command(flatten)]
		inference: InferenceParams,
	}

	fn parse(args: &[&str]) -> Result<InferenceParams, clap::Error> {
		Flags::try_parse_from(std::iter::once("cognitive-node").chain(args.iter().copied()))
			.map(|f| f.inference)
	}

	#[test]
	fn defaults() {
		let params = parse(&[]).expect("no flags");
		assert_eq!(params.inference_chain_workers, 1);
		assert_eq!(params.inference_chain_queue, 64);
		assert_eq!(
			params.rpc_port(),
			Some(PortConfig {
				addr: "127.0.0.1:9955".parse().expect("addr"),
				explicit: false,
			})
		);
		assert_eq!(
			params.rpc_limits(),
			RpcLimits {
				max_prompt_bytes: 8192,
				max_tokens: 512,
				max_per_connection: 2,
				max_per_ip: 2,
				rate_per_ip_per_minute: 30,
			}
		);
	}

	#[test]
	fn inference_port_flags() {
		let chosen = parse(&["--inference-rpc-port", "19955", "--inference-rpc-external"])
			.expect("valid")
			.rpc_port()
			.expect("enabled");
		assert_eq!(chosen.addr, "0.0.0.0:19955".parse().expect("addr"));
		assert!(chosen.explicit);
		for off in [
			&["--inference-rpc-port", "0"][..],
			&["--no-inference-rpc"],
			&["--no-inference"],
		] {
			assert_eq!(parse(off).expect("valid").rpc_port(), None, "{off:?}");
		}
		assert!(parse(&["--no-inference-rpc", "--inference-rpc-port", "1"]).is_err());
		let limits = parse(&[
			"--inference-rpc-max-per-ip",
			"5",
			"--inference-rpc-rate-per-ip",
			"7",
			"--inference-chain-workers",
			"0",
			"--inference-chain-queue",
			"3",
		])
		.expect("valid");
		assert_eq!(limits.rpc_limits().max_per_ip, 5);
		assert_eq!(limits.rpc_limits().rate_per_ip_per_minute, 7);
		assert_eq!(limits.inference_chain_workers, 0);
		assert_eq!(limits.inference_chain_queue, 3);
	}

	#[test]
	fn request_body_bound() {
		let setup = |max_prompt_bytes| RpcSetup {
			limits: RpcLimits {
				max_prompt_bytes,
				..parse(&[]).expect("defaults").rpc_limits()
			},
			listener: None,
			openai_listener: None,
			openai_remotes: Default::default(),
			openai_forward: true,
		};
		assert_eq!(setup(8192).max_request_bytes(), 1 << 20);
		assert_eq!(setup(1 << 20).max_request_bytes(), (6 << 20) + (64 << 10));
		assert_eq!(setup(usize::MAX).max_request_bytes(), u32::MAX);
		assert_eq!(setup(8192).port(), None);
	}
}
