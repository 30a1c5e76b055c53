//! The model-transfer endpoint: one litep2p instance speaking `/ipfs/bitswap/1.2.0`, which
//! serves the node's models and fetches the ones it lacks.
//!
//! It runs apart from the node's chain networking (its own key, its own port), so a gigabyte
//! transfer never queues behind — or in front of — block sync and GRANDPA messages, and it
//! works whichever network backend the chain uses.
//!
//! One task owns the litep2p instance and the bitswap handle (requests from peers and answers
//! to our wants arrive on the same stream). Disk work — reading leaves to serve, writing leaves
//! received, re-checking leaves of an interrupted run, the final sha256 — runs on the blocking
//! pool.

use crate::{
	part::PartFile,
	scheduler::{Arrival, FetchLimits, Scheduler},
	served::{BlockSource, ServedModel},
	tree::{self, Span},
};
use futures::{future::BoxFuture, FutureExt, Stream, StreamExt};
use litep2p::{
	config::ConfigBuilder,
	crypto::ed25519::{Keypair, SecretKey},
	protocol::libp2p::{
		bitswap::{
			BitswapEvent, BitswapHandle, BlockPresenceType, Config as BitswapConfig, ResponseType,
			WantType,
		},
		identify::{Config as IdentifyConfig, IdentifyEvent},
	},
	transport::tcp::config::Config as TcpConfig,
	types::multiaddr::{Multiaddr, Protocol},
	Litep2p, Litep2pEvent, PeerId,
};
use model_dag::{Cid, InteriorNode, RAW};
use parking_lot::Mutex;
use std::{
	collections::{BTreeMap, HashMap, VecDeque},
	fs, io,
	path::{Path, PathBuf},
	sync::{
		atomic::{AtomicBool, Ordering},
		Arc,
	},
	time::{Duration, Instant},
};
use tokio::sync::{mpsc, oneshot};

const LOG_TARGET: &str = "model-transfer";

/// Leaves written between two saves of a fetch's state (and syncs of its data).
const SAVE_EVERY_LEAVES: usize = 64;
/// Blocks read for one peer in one go (one response message of up to 2 MiB each batch).
const MAX_BLOCKS_PER_RESPONSE: usize = 8;
/// A peer queue idle this long is forgotten (its rate budget starts full again).
const PEER_IDLE_FORGET: Duration = Duration::from_secs(60);

/// Limits on what one peer may take from this node.
#[derive(Clone, Debug)]
pub struct ServeLimits {
	/// Wants from one peer waiting to be answered; further wants are ignored until the queue
	/// drains (the peer times out and asks again, or asks someone else).
	pub max_wants_per_peer: usize,
	/// Bytes per second served to one peer (0: unlimited).
	pub bytes_per_sec_per_peer: u64,
}

impl Default for ServeLimits {
	fn default() -> Self {
		Self {
			max_wants_per_peer: 256,
			bytes_per_sec_per_peer: 512 << 20,
		}
	}
}

/// How to start the endpoint.
pub struct NetConfig {
	/// Where to listen, e.g. `/ip4/127.0.0.1/tcp/30433` (port 0: any free port).
	pub listen: Vec<Multiaddr>,
	/// The endpoint's identity (not the chain's network key).
	pub keypair: Keypair,
	/// Per-peer serving limits.
	pub serve: ServeLimits,
	/// Fetch tuning.
	pub fetch: FetchLimits,
}

/// A model to fetch.
#[derive(Clone, Debug)]
pub struct FetchRequest {
	/// Its CID, as the chain names it.
	pub root: Cid,
	/// Its sha256, as the chain names it: the assembled file must hash to this.
	pub sha256: [u8; 32],
	/// A name for progress reports.
	pub name: String,
	/// Providers, as multiaddrs ending in `/p2p/<peer id>`.
	pub providers: Vec<Multiaddr>,
	/// Directory for the file in progress (the model store's, so that adopting the finished
	/// file is a rename, not a copy).
	pub dir: PathBuf,
}

/// A fetched model, complete and hashed.
#[derive(Debug)]
pub struct Fetched {
	/// The file (inside the request's directory).
	pub path: PathBuf,
	/// Its size.
	pub size: u64,
	/// The DAG's interior nodes, the root last (to keep beside the file for serving it).
	pub interior: Vec<InteriorNode>,
	/// Bytes found already on disk from an interrupted run.
	pub resumed_bytes: u64,
}

/// Why a fetch ended without a model.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
	/// No usable provider address was given.
	#[error("no provider: give multiaddrs ending in /p2p/<peer id> (other than this node's)")]
	NoProviders,
	/// This model is already being fetched.
	#[error("model {0} is already being fetched")]
	AlreadyRunning(Cid),
	/// Disk trouble.
	#[error("I/O error: {0}")]
	Io(#[from] io::Error),
	/// The blocks under the CID do not form a file this node accepts.
	#[error("the model's DAG is unusable: {0}")]
	BadDag(String),
	/// Every provider failed or was dropped before the last block.
	#[error("no provider left with {outstanding} blocks still missing (progress is kept: fetch again to resume)")]
	ProvidersExhausted {
		/// Blocks not received.
		outstanding: usize,
	},
	/// Every live provider kept answering `DONT_HAVE` for a block.
	#[error("no live provider has block {cid} (every one refused it repeatedly; progress is kept: fetch again to resume)")]
	BlockUnavailable {
		/// The block.
		cid: Cid,
	},
	/// Every block matched the CID but the file's sha256 is not the chain's.
	#[error("the file under this CID has sha256 {found}, not {expected}")]
	HashMismatch {
		/// The chain's digest.
		expected: String,
		/// The file's digest.
		found: String,
	},
	/// The endpoint stopped.
	#[error("the model-transfer endpoint stopped")]
	Stopped,
}

