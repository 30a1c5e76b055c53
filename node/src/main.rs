//! `cognitive-node`: the Cognitive Internet validator node.
//!
//! A Substrate client for the Cognitive Internet runtime: BABE block production, GRANDPA
//! finality, JSON-RPC, Prometheus metrics, and off-chain workers that run AI models through the
//! node's inference engine (llama.cpp).

#![warn(missing_docs)]
// `sc_cli::Error` and `sc_service::Error` are large, but they are the error types that the SDK's
// runner and service builders require of the closures and functions passed to them.
#![allow(clippy::result_large_err)]

mod babe_equivocation;
mod bench_cmd;
mod chain_read;
mod chain_spec;
mod cli;
mod command;
mod hardware_cmd;
mod inference;
mod metrics;
mod model_cmd;
mod model_p2p;
mod model_sync;
mod rpc;
mod service;
mod traces;

fn main() {
	// Errors are printed with their message only (no `Debug` dump, no backtrace) and the process
	// exits non-zero, so that a wrong flag or a busy port reads as an operator error, not a crash.
	if let Err(error) = command::run() {
		eprintln!("Error: {error}");
		std::process::exit(1);
	}
}
