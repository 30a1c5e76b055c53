//! Real transfers between litep2p endpoints on loopback: several providers, a provider that
//! sends corrupt blocks, a fetch killed and resumed, a CID whose file is not the chain's.

use futures::StreamExt;
use litep2p::{
	config::ConfigBuilder,
	protocol::libp2p::bitswap::{BitswapEvent, Config as BitswapConfig, ResponseType},
	transport::tcp::config::Config as TcpConfig,
	types::multiaddr::{Multiaddr, Protocol},
	Litep2p,
};
use model_dag::{build, write_interior, Dag, Layout};
use model_transfer::{
	sha256_of, FetchError, FetchLimits, FetchRequest, Keypair, ModelNet, NetConfig, ServeLimits,
	ServedModel,
};
use std::{
	path::{Path, PathBuf},
	time::Duration,
};

fn temp_dir(name: &str) -> PathBuf {
	let dir = std::env::temp_dir().join(format!("model-transfer-it-{}-{name}", std::process::id()));
	let _ = std::fs::remove_dir_all(&dir);
	std::fs::create_dir_all(&dir).unwrap();
	dir
}

/// A file with distinct chunks, a run of repeated (zero) chunks, and a short last chunk.
fn sample(len: usize) -> Vec<u8> {
	let mut state = 0x2545_f491_4f6c_dd1du64;
	(0..len)
		.map(|i| {
			if (len / 3..len / 2).contains(&i) {
				return 0;
			}
			state ^= state << 13;
			state ^= state >> 7;
			state ^= state << 17;
			state as u8
		})
		.collect()
}

/// 64 KiB chunks and 4 links per node: a few hundred KiB already needs three levels.
fn small_layout() -> Layout {
	Layout::new(64 << 10, 4).unwrap()
}

fn store(dir: &Path, data: &[u8], layout: Layout) -> (Dag, PathBuf, PathBuf) {
	let dag = build(data, layout).unwrap();
	let (model, sidecar) = (dir.join("model.gguf"), dir.join("model.dag"));
	std::fs::write(&model, data).unwrap();
	write_interior(&sidecar, &dag).unwrap();
	(dag, model, sidecar)
}

fn loopback() -> Vec<Multiaddr> {
	vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()]
}

fn endpoint(serve: ServeLimits, fetch: FetchLimits) -> ModelNet {
	let (net, task) = ModelNet::start(NetConfig {
		listen: loopback(),
		keypair: Keypair::generate(),
		serve,
		fetch,
	})
	.unwrap();
	tokio::spawn(task);
	net
}

fn quick_limits() -> FetchLimits {
	FetchLimits {
		timeout: Duration::from_secs(3),
		..FetchLimits::default()
	}
}

fn provider(dir: &Path, data: &[u8], layout: Layout, serve: ServeLimits) -> (ModelNet, Dag) {
	let (dag, model, sidecar) = store(dir, data, layout);
	let net = endpoint(serve, FetchLimits::default());
	net.serve(ServedModel::open(&model, &sidecar, dag.root).unwrap());
	(net, dag)
}

fn request(dag: &Dag, providers: &[&ModelNet], dir: &Path) -> FetchRequest {
	FetchRequest {
		root: dag.root,
		sha256: dag.sha256,
		name: "sample".into(),
		providers: providers.iter().flat_map(|p| p.addresses()).collect(),
		dir: dir.to_path_buf(),
	}
}

