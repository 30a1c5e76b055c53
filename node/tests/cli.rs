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

/// Spawns `cmd` with its stderr piped and collects stderr lines until every one of `wanted`
/// has appeared in some line, the process closes stderr, or `limit` passes. The child is left
/// running; the caller kills it.
fn spawn_until_logged(
	mut cmd: Command,
	wanted: &[String],
	limit: Duration,
	what: &str,
) -> (std::process::Child, Vec<String>) {
	use std::io::{BufRead, BufReader};

	let mut child = cmd
		.stdin(Stdio::null())
		.stdout(Stdio::null())
		.stderr(Stdio::piped())
		.spawn()
		.unwrap_or_else(|e| panic!("spawn {what}: {e}"));
	let stderr = child.stderr.take().expect("stderr");
	let (tx, rx) = std::sync::mpsc::channel();
	std::thread::spawn(move || {
		for line in BufReader::new(stderr).lines().map_while(Result::ok) {
			if tx.send(line).is_err() {
				break;
			}
		}
	});
	let mut seen = Vec::new();
	let deadline = Instant::now() + limit;
	while Instant::now() < deadline
		&& !wanted
			.iter()
			.all(|w| seen.iter().any(|l: &String| l.contains(w.as_str())))
	{
		match rx.recv_timeout(Duration::from_millis(500)) {
			Ok(line) => seen.push(line),
			Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
			Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
		}
	}
	(child, seen)
}

#[test]
fn unknown_chain_name_is_a_clear_error() {
	let mut cmd = node();
	cmd.args(["build-spec", "--chain", "no-such-chain"]);
	let output = run_with_limit(cmd, Duration::from_secs(60));
	assert_clean_failure(&output, "unknown chain `no-such-chain`");
}

#[test]
fn an_otlp_endpoint_that_is_not_http_host_port_is_a_clear_error() {
	for (url, expected) in [
		("https://collector:4318", "only http:// is supported"),
		("http://collector", "give the port"),
	] {
		let mut cmd = node();
		cmd.args(["--dev", "--tmp", "--otlp-endpoint", url]);
		let output = run_with_limit(cmd, Duration::from_secs(60));
		assert_clean_failure(&output, expected);
	}
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

#[test]
fn occupied_inference_rpc_port_is_a_clear_error() {
	let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
	let port = listener.local_addr().expect("addr").port();
	let dir = temp_dir("busy-inference-port");
	let mut cmd = node();
	cmd.args(["--dev", "--base-path"])
		.arg(&dir)
		.args(["--rpc-port", &free_port().to_string()])
		.args(["--inference-rpc-port", &port.to_string()]);
	loopback_args(&mut cmd, free_port());
	let output = run_with_limit(cmd, Duration::from_secs(90));
	assert_clean_failure(&output, "--inference-rpc-port");
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
	]);

	let wanted = [
		"Chain specification: Cognitive Internet Local Testnet",
		"Node name: alice",
		"Role: AUTHORITY",
		// The peer id that the ed25519 secret given with --node-key derives.
		"Local node identity is: 12D3KooWQCkBm1BYtkHpocxCwMgR8yjitEeHGx8spzcDLGt2gkBm",
		"Running JSON-RPC server: addr=127.0.0.1:39944",
		"Prometheus exporter started at [::]:39615",
	]
	.map(String::from);
	let (mut child, seen) = spawn_until_logged(
		cmd,
		&wanted,
		Duration::from_secs(90),
		"unshare (util-linux) with cognitive-node",
	);
	let _ = child.kill();
	let _ = child.wait();
	let _ = std::fs::remove_dir_all(dir);
	let log = seen.join("\n");
	assert!(!log.contains("panicked"), "the node panicked:\n{log}");
	for w in &wanted {
		assert!(
			log.contains(w),
			"missing {w:?} in the node's output:\n{log}"
		);
	}
}

