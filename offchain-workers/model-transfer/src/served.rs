//! A stored model as a set of bitswap blocks, without a second copy of its bytes.
//!
//! The interior nodes come from the sidecar the store keeps beside the model (a few per
//! gigabyte); every leaf is named by its offset in the model file, read when a peer wants it.

use crate::tree::{children, Span, TreeError, MAX_BLOCK_BYTES};
use model_dag::{read_interior, Cid, SidecarError};
use std::{collections::HashMap, fs::File, io, os::unix::fs::FileExt, path::Path, sync::Arc};

/// Why a model cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
	/// The model file cannot be read.
	#[error("cannot open the model file: {0}")]
	Io(#[from] io::Error),
	/// The sidecar of interior nodes is missing or does not lead to the root.
	#[error("the model's DAG sidecar is unusable: {0}")]
	Sidecar(#[from] SidecarError),
	/// The DAG does not describe this file.
	#[error("the model's DAG does not describe its file: {0}")]
	Tree(#[from] TreeError),
	/// An interior node the tree names is not in the sidecar.
	#[error("the DAG sidecar lacks node {0}")]
	MissingNode(Cid),
}

/// Where a block's bytes are.
#[derive(Clone, Debug)]
pub enum BlockSource {
	/// An interior node, held in memory.
	Node(Arc<[u8]>),
	/// A leaf: `len` bytes at `offset` of `file`.
	Leaf {
		file: Arc<File>,
		offset: u64,
		len: u64,
	},
}

impl BlockSource {
	/// The block's bytes.
	pub fn read(&self) -> io::Result<Vec<u8>> {
		match self {
			Self::Node(bytes) => Ok(bytes.to_vec()),
			Self::Leaf { file, offset, len } => {
				let mut buf = vec![0u8; usize::try_from(*len).map_err(io::Error::other)?];
				file.read_exact_at(&mut buf, *offset)?;
				Ok(buf)
			},
		}
	}

	/// Bytes it will send.
	pub fn len(&self) -> u64 {
		match self {
			Self::Node(bytes) => bytes.len() as u64,
			Self::Leaf { len, .. } => *len,
		}
	}

	/// Whether the block is empty (never, for a well-formed DAG).
	pub fn is_empty(&self) -> bool {
		self.len() == 0
	}
}

/// One model as bitswap blocks.
pub struct ServedModel {
	root: Cid,
	size: u64,
	file: Arc<File>,
	nodes: HashMap<Cid, Arc<[u8]>>,
	leaves: HashMap<Cid, (u64, u64)>,
}

impl ServedModel {
	/// Indexes the model at `model_path` whose interior nodes are in `dag_path`. The tree must
	/// cover the file exactly. The file's bytes are not re-hashed here (the store verified
	/// them; a peer checks every block it receives anyway).
	pub fn open(model_path: &Path, dag_path: &Path, root: Cid) -> Result<Self, ServeError> {
		let file = File::open(model_path)?;
		let size = file.metadata()?.len();
		let (_, interior) = read_interior(dag_path, &root)?;
		let nodes: HashMap<Cid, Arc<[u8]>> = interior
			.into_iter()
			.map(|n| (n.cid, Arc::from(n.block)))
			.collect();
		let mut leaves = HashMap::new();
		// The root must cover the whole file: `children` checks each node against the size
		// its parent (for the root: the file) gives it.
		let mut stack = vec![Span {
			cid: root,
			offset: 0,
			len: size,
		}];
		while let Some(span) = stack.pop() {
			if span.is_leaf() {
				if span.len > MAX_BLOCK_BYTES {
					return Err(TreeError::LeafTooLarge(span.cid, span.len).into());
				}
				leaves.entry(span.cid).or_insert((span.offset, span.len));
				continue;
			}
			let block = nodes
				.get(&span.cid)
				.ok_or(ServeError::MissingNode(span.cid))?;
			let (_, kids) = children(&span, Some(span.len), block, u64::MAX)?;
			stack.extend(kids.into_iter().rev());
		}
		Ok(Self {
			root,
			size,
			file: Arc::new(file),
			nodes,
			leaves,
		})
	}

	/// The model's CID.
	pub fn root(&self) -> Cid {
		self.root
	}

	/// The file's size.
	pub fn size(&self) -> u64 {
		self.size
	}

	/// Blocks in the DAG.
	pub fn block_count(&self) -> usize {
		self.nodes.len() + self.leaves.len()
	}

	/// Where the block `cid` is, if it belongs to this model.
	pub fn locate(&self, cid: &Cid) -> Option<BlockSource> {
		if let Some(bytes) = self.nodes.get(cid) {
			return Some(BlockSource::Node(bytes.clone()));
		}
		self.leaves.get(cid).map(|(offset, len)| BlockSource::Leaf {
			file: self.file.clone(),
			offset: *offset,
			len: *len,
		})
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use model_dag::{build, write_interior, Layout};

	#[test]
	fn every_block_of_the_dag_is_served_with_its_bytes() {
		let dir =
			std::env::temp_dir().join(format!("model-transfer-served-{}", std::process::id()));
		std::fs::create_dir_all(&dir).unwrap();
		let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
		let dag = build(&data, Layout::new(256, 4).unwrap()).unwrap();
		let (model, sidecar) = (dir.join("m.gguf"), dir.join("m.dag"));
		std::fs::write(&model, &data).unwrap();
		write_interior(&sidecar, &dag).unwrap();
		let served = ServedModel::open(&model, &sidecar, dag.root).unwrap();
		assert_eq!(served.size(), data.len() as u64);
		for node in &dag.interior {
			assert_eq!(
				served.locate(&node.cid).unwrap().read().unwrap(),
				node.block
			);
		}
		for (i, leaf) in dag.leaves.iter().enumerate() {
			let bytes = served.locate(leaf).unwrap().read().unwrap();
			assert!(model_dag::verify_block(leaf, &bytes), "leaf {i}");
		}
		assert!(served
			.locate(&model_dag::cid_of(model_dag::RAW, b"nope"))
			.is_none());

		// A file that does not match the DAG (cut short) is refused.
		std::fs::write(&model, &data[..9000]).unwrap();
		assert!(ServedModel::open(&model, &sidecar, dag.root).is_err());
		let _ = std::fs::remove_dir_all(dir);
	}
}
