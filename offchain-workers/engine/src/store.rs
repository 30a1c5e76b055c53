//! The model store: GGUF files kept by content hash.
//!
//! Layout: `<dir>/<sha256 hex>.gguf` with a sidecar `<dir>/<sha256 hex>.json` holding the
//! human name and size. A file enters the store only through [`ModelStore::import`], which
//! hashes the bytes while copying them; a file's name is never trusted on its own:
//! [`ModelStore::verified`] hashes a file the first time a process uses it.
//!
//! ## Verified handles (audit L-1)
//!
//! Hashing a path and handing the same path to llama.cpp later is a time-of-check to
//! time-of-use race: anyone who can write to the store directory could rename other bytes over
//! `<sha256>.gguf` in between (or before a reload after an LRU unload). So verification hashes
//! the bytes of an open [`File`] and the store keeps that handle ([`VerifiedModel`]); the
//! engine loads through [`VerifiedModel::load_path`], `/proc/self/fd/<fd>` of the handle, which
//! names the verified inode whatever the directory entry points to by then. This needs Linux
//! (procfs), the only platform the node runs on.
//!
//! A handle pins an inode, not its contents: writing *into* the verified file in place is not
//! detected. The store directory must only be writable by the node's user; renaming over an
//! entry, the way every atomic writer (including [`ModelStore::import`]) replaces a file, is
//! what the handles defend against.

use model_dag::{sha256_reader, DagBuilder, Layout};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::{
	collections::HashMap,
	fs::{self, File},
	io::{self, Read, Write},
	path::{Path, PathBuf},
	sync::Arc,
};

/// A sha256 digest.
pub type ModelHash = [u8; 32];

/// What the store knows about one model file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredModel {
	/// Human name given at import (e.g. `SmolLM2-135M-Instruct-Q4_1`).
	pub name: String,
	/// sha256 of the file, lowercase hex.
	pub sha256: String,
	/// File size in bytes.
	pub size_bytes: u64,
	/// The file's IPFS CID (CIDv1 of its UnixFS DAG; see the `model-dag` crate), computed on
	/// import. Absent for files placed in the store by other means until they are imported.
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub cid: Option<String>,
}

impl StoredModel {
	/// The digest as bytes (`None` if the sidecar is corrupt).
	pub fn hash(&self) -> Option<ModelHash> {
		parse_hash(&self.sha256)
	}
}

/// Errors of the model store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
	/// Reading or writing a file failed.
	#[error("model store I/O error at {path}: {source}")]
	Io {
		/// The file or directory.
		path: PathBuf,
		/// The cause.
		source: io::Error,
	},
	/// The file's sha256 is not the one the caller expected.
	#[error("sha256 mismatch for {path}: expected {expected}, found {found}")]
	HashMismatch {
		/// The file.
		path: PathBuf,
		/// Expected digest (hex).
		expected: String,
		/// Actual digest (hex).
		found: String,
	},
	/// The file does not start with the GGUF magic.
	#[error("{0} is not a GGUF file")]
	NotGguf(PathBuf),
	/// No model with that hash or name is in the store.
	#[error("model {0} is not in the store")]
	UnknownModel(String),
	/// Names must be 1..=128 printable ASCII characters.
	#[error("invalid model name {0:?}")]
	InvalidName(String),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
	move |source| StoreError::Io {
		path: path.to_path_buf(),
		source,
	}
}

/// Parses 64 hex characters (an optional `0x` prefix allowed) into a digest.
pub fn parse_hash(text: &str) -> Option<ModelHash> {
	let text = text.strip_prefix("0x").unwrap_or(text);
	let bytes = hex::decode(text).ok()?;
	bytes.try_into().ok()
}

/// Names are 1..=128 printable ASCII characters.
fn check_name(name: &str) -> Result<(), StoreError> {
	if name.is_empty() || name.len() > 128 || !name.bytes().all(|b| (0x20..0x7f).contains(&b)) {
		return Err(StoreError::InvalidName(name.to_string()));
	}
	Ok(())
}

/// sha256 of a file, streamed.
pub fn sha256_file(path: &Path) -> Result<ModelHash, StoreError> {
	let mut file = File::open(path).map_err(io_err(path))?;
	sha256_reader(&mut file)
		.map(|(hash, _)| hash)
		.map_err(io_err(path))
}

