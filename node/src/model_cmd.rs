//! `cognitive-node model …`: the operator's commands for the model store.
//!
//! `import` copies a GGUF file into the store, computing its sha256 and its IPFS CID (the two
//! names the chain's whitelist gives a model) and keeping the DAG's interior nodes beside it;
//! `ls` lists the store; `rm` deletes a model; `fetch` gets a model from peers over IPFS
//! bitswap (verified block by block against its CID, then against its sha256; resumable);
//! `serve` offers the store's models to peers. None of them needs a running node.

use inference_engine::{store::parse_hash, ModelStore, StoredModel};
use model_transfer::{FetchRequest, FetchState, ModelNet, Multiaddr, ServeLimits};
use std::{
	io::{IsTerminal, Write},
	path::PathBuf,
	time::{Duration, Instant},
};

/// The model store directory, as the node itself resolves it.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreArgs {
	/// Directory of the model store. Default: `$COGNITIVE_MODEL_STORE`, else
	/// `~/.local/share/cognitive-internet/models` (the same as the node's `--model-store`).
	#[arg(long, value_name = "PATH")]
	pub model_store: Option<PathBuf>,
}

impl StoreArgs {
	/// Opens the store.
	pub fn open(&self) -> Result<ModelStore, String> {
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
	/// Fetch a model from peers over IPFS bitswap into the store. Every block is checked
	/// against the CID as it arrives and the whole file against the sha256 at the end; an
	/// interrupted fetch resumes where it stopped.
	Fetch {
		/// The model's CID, as the chain's whitelist gives it.
		#[arg(long)]
		cid: String,
		/// The model's sha256 (hex), as the chain's whitelist gives it.
		#[arg(long, value_name = "HEX")]
		sha256: String,
		/// The name to list it under (default: the CID).
		#[arg(long)]
		name: Option<String>,
		/// A provider: a multiaddr ending in `/p2p/<peer id>` (a node's model endpoint, or
		/// any IPFS peer that has the CID). Repeat for several; wants are spread over all.
		#[arg(long = "from", value_name = "MULTIADDR", required = true)]
		from: Vec<String>,
		/// Where this command's own endpoint listens (peers fetching the same model may take
		/// blocks from it meanwhile).
		#[arg(long, value_name = "MULTIADDR", default_value = "/ip4/127.0.0.1/tcp/0")]
		listen: String,
		/// No progress bar.
		#[arg(long)]
		quiet: bool,
		/// Where the store is.
		#[clap(flatten)]
		store: StoreArgs,
	},
	/// Serve the store's models over IPFS bitswap until stopped (a seed: no chain needed).
	/// Prints the endpoint's multiaddrs.
	Serve {
		/// Where to listen.
		#[arg(
			long,
			value_name = "MULTIADDR",
			default_value = "/ip4/0.0.0.0/tcp/30433"
		)]
		listen: String,
		/// The endpoint's ed25519 key file (created if missing; default: a fresh key).
		#[arg(long, value_name = "PATH")]
		key: Option<PathBuf>,
		/// Bytes per second served to one peer, in MiB (0: unlimited).
		#[arg(long, value_name = "MIB", default_value_t = 512)]
		rate_mib: u64,
		/// Where the store is.
		#[clap(flatten)]
		store: StoreArgs,
	},
	/// Print what a whitelist entry records about a stored model: name, sha256, CID, size and
	/// the sha256 of its chat template (`none` when the file has none, and then the model
	/// takes no chat jobs).
	Inspect {
		/// The model's name or sha256 (hex).
		model: String,
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
			Self::Inspect { model, store } => {
				let store = store.open()?;
				let entry = store.resolve(model).map_err(|e| e.to_string())?;
				let hash = entry
					.hash()
					.ok_or_else(|| format!("{} has no sha256 in the store", entry.name))?;
				let template = inference_engine::chat_template_sha256(&store.file_path(&hash))
					.map_err(|e| e.to_string())?;
				println!("{}", describe(&entry));
				println!(
					"chat template sha256 {}",
					template.map_or_else(|| "none".to_string(), hex::encode)
				);
			},
			Self::Rm { model, store } => {
				let entry = store.open()?.remove(model).map_err(|e| e.to_string())?;
				println!("removed {}", describe(&entry));
			},
			Self::Fetch {
				cid,
				sha256,
				name,
				from,
				listen,
				quiet,
				store,
			} => {
				let request = FetchArgs {
					cid: cid.parse().map_err(|e| format!("--cid {cid:?}: {e}"))?,
					sha256: parse_hash(sha256)
						.ok_or_else(|| format!("--sha256 {sha256:?} is not 32 bytes of hex"))?,
					name: name.clone().unwrap_or_else(|| cid.clone()),
					from: from
						.iter()
						.map(|a| {
							a.parse::<Multiaddr>()
								.map_err(|e| format!("--from {a:?}: {e}"))
						})
						.collect::<Result<_, _>>()?,
					listen: listen
						.parse()
						.map_err(|e| format!("--listen {listen:?}: {e}"))?,
					quiet: *quiet,
				};
				let store = store.open()?;
				init_logger();
				runtime()?.block_on(fetch(request, &store))?;
			},
			Self::Serve {
				listen,
				key,
				rate_mib,
				store,
			} => {
				let listen: Multiaddr = listen
					.parse()
					.map_err(|e| format!("--listen {listen:?}: {e}"))?;
				let store = store.open()?;
				init_logger();
				let limits = ServeLimits {
					bytes_per_sec_per_peer: rate_mib.saturating_mul(1 << 20),
					..ServeLimits::default()
				};
				runtime()?.block_on(async {
					let net = crate::model_p2p::start_standalone(listen, key.as_deref(), limits)?;
					let served = crate::model_p2p::serve_store(&net, &store);
					println!("serving {served} model(s) from {}", store.dir().display());
					for address in net.addresses() {
						println!("listening on {address}");
					}
					let _ = std::io::stdout().flush();
					std::future::pending::<()>().await;
					Ok::<(), String>(())
				})?;
			},
		}
		Ok(())
	}
}

