//! Command-line interface: the standard Substrate run command plus the maintenance subcommands.

use sc_cli::RunCmd;

/// The node's command line.
#[derive(Debug, clap::Parser)]
pub struct Cli {
	/// A maintenance subcommand; without one the node runs.
	#[command(subcommand)]
	pub subcommand: Option<Subcommand>,

	/// Flags of the node itself (`--dev`, `--validator`, `--rpc-port`, ...).
	#[clap(flatten)]
	pub run: RunCmd,

	/// Inference engine settings (model store, workers, queues, the inference RPC port and its
	/// limits).
	#[clap(flatten)]
	pub inference: crate::inference::InferenceParams,

	/// Model-transfer settings (the IPFS bitswap endpoint that serves and fetches models).
	#[clap(flatten)]
	pub model_p2p: crate::model_p2p::ModelP2pParams,

	/// Trace export (OTLP).
	#[clap(flatten)]
	pub traces: crate::traces::TraceParams,
}

/// Maintenance subcommands.
#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Subcommand {
	/// Key management: generate, inspect and insert keys into the keystore.
	#[command(subcommand)]
	Key(sc_cli::KeySubcommand),

	/// Print a chain specification (plain, or raw with `--raw`).
	BuildSpec(sc_cli::BuildSpecCmd),

	/// Import a block and check it without writing it.
	CheckBlock(sc_cli::CheckBlockCmd),

	/// Export blocks to a file.
	ExportBlocks(sc_cli::ExportBlocksCmd),

	/// Export the state at a block as a chain specification.
	ExportState(sc_cli::ExportStateCmd),

	/// Import blocks from a file.
	ImportBlocks(sc_cli::ImportBlocksCmd),

	/// Delete the chain database.
	PurgeChain(sc_cli::PurgeChainCmd),

	/// Revert the chain by a number of (unfinalized) blocks.
	Revert(sc_cli::RevertCmd),

	/// Print information about the database columns.
	ChainInfo(sc_cli::ChainInfoCmd),

	/// The model store: import a GGUF file (computing its sha256 and IPFS CID), list, remove.
	#[command(subcommand)]
	Model(crate::model_cmd::ModelCmd),

	/// This machine against the hardware specification (`hardware check`), and the capability
	/// declaration it supports (`hardware capabilities`).
	#[command(subcommand)]
	Hardware(crate::hardware_cmd::HardwareCmd),

	/// Rate this node on its models: the hardware specification's fixed benchmark on every
	/// model of the store (prompt and generation tokens per second, first token, memory), kept
	/// in the store for `inference_nodeInfo`.
	Bench(crate::bench_cmd::BenchCmd),

	/// Runtime benchmarks (`benchmark pallet`); only in nodes built with
	/// `--features runtime-benchmarks`.
	#[cfg(feature = "runtime-benchmarks")]
	#[command(subcommand)]
	Benchmark(frame_benchmarking_cli::BenchmarkCmd),
}