/// A model file whose bytes this process hashed through an open handle and found to match its
/// sha256. Cloning shares the handle, which stays open as long as any clone (or the store's
/// cache) holds it.
#[derive(Clone, Debug)]
pub struct VerifiedModel {
	hash: ModelHash,
	size_bytes: u64,
	file: Arc<File>,
}

impl VerifiedModel {
	/// The sha256 the bytes were checked against.
	pub fn hash(&self) -> &ModelHash {
		&self.hash
	}

	/// Size of the verified file in bytes.
	pub fn size_bytes(&self) -> u64 {
		self.size_bytes
	}

	/// The open handle whose bytes were hashed.
	pub fn file(&self) -> &File {
		&self.file
	}

	/// A path that opens the verified file itself, not whatever the store's directory entry
	/// names now: `/proc/self/fd/<fd>` of the handle (Linux). Opening it creates a new file
	/// description for the same inode (its own offset), so llama.cpp can open, read and map it
	/// like any file while the store keeps the handle. Valid as long as `self` lives.
	pub fn load_path(&self) -> PathBuf {
		use std::os::fd::AsRawFd;
		PathBuf::from(format!("/proc/self/fd/{}", self.file.as_raw_fd()))
	}
}

/// What identified a file whose hash was wrong, so that asking again about the same bytes does
/// not hash a possibly large file once more (the off-chain worker asks every block).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FileStamp {
	dev: u64,
	ino: u64,
	len: u64,
	modified: Option<std::time::SystemTime>,
}

impl FileStamp {
	fn of(meta: &fs::Metadata) -> Self {
		use std::os::unix::fs::MetadataExt;
		Self {
			dev: meta.dev(),
			ino: meta.ino(),
			len: meta.len(),
			modified: meta.modified().ok(),
		}
	}
}

/// A rejected file: its stamp and the digest it really has.
#[derive(Clone, Copy, Debug)]
struct Rejected {
	stamp: FileStamp,
	found: ModelHash,
}

/// A directory of GGUF files named by their sha256.
pub struct ModelStore {
	dir: PathBuf,
	/// Handles of files hashed by this process and found intact.
	verified: Mutex<HashMap<ModelHash, VerifiedModel>>,
	/// Files found corrupt, by the digest they are stored under.
	rejected: Mutex<HashMap<ModelHash, Rejected>>,
}

impl ModelStore {
	/// Opens (and creates) the store directory.
	pub fn open(dir: impl Into<PathBuf>) -> Result<Self, StoreError> {
		let dir = dir.into();
		fs::create_dir_all(&dir).map_err(io_err(&dir))?;
		Ok(Self {
			dir,
			verified: Mutex::new(HashMap::new()),
			rejected: Mutex::new(HashMap::new()),
		})
	}

	/// The store directory.
	pub fn dir(&self) -> &Path {
		&self.dir
	}

	fn model_path(&self, hash: &ModelHash) -> PathBuf {
		self.dir.join(format!("{}.gguf", hex::encode(hash)))
	}

	fn sidecar_path(&self, hash: &ModelHash) -> PathBuf {
		self.dir.join(format!("{}.json", hex::encode(hash)))
	}

	/// Writes the JSON sidecar of a model (name, sha256, size, CID).
	fn write_entry(&self, hash: &ModelHash, entry: &StoredModel) -> Result<(), StoreError> {
		let sidecar = self.sidecar_path(hash);
		let json = serde_json::to_vec_pretty(entry).map_err(|e| StoreError::Io {
			path: sidecar.clone(),
			source: io::Error::other(e),
		})?;
		fs::write(&sidecar, json).map_err(io_err(&sidecar))
	}

	/// Where the interior nodes of a model's DAG are kept (see `model_dag::write_interior`).
	pub fn dag_path(&self, hash: &ModelHash) -> PathBuf {
		self.dir.join(format!("{}.dag", hex::encode(hash)))
	}

