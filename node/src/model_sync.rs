//! Automatic model fetching: a node gets the whitelisted models it is supposed to run.
//!
//! Every few seconds the node reads, at its best block, which models the registered nodes
//! whose inference keys are in its keystore declare (`nodeRegistry.setServedModels`) — and,
//! with `--fetch-whitelisted-models`, every active whitelisted model. Each one missing from the
//! store is fetched over bitswap (`model-transfer`) by the CID and sha256 of its whitelist
//! entry, from the nodes that report it ready and publish a model endpoint (a multiaddr with
//! `/p2p/` among their registry endpoints), and also from the nodes that declared it and are
//! still fetching it: they serve the blocks they already have, so nodes that get a new model
//! at the same time share the load instead of all pulling from its first holders. A fetch
//! starts only once some node has the whole model. A fetched model enters the store and is
//! served at once. Until its file is in the store the engine is not ready for it, so the node's
//! heartbeat does not list it and the chain assigns it none of that model's jobs.

use crate::chain_read::{key_tail, Runtime, StorageAt};
use inference_engine::ModelStore;
use model_transfer::{Cid, FetchRequest, ModelNet, Multiaddr};
use pallet_model_registry::ModelId;
use std::{
	collections::{BTreeSet, HashMap},
	path::PathBuf,
	sync::Arc,
	time::{Duration, Instant},
};

const LOG_TARGET: &str = "model-transfer";
/// How often the chain is read.
const POLL: Duration = Duration::from_secs(6);
/// How long to wait before trying a model again after a failed fetch.
const RETRY_AFTER: Duration = Duration::from_secs(30);

/// A whitelist entry as the fetcher needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelFacts {
	/// Its name in the whitelist.
	pub name: String,
	/// Its CID (text, as stored on chain).
	pub cid: String,
	/// Its sha256.
	pub sha256: [u8; 32],
	/// Whether it takes new work.
	pub active: bool,
}

/// What the watcher reads from the chain. A trait so that the decision is tested without a
/// chain; [`ClientView`] reads it from the node's client.
pub trait ChainView {
	/// Models declared by the registered nodes whose inference keys this node holds.
	fn declared_models(&self) -> BTreeSet<ModelId>;
	/// Every whitelisted model.
	fn whitelisted_models(&self) -> BTreeSet<ModelId>;
	/// The whitelist entry of `id`.
	fn model(&self, id: ModelId) -> Option<ModelFacts>;
	/// Endpoints (multiaddr text) of the registered nodes that have or are getting `id`.
	fn provider_endpoints(&self, id: ModelId) -> ProviderEndpoints;
}

/// Endpoints of the registered nodes that serve a model, as stored on chain (unparsed).
#[derive(Clone, Debug, Default)]
pub struct ProviderEndpoints {
	/// Of nodes that report the model ready: they have all of it.
	pub ready: Vec<Vec<u8>>,
	/// Of nodes that declared it and are not ready yet: they may have part of it.
	pub fetching: Vec<Vec<u8>>,
}

/// The model endpoints among `endpoints`: multiaddrs that name a peer (`/p2p/`).
fn model_endpoints(endpoints: &[Vec<u8>]) -> Vec<Multiaddr> {
	endpoints
		.iter()
		.filter_map(|e| std::str::from_utf8(e).ok()?.parse::<Multiaddr>().ok())
		.filter(|a| model_transfer::peer_of(a).is_some())
		.collect()
}

/// A model to fetch now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wanted {
	/// Its id.
	pub id: ModelId,
	/// Its whitelist entry.
	pub facts: ModelFacts,
	/// Where to get it: nodes that have it first, then nodes getting it. Empty while no node
	/// has all of it.
	pub providers: Vec<Multiaddr>,
}

