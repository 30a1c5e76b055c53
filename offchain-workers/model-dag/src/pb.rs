//! Interior nodes: dag-pb blocks whose data is a UnixFS `File` message.
//!
//! The encoding is the one every IPFS implementation produces for these rules, field by field:
//!
//! ```text
//! PBNode  = PBLink* (field 2, in file order), Data (field 1)
//! PBLink  = Hash (1: the child's CID bytes), Name (2: empty), Tsize (3: the child's DAG size)
//! Data    = Type (1: 2 = File), filesize (3), blocksizes (4, one per link, not packed)
//! ```
//!
//! The decoder accepts exactly that: it re-encodes what it read and compares bytes, so a block
//! with reordered, duplicated or extra fields is refused even though its CID matches — a peer
//! can only ever hand us the canonical node.

use crate::{cid_of, Cid, DAG_PB};

/// UnixFS `Data.Type` of a file.
const UNIXFS_FILE: u64 = 2;
const VARINT: u8 = 0;
const LEN: u8 = 2;

/// A child of an interior node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
	/// The child's CID: a raw leaf or another interior node.
	pub cid: Cid,
	/// Bytes of the file under the child (UnixFS `blocksizes`).
	pub file_size: u64,
	/// Bytes of every block under the child, the child included (dag-pb `Tsize`).
	pub dag_size: u64,
}

/// An interior node as read from its block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeView {
	/// The children in file order.
	pub links: Vec<Link>,
	/// Bytes of the file under this node (the sum of the children's).
	pub file_size: u64,
}

/// Why a block is not an interior node of this layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
	/// The block ends inside a field.
	Truncated,
	/// A varint longer than 64 bits.
	VarintOverflow,
	/// A field number or wire type that this layout never writes.
	UnexpectedField { field: u64, wire: u8 },
	/// A link's hash is not a CID.
	BadCid,
	/// The UnixFS data is not a file, lacks its size, or its sizes do not match the links.
	NotAFile,
	/// The node has no links.
	NoLinks,
	/// The fields are valid but not in the canonical form this layout writes.
	NotCanonical,
}

impl core::fmt::Display for DecodeError {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		match self {
			Self::Truncated => f.write_str("the block ends inside a field"),
			Self::VarintOverflow => f.write_str("a varint is longer than 64 bits"),
			Self::UnexpectedField { field, wire } => {
				write!(f, "unexpected field {field} (wire type {wire})")
			},
			Self::BadCid => f.write_str("a link's hash is not a valid CID"),
			Self::NotAFile => f.write_str("the UnixFS data is not a file with matching sizes"),
			Self::NoLinks => f.write_str("an interior node without links"),
			Self::NotCanonical => f.write_str("the node is not in canonical form"),
		}
	}
}

impl std::error::Error for DecodeError {}

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
	loop {
		let byte = (n & 0x7f) as u8;
		n >>= 7;
		if n == 0 {
			out.push(byte);
			return;
		}
		out.push(byte | 0x80);
	}
}

fn put_key(out: &mut Vec<u8>, field: u64, wire: u8) {
	put_varint(out, field << 3 | u64::from(wire));
}

fn put_bytes(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
	put_key(out, field, LEN);
	put_varint(out, bytes.len() as u64);
	out.extend_from_slice(bytes);
}

fn put_uint(out: &mut Vec<u8>, field: u64, value: u64) {
	put_key(out, field, VARINT);
	put_varint(out, value);
}

/// Encodes the interior node over `children` (in file order); returns its block and the link
/// that names it in its parent.
pub fn encode_node(children: &[Link]) -> (Vec<u8>, Link) {
	let mut block = Vec::with_capacity(children.len() * 48 + 16 + children.len() * 4);
	let mut link = Vec::with_capacity(48);
	for child in children {
		link.clear();
		put_bytes(&mut link, 1, &child.cid.to_bytes());
		put_bytes(&mut link, 2, b"");
		put_uint(&mut link, 3, child.dag_size);
		put_bytes(&mut block, 2, &link);
	}
	let file_size: u64 = children.iter().map(|c| c.file_size).sum();
	let mut data = Vec::with_capacity(8 + children.len() * 4);
	put_uint(&mut data, 1, UNIXFS_FILE);
	put_uint(&mut data, 3, file_size);
	for child in children {
		put_uint(&mut data, 4, child.file_size);
	}
	put_bytes(&mut block, 1, &data);
	let dag_size = block.len() as u64 + children.iter().map(|c| c.dag_size).sum::<u64>();
	let cid = cid_of(DAG_PB, &block);
	(
		block,
		Link {
			cid,
			file_size,
			dag_size,
		},
	)
}