	/// Copies `source` into the store under `name`, hashing it on the way: its sha256 and its
	/// UnixFS DAG (the CID, and the interior nodes kept beside it for serving). With
	/// `expected`, the import fails (and leaves nothing behind) unless the digest matches.
	/// Importing a file that is already present only updates its name.
	pub fn import(
		&self,
		source: &Path,
		name: &str,
		expected: Option<ModelHash>,
	) -> Result<StoredModel, StoreError> {
		check_name(name)?;
		let mut input = File::open(source).map_err(io_err(source))?;
		let mut magic = [0u8; 4];
		input
			.read_exact(&mut magic)
			.map_err(|_| StoreError::NotGguf(source.to_path_buf()))?;
		if &magic != b"GGUF" {
			return Err(StoreError::NotGguf(source.to_path_buf()));
		}
		let partial = self
			.dir
			.join(format!(".import-{}.partial", std::process::id()));
		let result = (|| {
			// Opened for reading too: after the rename this handle is the store's verified
			// handle of the file, whose bytes are the ones hashed here.
			let mut out = File::options()
				.read(true)
				.write(true)
				.create(true)
				.truncate(true)
				.open(&partial)
				.map_err(io_err(&partial))?;
			// One pass: the DAG builder computes the sha256 beside the chunks' CIDs.
			let mut dag = DagBuilder::new(Layout::MODEL);
			dag.update(&magic);
			out.write_all(&magic).map_err(io_err(&partial))?;
			let mut buf = vec![0u8; 1 << 20];
			loop {
				let n = input.read(&mut buf).map_err(io_err(source))?;
				if n == 0 {
					break;
				}
				dag.update(&buf[..n]);
				out.write_all(&buf[..n]).map_err(io_err(&partial))?;
			}
			out.sync_all().map_err(io_err(&partial))?;
			let dag = dag.finish().map_err(|e| StoreError::Io {
				path: source.to_path_buf(),
				source: io::Error::other(e),
			})?;
			let (hash, size) = (dag.sha256, dag.file_size);
			if let Some(expected) = expected {
				if expected != hash {
					return Err(StoreError::HashMismatch {
						path: source.to_path_buf(),
						expected: hex::encode(expected),
						found: hex::encode(hash),
					});
				}
			}
			Ok((hash, size, dag, out))
		})();
		let (hash, size, dag, file) = match result {
			Ok(v) => v,
			Err(e) => {
				let _ = fs::remove_file(&partial);
				return Err(e);
			},
		};
		// The interior nodes first: a model file in the store always has its DAG beside it.
		let dag_path = self.dag_path(&hash);
		if let Err(e) = model_dag::write_interior(&dag_path, &dag) {
			let _ = fs::remove_file(&partial);
			return Err(io_err(&dag_path)(e));
		}
		let target = self.model_path(&hash);
		fs::rename(&partial, &target).map_err(io_err(&target))?;
		let entry = StoredModel {
			name: name.to_string(),
			sha256: hex::encode(hash),
			size_bytes: size,
			cid: Some(dag.root.to_string()),
		};
		self.write_entry(&hash, &entry)?;
		self.rejected.lock().remove(&hash);
		// A handle verified earlier names a file with the same bytes; keep it.
		self.verified.lock().entry(hash).or_insert(VerifiedModel {
			hash,
			size_bytes: size,
			file: Arc::new(file),
		});
		Ok(entry)
	}

	/// Takes in a model file that was assembled inside the store directory (a fetch from
	/// peers writes there, so this is a rename, never a copy) whose sha256 the caller has
	/// checked, with the interior nodes of its DAG (the root, `cid`, last). The engine still
	/// hashes the file through its own handle the first time it uses it.
	pub fn adopt(
		&self,
		file: &Path,
		name: &str,
		hash: ModelHash,
		cid: &str,
		interior: &[model_dag::InteriorNode],
	) -> Result<StoredModel, StoreError> {
		check_name(name)?;
		let size_bytes = fs::metadata(file).map_err(io_err(file))?.len();
		let dag_path = self.dag_path(&hash);
		model_dag::write_interior_nodes(&dag_path, Layout::MODEL, interior)
			.map_err(io_err(&dag_path))?;
		let target = self.model_path(&hash);
		fs::rename(file, &target).map_err(io_err(&target))?;
		let entry = StoredModel {
			name: name.to_string(),
			sha256: hex::encode(hash),
			size_bytes,
			cid: Some(cid.to_string()),
		};
		self.write_entry(&hash, &entry)?;
		self.rejected.lock().remove(&hash);
		Ok(entry)
	}