async fn fetch_within(
	net: &ModelNet,
	request: FetchRequest,
) -> Result<model_transfer::Fetched, FetchError> {
	tokio::time::timeout(Duration::from_secs(60), net.fetch(request))
		.await
		.expect("fetch took over a minute")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetches_a_three_level_dag_from_two_providers_and_serves_what_it_fetched() {
	let data = sample(1_300_000);
	let (a, dag) = provider(
		&temp_dir("two-a"),
		&data,
		small_layout(),
		ServeLimits::default(),
	);
	let (b, _) = provider(
		&temp_dir("two-b"),
		&data,
		small_layout(),
		ServeLimits::default(),
	);
	assert!(
		dag.interior.len() > 5,
		"the sample must need interior levels"
	);
	let fetcher = endpoint(ServeLimits::default(), quick_limits());
	let dir = temp_dir("two-fetcher");
	let fetched = fetch_within(&fetcher, request(&dag, &[&a, &b], &dir))
		.await
		.unwrap();
	assert_eq!(std::fs::read(&fetched.path).unwrap(), data);
	assert_eq!(fetched.size, data.len() as u64);
	assert_eq!(fetched.interior.last().unwrap().cid, dag.root);
	assert_eq!(fetched.interior.len(), dag.interior.len());
	assert!(
		a.serve_stats().blocks > 0 && b.serve_stats().blocks > 0,
		"both providers served"
	);
	// The fetcher's counters (the node's metrics read them): every block it took came from
	// one of the two, and nothing went wrong with either.
	let stats = fetcher.fetch_stats();
	let served = a.serve_stats().blocks + b.serve_stats().blocks;
	assert!(
		stats.blocks > 0 && stats.blocks + stats.duplicates <= served,
		"{stats:?}, {served} served"
	);
	let served_bytes = a.serve_stats().bytes + b.serve_stats().bytes;
	assert!(
		stats.bytes > 0 && stats.bytes <= served_bytes,
		"{stats:?}, {served_bytes} bytes served"
	);
	assert!(
		stats.peer_failures.values().all(|f| f.corrupt == 0),
		"{stats:?}"
	);

	// The fetched file, served in its turn, feeds a third node.
	let sidecar = dir.join("fetched.dag");
	model_dag::write_interior_nodes(&sidecar, small_layout(), &fetched.interior).unwrap();
	fetcher.serve(ServedModel::open(&fetched.path, &sidecar, dag.root).unwrap());
	let third = endpoint(ServeLimits::default(), quick_limits());
	let third_dir = temp_dir("two-third");
	let again = fetch_within(&third, request(&dag, &[&fetcher], &third_dir))
		.await
		.unwrap();
	assert_eq!(sha256_of(&again.path).unwrap(), dag.sha256);
	// One provider, so no endgame copies: the repeated (zero) chunks were sent once and
	// copied locally.
	let served = fetcher.serve_stats().bytes;
	assert!(
		served < data.len() as u64 - 60_000,
		"served {served} bytes for {}",
		data.len()
	);
	let progress = third.progress();
	assert_eq!(progress.len(), 1);
	assert_eq!(progress[0].state, model_transfer::FetchState::Done);
	assert_eq!(progress[0].bytes_done, data.len() as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_chunk_model_is_its_own_root() {
	let _ = tracing_subscriber::fmt()
		.with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
		.try_init();
	let data = sample(40_000);
	let (a, dag) = provider(
		&temp_dir("single"),
		&data,
		Layout::MODEL,
		ServeLimits::default(),
	);
	assert!(dag.interior.is_empty());
	let fetcher = endpoint(ServeLimits::default(), quick_limits());
	let fetched = fetch_within(&fetcher, request(&dag, &[&a], &temp_dir("single-fetcher")))
		.await
		.unwrap();
	assert_eq!(std::fs::read(&fetched.path).unwrap(), data);
	assert!(fetched.interior.is_empty());
}

/// A bitswap peer that answers every want with the right CID's bytes flipped: litep2p hashes
/// what arrives, so the fetcher sees a block nobody asked for.
async fn corrupt_provider(data: Vec<u8>, dag: Dag) -> Multiaddr {
	let (config, mut bitswap) = BitswapConfig::new();
	let mut litep2p = Litep2p::new(
		ConfigBuilder::new()
			.with_tcp(TcpConfig {
				listen_addresses: loopback(),
				..Default::default()
			})
			.with_libp2p_bitswap(config)
			.build(),
	)
	.unwrap();
	let peer = *litep2p.local_peer_id();
	let address = litep2p.listen_addresses().next().unwrap().clone();
	assert!(matches!(address.iter().last(), Some(Protocol::P2p(p)) if p == peer.into()));
	let layout = small_layout();
	tokio::spawn(async move {
		loop {
			tokio::select! {
				_ = litep2p.next_event() => {},
				event = bitswap.next() => match event {
					Some(BitswapEvent::Request { peer, cids }) => {
						let mut responses = Vec::new();
						for (cid, _) in cids {
							let mut block = if let Some(node) = dag.interior.iter().find(|n| n.cid == cid) {
								node.block.clone()
							} else if let Some(i) = dag.leaves.iter().position(|l| *l == cid) {
								let range = layout.leaf_range(data.len() as u64, i as u64).unwrap();
								data[range.start as usize..range.end as usize].to_vec()
							} else {
								continue;
							};
							block[0] ^= 0xff;
							responses.push(ResponseType::Block { cid, block });
						}
						bitswap.send_response(peer, responses).await;
					},
					Some(_) => {},
					None => break,
				},
			}
		}
	});
	address
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_blocks_are_rejected_and_fetched_from_another_provider() {
	let data = sample(700_000);
	let (honest, dag) = provider(
		&temp_dir("corrupt-honest"),
		&data,
		small_layout(),
		ServeLimits::default(),
	);
	let bad = corrupt_provider(data.clone(), dag.clone()).await;
	let fetcher = endpoint(ServeLimits::default(), quick_limits());
	let mut req = request(&dag, &[], &temp_dir("corrupt-fetcher"));
	// The corrupt provider first, so it is asked for the root.
	req.providers = vec![bad];
	req.providers.extend(honest.addresses());
	let fetched = fetch_within(&fetcher, req.clone()).await.unwrap();
	assert_eq!(std::fs::read(&fetched.path).unwrap(), data);
	assert!(honest.serve_stats().blocks > 0);
	// With only the corrupt provider, the fetch ends with an error and no file.
	let alone = endpoint(ServeLimits::default(), quick_limits());
	req.providers.truncate(1);
	req.dir = temp_dir("corrupt-alone");
	let bad_peer = model_transfer::peer_of(&req.providers[0]).unwrap();
	match fetch_within(&alone, req).await {
		Err(FetchError::ProvidersExhausted { .. }) => {},
		other => panic!("expected ProvidersExhausted, got {other:?}"),
	}
	// What went wrong is on record under the provider's peer id (the node's metrics read it).
	let failures = alone.fetch_stats().peer_failures;
	let bad = failures.get(&bad_peer).copied().unwrap_or_default();
	assert!(
		bad.corrupt + bad.unsolicited + bad.timeouts >= 1,
		"{failures:?}"
	);
	assert_eq!(alone.fetch_stats().blocks, 0, "nothing corrupt was taken");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fetch_killed_midway_resumes_from_disk() {
	let data = sample(3 << 20);
	// 512 KiB/s: the 3 MiB file takes about six seconds, time to kill the fetch midway.
	let slow = ServeLimits {
		bytes_per_sec_per_peer: 512 << 10,
		..ServeLimits::default()
	};
	let (a, dag) = provider(&temp_dir("resume-a"), &data, small_layout(), slow);
	let dir = temp_dir("resume-fetcher");

	let (first, task) = ModelNet::start(NetConfig {
		listen: loopback(),
		keypair: Keypair::generate(),
		serve: ServeLimits::default(),
		fetch: quick_limits(),
	})
	.unwrap();
	let task = tokio::spawn(task);
	let pending = {
		let first = first.clone();
		let req = request(&dag, &[&a], &dir);
		tokio::spawn(async move { first.fetch(req).await })
	};
	tokio::time::sleep(Duration::from_millis(3500)).await;
	let before = first.progress()[0].bytes_done;
	assert!(
		before > 0 && before < data.len() as u64,
		"{before} bytes after 3.5 s"
	);
	// A crash: the endpoint's task is gone, nothing gets to clean up.
	task.abort();
	pending.abort();
	drop(first);
	let _ = task.await;

	let second = endpoint(ServeLimits::default(), quick_limits());
	let served_before = a.serve_stats().bytes;
	let fetched = fetch_within(&second, request(&dag, &[&a], &dir))
		.await
		.unwrap();
	assert_eq!(std::fs::read(&fetched.path).unwrap(), data);
	assert!(fetched.resumed_bytes > 0, "nothing was resumed");
	// What the provider sent after the kill: the second run's blocks (and what was still
	// queued for the dead first run), never the whole file again.
	let refetched = a.serve_stats().bytes - served_before;
	assert!(
		refetched < data.len() as u64,
		"resumed {} and refetched {refetched}",
		fetched.resumed_bytes
	);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_whose_sha256_is_not_the_chains_is_refused_and_removed() {
	let data = sample(300_000);
	let (a, dag) = provider(
		&temp_dir("mismatch-a"),
		&data,
		small_layout(),
		ServeLimits::default(),
	);
	let dir = temp_dir("mismatch-fetcher");
	let fetcher = endpoint(ServeLimits::default(), quick_limits());
	let mut req = request(&dag, &[&a], &dir);
	req.sha256 = [0u8; 32];
	match fetch_within(&fetcher, req).await {
		Err(FetchError::HashMismatch { found, .. }) => assert_eq!(found, hex_of(&dag.sha256)),
		other => panic!("expected HashMismatch, got {other:?}"),
	}
	assert_eq!(
		std::fs::read_dir(&dir).unwrap().count(),
		0,
		"the bad file is removed"
	);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_providers_and_bad_addresses_end_the_fetch() {
	let data = sample(100_000);
	let dag = build(&data, small_layout()).unwrap();
	let fetcher = endpoint(ServeLimits::default(), quick_limits());
	let dir = temp_dir("unreachable");
	// No /p2p/ suffix: not a provider address.
	let mut req = request(&dag, &[], &dir);
	req.providers = vec!["/ip4/127.0.0.1/tcp/9".parse().unwrap()];
	assert!(matches!(
		fetch_within(&fetcher, req.clone()).await,
		Err(FetchError::NoProviders)
	));
	// A peer id at a port where nobody listens.
	let ghost = Keypair::generate().public().to_peer_id();
	req.providers = vec![format!("/ip4/127.0.0.1/tcp/9/p2p/{ghost}").parse().unwrap()];
	assert!(matches!(
		fetch_within(&fetcher, req).await,
		Err(FetchError::ProvidersExhausted { .. })
	));
}

fn hex_of(bytes: &[u8]) -> String {
	bytes.iter().map(|b| format!("{b:02x}")).collect()
}
