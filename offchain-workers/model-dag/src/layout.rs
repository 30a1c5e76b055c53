//! How a file is cut and grouped.

/// The chunk size and fan-out of a DAG.
///
/// The network uses [`Layout::MODEL`] only; smaller layouts exist so that tests can build trees
/// of several levels from files of a few kilobytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
	chunk_size: usize,
	max_links: usize,
}

/// A layout that cannot describe a DAG.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayoutError {
	/// A chunk must hold at least one byte.
	EmptyChunk,
	/// A node must have room for at least two links, or the tree would never narrow.
	TooFewLinks,
}

impl core::fmt::Display for LayoutError {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		match self {
			Self::EmptyChunk => f.write_str("the chunk size must be at least 1 byte"),
			Self::TooFewLinks => f.write_str("a node must allow at least 2 links"),
		}
	}
}

impl std::error::Error for LayoutError {}

impl Layout {
	/// The layout the chain's model CIDs use: 1 MiB chunks, at most 1 024 links per node.
	pub const MODEL: Layout = Layout {
		chunk_size: 1 << 20,
		max_links: 1024,
	};

	/// A layout with `chunk_size` bytes per leaf and at most `max_links` links per node.
	pub fn new(chunk_size: usize, max_links: usize) -> Result<Self, LayoutError> {
		if chunk_size == 0 {
			return Err(LayoutError::EmptyChunk);
		}
		if max_links < 2 {
			return Err(LayoutError::TooFewLinks);
		}
		Ok(Self {
			chunk_size,
			max_links,
		})
	}

	/// Bytes per leaf (the last leaf may be shorter).
	pub fn chunk_size(&self) -> usize {
		self.chunk_size
	}

	/// Links per interior node at most.
	pub fn max_links(&self) -> usize {
		self.max_links
	}

	/// How many leaves a file of `file_size` bytes has (0 for an empty file).
	pub fn leaf_count(&self, file_size: u64) -> u64 {
		file_size.div_ceil(self.chunk_size as u64)
	}

	/// The byte range of leaf `index` in a file of `file_size` bytes, or `None` past the end.
	pub fn leaf_range(&self, file_size: u64, index: u64) -> Option<core::ops::Range<u64>> {
		let start = index.checked_mul(self.chunk_size as u64)?;
		(start < file_size).then(|| start..(start + self.chunk_size as u64).min(file_size))
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn ranges_cover_the_file() {
		let layout = Layout::new(4, 2).unwrap();
		assert_eq!(layout.leaf_count(0), 0);
		assert_eq!(layout.leaf_count(4), 1);
		assert_eq!(layout.leaf_count(9), 3);
		assert_eq!(layout.leaf_range(9, 0), Some(0..4));
		assert_eq!(layout.leaf_range(9, 2), Some(8..9));
		assert_eq!(layout.leaf_range(9, 3), None);
		assert_eq!(layout.leaf_range(9, u64::MAX), None);
	}

	#[test]
	fn degenerate_layouts_are_refused() {
		assert_eq!(Layout::new(0, 4), Err(LayoutError::EmptyChunk));
		assert_eq!(Layout::new(4, 1), Err(LayoutError::TooFewLinks));
		assert_eq!(Layout::new(1 << 20, 1024), Ok(Layout::MODEL));
	}
}