/// A JSON-RPC call over plain HTTP/1.1 to `127.0.0.1:port`; the response body as JSON.
fn http_rpc(port: u16, method: &str, params: serde_json::Value) -> serde_json::Value {
	use std::io::{Read, Write};

	let body = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
		.to_string();
	let request = format!(
		"POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
		 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
		body.len()
	);
	let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
	stream
		.set_read_timeout(Some(Duration::from_secs(30)))
		.expect("timeout");
	stream.write_all(request.as_bytes()).expect("send");
	let mut response = String::new();
	stream.read_to_string(&mut response).expect("receive");
	let (_, body) = response
		.split_once("\r\n\r\n")
		.unwrap_or_else(|| panic!("not an HTTP response: {response}"));
	serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

/// The dedicated inference RPC port answers `rpc_methods` and `inference_models`, admits
/// generation (an unknown model is refused as such, not by the gate) and denies unsafe methods;
/// Substrate's port with `--rpc-methods safe` refuses generation and points to the inference
/// port.
#[test]
fn inference_port_serves_the_inference_methods() {
	let dir = temp_dir("inference-port");
	let rpc_port = free_port();
	let inference_port = free_port();
	let mut cmd = node();
	cmd.args(["--dev", "--base-path"])
		.arg(&dir)
		.args(["--rpc-port", &rpc_port.to_string(), "--rpc-methods", "safe"])
		.args(["--inference-rpc-port", &inference_port.to_string()])
		.arg("--model-store")
		.arg(dir.join("models"));
	loopback_args(&mut cmd, free_port());
	let wanted = [
		format!("Running inference JSON-RPC server: addr=127.0.0.1:{inference_port}"),
		format!("Running JSON-RPC server: addr=127.0.0.1:{rpc_port}"),
	];
	let (mut child, seen) =
		spawn_until_logged(cmd, &wanted, Duration::from_secs(90), "cognitive-node");
	let log = seen.join("\n");
	let ready = wanted.iter().all(|w| log.contains(w.as_str()));
	let calls = ready.then(|| {
		let generate = serde_json::json!([{"model": "no-such-model", "prompt": "hi"}]);
		(
			http_rpc(inference_port, "rpc_methods", serde_json::json!([])),
			http_rpc(inference_port, "inference_models", serde_json::json!([])),
			http_rpc(inference_port, "inference_generate", generate.clone()),
			http_rpc(
				inference_port,
				"inference_keyOwnershipProof",
				serde_json::json!(["5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"]),
			),
			http_rpc(rpc_port, "inference_generate", generate),
			ratings_in_node_info(inference_port, &dir.join("models")),
		)
	});
	let _ = child.kill();
	let _ = child.wait();
	let _ = std::fs::remove_dir_all(dir);
	assert!(!log.contains("panicked"), "the node panicked:\n{log}");
	let Some((methods, models, generate, key_proof, main_generate, ratings)) = calls else {
		panic!("the node did not start both RPC servers:\n{log}");
	};
	let methods = methods["result"]["methods"]
		.as_array()
		.unwrap_or_else(|| panic!("rpc_methods: {methods}"));
	for method in [
		"rpc_methods",
		"inference_generate",
		"inference_subscribeGenerate",
		"inference_models",
		"inference_nodeInfo",
		"inference_jobResult",
	] {
		assert!(
			methods.iter().any(|m| m == method),
			"{method} missing from {methods:?}"
		);
	}
	assert_eq!(
		models["result"],
		serde_json::json!([]),
		"an empty store has no models: {models}"
	);
	assert_eq!(
		generate["error"]["code"], 4001,
		"the inference port admits generation: {generate}"
	);
	assert_eq!(
		key_proof["error"]["code"], -32601,
		"unsafe methods are denied on the inference port: {key_proof}"
	);
	assert_eq!(
		main_generate["error"]["code"], 4012,
		"a safe-only Substrate port refuses generation: {main_generate}"
	);
	assert!(
		main_generate["error"]["message"]
			.as_str()
			.is_some_and(|m| m.contains(&inference_port.to_string())),
		"the refusal names the inference port: {main_generate}"
	);
	let (none, kept, foreign) = ratings;
	assert_eq!(none, serde_json::Value::Null, "no ratings.json yet");
	assert_eq!(kept.0, kept.1, "nodeInfo reports the store's ratings.json");
	assert_eq!(
		foreign,
		serde_json::Value::Null,
		"ratings of another engine build"
	);
}

/// `inference_nodeInfo.ratings` with no `ratings.json` in `store`, with one of this engine
/// build (with the file's content beside it), and with one of another build.
fn ratings_in_node_info(
	port: u16,
	store: &Path,
) -> (
	serde_json::Value,
	(serde_json::Value, serde_json::Value),
	serde_json::Value,
) {
	let ratings =
		|| http_rpc(port, "inference_nodeInfo", serde_json::json!([]))["result"]["ratings"].clone();
	let none = ratings();
	let class = http_rpc(port, "inference_nodeInfo", serde_json::json!([]))["result"]
		["engineClass"]
		.clone();
	let mut file = serde_json::json!({
		"version": 2,
		"engineClass": class,
		"threads": 2,
		"cpuCores": 2,
		"benchmark": { "prompt": "p", "promptRepeats": 8, "tokens": 64, "runs": 3 },
		"models": [{
			"name": "m", "sha256": format!("0x{}", "ab".repeat(32)), "promptTokens": 112,
			"promptTokensPerSecond": 256.5, "generationTokens": 64,
			"generationTokensPerSecond": 85.5, "firstTokenMs": 437.25, "loadMs": 225.5,
			"memoryMib": 167,
			"onChain": {
				"promptMilliTps": 256_500, "generationMilliTps": 85_500, "firstTokenMs": 437,
				"memoryMib": 167
			}
		}]
	});
	let path = store.join("ratings.json");
	std::fs::write(&path, file.to_string()).expect("write ratings.json");
	let kept = (ratings(), file.clone());
	file["engineClass"]["engineVersion"] = "llama-cpp-2 0.0.1".into();
	std::fs::write(&path, file.to_string()).expect("write ratings.json");
	(none, kept, ratings())
}

/// `model import | ls | inspect | rm` on a store directory: the import computes the CID that the
/// independent `scripts/model-cid.py` computes for the same file; bad input fails with one
/// clear line and leaves the store as it was.
#[test]
fn model_subcommands_import_list_and_remove() {
	let dir = temp_dir("model-cmd");
	let store = dir.join("store");
	let file = dir.join("little.gguf");
	// Three and a half 1 MiB chunks, so the CID is the root of a two-level DAG.
	let mut bytes = b"GGUF".to_vec();
	bytes.extend((0..(7u32 << 19)).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
	std::fs::write(&file, &bytes).expect("write the model file");
	let model = |args: &[&str]| {
		let mut cmd = node();
		cmd.arg("model").args(args).arg("--model-store").arg(&store);
		run_with_limit(cmd, Duration::from_secs(60))
	};
	let script = Command::new("python3")
		.arg(concat!(
			env!("CARGO_MANIFEST_DIR"),
			"/../scripts/model-cid.py"
		))
		.arg(&file)
		.output()
		.expect("run scripts/model-cid.py");
	let script = String::from_utf8_lossy(&script.stdout).into_owned();
	let field = |name: &str| {
		script
			.lines()
			.find_map(|l| l.strip_prefix(&format!("{name} ")))
			.unwrap_or_else(|| panic!("no {name} in {script}"))
			.to_string()
	};
	let (cid, sha256) = (field("cid"), field("sha256"));

	let wrong = "00".repeat(32);
	let refused = model(&["import", file.to_str().unwrap(), "--sha256", &wrong]);
	assert_clean_failure(&refused, "sha256 mismatch");
	assert_clean_failure(
		&model(&["import", "--sha256", "xyz", "/x.gguf"]),
		"not 32 bytes",
	);
	assert_clean_failure(
		&model(&["import", dir.join("missing.gguf").to_str().unwrap()]),
		"No such file",
	);
	let listed = model(&["ls"]);
	assert!(listed.status.success());
	assert!(
		listed.stdout.is_empty(),
		"failed imports left a model behind"
	);

	let imported = model(&["import", file.to_str().unwrap(), "--sha256", &sha256]);
	let stdout = String::from_utf8_lossy(&imported.stdout);
	assert!(
		imported.status.success(),
		"{}",
		String::from_utf8_lossy(&imported.stderr)
	);
	assert!(
		stdout.contains(&format!(
			"little\tsha256 {sha256}\tcid {cid}\t{} bytes",
			bytes.len()
		)),
		"{stdout}"
	);
	let listed = model(&["ls"]);
	assert!(String::from_utf8_lossy(&listed.stdout).contains(&cid));
	// Its bytes are no GGUF llama.cpp can read: `inspect` says so in one line, as it does for a
	// model that is not there.
	assert_clean_failure(&model(&["inspect", "little"]), "llama.cpp");
	assert_clean_failure(&model(&["inspect", "nothing-here"]), "not in the store");
	let removed = model(&["rm", "little"]);
	assert!(removed.status.success());
	assert!(String::from_utf8_lossy(&removed.stdout).starts_with("removed little"));
	assert_clean_failure(&model(&["rm", "little"]), "not in the store");
	assert!(model(&["ls"]).stdout.is_empty());
	let _ = std::fs::remove_dir_all(dir);
}

/// `model serve` on one store and `model fetch` into another, node to node over bitswap on
/// loopback: the fetched model lands in the store with the same sha256 and CID. Bad provider
/// addresses, CIDs and digests fail with one clear line and leave nothing behind.
#[test]
fn model_serve_and_fetch_between_two_stores() {
	use std::io::{BufRead, BufReader};
	let dir = temp_dir("model-p2p");
	let (source, target) = (dir.join("source"), dir.join("target"));
	let file = dir.join("shared.gguf");
	let mut bytes = b"GGUF".to_vec();
	bytes.extend((0..(5u32 << 19) + 77).map(|i| (i.wrapping_mul(2_246_822_519) >> 23) as u8));
	std::fs::write(&file, &bytes).expect("write the model file");
	let imported = node()
		.args(["model", "import"])
		.arg(&file)
		.arg("--model-store")
		.arg(&source)
		.output()
		.expect("import");
	assert!(imported.status.success());
	let line = String::from_utf8_lossy(&imported.stdout).into_owned();
	let field = |name: &str| {
		line.split('\t')
			.find_map(|f| f.strip_prefix(&format!("{name} ")))
			.unwrap_or_else(|| panic!("no {name} in {line}"))
			.to_string()
	};
	let (cid, sha256) = (field("cid"), field("sha256"));

	let mut server = node()
		.args([
			"model",
			"serve",
			"--listen",
			"/ip4/127.0.0.1/tcp/0",
			"--model-store",
		])
		.arg(&source)
		.stdout(Stdio::piped())
		.stderr(Stdio::null())
		.spawn()
		.expect("spawn model serve");
	let address = BufReader::new(server.stdout.take().expect("stdout"))
		.lines()
		.map_while(Result::ok)
		.find_map(|l| l.strip_prefix("listening on ").map(str::to_string))
		.expect("model serve prints its address");

	let fetch = |args: &[&str]| {
		let mut cmd = node();
		cmd.args(["model", "fetch", "--quiet"])
			.args(args)
			.arg("--model-store")
			.arg(&target);
		run_with_limit(cmd, Duration::from_secs(120))
	};
	assert_clean_failure(
		&fetch(&[
			"--cid",
			&cid,
			"--sha256",
			&sha256,
			"--from",
			"/ip4/127.0.0.1/tcp/9",
		]),
		"no provider",
	);
	assert_clean_failure(
		&fetch(&["--cid", "nonsense", "--sha256", &sha256, "--from", &address]),
		"--cid",
	);
	assert_clean_failure(
		&fetch(&["--cid", &cid, "--sha256", "12", "--from", &address]),
		"not 32 bytes",
	);
	// The right CID with another file's digest: every block checks out, the whole does not.
	let wrong = "ab".repeat(32);
	assert_clean_failure(
		&fetch(&["--cid", &cid, "--sha256", &wrong, "--from", &address]),
		"not ab",
	);
	let listed = node()
		.args(["model", "ls", "--model-store"])
		.arg(&target)
		.output()
		.expect("ls");
	assert!(
		listed.stdout.is_empty(),
		"a failed fetch left a model behind"
	);

	let fetched = fetch(&[
		"--cid", &cid, "--sha256", &sha256, "--name", "copy", "--from", &address,
	]);
	let _ = server.kill();
	let _ = server.wait();
	let stdout = String::from_utf8_lossy(&fetched.stdout);
	assert!(
		fetched.status.success(),
		"{}",
		String::from_utf8_lossy(&fetched.stderr)
	);
	assert!(
		stdout.contains(&format!(
			"copy\tsha256 {sha256}\tcid {cid}\t{} bytes",
			bytes.len()
		)),
		"{stdout}"
	);
	let stored = std::fs::read(target.join(format!("{sha256}.gguf"))).expect("stored file");
	assert_eq!(stored, bytes);
	assert!(target.join(format!("{sha256}.dag")).is_file());
	let _ = std::fs::remove_dir_all(dir);
}