/// The active models this node should have and lacks (`in_store` says which it has), with
/// their providers' model endpoints. Models without a usable CID are left out; a missing model
/// no node has in full yet is `Wanted` with no providers (it is tried again on a later round).
pub fn wanted(
	view: &impl ChainView,
	fetch_whitelisted: bool,
	in_store: impl Fn(&[u8; 32]) -> bool,
) -> Vec<Wanted> {
	let mut ids = view.declared_models();
	if fetch_whitelisted {
		ids.extend(view.whitelisted_models());
	}
	ids.into_iter()
		.filter_map(|id| {
			let facts = view.model(id)?;
			if !facts.active || in_store(&facts.sha256) || facts.cid.parse::<Cid>().is_err() {
				return None;
			}
			let endpoints = view.provider_endpoints(id);
			let mut providers = model_endpoints(&endpoints.ready);
			if !providers.is_empty() {
				for address in model_endpoints(&endpoints.fetching) {
					if !providers.contains(&address) {
						providers.push(address);
					}
				}
			}
			Some(Wanted {
				id,
				facts,
				providers,
			})
		})
		.collect()
}

/// Runs the watcher until the node stops.
pub async fn run<V: ChainView>(
	view: impl Fn() -> V,
	net: ModelNet,
	store_dir: PathBuf,
	fetch_whitelisted: bool,
) {
	let store = match ModelStore::open(&store_dir) {
		Ok(store) => Arc::new(store),
		Err(e) => {
			log::warn!(target: LOG_TARGET, "automatic model fetching off: {e}");
			return;
		},
	};
	let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<(ModelId, bool)>();
	let mut running: BTreeSet<ModelId> = BTreeSet::new();
	let mut failed: HashMap<ModelId, Instant> = HashMap::new();
	let mut reported_waiting: BTreeSet<ModelId> = BTreeSet::new();
	let mut tick = tokio::time::interval(POLL);
	loop {
		tokio::select! {
			_ = tick.tick() => {},
			Some((id, ok)) = done_rx.recv() => {
				running.remove(&id);
				if !ok {
					failed.insert(id, Instant::now());
				}
				continue;
			},
		}
		let chain = view();
		for want in wanted(&chain, fetch_whitelisted, |h| store.contains(h)) {
			if running.contains(&want.id)
				|| failed
					.get(&want.id)
					.is_some_and(|at| at.elapsed() < RETRY_AFTER)
			{
				continue;
			}
			if want.providers.is_empty() {
				if reported_waiting.insert(want.id) {
					log::info!(
						target: LOG_TARGET,
						"model {} ({}) is missing from the store and no registered node that has \
						 it publishes a model endpoint yet; waiting",
						want.id,
						want.facts.name
					);
				}
				continue;
			}
			reported_waiting.remove(&want.id);
			running.insert(want.id);
			let (net, store, done) = (net.clone(), store.clone(), done_tx.clone());
			tokio::spawn(async move {
				let ok = fetch_one(&net, &store, &want).await;
				let _ = done.send((want.id, ok));
			});
		}
	}
}

async fn fetch_one(net: &ModelNet, store: &ModelStore, want: &Wanted) -> bool {
	let Ok(root) = want.facts.cid.parse::<Cid>() else {
		return false;
	};
	log::info!(
		target: LOG_TARGET,
		"fetching model {} ({}) from {} provider(s)",
		want.id,
		want.facts.name,
		want.providers.len()
	);
	let request = FetchRequest {
		root,
		sha256: want.facts.sha256,
		name: want.facts.name.clone(),
		providers: want.providers.clone(),
		dir: store.dir().to_path_buf(),
	};
	let fetched = match net.fetch(request).await {
		Ok(fetched) => fetched,
		Err(e) => {
			log::warn!(target: LOG_TARGET, "model {} ({}) not fetched: {e}", want.id, want.facts.name);
			return false;
		},
	};
	let adopted = store.adopt(
		&fetched.path,
		&want.facts.name,
		want.facts.sha256,
		&want.facts.cid,
		&fetched.interior,
	);
	if let Err(e) = adopted {
		log::warn!(target: LOG_TARGET, "model {} fetched but not stored: {e}", want.id);
		return false;
	}
	if let Err(e) = crate::model_p2p::serve_stored(net, store, &want.facts.sha256, root) {
		log::warn!(target: LOG_TARGET, "model {} stored but not served: {e}", want.id);
	}
	log::info!(target: LOG_TARGET, "model {} ({}) fetched and stored; serving it", want.id, want.facts.name);
	true
}