/// A protobuf field as read: its number and its varint or length-delimited value.
enum Value<'a> {
	Uint(u64),
	Bytes(&'a [u8]),
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
	fn varint(&mut self) -> Result<u64, DecodeError> {
		let mut value = 0u64;
		for (i, byte) in self.0.iter().enumerate() {
			if i == 9 && *byte > 1 {
				return Err(DecodeError::VarintOverflow);
			}
			value |= u64::from(byte & 0x7f) << (7 * i);
			if byte & 0x80 == 0 {
				self.0 = &self.0[i + 1..];
				return Ok(value);
			}
			if i == 9 {
				return Err(DecodeError::VarintOverflow);
			}
		}
		Err(DecodeError::Truncated)
	}

	/// The next field, or `None` at the end.
	fn field(&mut self) -> Result<Option<(u64, Value<'a>)>, DecodeError> {
		if self.0.is_empty() {
			return Ok(None);
		}
		let key = self.varint()?;
		let (field, wire) = (key >> 3, (key & 7) as u8);
		let value = match wire {
			VARINT => Value::Uint(self.varint()?),
			LEN => {
				let len = usize::try_from(self.varint()?).map_err(|_| DecodeError::Truncated)?;
				if len > self.0.len() {
					return Err(DecodeError::Truncated);
				}
				let (bytes, rest) = self.0.split_at(len);
				self.0 = rest;
				Value::Bytes(bytes)
			},
			_ => return Err(DecodeError::UnexpectedField { field, wire }),
		};
		Ok(Some((field, value)))
	}
}

fn unexpected(field: u64, value: &Value<'_>) -> DecodeError {
	let wire = match value {
		Value::Uint(_) => VARINT,
		Value::Bytes(_) => LEN,
	};
	DecodeError::UnexpectedField { field, wire }
}

fn decode_link(bytes: &[u8]) -> Result<(Cid, u64), DecodeError> {
	let mut reader = Reader(bytes);
	let (mut cid, mut tsize) = (None, None);
	while let Some((field, value)) = reader.field()? {
		match (field, value) {
			(1, Value::Bytes(hash)) => {
				cid = Some(Cid::try_from(hash).map_err(|_| DecodeError::BadCid)?)
			},
			(2, Value::Bytes(_name)) => {},
			(3, Value::Uint(size)) => tsize = Some(size),
			(field, value) => return Err(unexpected(field, &value)),
		}
	}
	Ok((
		cid.ok_or(DecodeError::BadCid)?,
		tsize.ok_or(DecodeError::NotCanonical)?,
	))
}

