//! The gateway's directory of peers: the other nodes that can answer a model, as the chain's
//! registry describes them, and the order in which to ask them.
//!
//! A peer is a registered node that is `Active` (it heartbeats), reported the model ready in its
//! last heartbeat (the verified file is in its store and its engine runs), and publishes an
//! OpenAI API endpoint among its registry endpoints: a multiaddr ending in `/http`, such as
//! `/ip4/10.0.0.2/tcp/8080/http` (`nodeRegistry.setEndpoints`). What the registry adds to the
//! choice: the node's reputation (verified work, decayed as on chain) and the generation speed
//! it published for the model (`nodeRegistry.rateModels`). The gateway adds what it sees itself:
//! the peers' own status (`GET /v1/status`: queue and capacity), the round trip of that check,
//! its own requests in flight to each, and recent failures ([`super::balance`]).
//!
//! An endpoint is only the registrant's word: a node could publish another machine's address,
//! or one of the gateway's own loopback services. So a request goes only to an endpoint whose
//! status answer names the peer's registered inference key.

use crate::chain_read::{key_tail, Runtime, StorageAt};
use cognitive_runtime::AccountId;
use pallet_model_registry::ModelId;
use sp_runtime::Perbill;
use std::sync::Arc;

/// A node that can answer a model's requests.
#[derive(Clone, Debug, PartialEq)]
pub struct Peer {
	/// Its operator account (`0x` hex of the 32 bytes), which answers name.
	pub account: String,
	/// `host:port` of its OpenAI API.
	pub authority: String,
	/// Its inference key (`0x` hex), which its status must name and its receipts are signed
	/// with.
	pub inference_key: String,
	/// Its reputation score now.
	pub reputation: Perbill,
	/// The generation speed it published for the model, in thousandths of a token per second.
	pub generation_milli_tps: Option<u32>,
}

/// Where the gateway learns its peers.
pub trait PeerSource: Send + Sync {
	/// The nodes other than this one that can answer `model` (a whitelist name, or the model's
	/// sha256 as `0x` hex), in no particular order.
	fn peers(&self, model: &str) -> Vec<Peer>;
}

/// The OpenAI API endpoint a registry endpoint names, as `host:port`: `/ip4/A/tcp/P/http`,
/// `/ip6/A/tcp/P/http`, `/dns/H/tcp/P/http` (and `dns4`, `dns6`). Anything else is not one.
pub fn http_authority(endpoint: &str) -> Option<String> {
	let parts: Vec<&str> = endpoint.strip_prefix('/')?.split('/').collect();
	let [proto, host, "tcp", port, "http"] = parts.as_slice() else {
		return None;
	};
	let port: u16 = port.parse().ok().filter(|p| *p != 0)?;
	match *proto {
		"ip4" => Some(format!(
			"{}:{port}",
			host.parse::<std::net::Ipv4Addr>().ok()?
		)),
		"ip6" => Some(format!(
			"[{}]:{port}",
			host.parse::<std::net::Ipv6Addr>().ok()?
		)),
		"dns" | "dns4" | "dns6"
			if !host.is_empty()
				&& host
					.chars()
					.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') =>
		{
			Some(format!("{host}:{port}"))
		},
		_ => None,
	}
}

/// [`PeerSource`] read from the node's client at its best block.
pub struct RegistryPeers {
	client: Arc<crate::service::FullClient>,
	keystore: sp_keystore::KeystorePtr,
}

impl RegistryPeers {
	/// The registry as `client` sees it; nodes whose inference keys are in `keystore` are this
	/// node, never a peer.
	pub fn new(
		client: Arc<crate::service::FullClient>,
		keystore: sp_keystore::KeystorePtr,
	) -> Self {
		Self { client, keystore }
	}
}

type NodeRecord = pallet_node_registry::pallet::NodeRecordOf<Runtime>;
type ModelEntry = pallet_model_registry::ModelEntry<cognitive_runtime::BlockNumber>;
type Ratings = pallet_node_registry::NodeRatings<cognitive_runtime::BlockNumber>;

/// The id of the whitelisted model that `model` names (its name or `0x` sha256).
fn model_id(storage: &StorageAt, model: &str) -> Option<ModelId> {
	let sha = model
		.strip_prefix("0x")
		.and_then(|h| hex::decode(h).ok())
		.filter(|b| b.len() == 32);
	storage
		.pairs::<ModelEntry>(pallet_model_registry::Models::<Runtime>::map_storage_final_prefix())
		.into_iter()
		.find(|(_, entry)| {
			entry.info.name.as_slice() == model.as_bytes()
				|| sha.as_deref() == Some(entry.info.sha256.as_slice())
		})
		// Keys end with the id itself (`Twox64Concat`).
		.and_then(|(key, _)| key_tail(&key).map(ModelId::from_le_bytes))
}

impl PeerSource for RegistryPeers {
	fn peers(&self, model: &str) -> Vec<Peer> {
		let storage = StorageAt::best(self.client.clone());
		let Some(id) = model_id(&storage, model) else {
			return Vec::new();
		};
		let own = storage.own_accounts(
			&self
				.keystore
				.ed25519_public_keys(pallet_node_registry::KEY_TYPE),
		);
		storage
			.pairs::<NodeRecord>(pallet_node_registry::Nodes::<Runtime>::map_storage_final_prefix())
			.into_iter()
			.filter_map(|(key, node)| {
				// Keys end with the account itself (`Blake2_128Concat`).
				let account = AccountId::from(key_tail::<32>(&key)?);
				let usable = node.status == pallet_node_registry::NodeStatus::Active
					&& node.ready_models.contains(&id)
					&& !own.contains(&account);
				if !usable {
					return None;
				}
				let authority = node
					.endpoints
					.iter()
					.find_map(|e| http_authority(std::str::from_utf8(e).ok()?))?;
				let reputation = storage.reputation(&account);
				let generation_milli_tps = storage
					.get::<Ratings>(pallet_node_registry::Ratings::<Runtime>::hashed_key_for(
						&account,
					))
					.and_then(|r| {
						r.ratings
							.iter()
							.find(|r| r.model == id)
							.map(|r| r.generation_milli_tps)
					});
				Some(Peer {
					account: format!("0x{}", hex::encode(<[u8; 32]>::from(account))),
					authority,
					inference_key: format!(
						"0x{}",
						hex::encode(codec::Encode::encode(&node.inference_key))
					),
					reputation,
					generation_milli_tps,
				})
			})
			.collect()
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn http_endpoints_are_read_and_others_are_not() {
		assert_eq!(
			http_authority("/ip4/10.0.0.2/tcp/8080/http").as_deref(),
			Some("10.0.0.2:8080")
		);
		assert_eq!(
			http_authority("/ip6/::1/tcp/8080/http").as_deref(),
			Some("[::1]:8080")
		);
		assert_eq!(
			http_authority("/dns4/node-1.example.org/tcp/80/http").as_deref(),
			Some("node-1.example.org:80")
		);
		for other in [
			"/ip4/10.0.0.2/tcp/30333",
			"/ip4/10.0.0.2/tcp/30333/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN",
			"/ip4/10.0.0.2/tcp/8080/https",
			"/ip4/10.0.0.2/udp/8080/http",
			"/ip4/10.0.0/tcp/8080/http",
			"/ip4/10.0.0.2/tcp/0/http",
			"/ip4/10.0.0.2/tcp/99999/http",
			"/dns/a b/tcp/80/http",
			"/dns//tcp/80/http",
			"ip4/10.0.0.2/tcp/8080/http",
			"",
		] {
			assert_eq!(http_authority(other), None, "{other}");
		}
	}
}