/// Where a fetch is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FetchState {
	/// Blocks are arriving.
	Running,
	/// All blocks are in; the file is being hashed.
	Verifying,
	/// Done and hashed.
	Done,
	/// Ended with this error.
	Failed(String),
}

/// A fetch as progress reports show it.
#[derive(Clone, Debug)]
pub struct Progress {
	/// The model's CID.
	pub root: Cid,
	/// Its name.
	pub name: String,
	/// File size, once the root block said it.
	pub size: Option<u64>,
	/// Bytes on disk (this run and resumed).
	pub bytes_done: u64,
	/// Bytes that were already on disk when the fetch started.
	pub resumed_bytes: u64,
	/// Blocks known and not yet received.
	pub blocks_outstanding: usize,
	/// Providers still asked.
	pub providers_live: usize,
	/// State.
	pub state: FetchState,
	/// Seconds since the fetch started.
	pub elapsed_secs: f64,
	/// What each provider delivered (wanted blocks only; duplicates are not counted).
	pub sources: Vec<SourceStats>,
}

/// What one provider delivered to a fetch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceStats {
	/// The provider.
	pub peer: PeerId,
	/// Blocks taken from it.
	pub blocks: u64,
	/// Their bytes.
	pub bytes: u64,
}

/// Counters of what this endpoint served.
#[derive(Clone, Debug, Default)]
pub struct ServeStats {
	/// Blocks sent.
	pub blocks: u64,
	/// Bytes sent.
	pub bytes: u64,
	/// Wants answered with `DONT_HAVE`.
	pub dont_have: u64,
	/// Wants ignored because the peer's queue was full.
	pub over_limit: u64,
}

/// Counters of what this endpoint fetched, over every fetch since it started.
#[derive(Clone, Debug, Default)]
pub struct FetchStats {
	/// Wanted blocks received and checked, counted for each fetch that took them.
	pub blocks: u64,
	/// Their bytes.
	pub bytes: u64,
	/// Blocks received again after another provider's copy was taken.
	pub duplicates: u64,
	/// What went wrong with each provider, for at most [`MAX_FAILING_PEERS`] providers (later
	/// ones are left out: the map's size is bounded whatever peers do).
	pub peer_failures: BTreeMap<PeerId, PeerFailures>,
}

/// Providers whose failures [`FetchStats`] keeps.
pub const MAX_FAILING_PEERS: usize = 256;

/// What went wrong with one provider.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PeerFailures {
	/// Interior nodes whose bytes do not match their CID.
	pub corrupt: u64,
	/// Blocks no running fetch wanted: corrupt bytes hash to a CID nobody asked for, but a late
	/// copy of a block another provider delivered first (or of a finished fetch) looks the same.
	pub unsolicited: u64,
	/// Wants it answered `DONT_HAVE`.
	pub dont_have: u64,
	/// Wants it left unanswered past the timeout.
	pub timeouts: u64,
}

impl FetchStats {
	/// A wanted block, checked, went into a fetch.
	fn took(&mut self, bytes: usize) {
		self.blocks += 1;
		self.bytes += bytes as u64;
	}

	/// `peer`'s failures, if there is room for one more provider or it is known already.
	fn failures(&mut self, peer: PeerId) -> Option<&mut PeerFailures> {
		if self.peer_failures.len() >= MAX_FAILING_PEERS && !self.peer_failures.contains_key(&peer)
		{
			return None;
		}
		Some(self.peer_failures.entry(peer).or_default())
	}
}

enum Command {
	Serve(Arc<ServedModel>),
	Unserve(Cid),
	Fetch(FetchRequest, oneshot::Sender<Result<Fetched, FetchError>>),
}

/// A handle to the running endpoint. Dropping every handle stops it.
#[derive(Clone)]
pub struct ModelNet {
	commands: mpsc::UnboundedSender<Command>,
	peer_id: PeerId,
	addresses: Vec<Multiaddr>,
	progress: Arc<Mutex<BTreeMap<Cid, Progress>>>,
	stats: Arc<Mutex<ServeStats>>,
	fetch_stats: Arc<Mutex<FetchStats>>,
}

/// Reads the endpoint's ed25519 secret from `path`, or creates it (readable by the owner
/// only) if the file does not exist.
pub fn load_or_create_keypair(path: &Path) -> io::Result<Keypair> {
	match fs::read(path) {
		Ok(bytes) => {
			let secret = SecretKey::try_from_bytes(bytes).map_err(|e| {
				io::Error::other(format!("{}: not an ed25519 secret: {e}", path.display()))
			})?;
			Ok(Keypair::from(secret))
		},
		Err(e) if e.kind() == io::ErrorKind::NotFound => {
			use std::{io::Write, os::unix::fs::OpenOptionsExt};
			if let Some(parent) = path.parent() {
				fs::create_dir_all(parent)?;
			}
			let keypair = Keypair::generate();
			let mut file = fs::OpenOptions::new()
				.write(true)
				.create_new(true)
				.mode(0o600)
				.open(path)?;
			file.write_all(&keypair.secret().to_bytes())?;
			file.sync_all()?;
			Ok(keypair)
		},
		Err(e) => Err(e),
	}
}

