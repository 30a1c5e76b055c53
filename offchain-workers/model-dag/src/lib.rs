//! The UnixFS DAG of a model file, exactly as the chain identifies models.
//!
//! A whitelisted model is named on chain by its sha256 and by an IPFS CID, so that any IPFS
//! peer can fetch it by that CID. The CID is the root of the file's UnixFS DAG built with the
//! rules of kubo's `unixfs-v1-2025` profile (see [`Layout::MODEL`]):
//!
//! - the file is cut into fixed-size chunks (1 MiB); each chunk is a *raw leaf*, named by a
//!   CIDv1 with the `raw` codec and a sha2-256 multihash;
//! - leaves are grouped, in file order, under dag-pb nodes of at most 1 024 links; those nodes
//!   are grouped the same way, level by level, until one node is left: the root (a balanced
//!   tree);
//! - a file of a single chunk is that raw leaf itself.
//!
//! [`DagBuilder`] builds the whole DAG in one pass over the file and keeps the interior nodes
//! (a few per 10 GiB); [`decode_node`] reads an interior node received from a peer, accepting
//! only the exact bytes this layout produces. `scripts/model-cid.py` is the independent
//! implementation the tests compare against.

mod builder;
mod layout;
mod pb;
mod sidecar;

pub use builder::{build, build_from_reader, Dag, DagBuilder, DagError, InteriorNode};
pub use cid::Cid;
pub use layout::{Layout, LayoutError};
pub use pb::{decode_node, encode_node, DecodeError, Link, NodeView};
pub use sidecar::{read_interior, write_interior, write_interior_nodes, SidecarError};

use sha2::{Digest, Sha256};

/// Multicodec of a raw block (a leaf: the chunk's bytes as they are).
pub const RAW: u64 = 0x55;
/// Multicodec of a dag-pb block (an interior node).
pub const DAG_PB: u64 = 0x70;
/// Multicodec of the sha2-256 multihash.
pub const SHA2_256: u64 = 0x12;

/// The CIDv1 of `block` under `codec`, with a sha2-256 multihash.
pub fn cid_of(codec: u64, block: &[u8]) -> Cid {
	let digest = Sha256::digest(block);
	// A 32-byte digest always fits the 64-byte multihash.
	let hash = cid::multihash::Multihash::<64>::wrap(SHA2_256, &digest)
		.expect("a sha2-256 digest is 32 bytes; the multihash holds 64");
	Cid::new_v1(codec, hash)
}

/// sha256 and length of everything `reader` yields, read 1 MiB at a time. The one streamed
/// file hash of the store, the fetcher's final check and the tools.
pub fn sha256_reader(reader: &mut impl std::io::Read) -> std::io::Result<([u8; 32], u64)> {
	let mut hasher = Sha256::new();
	let mut size = 0u64;
	let mut buf = vec![0u8; 1 << 20];
	loop {
		let n = match reader.read(&mut buf) {
			Ok(0) => break,
			Ok(n) => n,
			Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
			Err(e) => return Err(e),
		};
		hasher.update(&buf[..n]);
		size += n as u64;
	}
	Ok((hasher.finalize().into(), size))
}

/// Whether `block` is the block `cid` names: same codec family we use, sha2-256 of the bytes.
///
/// This is the check every block received from a peer goes through before it is used.
pub fn verify_block(cid: &Cid, block: &[u8]) -> bool {
	cid.version() == cid::Version::V1
		&& (cid.codec() == RAW || cid.codec() == DAG_PB)
		&& cid.hash().code() == SHA2_256
		&& cid_of(cid.codec(), block) == *cid
}
