//! A fetch in progress on disk: the file being filled at its offsets, and a small state file
//! that lets a restarted node continue where it stopped.
//!
//! `<dir>/.fetch-<sha256>.part` is the model file, sparse until complete; beside it,
//! `.fetch-<sha256>.state` lists the offsets of the leaves written. The data is synced before
//! the state that claims it is written (atomically, by rename), so a crash leaves claims that
//! are at worst stale, never ahead of the data. A resumed fetch still re-hashes every claimed
//! leaf against its CID before trusting it, so a state file that lies costs a refetch, not a
//! corrupt model.

use crate::prefix_hash::PrefixHasher;
use model_dag::Cid;
use parking_lot::Mutex;
use std::{
	collections::{BTreeMap, BTreeSet},
	fs::{self, File},
	io::{self, Write},
	os::unix::fs::FileExt,
	path::{Path, PathBuf},
	sync::Arc,
};

const MAGIC: &[u8; 18] = b"cognitive-fetch/1\n";

/// The on-disk side of one fetch.
pub struct PartFile {
	data_path: PathBuf,
	state_path: PathBuf,
	file: Arc<File>,
	root: Cid,
	len: Option<u64>,
	/// Leaves written (offset → length), claimed by the state file once saved.
	done: BTreeMap<u64, u64>,
	/// Every byte before this offset is written.
	prefix_end: u64,
	/// The sha256 of that prefix, computed as it grows.
	hasher: PrefixHasher,
	/// Offsets claimed by the state file found at open, not yet re-verified.
	claimed: BTreeSet<u64>,
	unsaved: usize,
	/// Held while a state file is written, so two saves never interleave.
	writing: Arc<Mutex<()>>,
}

/// A save taken under the fetch's lock and written without it (see [`PartFile::take_save`]).
pub struct PendingSave {
	file: Arc<File>,
	state_path: PathBuf,
	state: Vec<u8>,
	writing: Arc<Mutex<()>>,
}

impl PendingSave {
	/// Makes the data durable — every leaf the claims name was written before they were
	/// taken — then replaces the state file with the claims.
	pub fn write(self) -> io::Result<()> {
		let _writing = self.writing.lock();
		self.file.sync_data()?;
		let mut temporary = self.state_path.as_os_str().to_owned();
		temporary.push(".new");
		let temporary = PathBuf::from(temporary);
		let mut file = File::create(&temporary)?;
		file.write_all(&self.state)?;
		file.sync_all()?;
		fs::rename(&temporary, &self.state_path)
	}
}

impl PartFile {
	/// Opens (or starts) the fetch of the model with sha256 `sha256` and root `root` in `dir`.
	/// A state file for another root is ignored (and overwritten at the next save).
	pub fn open(dir: &Path, root: Cid, sha256: &[u8; 32]) -> io::Result<Self> {
		fs::create_dir_all(dir)?;
		let stem = format!(".fetch-{}", hex::encode(sha256));
		let data_path = dir.join(format!("{stem}.part"));
		let state_path = dir.join(format!("{stem}.state"));
		let file = File::options()
			.read(true)
			.write(true)
			.create(true)
			.truncate(false)
			.open(&data_path)?;
		let (len, claimed) = match fs::read(&state_path) {
			Ok(bytes) => parse_state(&bytes, &root).unwrap_or_default(),
			Err(e) if e.kind() == io::ErrorKind::NotFound => Default::default(),
			Err(e) => return Err(e),
		};
		let actual = file.metadata()?.len();
		// Claims about a file of another length are void.
		let (len, claimed) = match len {
			Some(len) if len == actual => (Some(len), claimed),
			_ => (None, BTreeSet::new()),
		};
		let file = Arc::new(file);
		Ok(Self {
			data_path,
			state_path,
			hasher: PrefixHasher::new(file.clone()),
			file,
			root,
			len,
			done: BTreeMap::new(),
			prefix_end: 0,
			claimed,
			unsaved: 0,
			writing: Arc::new(Mutex::new(())),
		})
	}

	/// Where the data goes.
	pub fn data_path(&self) -> &Path {
		&self.data_path
	}

	/// The file's length, once the root said it.
	pub fn set_len(&mut self, len: u64) -> io::Result<()> {
		if self.len != Some(len) {
			self.claimed.clear();
			self.file.set_len(len)?;
			self.len = Some(len);
		}
		Ok(())
	}

	/// The data file, shared with whoever serves the leaves already written.
	pub fn shared_file(&self) -> Arc<File> {
		self.file.clone()
	}