/// The peer id at the end of `address` (`/p2p/<id>`).
pub fn peer_of(address: &Multiaddr) -> Option<PeerId> {
	PeerId::try_from_multiaddr(address)
}

/// Yamux streams allowed per connection (yamux's own default).
const YAMUX_MAX_STREAMS: usize = 512;
/// Yamux's initial window per stream (256 KiB, fixed by the yamux specification).
const YAMUX_STREAM_CREDIT: usize = 256 * 1024;

/// Yamux settings under which no stream's receive window grows past 1 MiB.
///
/// Rust's yamux rejects a frame whose body exceeds 1 MiB and closes the whole connection, and
/// it auto-tunes a busy stream's receive window upwards by doubling. JavaScript's yamux (the
/// one Helia and js-libp2p use) sends a frame as large as the window the receiver granted, so
/// once a window passed 1 MiB a Helia peer's next block arrived as one 2 MiB frame and the
/// connection died (`FrameTooLarge`). A window doubles only within the connection's budget
/// beyond the 256 KiB every stream starts with; a budget of 768 KiB lets one stream reach
/// 256 KiB → 512 KiB → 1 MiB and no further. On loopback and LAN a 1 MiB window is far above
/// the bandwidth-delay product; on a 50 ms path it caps one stream near 20 MiB/s, which
/// fetching from several providers at once makes up for (see docs/models.md).
pub fn yamux_config() -> litep2p::yamux::Config {
	let mut config = litep2p::yamux::Config::default();
	config.set_max_num_streams(YAMUX_MAX_STREAMS);
	config.set_max_connection_receive_window(Some(
		YAMUX_MAX_STREAMS * YAMUX_STREAM_CREDIT + 3 * YAMUX_STREAM_CREDIT,
	));
	config
}

impl ModelNet {
	/// Binds the endpoint and returns its handle and the task to spawn. Must be called inside
	/// a Tokio runtime; fails when the listen address cannot be bound.
	pub fn start(config: NetConfig) -> Result<(Self, BoxFuture<'static, ()>), io::Error> {
		let (bitswap_config, bitswap) = BitswapConfig::new();
		let (identify_config, identify) = IdentifyConfig::new(
			"ipfs/0.1.0".into(),
			Some(format!("cognitive-node/{}", env!("CARGO_PKG_VERSION"))),
		);
		let litep2p = Litep2p::new(
			ConfigBuilder::new()
				.with_keypair(config.keypair)
				.with_tcp(TcpConfig {
					listen_addresses: config.listen,
					nodelay: true,
					yamux_config: yamux_config(),
					..Default::default()
				})
				.with_libp2p_identify(identify_config)
				.with_libp2p_bitswap(bitswap_config)
				.build(),
		)
		.map_err(|e| io::Error::other(e.to_string()))?;
		let peer_id = *litep2p.local_peer_id();
		let addresses = litep2p
			.listen_addresses()
			.map(|a| match a.iter().last() {
				Some(Protocol::P2p(_)) => a.clone(),
				_ => a.clone().with(Protocol::P2p(peer_id.into())),
			})
			.collect();
		let (commands, command_rx) = mpsc::unbounded_channel();
		let (verified_tx, verified_rx) = mpsc::unbounded_channel();
		let progress = Arc::new(Mutex::new(BTreeMap::new()));
		let stats = Arc::new(Mutex::new(ServeStats::default()));
		let fetch_stats = Arc::new(Mutex::new(FetchStats::default()));
		let actor = Actor {
			litep2p,
			bitswap,
			identify,
			commands: command_rx,
			verified_tx,
			verified_rx,
			served: HashMap::new(),
			peers: HashMap::new(),
			fetches: Vec::new(),
			serve_limits: config.serve,
			fetch_limits: config.fetch,
			progress: progress.clone(),
			stats: stats.clone(),
			fetch_stats: fetch_stats.clone(),
			local: peer_id,
		};
		Ok((
			Self {
				commands,
				peer_id,
				addresses,
				progress,
				stats,
				fetch_stats,
			},
			actor.run().boxed(),
		))
	}

	/// The endpoint's peer id.
	pub fn peer_id(&self) -> PeerId {
		self.peer_id
	}

	/// Where peers reach it: listen addresses ending in `/p2p/<peer id>`.
	pub fn addresses(&self) -> Vec<Multiaddr> {
		self.addresses.clone()
	}

	/// Starts serving `model` (replacing a model with the same root).
	pub fn serve(&self, model: ServedModel) {
		let _ = self.commands.send(Command::Serve(Arc::new(model)));
	}

	/// Stops serving the model with this root.
	pub fn unserve(&self, root: Cid) {
		let _ = self.commands.send(Command::Unserve(root));
	}

	/// Fetches a model; resolves when it is complete and hashed, or failed.
	pub async fn fetch(&self, request: FetchRequest) -> Result<Fetched, FetchError> {
		let (tx, rx) = oneshot::channel();
		self.commands
			.send(Command::Fetch(request, tx))
			.map_err(|_| FetchError::Stopped)?;
		rx.await.map_err(|_| FetchError::Stopped)?
	}

	/// Every fetch this endpoint ran or runs, the finished ones included.
	pub fn progress(&self) -> Vec<Progress> {
		self.progress.lock().values().cloned().collect()
	}

	/// What it served so far.
	pub fn serve_stats(&self) -> ServeStats {
		self.stats.lock().clone()
	}

