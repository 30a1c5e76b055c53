//! The interior nodes of a stored model, kept beside its file.
//!
//! A server answers a want for an interior node from this file and a want for a leaf from the
//! model file itself, so a model is never stored twice. Layout (all integers little-endian):
//!
//! ```text
//! b"cognitive-dag/1\n"   16 bytes
//! chunk_size: u32, max_links: u32, count: u32
//! count × (len: u32, block: len bytes)      from the leaves up; the root is last
//! ```
//!
//! Nothing in it is trusted: reading recomputes every block's CID and checks that the last one
//! is the root the caller expects.

use crate::{cid_of, Cid, Dag, InteriorNode, Layout, DAG_PB};
use std::{
	fs,
	io::{self, Write},
	path::Path,
};

const MAGIC: &[u8; 16] = b"cognitive-dag/1\n";
/// An interior node of 1 024 links is about 50 KB; anything far larger is corrupt.
const MAX_NODE_BYTES: usize = 1 << 20;

/// Why a sidecar could not be read.
#[derive(Debug)]
pub enum SidecarError {
	/// Reading or writing the file failed.
	Io(io::Error),
	/// The file is not a sidecar of this format, is cut short, or has trailing bytes.
	Malformed(&'static str),
	/// The nodes do not lead to the expected root.
	WrongRoot,
}

impl core::fmt::Display for SidecarError {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		match self {
			Self::Io(e) => write!(f, "sidecar I/O error: {e}"),
			Self::Malformed(why) => write!(f, "malformed sidecar: {why}"),
			Self::WrongRoot => f.write_str("the sidecar's nodes do not lead to the model's CID"),
		}
	}
}

impl std::error::Error for SidecarError {}

/// Writes the interior nodes of `dag` to `path`, atomically (a temporary file renamed over it).
pub fn write_interior(path: &Path, dag: &Dag) -> io::Result<()> {
	write_interior_nodes(path, dag.layout, &dag.interior)
}

/// Writes interior nodes known without a [`Dag`] (a fetcher learns them from peers), in the
/// order given: from the leaves up, the root last.
pub fn write_interior_nodes(path: &Path, layout: Layout, nodes: &[InteriorNode]) -> io::Result<()> {
	let mut bytes = Vec::with_capacity(28 + nodes.iter().map(|n| 4 + n.block.len()).sum::<usize>());
	bytes.extend_from_slice(MAGIC);
	for value in [layout.chunk_size(), layout.max_links(), nodes.len()] {
		let value =
			u32::try_from(value).map_err(|_| io::Error::other("sidecar field over 4 GiB"))?;
		bytes.extend_from_slice(&value.to_le_bytes());
	}
	for node in nodes {
		let len =
			u32::try_from(node.block.len()).map_err(|_| io::Error::other("node too large"))?;
		bytes.extend_from_slice(&len.to_le_bytes());
		bytes.extend_from_slice(&node.block);
	}
	let mut temporary = path.as_os_str().to_owned();
	temporary.push(".partial");
	let temporary = std::path::PathBuf::from(temporary);
	let mut file = fs::File::create(&temporary)?;
	file.write_all(&bytes)?;
	file.sync_all()?;
	fs::rename(&temporary, path)
}

/// Reads the interior nodes stored at `path` and checks that they end at `root`; returns the
/// layout they were built with and the nodes in the order written.
pub fn read_interior(path: &Path, root: &Cid) -> Result<(Layout, Vec<InteriorNode>), SidecarError> {
	let bytes = fs::read(path).map_err(SidecarError::Io)?;
	let mut rest = bytes
		.strip_prefix(MAGIC.as_slice())
		.ok_or(SidecarError::Malformed("not a sidecar"))?;
	let take_u32 = |rest: &mut &[u8]| -> Result<u32, SidecarError> {
		let (head, tail) = rest
			.split_first_chunk::<4>()
			.ok_or(SidecarError::Malformed("cut short"))?;
		*rest = tail;
		Ok(u32::from_le_bytes(*head))
	};
	let chunk = take_u32(&mut rest)? as usize;
	let links = take_u32(&mut rest)? as usize;
	let layout = Layout::new(chunk, links).map_err(|_| SidecarError::Malformed("bad layout"))?;
	let count = take_u32(&mut rest)? as usize;
	// Every node takes at least 5 bytes, so the count cannot claim more than the file holds.
	if count > rest.len() / 5 {
		return Err(SidecarError::Malformed("node count larger than the file"));
	}
	let mut nodes = Vec::with_capacity(count);
	for _ in 0..count {
		let len = take_u32(&mut rest)? as usize;
		if len > MAX_NODE_BYTES || len > rest.len() {
			return Err(SidecarError::Malformed("node length out of range"));
		}
		let (block, tail) = rest.split_at(len);
		rest = tail;
		nodes.push(InteriorNode {
			cid: cid_of(DAG_PB, block),
			block: block.to_vec(),
		});
	}
	if !rest.is_empty() {
		return Err(SidecarError::Malformed("trailing bytes"));
	}
	match nodes.last() {
		Some(last) if last.cid == *root => Ok((layout, nodes)),
		// A single-chunk model has no interior nodes: its root is a raw leaf.
		None if root.codec() == crate::RAW => Ok((layout, nodes)),
		_ => Err(SidecarError::WrongRoot),
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::build;

	fn dag() -> Dag {
		let data: Vec<u8> = (0..5000u32).map(|i| (i % 253) as u8).collect();
		build(&data, Layout::new(100, 4).unwrap()).unwrap()
	}

	fn temp(name: &str) -> std::path::PathBuf {
		std::env::temp_dir().join(format!("model-dag-sidecar-{}-{name}", std::process::id()))
	}

	#[test]
	fn round_trip() {
		let dag = dag();
		let path = temp("round-trip");
		write_interior(&path, &dag).unwrap();
		let (layout, nodes) = read_interior(&path, &dag.root).unwrap();
		assert_eq!(layout, dag.layout);
		assert_eq!(nodes, dag.interior);
		let _ = fs::remove_file(path);
	}

	#[test]
	fn corruption_and_the_wrong_root_are_refused() {
		let dag = dag();
		let path = temp("corrupt");
		write_interior(&path, &dag).unwrap();
		let good = fs::read(&path).unwrap();
		let other = build(b"another file", Layout::new(4, 2).unwrap()).unwrap();
		assert!(matches!(
			read_interior(&path, &other.root),
			Err(SidecarError::WrongRoot)
		));
		// A changed byte in the last node changes the root.
		let mut bad = good.clone();
		let last = bad.len() - 1;
		bad[last] ^= 1;
		fs::write(&path, &bad).unwrap();
		assert!(read_interior(&path, &dag.root).is_err());
		// Cut short anywhere, or with bytes appended.
		for len in [0, 10, 16, 20, 28, good.len() - 1] {
			fs::write(&path, &good[..len]).unwrap();
			assert!(
				matches!(
					read_interior(&path, &dag.root),
					Err(SidecarError::Malformed(_))
				),
				"{len} bytes"
			);
		}
		let mut longer = good.clone();
		longer.push(0);
		fs::write(&path, &longer).unwrap();
		assert!(matches!(
			read_interior(&path, &dag.root),
			Err(SidecarError::Malformed(_))
		));
		let _ = fs::remove_file(path);
	}
}
