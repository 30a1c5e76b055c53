//! The dedicated inference RPC port (`--inference-rpc-port`, default 9955).
//!
//! Substrate's RPC server does not tell methods who called them, so per-client limits cannot be
//! enforced there (see [`super::limits`]). This server serves the same `inference_*` module
//! (plus `rpc_methods`) with jsonrpsee's tower service behind an accept loop of its own, the way
//! `sc-rpc-server` does it, and wraps each connection's service in [`WithClientAddr`], which
//! puts the peer's address ([`ClientAddr`]) and [`DenyUnsafe::Yes`] into every request's
//! extensions: every caller here is public, known by address, and denied unsafe methods.
//!
//! The accept loop runs as a task of the node's task manager; when the node stops, the task is
//! dropped, and with it the server's stop handle, which closes every connection gracefully.

use super::limits::ClientAddr;
use crate::inference::PortConfig;
use jsonrpsee::{
	server::{serve_with_graceful_shutdown, stop_channel, BatchRequestConfig, HttpRequest, Server},
	Methods, RpcModule,
};
use sc_rpc_api::DenyUnsafe;
use sp_core::traits::SpawnNamed;
use std::{
	net::SocketAddr,
	sync::Arc,
	task::{Context, Poll},
	time::Duration,
};
use tokio::sync::Semaphore;

/// Requests (HTTP) and WebSocket sessions served at once; more are answered 429.
pub const MAX_CONNECTIONS: u32 = 100;

/// TCP connections held open at once (idle keep-alive connections included); more are closed
/// at once, so that a client cannot exhaust the node's file descriptors.
pub const MAX_SOCKETS: usize = 4 * MAX_CONNECTIONS as usize;

/// Most calls in one JSON-RPC batch.
pub const MAX_BATCH_LEN: u32 = 16;

/// Largest response body: a generation answer is a few hundred KiB at most.
const MAX_RESPONSE_BYTES: u32 = 16 << 20;

/// Adds the client's address and [`DenyUnsafe::Yes`] to each request of one connection before
/// jsonrpsee sees it.
#[derive(Clone, Debug)]
pub struct WithClientAddr<S> {
	inner: S,
	addr: SocketAddr,
}

impl<S> WithClientAddr<S> {
	/// Wraps the service of the connection from `addr`.
	pub fn new(inner: S, addr: SocketAddr) -> Self {
		Self { inner, addr }
	}
}

impl<S, B> tower_service::Service<HttpRequest<B>> for WithClientAddr<S>
where
	S: tower_service::Service<HttpRequest<B>>,
{
	type Response = S::Response;
	type Error = S::Error;
	type Future = S::Future;

	fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
		self.inner.poll_ready(cx)
	}

	fn call(&mut self, mut request: HttpRequest<B>) -> Self::Future {
		let extensions = request.extensions_mut();
		extensions.insert(ClientAddr(self.addr));
		extensions.insert(DenyUnsafe::Yes);
		self.inner.call(request)
	}
}

/// Binds the inference port. A busy port the operator chose is an error; a busy default port
/// (another node on this machine has it) is a warning, and the node runs without the port:
/// generation is then refused on public interfaces rather than served unlimited.
pub fn bind(config: &PortConfig) -> Result<Option<std::net::TcpListener>, String> {
	let bound = std::net::TcpListener::bind(config.addr)
		.and_then(|listener| listener.set_nonblocking(true).map(|()| listener));
	match bound {
		Ok(listener) => Ok(Some(listener)),
		Err(e) if config.explicit => Err(format!(
			"cannot serve inference JSON-RPC on {}: {e} (choose another --inference-rpc-port)",
			config.addr
		)),
		Err(e) => {
			log::warn!(
				target: "inference",
				"inference JSON-RPC server not started: cannot listen on {}: {e} (choose a free \
				 port with --inference-rpc-port, or --no-inference-rpc)",
				config.addr
			);
			Ok(None)
		},
	}
}

/// `module` with `rpc_methods`, which Substrate's server adds to its own module and which
/// clients (Polkadot.js among them) call first.
pub fn with_rpc_methods(mut module: RpcModule<()>) -> Result<RpcModule<()>, String> {
	let mut names: Vec<&'static str> = module.method_names().collect();
	names.push("rpc_methods");
	names.sort_unstable();
	let answer = serde_json::json!({ "methods": names });
	module
		.register_method("rpc_methods", move |_, _, _| answer.clone())
		.map_err(|e| e.to_string())?;
	Ok(module)
}

/// Serves `module` (and `rpc_methods`) on `listener` until the node stops; returns the address.
/// `max_request_bytes` bounds a request body.
pub fn start<Spawn>(
	listener: std::net::TcpListener,
	module: RpcModule<()>,
	spawner: Spawn,
	max_request_bytes: u32,
) -> Result<SocketAddr, String>
where
	Spawn: SpawnNamed + Clone + Send + 'static,
{
	let addr = listener.local_addr().map_err(|e| e.to_string())?;
	let methods: Methods = with_rpc_methods(module)?.into();
	let connections = spawner.clone();
	spawner.spawn(
		"inference-rpc",
		Some("rpc"),
		Box::pin(async move {
			match tokio::net::TcpListener::from_std(listener) {
				Ok(listener) => serve(listener, methods, connections, max_request_bytes).await,
				Err(e) => {
					log::error!(target: "inference", "inference JSON-RPC server failed: {e}")
				},
			}
		}),
	);
	log::info!(target: "inference", "Running inference JSON-RPC server: addr={addr}");
	Ok(addr)
}

