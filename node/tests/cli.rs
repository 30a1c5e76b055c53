//! Runs the built `cognitive-node` binary the way an operator would and checks how it answers
//! bad input: a clear one-line error and a non-zero exit, never a panic.

use std::{
	net::TcpListener,
	path::{Path, PathBuf},
	process::{Command, Output, Stdio},
	time::{Duration, Instant},
};

fn node() -> Command {
	Command::new(env!("CARGO_BIN_EXE_cognitive-node"))
}

/// Runs `cmd` to completion, killing it if it is still running after `limit`.
fn run_with_limit(mut cmd: Command, limit: Duration) -> Output {
	let mut child = cmd
		.stdin(Stdio::null())
		.stdout(Stdio::piped())
		.stderr(Stdio::piped())
		.spawn()
		.expect("spawn cognitive-node");
	let start = Instant::now();
	loop {
		if child.try_wait().expect("poll child").is_some() {
			break;
		}
		if start.elapsed() > limit {
			let _ = child.kill();
			break;
		}
		std::thread::sleep(Duration::from_millis(100));
	}
	child.wait_with_output().expect("collect output")
}

fn assert_clean_failure(output: &Output, expected: &str) {
	let stderr = String::from_utf8_lossy(&output.stderr);
	assert!(
		!output.status.success(),
		"expected a failure exit, got {:?}; stderr:\n{stderr}",
		output.status
	);
	assert!(
		output.status.code().is_some(),
		"killed by a signal (timeout?); stderr:\n{stderr}"
	);
	assert!(!stderr.contains("panicked"), "the node panicked:\n{stderr}");
	assert!(
		!stderr.contains("stack backtrace"),
		"the node printed a backtrace:\n{stderr}"
	);
	assert!(
		stderr.to_lowercase().contains(&expected.to_lowercase()),
		"stderr does not mention {expected:?}:\n{stderr}"
	);
}

fn temp_dir(name: &str) -> PathBuf {
	let dir = std::env::temp_dir().join(format!(
		"cognitive-node-cli-{}-{}",
		name,
		std::process::id()
	));
	let _ = std::fs::remove_dir_all(&dir);
	std::fs::create_dir_all(&dir).expect("create temp dir");
	dir
}

/// Loopback-only flags, so that no test opens a socket on another interface.
fn loopback_args(cmd: &mut Command, p2p_port: u16) {
	cmd.args([
		"--no-mdns",
		"--no-telemetry",
		"--no-prometheus",
		"--listen-addr",
	])
	.arg(format!("/ip4/127.0.0.1/tcp/{p2p_port}"));
}

fn free_port() -> u16 {
	TcpListener::bind("127.0.0.1:0")
		.expect("bind")
		.local_addr()
		.expect("addr")
		.port()
}

#[test]
fn unknown_chain_name_is_a_clear_error() {
	let mut cmd = node();
	cmd.args(["build-spec", "--chain", "no-such-chain"]);
	let output = run_with_limit(cmd, Duration::from_secs(60));
	assert_clean_failure(&output, "unknown chain `no-such-chain`");
}

#[test]
fn malformed_chain_spec_file_is_a_clear_error() {
	let dir = temp_dir("bad-spec");
	let spec = dir.join("broken.json");
	std::fs::write(&spec, b"{ \"name\": \"half a spec\", ").expect("write spec");
	let mut cmd = node();
	cmd.args(["build-spec", "--chain"]).arg(&spec);
	let output = run_with_limit(cmd, Duration::from_secs(60));
	assert_clean_failure(&output, "invalid chain specification");
	let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn occupied_rpc_port_is_a_clear_error() {
	let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
	let port = listener.local_addr().expect("addr").port();
	let dir = temp_dir("rpc-port");
	let mut cmd = node();
	cmd.args(["--dev", "--base-path"])
		.arg(&dir)
		.args(["--rpc-port", &port.to_string()]);
	loopback_args(&mut cmd, free_port());
	let output = run_with_limit(cmd, Duration::from_secs(90));
	assert_clean_failure(&output, &port.to_string());
	drop(listener);
	let _ = std::fs::remove_dir_all(dir);
}

fn corrupt_database(dir: &Path) {
	// Start once so that the database exists, then overwrite every file in it with garbage.
	let mut cmd = node();
	cmd.args(["--dev", "--base-path"])
		.arg(dir)
		.args(["--rpc-port", &free_port().to_string()]);
	loopback_args(&mut cmd, free_port());
	let _ = run_with_limit(cmd, Duration::from_secs(8));
	let db = dir.join("chains/cognitive_dev/paritydb");
	assert!(
		db.exists(),
		"the first start created no ParityDB database at {}",
		db.display()
	);
	for entry in walk(&db) {
		std::fs::write(&entry, b"this is not a database").expect("overwrite db file");
	}
}

fn walk(dir: &Path) -> Vec<PathBuf> {
	let mut files = Vec::new();
	for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
		let path = entry.path();
		if path.is_dir() {
			files.extend(walk(&path));
		} else {
			files.push(path);
		}
	}
	files
}