/// Logs to stderr for the commands that talk to peers: this node's warnings only (a provider
/// dropped, a block rejected; litep2p's own complaints about connections closing at exit are
/// left out), or what `RUST_LOG` asks for (`RUST_LOG=model-transfer=debug,litep2p=debug`).
fn init_logger() {
	let directives = match std::env::var("RUST_LOG") {
		Ok(set) if !set.is_empty() => String::new(),
		_ => "warn,litep2p=off".to_string(),
	};
	let mut logger = sc_cli::LoggerBuilder::new(directives);
	logger.with_colors(false);
	// A second logger (tests that run commands in one process) is not an error worth stopping on.
	let _ = logger.init();
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
	tokio::runtime::Builder::new_multi_thread()
		.worker_threads(2)
		.enable_all()
		.build()
		.map_err(|e| format!("cannot start a Tokio runtime: {e}"))
}

struct FetchArgs {
	cid: model_transfer::Cid,
	sha256: [u8; 32],
	name: String,
	from: Vec<Multiaddr>,
	listen: Multiaddr,
	quiet: bool,
}

async fn fetch(args: FetchArgs, store: &ModelStore) -> Result<(), String> {
	if store.contains(&args.sha256) {
		return Err(format!(
			"{} is already in the store",
			hex::encode(args.sha256)
		));
	}
	let net = crate::model_p2p::start_standalone(args.listen, None, ServeLimits::default())?;
	let request = FetchRequest {
		root: args.cid,
		sha256: args.sha256,
		name: args.name.clone(),
		providers: args.from,
		dir: store.dir().to_path_buf(),
	};
	let started = Instant::now();
	let bar = (!args.quiet).then(|| tokio::spawn(progress_bar(net.clone())));
	let result = net.fetch(request).await;
	if let Some(bar) = bar {
		bar.abort();
		eprintln!();
	}
	let fetched = result.map_err(|e| e.to_string())?;
	let entry = store
		.adopt(
			&fetched.path,
			&args.name,
			args.sha256,
			&args.cid.to_string(),
			&fetched.interior,
		)
		.map_err(|e| e.to_string())?;
	let secs = started.elapsed().as_secs_f64();
	let fetched_now = fetched.size - fetched.resumed_bytes;
	println!(
		"fetched {} in {secs:.3} s ({:.1} MiB/s; {} bytes resumed from an earlier run)",
		describe(&entry),
		fetched_now as f64 / (1 << 20) as f64 / secs.max(1e-9),
		fetched.resumed_bytes
	);
	Ok(())
}

/// Redraws one progress line on stderr (a plain line every few seconds when stderr is not a
/// terminal).
async fn progress_bar(net: ModelNet) {
	let terminal = std::io::stderr().is_terminal();
	let period = if terminal {
		Duration::from_millis(200)
	} else {
		Duration::from_secs(5)
	};
	loop {
		tokio::time::sleep(period).await;
		let Some(p) = net.progress().into_iter().next() else {
			continue;
		};
		let (done, size) = (p.bytes_done, p.size.unwrap_or(0));
		let share = if size > 0 {
			done as f64 / size as f64
		} else {
			0.0
		};
		let filled = (share * 30.0) as usize;
		let rate = (done - p.resumed_bytes) as f64 / (1 << 20) as f64 / p.elapsed_secs.max(1e-9);
		let state = match &p.state {
			FetchState::Verifying => " verifying sha256",
			_ => "",
		};
		let line = format!(
			"[{}{}] {:5.1}% {:.1}/{:.1} MiB {rate:.1} MiB/s {} provider(s){state}",
			"#".repeat(filled),
			".".repeat(30 - filled.min(30)),
			share * 100.0,
			done as f64 / (1 << 20) as f64,
			size as f64 / (1 << 20) as f64,
			p.providers_live,
		);
		if terminal {
			eprint!("\r{line}");
		} else {
			eprintln!("{line}");
		}
	}
}