/// The accept loop: one jsonrpsee tower service per connection, wrapped in [`WithClientAddr`].
async fn serve<Spawn>(
	listener: tokio::net::TcpListener,
	methods: Methods,
	spawner: Spawn,
	max_request_bytes: u32,
) where
	Spawn: SpawnNamed,
{
	let (stop_handle, server_handle) = stop_channel();
	// Held for as long as this loop runs. When the task manager drops the loop (node shutdown),
	// the handle goes with it, every connection's `shutdown()` future resolves, and the
	// connections finish their current request and close.
	let _server_handle = server_handle;
	let service_builder = Server::builder()
		.max_connections(MAX_CONNECTIONS)
		.max_request_body_size(max_request_bytes)
		.max_response_body_size(MAX_RESPONSE_BYTES)
		.set_batch_request_config(BatchRequestConfig::Limit(MAX_BATCH_LEN))
		.to_service_builder();
	let sockets = Arc::new(Semaphore::new(MAX_SOCKETS));
	loop {
		let (socket, addr) = match listener.accept().await {
			Ok(accepted) => accepted,
			Err(e) => {
				// Out of file descriptors, typically: wait rather than spin.
				log::debug!(target: "inference", "inference JSON-RPC accept failed: {e}");
				tokio::time::sleep(Duration::from_millis(100)).await;
				continue;
			},
		};
		let Ok(permit) = sockets.clone().try_acquire_owned() else {
			log::debug!(target: "inference", "inference JSON-RPC: too many sockets, closing {addr}");
			continue;
		};
		let service = WithClientAddr::new(
			service_builder
				.clone()
				.build(methods.clone(), stop_handle.clone()),
			addr,
		);
		let stopped = stop_handle.clone().shutdown();
		spawner.spawn(
			"inference-rpc-connection",
			Some("rpc"),
			Box::pin(async move {
				if let Err(e) = serve_with_graceful_shutdown(socket, service, stopped).await {
					log::debug!(target: "inference", "inference JSON-RPC connection {addr}: {e}");
				}
				drop(permit);
			}),
		);
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use futures::future::BoxFuture;
	use jsonrpsee::Extensions;
	use tokio::io::{AsyncReadExt, AsyncWriteExt};

	/// Spawns on the test's tokio runtime.
	#[derive(Clone)]
	struct TokioSpawner;

	impl SpawnNamed for TokioSpawner {
		fn spawn_blocking(
			&self,
			_: &'static str,
			_: Option<&'static str>,
			f: BoxFuture<'static, ()>,
		) {
			tokio::spawn(f);
		}
		fn spawn(&self, _: &'static str, _: Option<&'static str>, f: BoxFuture<'static, ()>) {
			tokio::spawn(f);
		}
	}

	/// A bare HTTP/1.1 JSON-RPC call; the response body.
	async fn call(addr: SocketAddr, method: &str) -> serde_json::Value {
		let body = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"{method}","params":[]}}"#);
		let request = format!(
			"POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
			 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
			body.len()
		);
		let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
		stream.write_all(request.as_bytes()).await.expect("write");
		let mut response = String::new();
		stream.read_to_string(&mut response).await.expect("read");
		let (_, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
		serde_json::from_str(body).expect("a JSON body")
	}

	#[tokio::test]
	async fn requests_carry_the_client_address_and_deny_unsafe() {
		let mut module = RpcModule::new(());
		module
			.register_method("test_whoami", |_, _, ext: &Extensions| {
				let client = ext.get::<ClientAddr>().map(|c| c.0.ip().to_string());
				let denied = matches!(ext.get::<DenyUnsafe>(), Some(DenyUnsafe::Yes));
				serde_json::json!({ "client": client, "denyUnsafe": denied })
			})
			.expect("register");
		let listener = bind(&PortConfig {
			addr: "127.0.0.1:0".parse().expect("addr"),
			explicit: true,
		})
		.expect("bind")
		.expect("bound");
		let addr = start(listener, module, TokioSpawner, 1 << 20).expect("start");

		let answer = call(addr, "test_whoami").await;
		assert_eq!(answer["result"]["client"], "127.0.0.1", "{answer}");
		assert_eq!(answer["result"]["denyUnsafe"], true, "{answer}");

		let methods = call(addr, "rpc_methods").await;
		let names = methods["result"]["methods"]
			.as_array()
			.expect("a method list")
			.clone();
		assert!(names.contains(&"test_whoami".into()), "{methods}");
		assert!(names.contains(&"rpc_methods".into()), "{methods}");
	}

	#[test]
	fn a_busy_port_is_an_error_only_when_chosen() {
		let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
		let addr = taken.local_addr().expect("addr");
		let chosen = bind(&PortConfig {
			addr,
			explicit: true,
		});
		let message = chosen.expect_err("a chosen busy port stops the node");
		assert!(message.contains(&addr.to_string()), "{message}");
		let default = bind(&PortConfig {
			addr,
			explicit: false,
		});
		assert!(
			matches!(default, Ok(None)),
			"a busy default port is skipped"
		);
	}
}