	/// What it fetched so far, and what went wrong with which provider.
	pub fn fetch_stats(&self) -> FetchStats {
		self.fetch_stats.lock().clone()
	}
}

struct PeerQueue {
	wants: VecDeque<(Cid, WantType)>,
	tokens: f64,
	refilled: Instant,
	last_seen: Instant,
}

struct ActiveFetch {
	root: Cid,
	sha256: [u8; 32],
	name: String,
	started: Instant,
	scheduler: Scheduler<PeerId>,
	part: Arc<Mutex<PartFile>>,
	size: Option<u64>,
	/// Leaves on disk, by CID: the first place each was written.
	have: HashMap<Cid, (u64, u64)>,
	interior: Vec<InteriorNode>,
	bytes_done: u64,
	resumed_bytes: u64,
	last_save: Instant,
	verifying: bool,
	/// Blocks and bytes taken from each provider.
	sources: HashMap<PeerId, (u64, u64)>,
	/// A save is being written (see `save_if_due`).
	saving: Arc<AtomicBool>,
	reply: Option<oneshot::Sender<Result<Fetched, FetchError>>>,
}

impl ActiveFetch {
	fn progress(&self, state: FetchState) -> Progress {
		Progress {
			root: self.root,
			name: self.name.clone(),
			size: self.size,
			bytes_done: self.bytes_done,
			resumed_bytes: self.resumed_bytes,
			blocks_outstanding: self.scheduler.outstanding(),
			providers_live: self.scheduler.live_provider_count(),
			state,
			elapsed_secs: self.started.elapsed().as_secs_f64(),
			sources: self
				.sources
				.iter()
				.map(|(peer, (blocks, bytes))| SourceStats {
					peer: *peer,
					blocks: *blocks,
					bytes: *bytes,
				})
				.collect(),
		}
	}
}

/// What became of a leaf an interior node named, resolved from local data.
enum Local {
	/// Written in this run already.
	AlreadyDone,
	/// Copied from another offset holding the same chunk, or verified on disk from the last
	/// run: on disk now.
	OnDisk { resumed: bool },
	/// Must be fetched.
	Missing,
}

struct Actor {
	litep2p: Litep2p,
	bitswap: BitswapHandle,
	identify: Box<dyn Stream<Item = IdentifyEvent> + Send + Unpin>,
	commands: mpsc::UnboundedReceiver<Command>,
	verified_tx: mpsc::UnboundedSender<(Cid, io::Result<[u8; 32]>)>,
	verified_rx: mpsc::UnboundedReceiver<(Cid, io::Result<[u8; 32]>)>,
	served: HashMap<Cid, Arc<ServedModel>>,
	peers: HashMap<PeerId, PeerQueue>,
	fetches: Vec<ActiveFetch>,
	serve_limits: ServeLimits,
	fetch_limits: FetchLimits,
	progress: Arc<Mutex<BTreeMap<Cid, Progress>>>,
	stats: Arc<Mutex<ServeStats>>,
	fetch_stats: Arc<Mutex<FetchStats>>,
	local: PeerId,
}

impl Actor {
	async fn run(mut self) {
		let mut tick = tokio::time::interval(Duration::from_millis(50));
		tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
		loop {
			tokio::select! {
				event = self.litep2p.next_event() => match event {
					Some(event) => self.on_network_event(event),
					None => break,
				},
				event = self.bitswap.next() => match event {
					Some(BitswapEvent::Request { peer, cids }) => self.on_request(peer, cids).await,
					Some(BitswapEvent::Response { peer, responses }) => self.on_response(peer, responses).await,
					None => break,
				},
				Some(_) = self.identify.next() => {},
				command = self.commands.recv() => match command {
					Some(command) => self.on_command(command).await,
					None => break,
				},
				Some((root, result)) = self.verified_rx.recv() => self.on_verified(root, result),
				_ = tick.tick() => self.on_tick().await,
			}
			self.pump().await;
		}
		for fetch in self.fetches.drain(..) {
			let _ = fetch.part.lock().save();
			if let Some(reply) = fetch.reply {
				let _ = reply.send(Err(FetchError::Stopped));
			}
		}
		log::debug!(target: LOG_TARGET, "model-transfer endpoint stopped");
	}

	fn on_network_event(&mut self, event: Litep2pEvent) {
		let lost: Vec<PeerId> = match event {
			Litep2pEvent::ConnectionClosed { peer, .. } => vec![peer],
			Litep2pEvent::DialFailure { address, error } => {
				log::debug!(target: LOG_TARGET, "dial {address} failed: {error:?}");
				peer_of(&address).into_iter().collect()
			},
			Litep2pEvent::ListDialFailures { errors } => errors
				.iter()
				.filter_map(|(address, _)| peer_of(address))
				.collect(),
			Litep2pEvent::ConnectionEstablished { .. } => Vec::new(),
		};
		for peer in lost {
			for fetch in &mut self.fetches {
				fetch.scheduler.on_disconnect(peer);
			}
		}
	}

	async fn on_command(&mut self, command: Command) {
		match command {
			Command::Serve(model) => {
				log::info!(target: LOG_TARGET, "serving {} ({} blocks)", model.root(), model.block_count());
				self.served.insert(model.root(), model);
			},
			Command::Unserve(root) => {
				self.served.remove(&root);
			},
			Command::Fetch(request, reply) => {
				if let Err(e) = self.start_fetch(request, reply) {
					log::warn!(target: LOG_TARGET, "fetch not started: {e}");
				}
			},
		}
	}