/// Reads an interior node from its block.
///
/// Only the exact encoding [`encode_node`] writes is accepted. The caller checks separately
/// that the block is the one its CID names ([`crate::verify_block`]).
pub fn decode_node(block: &[u8]) -> Result<NodeView, DecodeError> {
	let mut reader = Reader(block);
	let mut children = Vec::new();
	let mut data = None;
	while let Some((field, value)) = reader.field()? {
		match (field, value) {
			(2, Value::Bytes(link)) => children.push(decode_link(link)?),
			(1, Value::Bytes(bytes)) => data = Some(bytes),
			(field, value) => return Err(unexpected(field, &value)),
		}
	}
	let data = data.ok_or(DecodeError::NotAFile)?;
	let mut reader = Reader(data);
	let (mut kind, mut file_size, mut sizes) = (None, None, Vec::new());
	while let Some((field, value)) = reader.field()? {
		match (field, value) {
			(1, Value::Uint(k)) => kind = Some(k),
			(3, Value::Uint(size)) => file_size = Some(size),
			(4, Value::Uint(size)) => sizes.push(size),
			(field, value) => return Err(unexpected(field, &value)),
		}
	}
	if children.is_empty() {
		return Err(DecodeError::NoLinks);
	}
	let file_size = file_size.ok_or(DecodeError::NotAFile)?;
	let total = sizes
		.iter()
		.try_fold(0u64, |sum, size| sum.checked_add(*size));
	if kind != Some(UNIXFS_FILE) || sizes.len() != children.len() || total != Some(file_size) {
		return Err(DecodeError::NotAFile);
	}
	let links: Vec<Link> = children
		.into_iter()
		.zip(sizes)
		.map(|((cid, dag_size), file_size)| Link {
			cid,
			file_size,
			dag_size,
		})
		.collect();
	if encode_node(&links).0 != block {
		return Err(DecodeError::NotCanonical);
	}
	Ok(NodeView { links, file_size })
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::RAW;

	fn leaf(bytes: &[u8]) -> Link {
		Link {
			cid: cid_of(RAW, bytes),
			file_size: bytes.len() as u64,
			dag_size: bytes.len() as u64,
		}
	}

	#[test]
	fn a_node_decodes_to_what_was_encoded() {
		let links = vec![leaf(b"abcd"), leaf(b"efgh"), leaf(b"ij")];
		let (block, link) = encode_node(&links);
		assert_eq!(link.file_size, 10);
		assert_eq!(link.dag_size, block.len() as u64 + 10);
		let view = decode_node(&block).expect("decodes");
		assert_eq!(view.links, links);
		assert_eq!(view.file_size, 10);
	}

	#[test]
	fn every_truncation_is_refused() {
		let (block, _) = encode_node(&[leaf(b"abcd"), leaf(b"ef")]);
		for len in 0..block.len() {
			assert!(decode_node(&block[..len]).is_err(), "prefix of {len} bytes");
		}
	}

	#[test]
	fn every_single_byte_change_is_refused_or_changes_the_node() {
		let links = vec![leaf(b"abcd"), leaf(b"ef")];
		let (block, _) = encode_node(&links);
		for at in 0..block.len() {
			for flip in [0x01u8, 0x80, 0xff] {
				let mut bad = block.clone();
				bad[at] ^= flip;
				if let Ok(view) = decode_node(&bad) {
					assert_ne!(view.links, links, "byte {at} ^ {flip:#x} went unnoticed");
				}
			}
		}
	}

	#[test]
	fn non_canonical_encodings_are_refused() {
		let links = vec![leaf(b"abcd"), leaf(b"ef")];
		let (block, _) = encode_node(&links);
		// Data before the links: same fields, other order.
		let data_at = block.len() - (2 + 2 + 2 + 2 + 2);
		let mut reordered = block[data_at..].to_vec();
		reordered.extend_from_slice(&block[..data_at]);
		assert_eq!(decode_node(&reordered), Err(DecodeError::NotCanonical));
		// An extra field.
		let mut extra = block.clone();
		extra.extend_from_slice(&[3 << 3, 1]);
		assert!(matches!(
			decode_node(&extra),
			Err(DecodeError::UnexpectedField { field: 3, .. })
		));
		// Sizes that do not add up.
		let mut data = Vec::new();
		put_uint(&mut data, 1, UNIXFS_FILE);
		put_uint(&mut data, 3, 7);
		put_uint(&mut data, 4, 4);
		put_uint(&mut data, 4, 2);
		let mut wrong = block[..data_at].to_vec();
		put_bytes(&mut wrong, 1, &data);
		assert_eq!(decode_node(&wrong), Err(DecodeError::NotAFile));
		// No links at all.
		let mut empty = Vec::new();
		let mut data = Vec::new();
		put_uint(&mut data, 1, UNIXFS_FILE);
		put_uint(&mut data, 3, 0);
		put_bytes(&mut empty, 1, &data);
		assert_eq!(decode_node(&empty), Err(DecodeError::NoLinks));
	}

	#[test]
	fn overlong_varints_are_refused() {
		let mut reader = Reader(&[0xff; 11]);
		assert_eq!(reader.varint(), Err(DecodeError::VarintOverflow));
		let mut reader = Reader(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
		assert_eq!(reader.varint(), Ok(u64::MAX));
		let mut reader = Reader(&[0x80]);
		assert_eq!(reader.varint(), Err(DecodeError::Truncated));
	}
}