	/// Makes sure the model `hash` has its CID and DAG sidecar, computing them from the file
	/// when missing (files placed in the store by other means than [`Self::import`], such as
	/// `scripts/install-models.sh` or an older node). The file must hash to `hash`.
	pub fn ensure_dag(&self, hash: &ModelHash) -> Result<StoredModel, StoreError> {
		let entry = self.resolve(&hex::encode(hash))?;
		let dag_path = self.dag_path(hash);
		if let Some(cid) = entry
			.cid
			.as_deref()
			.and_then(|c| c.parse::<model_dag::Cid>().ok())
		{
			if model_dag::read_interior(&dag_path, &cid).is_ok() {
				return Ok(entry);
			}
		}
		let path = self.model_path(hash);
		let file = File::open(&path).map_err(io_err(&path))?;
		let dag = model_dag::build_from_reader(
			io::BufReader::with_capacity(1 << 20, file),
			Layout::MODEL,
		)
		.map_err(|e| StoreError::Io {
			path: path.clone(),
			source: io::Error::other(e),
		})?;
		if dag.sha256 != *hash {
			return Err(StoreError::HashMismatch {
				path,
				expected: hex::encode(hash),
				found: hex::encode(dag.sha256),
			});
		}
		model_dag::write_interior(&dag_path, &dag).map_err(io_err(&dag_path))?;
		let entry = StoredModel {
			cid: Some(dag.root.to_string()),
			..entry
		};
		self.write_entry(hash, &entry)?;
		Ok(entry)
	}

	/// Where the file of the model with this digest is (whether or not it exists).
	pub fn file_path(&self, hash: &ModelHash) -> PathBuf {
		self.model_path(hash)
	}

	/// Every model in the store, by name. Files without a readable sidecar are listed under
	/// their hash.
	pub fn list(&self) -> Result<Vec<StoredModel>, StoreError> {
		let mut models = Vec::new();
		for entry in fs::read_dir(&self.dir).map_err(io_err(&self.dir))? {
			let entry = entry.map_err(io_err(&self.dir))?;
			let file_name = entry.file_name();
			let Some(stem) = file_name.to_str().and_then(|n| n.strip_suffix(".gguf")) else {
				continue;
			};
			let Some(hash) = parse_hash(stem) else {
				continue;
			};
			let size_bytes = entry.metadata().map(|m| m.len()).unwrap_or(0);
			let sidecar = fs::read(self.sidecar_path(&hash))
				.ok()
				.and_then(|bytes| serde_json::from_slice::<StoredModel>(&bytes).ok());
			let (name, cid) = match sidecar {
				Some(m) => (m.name, m.cid),
				None => (stem.to_string(), None),
			};
			models.push(StoredModel {
				name,
				sha256: stem.to_string(),
				size_bytes,
				cid,
			});
		}
		models.sort_by(|a, b| a.name.cmp(&b.name).then(a.sha256.cmp(&b.sha256)));
		Ok(models)
	}

	/// Finds a model by sha256 (hex) or by name.
	pub fn resolve(&self, name_or_hash: &str) -> Result<StoredModel, StoreError> {
		let models = self.list()?;
		let by_hash = parse_hash(name_or_hash).map(hex::encode);
		models
			.into_iter()
			.find(|m| Some(&m.sha256) == by_hash.as_ref() || m.name == name_or_hash)
			.ok_or_else(|| StoreError::UnknownModel(name_or_hash.to_string()))
	}

	/// Deletes the model `name_or_hash` (its file, sidecar and DAG) and forgets any handle this
	/// store holds for it; returns what was removed. A running engine that loaded the model
	/// keeps its open handle until it unloads it.
	pub fn remove(&self, name_or_hash: &str) -> Result<StoredModel, StoreError> {
		let entry = self.resolve(name_or_hash)?;
		let hash = entry
			.hash()
			.ok_or_else(|| StoreError::UnknownModel(name_or_hash.to_string()))?;
		for path in [
			self.model_path(&hash),
			self.sidecar_path(&hash),
			self.dag_path(&hash),
		] {
			match fs::remove_file(&path) {
				Ok(()) => {},
				Err(e) if e.kind() == io::ErrorKind::NotFound => {},
				Err(e) => return Err(io_err(&path)(e)),
			}
		}
		self.verified.lock().remove(&hash);
		self.rejected.lock().remove(&hash);
		Ok(entry)
	}