	fn start_fetch(
		&mut self,
		request: FetchRequest,
		reply: oneshot::Sender<Result<Fetched, FetchError>>,
	) -> Result<(), String> {
		if self.fetches.iter().any(|f| f.root == request.root) {
			let _ = reply.send(Err(FetchError::AlreadyRunning(request.root)));
			return Err("already running".into());
		}
		let mut providers = Vec::new();
		for address in &request.providers {
			match peer_of(address) {
				Some(peer) if peer != self.local => {
					let added = self
						.litep2p
						.add_known_address(peer, std::iter::once(address.clone()));
					log::debug!(target: LOG_TARGET, "provider {address}: {added} address(es) added");
					if !providers.contains(&peer) {
						providers.push(peer);
					}
				},
				_ => {},
			}
		}
		if providers.is_empty() {
			let _ = reply.send(Err(FetchError::NoProviders));
			return Err("no providers".into());
		}
		let part = match PartFile::open(&request.dir, request.root, &request.sha256) {
			Ok(part) => part,
			Err(e) => {
				let message = e.to_string();
				let _ = reply.send(Err(FetchError::Io(e)));
				return Err(message);
			},
		};
		log::info!(
			target: LOG_TARGET,
			"fetching {} ({}) from {} provider(s)",
			request.name,
			request.root,
			providers.len()
		);
		let fetch = ActiveFetch {
			root: request.root,
			sha256: request.sha256,
			name: request.name,
			started: Instant::now(),
			scheduler: Scheduler::new(request.root, providers, self.fetch_limits.clone()),
			part: Arc::new(Mutex::new(part)),
			size: None,
			have: HashMap::new(),
			interior: Vec::new(),
			bytes_done: 0,
			resumed_bytes: 0,
			last_save: Instant::now(),
			verifying: false,
			sources: HashMap::new(),
			saving: Arc::new(AtomicBool::new(false)),
			reply: Some(reply),
		};
		self.progress
			.lock()
			.insert(fetch.root, fetch.progress(FetchState::Running));
		self.fetches.push(fetch);
		Ok(())
	}

	/// Where a block this node can serve is: a served model, or a fetch in progress that
	/// already has it (so nodes fetching the same model help each other).
	fn locate(&self, cid: &Cid) -> Option<BlockSource> {
		for model in self.served.values() {
			if let Some(source) = model.locate(cid) {
				return Some(source);
			}
		}
		for fetch in &self.fetches {
			if let Some((offset, len)) = fetch.have.get(cid) {
				return Some(BlockSource::Leaf {
					file: fetch.part.lock().shared_file(),
					offset: *offset,
					len: *len,
				});
			}
			if let Some(node) = fetch.interior.iter().find(|n| n.cid == *cid) {
				return Some(BlockSource::Node(Arc::from(node.block.clone())));
			}
		}
		None
	}

	async fn on_request(&mut self, peer: PeerId, cids: Vec<(Cid, WantType)>) {
		let now = Instant::now();
		let limits = &self.serve_limits;
		let queue = self.peers.entry(peer).or_insert_with(|| PeerQueue {
			wants: VecDeque::new(),
			tokens: burst(limits.bytes_per_sec_per_peer),
			refilled: now,
			last_seen: now,
		});
		queue.last_seen = now;
		let mut over = 0u64;
		for want in cids {
			if queue.wants.len() >= limits.max_wants_per_peer {
				over += 1;
				continue;
			}
			queue.wants.push_back(want);
		}
		if over > 0 {
			log::debug!(target: LOG_TARGET, "{peer}: {over} wants over the per-peer limit ignored");
			self.stats.lock().over_limit += over;
		}
		self.drain_peer(peer).await;
	}

	/// Answers as many of `peer`'s queued wants as its byte budget allows.
	async fn drain_peer(&mut self, peer: PeerId) {
		let rate = self.serve_limits.bytes_per_sec_per_peer;
		let mut presences = Vec::new();
		let mut reads = Vec::new();
		{
			let Some(queue) = self.peers.get(&peer) else {
				return;
			};
			let mut tokens = queue.tokens;
			let now = Instant::now();
			if rate > 0 {
				tokens = (tokens
					+ now.saturating_duration_since(queue.refilled).as_secs_f64() * rate as f64)
					.min(burst(rate));
			}
			let mut taken = 0;
			for (cid, want) in queue.wants.iter() {
				let source = self.locate(cid);
				match (source, want) {
					(None, _) => presences.push(ResponseType::Presence {
						cid: *cid,
						presence: BlockPresenceType::DontHave,
					}),
					(Some(_), WantType::Have) => presences.push(ResponseType::Presence {
						cid: *cid,
						presence: BlockPresenceType::Have,
					}),
					(Some(source), WantType::Block) => {
						if reads.len() >= MAX_BLOCKS_PER_RESPONSE || (rate > 0 && tokens <= 0.0) {
							break;
						}
						if rate > 0 {
							tokens -= source.len() as f64;
						}
						reads.push((*cid, source));
					},
				}
				taken += 1;
			}
			if let Some(queue) = self.peers.get_mut(&peer) {
				queue.wants.drain(..taken);
				queue.tokens = tokens;
				queue.refilled = now;
			}
		}
		if presences.is_empty() && reads.is_empty() {
			return;
		}
		let dont_have = presences
			.iter()
			.filter(|p| {
				matches!(
					p,
					ResponseType::Presence {
						presence: BlockPresenceType::DontHave,
						..
					}
				)
			})
			.count() as u64;
		let mut responses = presences;
		if !reads.is_empty() {
			let read = tokio::task::spawn_blocking(move || {
				reads
					.into_iter()
					.map(|(cid, source)| match source.read() {
						Ok(block) => ResponseType::Block { cid, block },
						Err(e) => {
							log::warn!(target: LOG_TARGET, "cannot read block {cid}: {e}");
							ResponseType::Presence {
								cid,
								presence: BlockPresenceType::DontHave,
							}
						},
					})
					.collect::<Vec<_>>()
			})
			.await;
			if let Ok(blocks) = read {
				responses.extend(blocks);
			}
		}
		{
			let mut stats = self.stats.lock();
			stats.dont_have += dont_have;
			for response in &responses {
				if let ResponseType::Block { block, .. } = response {
					stats.blocks += 1;
					stats.bytes += block.len() as u64;
				}
			}
		}
		self.bitswap.send_response(peer, responses).await;
	}

