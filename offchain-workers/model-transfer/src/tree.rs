//! What a received DAG block tells the fetcher: the blocks under it and where their bytes go.
//!
//! The chain names a model by its root CID, and the root CID fixes every block below it, so a
//! provider cannot choose what the tree looks like. What it can do is send a well-formed tree
//! that is absurd for this use (a file of a petabyte, leaves of a gigabyte); those bounds are
//! checked here before anything is allocated.

use model_dag::{decode_node, Cid, DecodeError, DAG_PB, RAW};

/// The largest block bitswap carries (and the largest leaf the fetcher accepts).
pub const MAX_BLOCK_BYTES: u64 = 2 * 1024 * 1024;

/// A block of the file's DAG and the part of the file it covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
	/// The block's CID.
	pub cid: Cid,
	/// Offset of the first byte it covers.
	pub offset: u64,
	/// Bytes of the file it covers.
	pub len: u64,
}

impl Span {
	/// Whether the block is a raw leaf (its bytes are file bytes) rather than an interior node.
	pub fn is_leaf(&self) -> bool {
		self.cid.codec() == RAW
	}
}

/// Why a block cannot be part of a model's DAG.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TreeError {
	/// The CID is not CIDv1 raw or dag-pb with sha2-256.
	#[error("block {0} is neither a raw leaf nor a dag-pb node")]
	UnsupportedCid(Cid),
	/// An interior node that this layout never produces.
	#[error("block {0} is not a UnixFS file node: {1:?}")]
	BadNode(Cid, DecodeError),
	/// The node's size disagrees with what its parent said.
	#[error("block {cid} covers {found} bytes; its parent said {expected}")]
	SizeMismatch {
		/// The node.
		cid: Cid,
		/// What the parent's link said.
		expected: u64,
		/// What the node says.
		found: u64,
	},
	/// A leaf larger than a bitswap block.
	#[error("leaf {0} of {1} bytes is larger than a bitswap block")]
	LeafTooLarge(Cid, u64),
	/// The file is larger than this node accepts.
	#[error("the file is {0} bytes, over the limit of {1}")]
	FileTooLarge(u64, u64),
	/// A leaf whose `Tsize` differs from its size (a raw leaf is its own bytes).
	#[error("leaf {0} claims a DAG size other than its size")]
	BadLeafLink(Cid),
}

/// Checks that `cid` can name a block of a model's DAG.
pub fn check_cid(cid: &Cid) -> Result<(), TreeError> {
	let ok = cid.version() == litep2p::types::cid::Version::V1
		&& (cid.codec() == RAW || cid.codec() == DAG_PB)
		&& cid.hash().code() == model_dag::SHA2_256
		&& cid.hash().size() == 32;
	if ok {
		Ok(())
	} else {
		Err(TreeError::UnsupportedCid(*cid))
	}
}

/// The children of the interior node `span` whose verified bytes are `block`, with the part of
/// the file each covers. The node must cover exactly `span.len` bytes (`None` for the root,
/// whose size nobody told us) and at most `max_file` bytes.
pub fn children(
	span: &Span,
	known_len: Option<u64>,
	block: &[u8],
	max_file: u64,
) -> Result<(u64, Vec<Span>), TreeError> {
	let node = decode_node(block).map_err(|e| TreeError::BadNode(span.cid, e))?;
	if node.file_size > max_file {
		return Err(TreeError::FileTooLarge(node.file_size, max_file));
	}
	if let Some(expected) = known_len {
		if expected != node.file_size {
			return Err(TreeError::SizeMismatch {
				cid: span.cid,
				expected,
				found: node.file_size,
			});
		}
	}
	let mut offset = span.offset;
	let mut out = Vec::with_capacity(node.links.len());
	for link in node.links {
		check_cid(&link.cid)?;
		if link.cid.codec() == RAW {
			if link.file_size > MAX_BLOCK_BYTES {
				return Err(TreeError::LeafTooLarge(link.cid, link.file_size));
			}
			if link.dag_size != link.file_size {
				return Err(TreeError::BadLeafLink(link.cid));
			}
		}
		out.push(Span {
			cid: link.cid,
			offset,
			len: link.file_size,
		});
		offset += link.file_size;
	}
	Ok((node.file_size, out))
}

#[cfg(test)]
mod tests {
	use super::*;
	use model_dag::{cid_of, encode_node, Link};

	fn leaf_link(seed: u8, size: u64) -> Link {
		Link {
			cid: cid_of(RAW, &[seed]),
			file_size: size,
			dag_size: size,
		}
	}

	fn span_of(block: &[u8]) -> Span {
		Span {
			cid: cid_of(DAG_PB, block),
			offset: 0,
			len: 0,
		}
	}

	#[test]
	fn children_get_their_offsets_in_file_order() {
		let (block, _) = encode_node(&[leaf_link(1, 1 << 20), leaf_link(2, 10)]);
		let span = Span {
			offset: 5 << 20,
			..span_of(&block)
		};
		let (size, kids) = children(&span, Some((1 << 20) + 10), &block, u64::MAX).unwrap();
		assert_eq!(size, (1 << 20) + 10);
		assert_eq!(
			kids.iter().map(|k| (k.offset, k.len)).collect::<Vec<_>>(),
			vec![(5 << 20, 1 << 20), ((6 << 20), 10)]
		);
		assert!(kids.iter().all(Span::is_leaf));
	}

	#[test]
	fn absurd_trees_are_refused_before_anything_is_allocated() {
		// A root that claims a petabyte.
		let (huge, _) = encode_node(&[leaf_link(1, 1 << 50)]);
		assert!(matches!(
			children(&span_of(&huge), None, &huge, 1 << 40),
			Err(TreeError::FileTooLarge(..))
		));
		// A leaf larger than a bitswap block.
		assert!(matches!(
			children(&span_of(&huge), None, &huge, u64::MAX),
			Err(TreeError::LeafTooLarge(..))
		));
		// A node whose size is not what its parent said.
		let (block, _) = encode_node(&[leaf_link(1, 100)]);
		assert!(matches!(
			children(&span_of(&block), Some(99), &block, u64::MAX),
			Err(TreeError::SizeMismatch { .. })
		));
		// A raw leaf whose link claims a DAG size other than its own size.
		let odd = Link {
			dag_size: 101,
			..leaf_link(1, 100)
		};
		let (block, _) = encode_node(&[odd]);
		assert!(children(&span_of(&block), None, &block, u64::MAX).is_err());
		// Bytes that are not a node at all.
		let junk = b"not a dag-pb node";
		assert!(matches!(
			children(&span_of(junk), None, junk, u64::MAX),
			Err(TreeError::BadNode(..))
		));
		// Children under CIDs of other kinds (a CIDv0, another hash) are refused.
		assert!(check_cid(
			&"QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"
				.parse()
				.unwrap()
		)
		.is_err());
	}
}