	/// Whether the leaf at `offset` was written in this run (or verified from the last).
	pub fn is_done(&self, offset: u64) -> bool {
		self.done.contains_key(&offset)
	}

	/// Leaves written and not yet recorded in the state file.
	pub fn unsaved(&self) -> usize {
		self.unsaved
	}

	/// Copies `len` bytes at `from` (a leaf already written) to `to` (the same chunk again).
	pub fn copy_within(&self, from: u64, to: u64, len: u64) -> io::Result<()> {
		let mut buf = vec![0u8; usize::try_from(len).map_err(io::Error::other)?];
		self.file.read_exact_at(&mut buf, from)?;
		self.write_at(to, &buf)
	}

	/// Whether a previous run claimed the leaf at `offset` (still to be re-verified).
	pub fn was_claimed(&self, offset: u64) -> bool {
		self.claimed.contains(&offset)
	}

	/// Re-hashes the bytes at `[offset, offset + len)` and compares them with `cid`.
	pub fn verify_at(&self, cid: &Cid, offset: u64, len: u64) -> io::Result<bool> {
		let len = usize::try_from(len).map_err(io::Error::other)?;
		let mut buf = vec![0u8; len];
		self.file.read_exact_at(&mut buf, offset)?;
		Ok(model_dag::verify_block(cid, &buf))
	}

	/// Writes leaf bytes at `offset` (not yet durable: see [`Self::save`]).
	pub fn write_at(&self, offset: u64, bytes: &[u8]) -> io::Result<()> {
		match self.len {
			Some(len)
				if offset
					.checked_add(bytes.len() as u64)
					.is_some_and(|end| end <= len) =>
			{
				self.file.write_all_at(bytes, offset)
			},
			_ => Err(io::Error::other("a leaf outside the file")),
		}
	}

	/// Records the `len` bytes of the leaf at `offset` as written (they must be: the file's
	/// digest is computed from them as soon as the bytes before them are written too); returns
	/// how many leaves are unsaved.
	pub fn mark_done(&mut self, offset: u64, len: u64) -> usize {
		self.claimed.remove(&offset);
		if self.done.insert(offset, len).is_none() {
			self.unsaved += 1;
		}
		let before = self.prefix_end;
		while let Some(len) = self.done.get(&self.prefix_end).copied().filter(|l| *l > 0) {
			self.prefix_end += len;
		}
		if self.prefix_end > before {
			self.hasher.written_up_to(self.prefix_end);
		}
		self.unsaved
	}

	/// For the sha256 of the whole file once every leaf is written: the hasher that has been
	/// hashing the written prefix as the leaves arrived (see `prefix_hash`), and the length to
	/// finish it at. Finishing it (which hashes the rest) needs no lock on this part file.
	pub fn take_hasher(&mut self) -> io::Result<(PrefixHasher, u64)> {
		let len = self
			.len
			.ok_or_else(|| io::Error::other("the file's length is not known yet"))?;
		let fresh = PrefixHasher::new(self.file.clone());
		self.prefix_end = 0;
		Ok((std::mem::replace(&mut self.hasher, fresh), len))
	}

	/// Leaves written (this run and verified from the last).
	pub fn done_count(&self) -> usize {
		self.done.len()
	}

	/// Makes the written leaves durable, then records them in the state file.
	pub fn save(&mut self) -> io::Result<()> {
		match self.take_save() {
			Some(pending) => pending.write(),
			None => Ok(()),
		}
	}

	/// The claims of every leaf written so far, to be synced and recorded by
	/// [`PendingSave::write`] — on another thread, so that the fetch goes on writing meanwhile
	/// (a sync of many megabytes takes a while). `None` when nothing new was written.
	pub fn take_save(&mut self) -> Option<PendingSave> {
		if self.unsaved == 0 {
			return None;
		}
		let mut bytes = Vec::with_capacity(64 + self.done.len() * 8);
		bytes.extend_from_slice(MAGIC);
		let root = self.root.to_bytes();
		bytes.extend_from_slice(&(root.len() as u32).to_le_bytes());
		bytes.extend_from_slice(&root);
		bytes.extend_from_slice(&self.len.unwrap_or(0).to_le_bytes());
		bytes.extend_from_slice(&(self.done.len() as u64).to_le_bytes());
		for offset in self.done.keys() {
			bytes.extend_from_slice(&offset.to_le_bytes());
		}
		self.unsaved = 0;
		Some(PendingSave {
			file: self.file.clone(),
			state_path: self.state_path.clone(),
			state: bytes,
			writing: self.writing.clone(),
		})
	}