	async fn on_response(&mut self, peer: PeerId, responses: Vec<ResponseType>) {
		for response in responses {
			match response {
				ResponseType::Presence {
					cid,
					presence: BlockPresenceType::DontHave,
				} => {
					if let Some(failures) = self.fetch_stats.lock().failures(peer) {
						failures.dont_have += 1;
					}
					for fetch in &mut self.fetches {
						fetch.scheduler.on_dont_have(peer, cid);
					}
				},
				ResponseType::Presence { .. } => {},
				ResponseType::Block { cid, block } => {
					let mut taken = false;
					let mut duplicate = false;
					let mut targets = Vec::new();
					for (index, fetch) in self.fetches.iter_mut().enumerate() {
						match fetch.scheduler.on_block(peer, cid) {
							Arrival::Wanted(spans) => {
								taken = true;
								let source = fetch.sources.entry(peer).or_default();
								source.0 += 1;
								source.1 += block.len() as u64;
								targets.push((index, spans));
							},
							Arrival::Duplicate => {
								taken = true;
								duplicate = true;
							},
							Arrival::Unsolicited => {},
						}
					}
					// Taken blocks are counted once checked, in `accept`.
					if targets.is_empty() {
						let mut stats = self.fetch_stats.lock();
						if duplicate {
							stats.duplicates += 1;
						} else if let Some(failures) = stats.failures(peer) {
							failures.unsolicited += 1;
						}
					}
					if !taken {
						// A corrupt block hashes to a CID nobody asked for.
						log::warn!(
							target: LOG_TARGET,
							"{peer} sent block {cid} that no fetch wants (corrupt?): no longer asking it"
						);
						for fetch in &mut self.fetches {
							fetch.scheduler.drop_provider(peer);
						}
						continue;
					}
					let block: Arc<Vec<u8>> = Arc::new(block);
					for (index, spans) in targets {
						if let Err(e) = self.accept(index, peer, cid, block.clone(), spans).await {
							self.fail(index, e);
						}
					}
				},
			}
		}
	}

	/// A wanted block arrived for fetch `index`.
	async fn accept(
		&mut self,
		index: usize,
		peer: PeerId,
		cid: Cid,
		block: Arc<Vec<u8>>,
		mut spans: Vec<Span>,
	) -> Result<(), FetchError> {
		let max_file = self.fetch_limits.max_file_bytes;
		let fetch = &mut self.fetches[index];
		if cid.codec() == RAW {
			if cid == fetch.root && fetch.size.is_none() {
				// A model of one chunk: the root is the file.
				let len = block.len() as u64;
				fetch.part.lock().set_len(len)?;
				fetch.size = Some(len);
				for span in &mut spans {
					span.len = len;
				}
			}
			if let Some(span) = spans.iter().find(|s| s.len != block.len() as u64) {
				return Err(FetchError::BadDag(format!(
					"leaf {cid} has {} bytes; its parent says {}",
					block.len(),
					span.len
				)));
			}
			// The leaf's bytes were checked against `cid` on arrival, once: litep2p derives a
			// received block's CID from its bytes (the sha2-256 the prefix names, computed over
			// the data), and only a CID equal to a want's got the block here. Hashing it a
			// second time would cost a third of the fetch's CPU (see docs/models.md). The
			// transfer tests send corrupt blocks to prove the rejection end to end.
			let part = fetch.part.clone();
			let places = spans.clone();
			let len = block.len();
			tokio::task::spawn_blocking(move || -> io::Result<()> {
				let part = part.lock();
				for span in &places {
					part.write_at(span.offset, &block)?;
				}
				Ok(())
			})
			.await
			.map_err(|e| io::Error::other(e.to_string()))??;
			{
				let mut part = fetch.part.lock();
				for span in &spans {
					if !part.is_done(span.offset) {
						part.mark_done(span.offset, span.len);
						fetch.bytes_done += span.len;
					}
					fetch.have.entry(cid).or_insert((span.offset, span.len));
				}
			}
			self.fetch_stats.lock().took(len);
			self.save_if_due(index);
			return Ok(());
		}

		// An interior node: small, checked here.
		if !model_dag::verify_block(&cid, &block) {
			fetch.scheduler.reject(peer, cid, spans);
			if let Some(failures) = self.fetch_stats.lock().failures(peer) {
				failures.corrupt += 1;
			}
			return Ok(());
		}
		self.fetch_stats.lock().took(block.len());
		let is_root = cid == fetch.root;
		let mut leaves = Vec::new();
		for span in &spans {
			let known = if is_root { None } else { Some(span.len) };
			let (size, children) = tree::children(span, known, &block, max_file)
				.map_err(|e| FetchError::BadDag(e.to_string()))?;
			if is_root && fetch.size.is_none() {
				fetch.part.lock().set_len(size)?;
				fetch.size = Some(size);
			}
			let (nodes, kids): (Vec<Span>, Vec<Span>) =
				children.into_iter().partition(|c| !c.is_leaf());
			fetch.scheduler.add(nodes);
			leaves.extend(kids);
		}
		if !fetch.interior.iter().any(|n| n.cid == cid) {
			fetch.interior.push(InteriorNode {
				cid,
				block: block.to_vec(),
			});
		}
		self.place_leaves(index, leaves).await
	}