/// [`ChainView`] read from the node's client at its best block (see [`crate::chain_read`]).
pub struct ClientView {
	storage: StorageAt,
	keys: Vec<sp_core::ed25519::Public>,
}

impl ClientView {
	/// The view at the best block, for the inference keys in `keystore`.
	pub fn new(
		client: Arc<crate::service::FullClient>,
		keystore: &sp_keystore::KeystorePtr,
	) -> Self {
		Self {
			storage: StorageAt::best(client),
			keys: keystore.ed25519_public_keys(pallet_node_registry::KEY_TYPE),
		}
	}

	fn get<T: codec::Decode>(&self, key: Vec<u8>) -> Option<T> {
		self.storage.get(key)
	}

	fn pairs<T: codec::Decode>(&self, prefix: Vec<u8>) -> Vec<(Vec<u8>, T)> {
		self.storage.pairs(prefix)
	}
}

type NodeRecord = pallet_node_registry::pallet::NodeRecordOf<Runtime>;
type ModelEntry = pallet_model_registry::ModelEntry<cognitive_runtime::BlockNumber>;

impl ChainView for ClientView {
	fn declared_models(&self) -> BTreeSet<ModelId> {
		let mut ids = BTreeSet::new();
		for account in self.storage.own_accounts(&self.keys) {
			if let Some(node) = self.get::<NodeRecord>(
				pallet_node_registry::Nodes::<Runtime>::hashed_key_for(&account),
			) {
				ids.extend(node.served_models.iter().copied());
			}
		}
		ids
	}

	fn whitelisted_models(&self) -> BTreeSet<ModelId> {
		// Keys end with the id itself (`Twox64Concat`).
		self.pairs::<ModelEntry>(
			pallet_model_registry::Models::<Runtime>::map_storage_final_prefix(),
		)
		.into_iter()
		.filter_map(|(key, _)| key_tail(&key).map(ModelId::from_le_bytes))
		.collect()
	}

	fn model(&self, id: ModelId) -> Option<ModelFacts> {
		let entry =
			self.get::<ModelEntry>(pallet_model_registry::Models::<Runtime>::hashed_key_for(id))?;
		Some(ModelFacts {
			name: String::from_utf8_lossy(&entry.info.name).into_owned(),
			cid: String::from_utf8(entry.info.cid.to_vec()).ok()?,
			sha256: entry.info.sha256,
			active: entry.status == pallet_model_registry::ModelStatus::Active,
		})
	}

