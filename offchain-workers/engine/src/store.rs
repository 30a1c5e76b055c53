//! The model store: GGUF files kept by content hash.
//!
//! Layout: `<dir>/<sha256 hex>.gguf` with a sidecar `<dir>/<sha256 hex>.json` holding the
//! human name and size. A file enters the store only through [`ModelStore::import`], which
//! hashes the bytes while copying them; a file's name is never trusted on its own:
//! [`ModelStore::verified_path`] re-hashes a file the first time a process loads it.

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::{
	collections::HashSet,
	fs,
	io::{self, Read, Write},
	path::{Path, PathBuf},
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

/// sha256 of a file, streamed.
pub fn sha256_file(path: &Path) -> Result<ModelHash, StoreError> {
	let mut file = fs::File::open(path).map_err(io_err(path))?;
	let mut hasher = Sha256::new();
	let mut buf = vec![0u8; 1 << 20];
	loop {
		let n = file.read(&mut buf).map_err(io_err(path))?;
		if n == 0 {
			break;
		}
		hasher.update(&buf[..n]);
	}
	Ok(hasher.finalize().into())
}

/// A directory of GGUF files named by their sha256.
pub struct ModelStore {
	dir: PathBuf,
	/// Files hashed by this process and found intact.
	verified: Mutex<HashSet<ModelHash>>,
}

impl ModelStore {
	/// Opens (and creates) the store directory.
	pub fn open(dir: impl Into<PathBuf>) -> Result<Self, StoreError> {
		let dir = dir.into();
		fs::create_dir_all(&dir).map_err(io_err(&dir))?;
		Ok(Self {
			dir,
			verified: Mutex::new(HashSet::new()),
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

	/// Copies `source` into the store under `name`, hashing it on the way. With `expected`,
	/// the import fails (and leaves nothing behind) unless the digest matches. Importing a
	/// file that is already present only updates its name.
	pub fn import(
		&self,
		source: &Path,
		name: &str,
		expected: Option<ModelHash>,
	) -> Result<StoredModel, StoreError> {
		if name.is_empty() || name.len() > 128 || !name.bytes().all(|b| (0x20..0x7f).contains(&b)) {
			return Err(StoreError::InvalidName(name.to_string()));
		}
		let mut input = fs::File::open(source).map_err(io_err(source))?;
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
			let mut out = fs::File::create(&partial).map_err(io_err(&partial))?;
			let mut hasher = Sha256::new();
			hasher.update(magic);
			out.write_all(&magic).map_err(io_err(&partial))?;
			let mut size = magic.len() as u64;
			let mut buf = vec![0u8; 1 << 20];
			loop {
				let n = input.read(&mut buf).map_err(io_err(source))?;
				if n == 0 {
					break;
				}
				hasher.update(&buf[..n]);
				out.write_all(&buf[..n]).map_err(io_err(&partial))?;
				size += n as u64;
			}
			out.sync_all().map_err(io_err(&partial))?;
			let hash: ModelHash = hasher.finalize().into();
			if let Some(expected) = expected {
				if expected != hash {
					return Err(StoreError::HashMismatch {
						path: source.to_path_buf(),
						expected: hex::encode(expected),
						found: hex::encode(hash),
					});
				}
			}
			Ok((hash, size))
		})();
		let (hash, size) = match result {
			Ok(v) => v,
			Err(e) => {
				let _ = fs::remove_file(&partial);
				return Err(e);
			},
		};
		let target = self.model_path(&hash);
		fs::rename(&partial, &target).map_err(io_err(&target))?;
		let entry = StoredModel {
			name: name.to_string(),
			sha256: hex::encode(hash),
			size_bytes: size,
		};
		let sidecar = self.sidecar_path(&hash);
		let json = serde_json::to_vec_pretty(&entry).map_err(|e| StoreError::Io {
			path: sidecar.clone(),
			source: io::Error::other(e),
		})?;
		fs::write(&sidecar, json).map_err(io_err(&sidecar))?;
		self.verified.lock().insert(hash);
		Ok(entry)
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
			let name = fs::read(self.sidecar_path(&hash))
				.ok()
				.and_then(|bytes| serde_json::from_slice::<StoredModel>(&bytes).ok())
				.map(|m| m.name)
				.unwrap_or_else(|| stem.to_string());
			models.push(StoredModel {
				name,
				sha256: stem.to_string(),
				size_bytes,
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

	/// Whether a file for `hash` is present (not verified).
	pub fn contains(&self, hash: &ModelHash) -> bool {
		self.model_path(hash).is_file()
	}

	/// The path of a model file whose bytes were checked against `hash` in this process.
	/// Re-hashes the file the first time; a corrupt file is reported, never loaded.
	pub fn verified_path(&self, hash: &ModelHash) -> Result<PathBuf, StoreError> {
		let path = self.model_path(hash);
		if !path.is_file() {
			return Err(StoreError::UnknownModel(hex::encode(hash)));
		}
		if self.verified.lock().contains(hash) {
			return Ok(path);
		}
		let found = sha256_file(&path)?;
		if &found != hash {
			return Err(StoreError::HashMismatch {
				path,
				expected: hex::encode(hash),
				found: hex::encode(found),
			});
		}
		self.verified.lock().insert(*hash);
		Ok(path)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

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

		let entry = store.import(&src, "m", Some(digest)).expect("import");
		assert_eq!(entry.hash(), Some(digest));
		assert_eq!(store.resolve("m").expect("by name"), entry);
		assert_eq!(store.resolve(&hex::encode(digest)).expect("by hash"), entry);
		assert!(matches!(
			store.resolve("other"),
			Err(StoreError::UnknownModel(_))
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
			store.verified_path(&digest),
			Err(StoreError::HashMismatch { .. })
		));
		assert!(matches!(
			store.verified_path(&[9; 32]),
			Err(StoreError::UnknownModel(_))
		));
	}
}