	/// Leaves an interior node named: fill from disk what can be (a chunk seen before, a
	/// leaf the interrupted run wrote), ask for the rest.
	async fn place_leaves(&mut self, index: usize, leaves: Vec<Span>) -> Result<(), FetchError> {
		let fetch = &mut self.fetches[index];
		let part = fetch.part.clone();
		let have = fetch.have.clone();
		let resolved = tokio::task::spawn_blocking(move || -> io::Result<Vec<(Span, Local)>> {
			let part = part.lock();
			let mut have = have;
			let mut out = Vec::with_capacity(leaves.len());
			for leaf in leaves {
				let local = if part.is_done(leaf.offset) {
					Local::AlreadyDone
				} else if let Some((from, _)) = have.get(&leaf.cid) {
					part.copy_within(*from, leaf.offset, leaf.len)?;
					Local::OnDisk { resumed: false }
				} else if part.was_claimed(leaf.offset)
					&& part.verify_at(&leaf.cid, leaf.offset, leaf.len)?
				{
					have.insert(leaf.cid, (leaf.offset, leaf.len));
					Local::OnDisk { resumed: true }
				} else {
					Local::Missing
				};
				out.push((leaf, local));
			}
			Ok(out)
		})
		.await
		.map_err(|e| io::Error::other(e.to_string()))??;
		let mut missing = Vec::new();
		let mut waiting = Vec::new();
		for (leaf, local) in resolved {
			match local {
				Local::AlreadyDone => {},
				Local::OnDisk { resumed } => {
					let newly = !fetch.part.lock().is_done(leaf.offset);
					fetch.part.lock().mark_done(leaf.offset, leaf.len);
					if newly {
						fetch.bytes_done += leaf.len;
						if resumed {
							fetch.resumed_bytes += leaf.len;
						}
					}
					fetch
						.have
						.entry(leaf.cid)
						.or_insert((leaf.offset, leaf.len));
					waiting.extend(fetch.scheduler.already_have(leaf.cid));
				},
				Local::Missing => missing.push(leaf),
			}
		}
		fetch.scheduler.add(missing);
		// Places asked for earlier whose chunk turned up on disk now (rare: repeated chunks).
		for span in waiting {
			if let Some((from, _)) = fetch.have.get(&span.cid).copied() {
				let mut part = fetch.part.lock();
				if !part.is_done(span.offset) {
					part.copy_within(from, span.offset, span.len)?;
					part.mark_done(span.offset, span.len);
					fetch.bytes_done += span.len;
				}
			}
		}
		Ok(())
	}

	/// Records progress on disk every `SAVE_EVERY_LEAVES` leaves or 2 s. The sync and the
	/// state file are written on a blocking thread while the fetch goes on (awaiting a sync of
	/// 64 MiB stalled the transfer each time); one save runs at a time.
	fn save_if_due(&mut self, index: usize) {
		let fetch = &mut self.fetches[index];
		if fetch.saving.load(Ordering::Acquire) {
			return;
		}
		let pending = {
			let mut part = fetch.part.lock();
			let unsaved = part.unsaved();
			if unsaved == 0
				|| !(unsaved >= SAVE_EVERY_LEAVES
					|| fetch.last_save.elapsed() > Duration::from_secs(2))
			{
				return;
			}
			part.take_save()
		};
		let Some(pending) = pending else {
			return;
		};
		fetch.last_save = Instant::now();
		fetch.saving.store(true, Ordering::Release);
		let (saving, name) = (fetch.saving.clone(), fetch.name.clone());
		tokio::task::spawn_blocking(move || {
			if let Err(e) = pending.write() {
				// The next save records these leaves again; a crash before it costs a refetch.
				log::warn!(target: LOG_TARGET, "cannot save the progress of {name}: {e}");
			}
			saving.store(false, Ordering::Release);
		});
	}

	fn fail(&mut self, index: usize, error: FetchError) {
		let mut fetch = self.fetches.remove(index);
		log::warn!(target: LOG_TARGET, "fetch of {} ({}) failed: {error}", fetch.name, fetch.root);
		self.progress.lock().insert(
			fetch.root,
			fetch.progress(FetchState::Failed(error.to_string())),
		);
		let reply = fetch.reply.take();
		// Blocks that matched their CIDs stay for a later attempt, unless no attempt can
		// succeed: the DAG is unusable or the file under the CID is not the chain's.
		let keep = !matches!(
			error,
			FetchError::BadDag(_) | FetchError::HashMismatch { .. }
		);
		let part = fetch.part;
		if keep {
			let _ = part.lock().save();
		} else {
			part.lock().discard();
		}
		if let Some(reply) = reply {
			let _ = reply.send(Err(error));
		}
	}