	fn provider_endpoints(&self, id: ModelId) -> ProviderEndpoints {
		let mut found = ProviderEndpoints::default();
		let nodes = self.pairs::<NodeRecord>(
			pallet_node_registry::Nodes::<Runtime>::map_storage_final_prefix(),
		);
		for (_, node) in nodes {
			if node.status.is_leaving() {
				continue;
			}
			let list = if node.ready_models.contains(&id) {
				&mut found.ready
			} else if node.served_models.contains(&id) {
				&mut found.fetching
			} else {
				continue;
			};
			list.extend(node.endpoints.into_iter().map(|e| e.to_vec()));
		}
		found
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	struct Fake {
		declared: BTreeSet<ModelId>,
		models: HashMap<ModelId, ModelFacts>,
		endpoints: HashMap<ModelId, Vec<Vec<u8>>>,
		fetching: HashMap<ModelId, Vec<Vec<u8>>>,
	}

	impl ChainView for Fake {
		fn declared_models(&self) -> BTreeSet<ModelId> {
			self.declared.clone()
		}
		fn whitelisted_models(&self) -> BTreeSet<ModelId> {
			self.models.keys().copied().collect()
		}
		fn model(&self, id: ModelId) -> Option<ModelFacts> {
			self.models.get(&id).cloned()
		}
		fn provider_endpoints(&self, id: ModelId) -> ProviderEndpoints {
			ProviderEndpoints {
				ready: self.endpoints.get(&id).cloned().unwrap_or_default(),
				fetching: self.fetching.get(&id).cloned().unwrap_or_default(),
			}
		}
	}

	const CID: &str = "bafybeic5buk5wbvf2zghkvhh5pe4xdapc7gkwzxb7iknld43osz2xi6c7m";
	const PEER: &str =
		"/ip4/127.0.0.1/tcp/30433/p2p/12D3KooWGi8peeatVV8xpKdc5Hnb1SfXPXUBFJkDtNdmhpxiYs9q";

	fn facts(byte: u8, active: bool) -> ModelFacts {
		ModelFacts {
			name: format!("m{byte}"),
			cid: CID.into(),
			sha256: [byte; 32],
			active,
		}
	}

	fn fake() -> Fake {
		let mut models = HashMap::new();
		models.insert(0, facts(0, true));
		models.insert(1, facts(1, true));
		models.insert(2, facts(2, false));
		models.insert(
			3,
			ModelFacts {
				cid: "not a cid".into(),
				..facts(3, true)
			},
		);
		let mut endpoints = HashMap::new();
		for id in 0..4 {
			// A sync endpoint without /p2p/ and garbage are ignored beside the model endpoint.
			endpoints.insert(
				id,
				vec![
					b"/ip4/10.0.0.1/tcp/30333".to_vec(),
					vec![0xff, 0xfe],
					PEER.as_bytes().to_vec(),
				],
			);
		}
		Fake {
			declared: [0, 2, 3].into(),
			models,
			endpoints,
			fetching: HashMap::new(),
		}
	}

	#[test]
	fn declared_active_models_missing_from_the_store_are_wanted() {
		let view = fake();
		let wanted = wanted(&view, false, |_| false);
		// 2 is deprecated, 3 has no usable CID, 1 is not declared.
		assert_eq!(wanted.iter().map(|w| w.id).collect::<Vec<_>>(), vec![0]);
		assert_eq!(
			wanted[0].providers,
			vec![PEER.parse::<Multiaddr>().unwrap()]
		);
		// Already in the store: nothing to do.
		assert!(super::wanted(&view, false, |h| h == &[0; 32]).is_empty());
	}

	#[test]
	fn opting_in_fetches_every_active_whitelisted_model() {
		let wanted = wanted(&fake(), true, |_| false);
		assert_eq!(wanted.iter().map(|w| w.id).collect::<Vec<_>>(), vec![0, 1]);
	}

	const OTHER: &str =
		"/ip4/127.0.0.1/tcp/30434/p2p/12D3KooWKXjF214TxMAcytwdPgG2ihFgoQVqzebiaVp551bwQt5J";

	#[test]
	fn nodes_still_fetching_a_model_are_asked_after_those_that_have_it() {
		let mut view = fake();
		view.fetching
			.insert(0, vec![OTHER.as_bytes().to_vec(), PEER.as_bytes().to_vec()]);
		let wanted = wanted(&view, false, |_| false);
		assert_eq!(
			wanted[0].providers,
			vec![PEER.parse::<Multiaddr>().unwrap(), OTHER.parse().unwrap()],
			"the ready node first, each endpoint once"
		);
		// Nobody has all of it: the fetch waits rather than ask only partial copies.
		view.endpoints.remove(&0);
		let wanted = super::wanted(&view, false, |_| false);
		assert!(wanted[0].providers.is_empty());
	}

	#[test]
	fn a_model_nobody_provides_waits() {
		let mut view = fake();
		view.endpoints
			.insert(0, vec![b"/ip4/10.0.0.1/tcp/30333".to_vec()]);
		let wanted = wanted(&view, false, |_| false);
		assert_eq!(wanted.len(), 1);
		assert!(wanted[0].providers.is_empty());
	}
}
