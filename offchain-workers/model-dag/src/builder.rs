//! Building a file's DAG in one pass.

use crate::{cid_of, encode_node, Cid, Layout, Link, RAW};
use sha2::{Digest, Sha256};
use std::io::Read;

/// An interior node of a DAG: its CID and its block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InteriorNode {
	/// The node's CID (dag-pb, sha2-256).
	pub cid: Cid,
	/// The encoded node, as it is sent to peers.
	pub block: Vec<u8>,
}

/// A file's DAG: what the chain names it by, and what a peer needs to serve it.
///
/// Leaves are not kept: a server reads leaf `i` from the file itself (see
/// [`Layout::leaf_range`]); only the interior nodes — about 50 KB per GiB of model — are kept
/// beside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dag {
	/// The layout it was built with.
	pub layout: Layout,
	/// The root CID: the model's CID on chain.
	pub root: Cid,
	/// The file's size in bytes.
	pub file_size: u64,
	/// The sha256 of the whole file: the model's hash on chain.
	pub sha256: [u8; 32],
	/// The leaves' CIDs in file order (leaf `i` holds `layout.leaf_range(file_size, i)`).
	pub leaves: Vec<Cid>,
	/// The interior nodes, level by level from the leaves up; the root is last. Empty for a
	/// file of a single chunk, whose root is its only leaf.
	pub interior: Vec<InteriorNode>,
}

/// Why a DAG could not be built.
#[derive(Debug)]
pub enum DagError {
	/// An empty file has no DAG under these rules (and is no model).
	Empty,
	/// Reading the file failed.
	Io(std::io::Error),
}

impl core::fmt::Display for DagError {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		match self {
			Self::Empty => f.write_str("the file is empty"),
			Self::Io(e) => write!(f, "reading the file failed: {e}"),
		}
	}
}

impl std::error::Error for DagError {}

/// Builds a DAG from bytes fed in any pieces; the sha256 is computed on the way.
pub struct DagBuilder {
	layout: Layout,
	sha256: Sha256,
	pending: Vec<u8>,
	leaves: Vec<Link>,
}

impl DagBuilder {
	/// An empty builder for `layout`.
	pub fn new(layout: Layout) -> Self {
		Self {
			layout,
			sha256: Sha256::new(),
			pending: Vec::new(),
			leaves: Vec::new(),
		}
	}

	/// Bytes fed so far.
	pub fn bytes_seen(&self) -> u64 {
		self.leaves.iter().map(|l| l.file_size).sum::<u64>() + self.pending.len() as u64
	}

	/// Feeds the next bytes of the file.
	pub fn update(&mut self, mut bytes: &[u8]) {
		let chunk = self.layout.chunk_size();
		while !bytes.is_empty() {
			if self.pending.is_empty() && bytes.len() >= chunk {
				// Whole chunks straight from the caller's buffer: no copy.
				let (leaf, rest) = bytes.split_at(chunk);
				self.add_leaf(leaf);
				bytes = rest;
				continue;
			}
			let take = (chunk - self.pending.len()).min(bytes.len());
			self.pending.extend_from_slice(&bytes[..take]);
			bytes = &bytes[take..];
			if self.pending.len() == chunk {
				let leaf = std::mem::take(&mut self.pending);
				self.add_leaf(&leaf);
				self.pending = leaf;
				self.pending.clear();
			}
		}
	}

	fn add_leaf(&mut self, leaf: &[u8]) {
		self.sha256.update(leaf);
		self.leaves.push(Link {
			cid: cid_of(RAW, leaf),
			file_size: leaf.len() as u64,
			dag_size: leaf.len() as u64,
		});
	}

	/// Ends the file and builds the tree above its leaves.
	pub fn finish(mut self) -> Result<Dag, DagError> {
		if !self.pending.is_empty() {
			let last = std::mem::take(&mut self.pending);
			self.add_leaf(&last);
		}
		if self.leaves.is_empty() {
			return Err(DagError::Empty);
		}
		let leaves: Vec<Cid> = self.leaves.iter().map(|l| l.cid).collect();
		let mut interior = Vec::new();
		let mut level = self.leaves;
		while level.len() > 1 {
			level = level
				.chunks(self.layout.max_links())
				.map(|children| {
					let (block, link) = encode_node(children);
					interior.push(InteriorNode {
						cid: link.cid,
						block,
					});
					link
				})
				.collect();
		}
		let root = &level[0];
		Ok(Dag {
			layout: self.layout,
			root: root.cid,
			file_size: root.file_size,
			sha256: self.sha256.finalize().into(),
			leaves,
			interior,
		})
	}
}