#[test]
fn corrupt_database_is_a_clear_error() {
	let dir = temp_dir("corrupt-db");
	corrupt_database(&dir);
	let mut cmd = node();
	cmd.args(["--dev", "--base-path"])
		.arg(&dir)
		.args(["--rpc-port", &free_port().to_string()]);
	loopback_args(&mut cmd, free_port());
	let output = run_with_limit(cmd, Duration::from_secs(60));
	assert_clean_failure(&output, "cannot open the chain database");
	let _ = std::fs::remove_dir_all(dir);
}

/// The flags zombienet's native provider passes to every node it starts. `--prometheus-external`
/// binds every interface ([::]), so the node runs in a network namespace of its own that has
/// nothing but a loopback interface: no socket it opens is reachable from, or reaches, any other
/// host.
#[test]
fn accepts_the_flags_zombienet_passes() {
	use std::io::{BufRead, BufReader};

	let dir = temp_dir("zombienet-flags");
	let mut cmd = Command::new("unshare");
	cmd.args([
		"--net",
		"sh",
		"-c",
		"ip link set lo up && exec \"$0\" \"$@\"",
	])
	.arg(env!("CARGO_BIN_EXE_cognitive-node"))
	.args(["--chain", "local", "--name", "alice", "--rpc-cors", "all"])
	.args(["--rpc-methods", "unsafe", "--no-mdns", "--no-telemetry"])
	.args([
		"--node-key",
		"2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90",
	])
	.args([
		"--prometheus-external",
		"--validator",
		"--prometheus-port",
		"39615",
	])
	.args([
		"--rpc-port",
		"39944",
		"--listen-addr",
		"/ip4/127.0.0.1/tcp/30333",
	])
	.arg("--base-path")
	.arg(&dir)
	.args([
		"--bootnodes",
		"/ip4/127.0.0.1/tcp/30334/p2p/12D3KooWLxtXphx4T12YZnGCX1wypQYnc7hipnNGxsWdwNTpyfHA",
	])
	.stdin(Stdio::null())
	.stdout(Stdio::null())
	.stderr(Stdio::piped());
	let mut child = cmd
		.spawn()
		.expect("spawn unshare (util-linux) with cognitive-node");
	let stderr = child.stderr.take().expect("stderr");
	let (tx, rx) = std::sync::mpsc::channel();
	std::thread::spawn(move || {
		for line in BufReader::new(stderr).lines().map_while(Result::ok) {
			if tx.send(line).is_err() {
				break;
			}
		}
	});

	let wanted = [
		"Chain specification: Cognitive Internet Local Testnet",
		"Node name: alice",
		"Role: AUTHORITY",
		// The peer id that the ed25519 secret given with --node-key derives.
		"Local node identity is: 12D3KooWQCkBm1BYtkHpocxCwMgR8yjitEeHGx8spzcDLGt2gkBm",
		"Running JSON-RPC server: addr=127.0.0.1:39944",
		"Prometheus exporter started at [::]:39615",
	];
	let mut seen = Vec::new();
	let deadline = Instant::now() + Duration::from_secs(90);
	while Instant::now() < deadline
		&& !wanted
			.iter()
			.all(|w| seen.iter().any(|l: &String| l.contains(w)))
	{
		match rx.recv_timeout(Duration::from_millis(500)) {
			Ok(line) => seen.push(line),
			Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
			Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
		}
	}
	let _ = child.kill();
	let _ = child.wait();
	let _ = std::fs::remove_dir_all(dir);
	let log = seen.join("\n");
	assert!(!log.contains("panicked"), "the node panicked:\n{log}");
	for w in wanted {
		assert!(
			log.contains(w),
			"missing {w:?} in the node's output:\n{log}"
		);
	}
}
