//! `cognitive-node model …`: the operator's commands for the model store.
//!
//! `import` copies a GGUF file into the store, computing its sha256 and its IPFS CID (the two
//! names the chain's whitelist gives a model) and keeping the DAG's interior nodes beside it;
//! `ls` lists the store; `rm` deletes a model. They work on the store directory only and need
//! no running node.

use inference_engine::{store::parse_hash, ModelStore, StoredModel};
use std::path::PathBuf;

/// The model store directory, as the node itself resolves it.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreArgs {
	/// Directory of the model store. Default: `$COGNITIVE_MODEL_STORE`, else
	/// `~/.local/share/cognitive-internet/models` (the same as the node's `--model-store`).
	#[arg(long, value_name = "PATH")]
	pub model_store: Option<PathBuf>,
}

impl StoreArgs {
	fn open(&self) -> Result<ModelStore, String> {
		let dir = crate::inference::store_dir(self.model_store.as_ref());
		ModelStore::open(&dir)
			.map_err(|e| format!("cannot open the model store {}: {e}", dir.display()))
	}
}

/// `cognitive-node model`.
#[derive(Debug, clap::Subcommand)]
pub enum ModelCmd {
	/// Copy a GGUF file into the store; prints its name, sha256, CID and size.
	Import {
		/// The GGUF file.
		file: PathBuf,
		/// The name to list it under (default: the file's name without `.gguf`).
		#[arg(long)]
		name: Option<String>,
		/// Refuse the file unless its sha256 (hex) is this one, e.g. the chain's.
		#[arg(long, value_name = "HEX")]
		sha256: Option<String>,
		/// Where the store is.
		#[clap(flatten)]
		store: StoreArgs,
	},
	/// List the models in the store.
	Ls {
		/// Where the store is.
		#[clap(flatten)]
		store: StoreArgs,
	},
	/// Delete a model (by name or sha256) from the store.
	Rm {
		/// The model's name or sha256 (hex).
		model: String,
		/// Where the store is.
		#[clap(flatten)]
		store: StoreArgs,
	},
}

fn describe(model: &StoredModel) -> String {
	format!(
		"{}\tsha256 {}\tcid {}\t{} bytes",
		model.name,
		model.sha256,
		model.cid.as_deref().unwrap_or("-"),
		model.size_bytes
	)
}

impl ModelCmd {
	/// Runs the command; the error is the one line the operator sees.
	pub fn run(&self) -> Result<(), String> {
		match self {
			Self::Import {
				file,
				name,
				sha256,
				store,
			} => {
				let expected = sha256
					.as_deref()
					.map(|hex| {
						parse_hash(hex)
							.ok_or_else(|| format!("--sha256 {hex:?} is not 32 bytes of hex"))
					})
					.transpose()?;
				let name = match name {
					Some(name) => name.clone(),
					None => file
						.file_stem()
						.and_then(|s| s.to_str())
						.ok_or_else(|| {
							format!("{} has no usable file name; pass --name", file.display())
						})?
						.to_string(),
				};
				let entry = store
					.open()?
					.import(file, &name, expected)
					.map_err(|e| e.to_string())?;
				println!("imported {}", describe(&entry));
			},
			Self::Ls { store } => {
				for model in store.open()?.list().map_err(|e| e.to_string())? {
					println!("{}", describe(&model));
				}
			},
			Self::Rm { model, store } => {
				let entry = store.open()?.remove(model).map_err(|e| e.to_string())?;
				println!("removed {}", describe(&entry));
			},
		}
		Ok(())
	}
}
