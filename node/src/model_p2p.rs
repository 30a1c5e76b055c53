//! The node's model-transfer endpoint (see the `model-transfer` crate): settings, start-up, and
//! the store's models offered on it.
//!
//! The endpoint is a litep2p instance of its own — its own ed25519 key (kept under the base
//! path, not the chain's network key) and its own port — speaking IPFS bitswap, so any node or
//! IPFS peer can fetch a whitelisted model by the CID the chain stores.

use inference_engine::{store::parse_hash, ModelStore};
use model_transfer::{
	FetchLimits, Keypair, ModelNet, Multiaddr, NetConfig, Protocol, ServeLimits, ServedModel,
};
use std::{net::IpAddr, path::Path};

/// The default port of the model-transfer endpoint.
pub const DEFAULT_MODEL_P2P_PORT: u16 = 30433;

/// Model-transfer settings of `cognitive-node`.
#[derive(Debug, Clone, clap::Args)]
pub struct ModelP2pParams {
	/// TCP port of the model-transfer (bitswap) endpoint. Default 30433; 0 picks a free port.
	/// When the default port is busy (several nodes on one machine) the node starts without
	/// the endpoint; a port given here must be free.
	#[arg(long, value_name = "PORT")]
	pub model_p2p_port: Option<u16>,

	/// Address the model-transfer endpoint listens on (default: all interfaces).
	#[arg(long, value_name = "IP", default_value = "0.0.0.0")]
	pub model_p2p_listen: IpAddr,

	/// Do not run the model-transfer endpoint (the node neither serves nor fetches models).
	#[arg(long, conflicts_with = "model_p2p_port")]
	pub no_model_p2p: bool,

	/// Bytes per second served to one peer, in MiB (0: unlimited).
	#[arg(long, value_name = "MIB", default_value_t = 512)]
	pub model_serve_rate_mib: u64,

	/// Also fetch every active whitelisted model, not only those this node declares with
	/// `nodeRegistry.setServedModels` (which are always fetched when missing).
	#[arg(long)]
	pub fetch_whitelisted_models: bool,
}

impl ModelP2pParams {
	fn listen(&self, port: u16) -> Multiaddr {
		let ip = match self.model_p2p_listen {
			IpAddr::V4(ip) => Protocol::Ip4(ip),
			IpAddr::V6(ip) => Protocol::Ip6(ip),
		};
		Multiaddr::empty().with(ip).with(Protocol::Tcp(port))
	}

	fn serve_limits(&self) -> ServeLimits {
		ServeLimits {
			bytes_per_sec_per_peer: self.model_serve_rate_mib.saturating_mul(1 << 20),
			..ServeLimits::default()
		}
	}
}

/// Starts the endpoint (unless `--no-model-p2p`) with the key at `key_path`, and offers every
/// model of `store` that has its DAG beside it. Returns `None` when disabled or when the
/// default port is taken.
pub fn start(
	params: &ModelP2pParams,
	key_path: &Path,
	store: &ModelStore,
	spawn: impl FnOnce(futures::future::BoxFuture<'static, ()>),
) -> Result<Option<ModelNet>, String> {
	if params.no_model_p2p {
		return Ok(None);
	}
	let keypair = model_transfer::load_or_create_keypair(key_path)
		.map_err(|e| format!("model-transfer key {}: {e}", key_path.display()))?;
	let port = params.model_p2p_port.unwrap_or(DEFAULT_MODEL_P2P_PORT);
	let started = ModelNet::start(NetConfig {
		listen: vec![params.listen(port)],
		keypair,
		serve: params.serve_limits(),
		fetch: FetchLimits::default(),
	});
	let (net, task) = match started {
		Ok(started) => started,
		Err(e) if params.model_p2p_port.is_none() => {
			log::warn!(
				target: "model-transfer",
				"model-transfer endpoint not started: port {port}: {e}; pass --model-p2p-port"
			);
			return Ok(None);
		},
		Err(e) => return Err(format!("model-transfer endpoint on port {port}: {e}")),
	};
	spawn(task);
	for address in net.addresses() {
		log::info!(target: "model-transfer", "model-transfer endpoint: {address}");
	}
	// Models copied into the store without their DAG get it computed first (one pass over
	// each file), so this runs beside start-up rather than in front of it.
	let (serving, dir) = (net.clone(), store.dir().to_path_buf());
	std::thread::spawn(move || match ModelStore::open(&dir) {
		Ok(store) => {
			let served = serve_store(&serving, &store);
			log::info!(target: "model-transfer", "serving {served} model(s) from {}", dir.display());
		},
		Err(e) => log::warn!(target: "model-transfer", "cannot open the model store: {e}"),
	});
	Ok(Some(net))
}

/// Offers every model in `store` that has a CID and a DAG sidecar; returns how many.
pub fn serve_store(net: &ModelNet, store: &ModelStore) -> usize {
	let models = match store.list() {
		Ok(models) => models,
		Err(e) => {
			log::warn!(target: "model-transfer", "cannot list the model store: {e}");
			return 0;
		},
	};
	let mut served = 0;
	for model in models {
		let Some(hash) = parse_hash(&model.sha256) else {
			continue;
		};
		// Files copied into the store get their DAG here (one pass over the file).
		let model = match store.ensure_dag(&hash) {
			Ok(model) => model,
			Err(e) => {
				log::warn!(target: "model-transfer", "{} not served: {e}", model.name);
				continue;
			},
		};
		let Some(Ok(root)) = model.cid.as_deref().map(str::parse) else {
			continue;
		};
		match serve_stored(net, store, &hash, root) {
			Ok(()) => served += 1,
			Err(e) => log::warn!(target: "model-transfer", "{} not served: {e}", model.name),
		}
	}
	served
}

/// Offers the stored model `hash` (file and DAG sidecar) under its CID `root`.
pub fn serve_stored(
	net: &ModelNet,
	store: &ModelStore,
	hash: &[u8; 32],
	root: model_transfer::Cid,
) -> Result<(), model_transfer::ServeError> {
	net.serve(ServedModel::open(
		&store.file_path(hash),
		&store.dag_path(hash),
		root,
	)?);
	Ok(())
}

/// An endpoint for a one-off command (`model fetch`, `model serve`) on `listen`, with a fresh
/// key unless `key_path` is given.
pub fn start_standalone(
	listen: Multiaddr,
	key_path: Option<&Path>,
	serve: ServeLimits,
) -> Result<ModelNet, String> {
	let keypair = match key_path {
		Some(path) => model_transfer::load_or_create_keypair(path)
			.map_err(|e| format!("model-transfer key {}: {e}", path.display()))?,
		None => Keypair::generate(),
	};
	let (net, task) = ModelNet::start(NetConfig {
		listen: vec![listen],
		keypair,
		serve,
		fetch: FetchLimits::default(),
	})
	.map_err(|e| format!("cannot start the model-transfer endpoint: {e}"))?;
	tokio::spawn(task);
	Ok(net)
}