	/// The fetch is complete: syncs the data and forgets the state. Returns the data path.
	pub fn complete(self) -> io::Result<PathBuf> {
		self.file.sync_all()?;
		let _ = fs::remove_file(&self.state_path);
		Ok(self.data_path)
	}

	/// Deletes everything (the data is useless: it does not hash to the chain's sha256).
	pub fn discard(&self) {
		let _ = fs::remove_file(&self.state_path);
		let _ = fs::remove_file(&self.data_path);
	}
}

/// `(file length, claimed offsets)` from a state file, or `None` if it is malformed or for
/// another root.
fn parse_state(bytes: &[u8], root: &Cid) -> Option<(Option<u64>, BTreeSet<u64>)> {
	let rest = bytes.strip_prefix(MAGIC.as_slice())?;
	let (root_len, rest) = rest.split_first_chunk::<4>()?;
	let root_len = u32::from_le_bytes(*root_len) as usize;
	if root_len > rest.len() {
		return None;
	}
	let (stored_root, rest) = rest.split_at(root_len);
	if stored_root != root.to_bytes().as_slice() {
		return None;
	}
	let (len, rest) = rest.split_first_chunk::<8>()?;
	let (count, mut rest) = rest.split_first_chunk::<8>()?;
	let count = u64::from_le_bytes(*count);
	if count != rest.len() as u64 / 8 || rest.len() % 8 != 0 {
		return None;
	}
	let mut offsets = BTreeSet::new();
	while let Some((offset, tail)) = rest.split_first_chunk::<8>() {
		offsets.insert(u64::from_le_bytes(*offset));
		rest = tail;
	}
	Some((Some(u64::from_le_bytes(*len)), offsets))
}

#[cfg(test)]
mod tests {
	use super::*;
	use model_dag::{cid_of, RAW};

	fn dir(name: &str) -> PathBuf {
		let dir =
			std::env::temp_dir().join(format!("model-transfer-part-{}-{name}", std::process::id()));
		let _ = fs::remove_dir_all(&dir);
		dir
	}

	#[test]
	fn claims_survive_a_restart_and_are_checked_against_the_bytes() {
		let dir = dir("resume");
		let root = cid_of(RAW, b"root");
		let sha = [7u8; 32];
		let good = b"leaf one";
		let mut part = PartFile::open(&dir, root, &sha).unwrap();
		part.set_len(16).unwrap();
		part.write_at(0, good).unwrap();
		part.write_at(8, b"leaf two").unwrap();
		part.mark_done(0, 8);
		part.mark_done(8, 8);
		part.save().unwrap();
		drop(part);

		let part = PartFile::open(&dir, root, &sha).unwrap();
		assert!(part.was_claimed(0) && part.was_claimed(8));
		assert!(part.verify_at(&cid_of(RAW, good), 0, 8).unwrap());
		// The bytes at 8 are not what this CID names: a claim the fetcher will not trust.
		assert!(!part.verify_at(&cid_of(RAW, b"other!!!"), 8, 8).unwrap());
		drop(part);

		// A state file for another root is ignored.
		let other = PartFile::open(&dir, cid_of(RAW, b"another root"), &sha).unwrap();
		assert!(!other.was_claimed(0));
		let _ = fs::remove_dir_all(dir);
	}

	#[test]
	fn writes_outside_the_file_and_corrupt_states_are_refused() {
		let dir = dir("bounds");
		let root = cid_of(RAW, b"root");
		let sha = [9u8; 32];
		let mut part = PartFile::open(&dir, root, &sha).unwrap();
		assert!(part.write_at(0, b"x").is_err(), "no length yet");
		part.set_len(4).unwrap();
		assert!(part.write_at(2, b"xyz").is_err());
		assert!(part.write_at(u64::MAX, b"x").is_err());
		part.write_at(0, b"abcd").unwrap();
		part.mark_done(0, 4);
		part.save().unwrap();
		let state = dir.join(format!(".fetch-{}.state", hex::encode(sha)));
		let mut bytes = fs::read(&state).unwrap();
		bytes.pop();
		fs::write(&state, &bytes).unwrap();
		let part = PartFile::open(&dir, root, &sha).unwrap();
		assert!(!part.was_claimed(0));
		let path = part.complete().unwrap();
		assert!(path.exists() && !state.exists());
		let _ = fs::remove_dir_all(dir);
	}
}