	async fn on_tick(&mut self) {
		let now = Instant::now();
		for fetch in &mut self.fetches {
			let late = fetch.scheduler.on_tick(now);
			if !late.is_empty() {
				log::debug!(target: LOG_TARGET, "{}: wants timed out at {late:?}", fetch.name);
				let mut stats = self.fetch_stats.lock();
				for peer in &late {
					if let Some(failures) = stats.failures(*peer) {
						failures.timeouts += 1;
					}
				}
			}
		}
		for index in 0..self.fetches.len() {
			self.save_if_due(index);
		}
		let backlogged: Vec<PeerId> = self
			.peers
			.iter()
			.filter(|(_, q)| !q.wants.is_empty())
			.map(|(p, _)| *p)
			.collect();
		for peer in backlogged {
			self.drain_peer(peer).await;
		}
		self.peers.retain(|_, q| {
			!q.wants.is_empty() || now.saturating_duration_since(q.last_seen) < PEER_IDLE_FORGET
		});
		let progress: Vec<Progress> = self
			.fetches
			.iter()
			.map(|f| {
				f.progress(if f.verifying {
					FetchState::Verifying
				} else {
					FetchState::Running
				})
			})
			.collect();
		let mut map = self.progress.lock();
		for p in progress {
			map.insert(p.root, p);
		}
	}

	/// Sends new wants; notices fetches that are complete or out of providers.
	async fn pump(&mut self) {
		let now = Instant::now();
		let mut index = 0;
		while index < self.fetches.len() {
			let fetch = &mut self.fetches[index];
			if fetch.verifying {
				index += 1;
				continue;
			}
			if fetch.scheduler.is_complete() && fetch.size.is_some() {
				fetch.verifying = true;
				self.progress
					.lock()
					.insert(fetch.root, fetch.progress(FetchState::Verifying));
				let (part, root, done) = (fetch.part.clone(), fetch.root, self.verified_tx.clone());
				tokio::task::spawn_blocking(move || {
					let result = (|| {
						let (hasher, path) = {
							let mut part = part.lock();
							part.save()?;
							(part.take_hasher(), part.data_path().to_path_buf())
						};
						// Mostly hashed already, as the leaves came; a full pass if that failed.
						hasher
							.and_then(|(mut hasher, len)| hasher.finish(len))
							.or_else(|e| {
								log::debug!(target: LOG_TARGET, "hashing {}: {e}; again in full", path.display());
								sha256_of(&path)
							})
					})();
					let _ = done.send((root, result));
				});
				index += 1;
				continue;
			}
			if fetch.scheduler.live_provider_count() == 0 {
				let outstanding = fetch.scheduler.outstanding();
				self.fail(index, FetchError::ProvidersExhausted { outstanding });
				continue;
			}
			if let Some(cid) = fetch.scheduler.unavailable() {
				self.fail(index, FetchError::BlockUnavailable { cid });
				continue;
			}
			let requests = fetch.scheduler.next_requests(now);
			for (peer, cids) in requests {
				let wants = cids.into_iter().map(|cid| (cid, WantType::Block)).collect();
				self.bitswap.send_request(peer, wants).await;
			}
			index += 1;
		}
	}

	fn on_verified(&mut self, root: Cid, result: io::Result<[u8; 32]>) {
		let Some(index) = self.fetches.iter().position(|f| f.root == root) else {
			return;
		};
		let found = match result {
			Ok(found) => found,
			Err(e) => return self.fail(index, FetchError::Io(e)),
		};
		if found != self.fetches[index].sha256 {
			let expected = hex::encode(self.fetches[index].sha256);
			return self.fail(
				index,
				FetchError::HashMismatch {
					expected,
					found: hex::encode(found),
				},
			);
		}
		let mut fetch = self.fetches.remove(index);
		let progress = fetch.progress(FetchState::Done);
		self.progress.lock().insert(root, progress);
		// The root goes last (the sidecar's order); the others in any order.
		let mut interior = std::mem::take(&mut fetch.interior);
		if let Some(position) = interior.iter().position(|n| n.cid == root) {
			let node = interior.remove(position);
			interior.push(node);
		}
		let size = fetch.size.unwrap_or(0);
		let resumed_bytes = fetch.resumed_bytes;
		let reply = fetch.reply.take();
		let part = fetch.part.clone();
		drop(fetch);
		let result = match Arc::try_unwrap(part) {
			Ok(part) => part.into_inner().complete().map_err(FetchError::Io),
			Err(part) => Ok(part.lock().data_path().to_path_buf()),
		};
		log::info!(target: LOG_TARGET, "fetched {root}: {size} bytes");
		if let Some(reply) = reply {
			let _ = reply.send(result.map(|path| Fetched {
				path,
				size,
				interior,
				resumed_bytes,
			}));
		}
	}
}

/// The byte budget a peer may spend at once: a quarter second at its rate. A block is sent
/// whenever the budget is positive, so the budget can go into debt by one block.
fn burst(rate: u64) -> f64 {
	if rate == 0 {
		f64::INFINITY
	} else {
		(rate / 4).max(1) as f64
	}
}

/// sha256 of a file, streamed.
pub fn sha256_of(path: &Path) -> io::Result<[u8; 32]> {
	model_dag::sha256_reader(&mut fs::File::open(path)?).map(|(hash, _)| hash)
}