	/// Whether a file for `hash` is present: either this process holds a verified handle of it,
	/// or a file by that name is in the directory (not verified yet).
	pub fn contains(&self, hash: &ModelHash) -> bool {
		self.verified.lock().contains_key(hash) || self.model_path(hash).is_file()
	}

	/// Whether this process holds a verified handle for `hash` (cheap; hashes nothing).
	pub fn is_verified(&self, hash: &ModelHash) -> bool {
		self.verified.lock().contains_key(hash)
	}

	/// The verified handle of the model file for `hash`.
	///
	/// The first call in a process opens the store file, hashes the bytes read from that handle
	/// and keeps the handle; later calls return it without touching the directory again, so
	/// what the engine loads (then, and on every reload) is exactly what was hashed. A corrupt
	/// file is reported, never handed out; asking again about the same unchanged file reports
	/// it again without re-hashing.
	pub fn verified(&self, hash: &ModelHash) -> Result<VerifiedModel, StoreError> {
		if let Some(model) = self.verified.lock().get(hash) {
			return Ok(model.clone());
		}
		let path = self.model_path(hash);
		let mut file = match File::open(&path) {
			Ok(file) => file,
			Err(e) if e.kind() == io::ErrorKind::NotFound => {
				return Err(StoreError::UnknownModel(hex::encode(hash)))
			},
			Err(e) => return Err(io_err(&path)(e)),
		};
		let meta = file.metadata().map_err(io_err(&path))?;
		if !meta.is_file() {
			return Err(StoreError::UnknownModel(hex::encode(hash)));
		}
		let stamp = FileStamp::of(&meta);
		let mismatch = |found: &ModelHash| StoreError::HashMismatch {
			path: path.clone(),
			expected: hex::encode(hash),
			found: hex::encode(found),
		};
		if let Some(rejected) = self.rejected.lock().get(hash) {
			if rejected.stamp == stamp {
				return Err(mismatch(&rejected.found));
			}
		}
		// Hashing a large file takes a while: no lock is held meanwhile. Two threads verifying
		// the same file both hash it and the first handle stored wins; either is correct.
		let (found, size_bytes) = sha256_reader(&mut file).map_err(io_err(&path))?;
		if &found != hash {
			self.rejected
				.lock()
				.insert(*hash, Rejected { stamp, found });
			return Err(mismatch(&found));
		}
		self.rejected.lock().remove(hash);
		let model = VerifiedModel {
			hash: *hash,
			size_bytes,
			file: Arc::new(file),
		};
		Ok(self.verified.lock().entry(*hash).or_insert(model).clone())
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use sha2::{Digest, Sha256};

	fn temp_dir(tag: &str) -> PathBuf {
		let dir = std::env::temp_dir().join(format!(
			"inference-store-{tag}-{}-{:?}",
			std::process::id(),
			std::thread::current().id()
		));
		let _ = fs::remove_dir_all(&dir);
		fs::create_dir_all(&dir).expect("temp dir");
		dir
	}

	#[test]
	fn import_hashes_and_checks_expected_digest() {
		let dir = temp_dir("import");
		let src = dir.join("m.bin");
		fs::write(&src, b"GGUF rest of a file").expect("write");
		let store = ModelStore::open(dir.join("store")).expect("open");
		let digest: ModelHash = Sha256::digest(b"GGUF rest of a file").into();

		let err = store
			.import(&src, "m", Some([0; 32]))
			.expect_err("wrong digest");
		assert!(matches!(err, StoreError::HashMismatch { .. }));
		assert!(
			store.list().expect("list").is_empty(),
			"a failed import leaves nothing"
		);
		assert_eq!(
			fs::read_dir(store.dir()).expect("read dir").count(),
			0,
			"no partial file, sidecar or DAG left behind"
		);

		let entry = store.import(&src, "m", Some(digest)).expect("import");
		assert_eq!(entry.hash(), Some(digest));
		// The CID is computed on import, and the DAG's interior (none: one chunk) is kept.
		let dag = model_dag::build(b"GGUF rest of a file", Layout::MODEL).expect("dag");
		assert_eq!(entry.cid, Some(dag.root.to_string()));
		let (_, interior) =
			model_dag::read_interior(&store.dag_path(&digest), &dag.root).expect("DAG file");
		assert!(interior.is_empty());
		assert_eq!(store.resolve("m").expect("by name"), entry);
		assert_eq!(store.resolve(&hex::encode(digest)).expect("by hash"), entry);
		assert!(matches!(
			store.resolve("other"),
			Err(StoreError::UnknownModel(_))
		));
	}

	#[test]
	fn import_of_a_multi_chunk_file_keeps_its_dag_beside_it() {
		let dir = temp_dir("import-dag");
		let src = dir.join("m.bin");
		let mut bytes = b"GGUF".to_vec();
		bytes.extend((0..(5 << 19) as u32).map(|i| (i % 251) as u8));
		fs::write(&src, &bytes).expect("write");
		let store = ModelStore::open(dir.join("store")).expect("open");
		let entry = store.import(&src, "m", None).expect("import");
		let dag = model_dag::build(&bytes, Layout::MODEL).expect("dag");
		assert_eq!(entry.cid, Some(dag.root.to_string()));
		let hash = entry.hash().expect("hash");
		let (layout, interior) =
			model_dag::read_interior(&store.dag_path(&hash), &dag.root).expect("DAG file");
		assert_eq!(layout, Layout::MODEL);
		assert_eq!(interior, dag.interior);
		// The sidecar lists the CID too, and `list` reads it back.
		assert_eq!(store.list().expect("list"), vec![entry.clone()]);
		// Removing by name deletes the file, its sidecar and its DAG.
		assert_eq!(store.remove("m").expect("remove"), entry);
		assert_eq!(fs::read_dir(store.dir()).expect("read dir").count(), 0);
		assert!(!store.contains(&hash));
		assert!(matches!(
			store.remove("m"),
			Err(StoreError::UnknownModel(_))
		));
	}

	#[test]
	fn adopting_a_fetched_file_renames_it_in_and_verifies_on_first_use() {
		let dir = temp_dir("adopt");
		let store = ModelStore::open(dir.join("store")).expect("open");
		let mut bytes = b"GGUF".to_vec();
		bytes.extend((0..(3 << 19) as u32).map(|i| (i % 241) as u8));
		let dag = model_dag::build(&bytes, Layout::MODEL).expect("dag");
		let fetched = store.dir().join(".fetch-x.part");
		fs::write(&fetched, &bytes).expect("write");
		let entry = store
			.adopt(
				&fetched,
				"fetched",
				dag.sha256,
				&dag.root.to_string(),
				&dag.interior,
			)
			.expect("adopt");
		assert!(!fetched.exists(), "renamed, not copied");
		assert_eq!(entry.cid, Some(dag.root.to_string()));
		assert_eq!(store.list().expect("list"), vec![entry]);
		let (_, interior) =
			model_dag::read_interior(&store.dag_path(&dag.sha256), &dag.root).expect("dag");
		assert_eq!(interior, dag.interior);
		assert!(store.verified(&dag.sha256).is_ok());

		// A model without its DAG (installed by copying) gets it computed on demand.
		fs::remove_file(store.dag_path(&dag.sha256)).expect("remove dag");
		assert_eq!(
			store.ensure_dag(&dag.sha256).expect("ensure").cid,
			Some(dag.root.to_string())
		);
		assert!(model_dag::read_interior(&store.dag_path(&dag.sha256), &dag.root).is_ok());

		// A file adopted under the wrong digest is caught the first time it is used.
		let wrong = store.dir().join(".fetch-y.part");
		fs::write(&wrong, b"GGUF not what the digest says").expect("write");
		let lie = [7u8; 32];
		store
			.adopt(&wrong, "lie", lie, &dag.root.to_string(), &dag.interior)
			.expect("adopt");
		assert!(matches!(
			store.verified(&lie),
			Err(StoreError::HashMismatch { .. })
		));
	}

	#[test]
	fn rejects_non_gguf_and_bad_names() {
		let dir = temp_dir("reject");
		let src = dir.join("x.bin");
		fs::write(&src, b"not a model").expect("write");
		let store = ModelStore::open(dir.join("store")).expect("open");
		assert!(matches!(
			store.import(&src, "x", None),
			Err(StoreError::NotGguf(_))
		));
		assert!(matches!(
			store.import(&dir.join("missing"), "x", None),
			Err(StoreError::Io { .. })
		));
		fs::write(&src, b"GGUF").expect("write");
		assert!(matches!(
			store.import(&src, "", None),
			Err(StoreError::InvalidName(_))
		));
	}

	/// Writes `bytes` next to `target` and renames them over it, the way an atomic writer
	/// replaces a file: the directory entry names a new inode afterwards.
	fn swap_in(target: &Path, bytes: &[u8]) {
		let tmp = target.with_extension("swap");
		fs::write(&tmp, bytes).unwrap();
		fs::rename(&tmp, target).unwrap();
	}

	fn sha256_of(bytes: &[u8]) -> ModelHash {
		Sha256::digest(bytes).into()
	}

	#[test]
	fn verified_handle_reads_the_hashed_bytes_after_the_file_is_swapped() {
		let dir = temp_dir("swap");
		let src = dir.join("m.bin");
		fs::write(&src, b"GGUF original model bytes").unwrap();
		let store_dir = dir.join("store");
		let importer = ModelStore::open(&store_dir).unwrap();
		let hash = importer.import(&src, "m", None).unwrap().hash().unwrap();
		// Another process (a fresh store) verifies the file by itself.
		let store = ModelStore::open(&store_dir).unwrap();
		assert!(!store.is_verified(&hash));
		let verified = store.verified(&hash).unwrap();
		assert_eq!(verified.hash(), &hash);
		assert_eq!(verified.size_bytes(), 25);
		assert!(verified.load_path().starts_with("/proc/self/fd"));

		let target = store_dir.join(format!("{}.gguf", hex::encode(hash)));
		swap_in(&target, b"GGUF swapped in by someone else");
		assert_ne!(
			sha256_of(&fs::read(&target).unwrap()),
			hash,
			"the store path changed"
		);

		// What the engine loads is still what was hashed: through the handle kept at
		// verification, on the first load and on every later one.
		assert_eq!(sha256_of(&fs::read(verified.load_path()).unwrap()), hash);
		let again = store.verified(&hash).unwrap();
		assert_eq!(sha256_of(&fs::read(again.load_path()).unwrap()), hash);
		// The importer kept the handle of the file it wrote and hashed.
		let imported = importer.verified(&hash).unwrap();
		assert_eq!(sha256_of(&fs::read(imported.load_path()).unwrap()), hash);
		// A process that starts now sees the swapped file for what it is.
		assert!(matches!(
			ModelStore::open(&store_dir).unwrap().verified(&hash),
			Err(StoreError::HashMismatch { .. })
		));
	}

	#[test]
	fn a_rejected_file_is_accepted_once_the_right_bytes_are_in_place() {
		let dir = temp_dir("reject-then-fix");
		let store = ModelStore::open(&dir).unwrap();
		let digest = sha256_of(b"GGUF good");
		let target = dir.join(format!("{}.gguf", hex::encode(digest)));
		fs::write(&target, b"GGUF bad!").unwrap();
		for _ in 0..2 {
			assert!(matches!(
				store.verified(&digest),
				Err(StoreError::HashMismatch { .. })
			));
		}
		assert!(!store.is_verified(&digest));
		// Remembering the rejection never outlives the bad file.
		swap_in(&target, b"GGUF good");
		assert_eq!(store.verified(&digest).unwrap().hash(), &digest);
		assert!(store.is_verified(&digest));
	}

	#[test]
	fn tampered_file_is_not_trusted_by_name() {
		let dir = temp_dir("tamper");
		let store = ModelStore::open(&dir).expect("open");
		let digest: ModelHash = Sha256::digest(b"GGUF original").into();
		// A file placed by hand under a digest it does not have.
		fs::write(
			dir.join(format!("{}.gguf", hex::encode(digest))),
			b"GGUF tampered",
		)
		.expect("write");
		assert!(matches!(
			store.verified(&digest),
			Err(StoreError::HashMismatch { .. })
		));
		assert!(matches!(
			store.verified(&[9; 32]),
			Err(StoreError::UnknownModel(_))
		));
	}
}
