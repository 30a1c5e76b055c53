//! Dispatch of the command line to the node service or to a maintenance subcommand.

use crate::{
	chain_spec,
	cli::{Cli, Subcommand},
	service,
};
use cognitive_runtime::opaque::Block;
use sc_cli::SubstrateCli;
use sc_service::PartialComponents;

impl SubstrateCli for Cli {
	fn impl_name() -> String {
		"Cognitive Internet Node".into()
	}

	fn impl_version() -> String {
		env!("SUBSTRATE_CLI_IMPL_VERSION").into()
	}

	fn description() -> String {
		env!("CARGO_PKG_DESCRIPTION").into()
	}

	fn author() -> String {
		env!("CARGO_PKG_AUTHORS").into()
	}

	/// Printed after a crash. The project has no public tracker yet, so this names what to
	/// report and where the operator's guide says how.
	fn support_url() -> String {
		"the Cognitive Internet developers (see docs/operator.md, \"Reporting a problem\")".into()
	}

	fn copyright_start_year() -> i32 {
		2026
	}

	fn load_spec(&self, id: &str) -> Result<Box<dyn sc_service::ChainSpec>, String> {
		chain_spec::load(id)
	}
}

/// Parses the command line and runs what it asks for.
pub fn run() -> sc_cli::Result<()> {
	let cli = Cli::from_args();

	match &cli.subcommand {
		Some(Subcommand::Key(cmd)) => cmd.run(&cli),
		Some(Subcommand::BuildSpec(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run(config.chain_spec, config.network))
		},
		Some(Subcommand::CheckBlock(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents {
					client,
					task_manager,
					import_queue,
					..
				} = service::new_partial(&config)?;
				Ok((cmd.run(client, import_queue), task_manager))
			})
		},
		Some(Subcommand::ExportBlocks(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents {
					client,
					task_manager,
					..
				} = service::new_partial(&config)?;
				Ok((cmd.run(client, config.database), task_manager))
			})
		},
		Some(Subcommand::ExportState(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents {
					client,
					task_manager,
					..
				} = service::new_partial(&config)?;
				Ok((cmd.run(client, config.chain_spec), task_manager))
			})
		},
		Some(Subcommand::ImportBlocks(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents {
					client,
					task_manager,
					import_queue,
					..
				} = service::new_partial(&config)?;
				Ok((cmd.run(client, import_queue), task_manager))
			})
		},
		Some(Subcommand::PurgeChain(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run(config.database))
		},
		Some(Subcommand::Revert(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents {
					client,
					task_manager,
					backend,
					..
				} = service::new_partial(&config)?;
				// BABE (its epoch tree) and GRANDPA (its authority set) keep their own state in
				// the aux database; it has to be rolled back together with the blocks.
				let aux_revert = Box::new(
					|client: std::sync::Arc<service::FullClient>, backend, blocks| {
						sc_consensus_babe::revert(client.clone(), backend, blocks)?;
						sc_consensus_grandpa::revert(client, blocks)?;
						Ok(())
					},
				);
				Ok((cmd.run(client, backend, Some(aux_revert)), task_manager))
			})
		},
		Some(Subcommand::Model(cmd)) => cmd.run().map_err(sc_cli::Error::Input),
		Some(Subcommand::Bench(cmd)) => cmd.run().map_err(sc_cli::Error::Input),
		Some(Subcommand::Hardware(cmd)) => match cmd.run().map_err(sc_cli::Error::Input)? {
			0 => Ok(()),
			// The verdict as the exit status (1 fail, 2 unknown), after the report was printed.
			code => std::process::exit(code),
		},
		Some(Subcommand::ChainInfo(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run::<Block>(&config))
		},
		#[cfg(feature = "runtime-benchmarks")]
		Some(Subcommand::Benchmark(cmd)) => {
			use frame_benchmarking_cli::BenchmarkCmd;
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| match cmd {
				BenchmarkCmd::Pallet(cmd) => cmd
					.run_with_spec::<sp_runtime::traits::HashingFor<Block>, crate::service::HostFunctions>(
						Some(config.chain_spec),
					),
				_ => Err("this node implements `benchmark pallet` only".into()),
			})
		},
		None => {
			let runner = cli.create_runner(&cli.run)?;
			let inference_params = cli.inference.clone();
			let model_p2p = cli.model_p2p.clone();
			let traces = cli.traces.clone();
			runner.run_node_until_exit(|mut config| async move {
				use sc_network::config::NetworkBackendType;
				refuse_rpc_port_fallback(&mut config)?;
				let inference_rpc = crate::inference::RpcSetup::new(&inference_params)
					.map_err(sc_cli::Error::Input)?;
				let inference =
					crate::inference::start(&inference_params).map_err(sc_cli::Error::Input)?;
				match config.network.network_backend {
					NetworkBackendType::Libp2p => {
						service::new_full::<
							sc_network::NetworkWorker<
								Block,
								<Block as sp_runtime::traits::Block>::Hash,
							>,
						>(config, inference, inference_rpc, model_p2p, traces)
					},
					NetworkBackendType::Litep2p => {
						service::new_full::<sc_network::Litep2pNetworkBackend>(
							config,
							inference,
							inference_rpc,
							model_p2p,
							traces,
						)
					},
				}
				.map_err(sc_cli::Error::Service)
			})
		},
	}
}

/// Substrate's RPC server quietly moves to a random port when the configured one is taken. An
/// operator (or a Polkadot.js app, or zombienet) would then talk to nothing, or to another
/// process, on the port they asked for; so a busy RPC port is an error that stops the node, and
/// the error names the address.
fn refuse_rpc_port_fallback(config: &mut sc_service::Configuration) -> sc_cli::Result<()> {
	for endpoint in config.rpc.addr.iter_mut().flatten() {
		endpoint.retry_random_port = false;
		if !endpoint.is_optional {
			// Probe the address so the error can say which one is busy; the RPC server binds it
			// for real a moment later.
			std::net::TcpListener::bind(endpoint.listen_addr).map_err(|e| {
				sc_cli::Error::Input(format!(
					"cannot serve JSON-RPC on {}: {e} (choose another --rpc-port)",
					endpoint.listen_addr
				))
			})?;
		}
	}
	Ok(())
}