/// The DAG of `bytes`.
pub fn build(bytes: &[u8], layout: Layout) -> Result<Dag, DagError> {
	let mut builder = DagBuilder::new(layout);
	builder.update(bytes);
	builder.finish()
}

/// The DAG of everything `reader` yields, read a chunk at a time.
pub fn build_from_reader(mut reader: impl Read, layout: Layout) -> Result<Dag, DagError> {
	let mut builder = DagBuilder::new(layout);
	let mut buffer = vec![0u8; layout.chunk_size().clamp(4096, 1 << 20)];
	loop {
		match reader.read(&mut buffer) {
			Ok(0) => break,
			Ok(n) => builder.update(&buffer[..n]),
			Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
			Err(e) => return Err(DagError::Io(e)),
		}
	}
	builder.finish()
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{decode_node, verify_block, DAG_PB};

	fn bytes(len: usize) -> Vec<u8> {
		(0..len).map(|i| (i * 31 % 251) as u8).collect()
	}

	#[test]
	fn a_single_chunk_is_its_own_root() {
		let data = bytes(100);
		let dag = build(&data, Layout::new(100, 4).unwrap()).unwrap();
		assert_eq!(dag.root, cid_of(RAW, &data));
		assert!(dag.interior.is_empty());
		assert_eq!(dag.leaves, vec![dag.root]);
	}

	#[test]
	fn empty_input_has_no_dag() {
		assert!(matches!(build(&[], Layout::MODEL), Err(DagError::Empty)));
	}

	#[test]
	fn feeding_in_pieces_gives_the_same_dag() {
		let layout = Layout::new(10, 3).unwrap();
		let data = bytes(97);
		let whole = build(&data, layout).unwrap();
		for piece in [1, 3, 10, 11, 50] {
			let mut builder = DagBuilder::new(layout);
			for part in data.chunks(piece) {
				builder.update(part);
			}
			assert_eq!(builder.bytes_seen(), 97);
			assert_eq!(builder.finish().unwrap(), whole, "pieces of {piece}");
		}
		let from_reader = build_from_reader(&data[..], layout).unwrap();
		assert_eq!(from_reader, whole);
		assert_eq!(whole.sha256, <[u8; 32]>::from(Sha256::digest(&data)));
	}

	#[test]
	fn the_tree_is_balanced_and_every_node_verifies() {
		// 10 leaves, 3 links per node: 4 nodes, then 2, then the root.
		let layout = Layout::new(10, 3).unwrap();
		let data = bytes(97);
		let dag = build(&data, layout).unwrap();
		assert_eq!(dag.leaves.len(), 10);
		assert_eq!(dag.interior.len(), 4 + 2 + 1);
		assert_eq!(dag.interior.last().unwrap().cid, dag.root);
		assert_eq!(dag.root.codec(), DAG_PB);
		for node in &dag.interior {
			assert!(verify_block(&node.cid, &node.block));
			let view = decode_node(&node.block).unwrap();
			assert!(view.links.len() <= 3);
		}
		// Walking the tree from the root yields the leaves in file order.
		fn walk(dag: &Dag, cid: &Cid, out: &mut Vec<Cid>) {
			match dag.interior.iter().find(|n| n.cid == *cid) {
				Some(node) => {
					for link in decode_node(&node.block).unwrap().links {
						walk(dag, &link.cid, out);
					}
				},
				None => out.push(*cid),
			}
		}
		let mut leaves = Vec::new();
		walk(&dag, &dag.root, &mut leaves);
		assert_eq!(leaves, dag.leaves);
		for (i, cid) in dag.leaves.iter().enumerate() {
			let range = layout.leaf_range(dag.file_size, i as u64).unwrap();
			assert!(verify_block(
				cid,
				&data[range.start as usize..range.end as usize]
			));
		}
	}

	#[test]
	fn a_block_with_other_bytes_does_not_verify() {
		let data = bytes(30);
		let dag = build(&data, Layout::new(10, 4).unwrap()).unwrap();
		assert!(verify_block(&dag.leaves[0], &data[..10]));
		assert!(!verify_block(&dag.leaves[0], &data[1..11]));
		assert!(!verify_block(&dag.root, &data[..10]));
	}
}
