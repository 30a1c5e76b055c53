//! Model files between nodes over IPFS bitswap.
//!
//! A whitelisted model is named on chain by its CID; this crate moves the blocks under that CID
//! between nodes (and any IPFS peer that speaks `/ipfs/bitswap/1.2.0`, such as Helia or kubo):
//!
//! - [`ModelNet`] is the endpoint: a litep2p instance of its own (own key, own port), apart
//!   from the chain's networking;
//! - serving ([`ServedModel`]) reads leaves straight from the verified model file at their
//!   offsets and interior nodes from the sidecar beside it, so no model is stored twice; every
//!   peer has a bounded want queue and a byte-rate budget;
//! - fetching spreads wants over every provider with a window each ([`scheduler`]), takes a
//!   block only under the CID its bytes hash to, writes it at its offset into a file in the
//!   store's directory,
//!   keeps resumable progress ([`part`]) and checks the assembled file's sha256 against the
//!   chain's before handing it over.

pub mod net;
pub mod part;
pub mod prefix_hash;
pub mod scheduler;
pub mod served;
pub mod tree;

pub use litep2p::{
	crypto::ed25519::Keypair,
	types::multiaddr::{Multiaddr, Protocol},
	PeerId,
};
pub use model_dag::Cid;
pub use net::{
	load_or_create_keypair, peer_of, sha256_of, FetchError, FetchRequest, FetchState, FetchStats,
	Fetched, ModelNet, NetConfig, PeerFailures, Progress, ServeLimits, ServeStats, SourceStats,
	MAX_FAILING_PEERS,
};
pub use scheduler::FetchLimits;
pub use served::{ServeError, ServedModel};
