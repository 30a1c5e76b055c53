//! Assembly of the node: client, database, import queue, networking, block authoring (BABE),
//! finality (GRANDPA), off-chain workers and RPC.

use std::{sync::Arc, time::Duration};

use cognitive_runtime::{apis::RuntimeApi, opaque::Block};
use futures::FutureExt;
use sc_client_api::{Backend, BlockBackend};
use sc_consensus_babe::{BabeLink, BabeParams, ImportQueueParams, SlotProportion};
use sc_consensus_grandpa::SharedVoterState;
use sc_service::{error::Error as ServiceError, Configuration, TaskManager, WarpSyncConfig};
use sc_telemetry::{Telemetry, TelemetryWorker};
use sc_transaction_pool_api::OffchainTransactionPoolFactory;
use sp_inherents::CreateInherentDataProviders;

/// Host functions the runtime may call: Substrate's, plus the inference host functions that
/// the proof-of-inference off-chain worker uses to reach the node's engine.
pub type HostFunctions = (
	sp_io::SubstrateHostFunctions,
	inference_primitives::HostFunctions,
);

/// The full client: executes the on-chain WASM runtime (there is no native runtime).
pub(crate) type FullClient =
	sc_service::TFullClient<Block, RuntimeApi, sc_executor::WasmExecutor<HostFunctions>>;
type FullBackend = sc_service::TFullBackend<Block>;
type FullSelectChain = sc_consensus::LongestChain<FullBackend, Block>;
type TransactionPool = sc_transaction_pool::TransactionPoolHandle<Block, FullClient>;
type GrandpaBlockImport =
	sc_consensus_grandpa::GrandpaBlockImport<FullBackend, Block, FullClient, FullSelectChain>;
type GrandpaLinkHalf = sc_consensus_grandpa::LinkHalf<Block, FullClient, FullSelectChain>;
/// The inherents of a block: its BABE slot and its timestamp.
type SlotInherents = (
	sp_consensus_babe::inherents::InherentDataProvider,
	sp_timestamp::InherentDataProvider,
);
/// Creates [`SlotInherents`] for a new block; shared by block import (which checks a block's
/// inherents, and reports an author that equivocates) and by authoring.
type SlotInherentsFactory =
	Arc<dyn CreateInherentDataProviders<Block, (), InherentDataProviders = SlotInherents>>;
/// The node's block import: the BABE equivocation reporter, then BABE's import around
/// GRANDPA's; every block passes all three.
type BabeBlockImport = crate::babe_equivocation::EquivocationReporter<
	Block,
	sc_consensus_babe::BabeBlockImport<
		Block,
		FullClient,
		GrandpaBlockImport,
		SlotInherentsFactory,
		FullSelectChain,
	>,
	FullClient,
>;

/// Every this many blocks GRANDPA stores a justification even when not needed for a set
/// change, so that light clients and warp sync have recent finality proofs.
const GRANDPA_JUSTIFICATION_PERIOD: u32 = 512;

/// The parts of the node that both the full service and the maintenance subcommands need.
pub type Service = sc_service::PartialComponents<
	FullClient,
	FullBackend,
	FullSelectChain,
	sc_consensus::DefaultImportQueue<Block>,
	TransactionPool,
	(
		BabeBlockImport,
		BabeLink<Block>,
		GrandpaLinkHalf,
		SlotInherentsFactory,
		Option<Telemetry>,
	),
>;

/// The slot and timestamp inherents of a block built now, with the chain's slot duration.
fn slot_inherents(slot_duration: sp_consensus_babe::SlotDuration) -> SlotInherentsFactory {
	Arc::new(move |_parent, ()| async move {
		let timestamp = sp_timestamp::InherentDataProvider::from_system_time();
		let slot =
			sp_consensus_babe::inherents::InherentDataProvider::from_timestamp_and_slot_duration(
				*timestamp,
				slot_duration,
			);
		Ok((slot, timestamp))
	})
}

/// Opens the database and builds the client, transaction pool and import queue.
pub fn new_partial(config: &Configuration) -> Result<Service, ServiceError> {
	let telemetry = config
		.telemetry_endpoints
		.clone()
		.filter(|endpoints| !endpoints.is_empty())
		.map(|endpoints| -> Result<_, sc_telemetry::Error> {
			let worker = TelemetryWorker::new(16)?;
			let telemetry = worker.handle().new_telemetry(endpoints);
			Ok((worker, telemetry))
		})
		.transpose()?;

	let executor = sc_service::new_wasm_executor::<HostFunctions>(&config.executor);
	let (client, backend, keystore_container, task_manager) =
		sc_service::new_full_parts::<Block, RuntimeApi, _>(
			config,
			telemetry.as_ref().map(|(_, telemetry)| telemetry.handle()),
			executor,
			Vec::new(),
		)
		.map_err(|e| explain_database_error(e, config))?;
	let client = Arc::new(client);

	let telemetry = telemetry.map(|(worker, telemetry)| {
		task_manager
			.spawn_handle()
			.spawn("telemetry", None, worker.run());
		telemetry
	});

	let select_chain = sc_consensus::LongestChain::new(backend.clone());

	let transaction_pool = Arc::from(
		sc_transaction_pool::Builder::new(
			task_manager.spawn_essential_handle(),
			client.clone(),
			config.role.is_authority().into(),
		)
		.with_options(config.transaction_pool.clone())
		.with_prometheus(config.prometheus_registry())
		.build(),
	);

	let (grandpa_block_import, grandpa_link) = sc_consensus_grandpa::block_import(
		client.clone(),
		GRANDPA_JUSTIFICATION_PERIOD,
		&client,
		select_chain.clone(),
		telemetry.as_ref().map(|x| x.handle()),
	)?;

	let babe_config = sc_consensus_babe::configuration(&*client)?;
	let slot_duration = babe_config.slot_duration();
	let inherents = slot_inherents(slot_duration);
	let (block_import, babe_link) = sc_consensus_babe::block_import(
		babe_config,
		grandpa_block_import.clone(),
		client.clone(),
		inherents.clone(),
		select_chain.clone(),
		// BABE reports the equivocations it sees on import, but with unsealed headers that the
		// runtime rejects; the reporter below sends the usable report first.
		OffchainTransactionPoolFactory::new(transaction_pool.clone()),
	)?;
	let block_import = crate::babe_equivocation::EquivocationReporter::new(
		block_import,
		client.clone(),
		OffchainTransactionPoolFactory::new(transaction_pool.clone()),
	);

	let (import_queue, babe_worker_handle) = sc_consensus_babe::import_queue(ImportQueueParams {
		link: babe_link.clone(),
		block_import: block_import.clone(),
		justification_import: Some(Box::new(grandpa_block_import)),
		client: client.clone(),
		slot_duration,
		spawner: &task_manager.spawn_essential_handle(),
		registry: config.prometheus_registry(),
		telemetry: telemetry.as_ref().map(|x| x.handle()),
	})?;
	// The import queue's BABE worker (epoch data) is an essential task that stops, and stops
	// the node with it, as soon as its last handle is dropped: a task holds one for good.
	task_manager
		.spawn_handle()
		.spawn("babe-worker-handle", None, async move {
			let _handle = babe_worker_handle;
			futures::future::pending::<()>().await
		});

	Ok(sc_service::PartialComponents {
		client,
		backend,
		task_manager,
		import_queue,
		keystore_container,
		select_chain,
		transaction_pool,
		other: (block_import, babe_link, grandpa_link, inherents, telemetry),
	})
}

/// A database that cannot be opened is reported with its path and the way out, instead of the
/// bare backend message ("Corruption: Bad metadata").
fn explain_database_error(error: ServiceError, config: &Configuration) -> ServiceError {
	match error {
		ServiceError::Client(sp_blockchain::Error::Backend(reason)) => {
			let path = config
				.database
				.path()
				.map(|p| p.display().to_string())
				.unwrap_or_else(|| "(in memory)".into());
			ServiceError::Other(format!(
				"cannot open the chain database at {path}: {reason}. If it is damaged, remove it \
				 with `cognitive-node purge-chain` (same --chain and --base-path) and sync again."
			))
		},
		other => other,
	}
}

/// Builds and starts the full node with the network backend `N` (libp2p or litep2p).
pub fn new_full<
	N: sc_network::NetworkBackend<Block, <Block as sp_runtime::traits::Block>::Hash>,
>(
	config: Configuration,
	inference: Option<crate::inference::Inference>,
	inference_rpc: crate::inference::RpcSetup,
	model_p2p: crate::model_p2p::ModelP2pParams,
	traces: crate::traces::TraceParams,
) -> Result<TaskManager, ServiceError> {
	let sc_service::PartialComponents {
		client,
		backend,
		mut task_manager,
		import_queue,
		keystore_container,
		select_chain,
		transaction_pool,
		other: (block_import, babe_link, grandpa_link, inherents, mut telemetry),
	} = new_partial(&config)?;

	let mut net_config = sc_network::config::FullNetworkConfiguration::<
		Block,
		<Block as sp_runtime::traits::Block>::Hash,
		N,
	>::new(&config.network, config.prometheus_registry().cloned());
	let metrics = N::register_notification_metrics(config.prometheus_registry());

	let genesis_hash = client
		.block_hash(0)
		.ok()
		.flatten()
		.ok_or_else(|| ServiceError::Other("the database has no genesis block".into()))?;
	let grandpa_protocol_name =
		sc_consensus_grandpa::protocol_standard_name(&genesis_hash, &config.chain_spec);
	let (grandpa_protocol_config, grandpa_notification_service) =
		sc_consensus_grandpa::grandpa_peers_set_config::<_, N>(
			grandpa_protocol_name.clone(),
			metrics.clone(),
			net_config.peer_store_handle(),
		);
	net_config.add_notification_protocol(grandpa_protocol_config);

	let warp_sync = Arc::new(sc_consensus_grandpa::warp_proof::NetworkProvider::new(
		backend.clone(),
		grandpa_link.shared_authority_set().clone(),
		Vec::default(),
	));

	let (network, system_rpc_tx, tx_handler_controller, sync_service, _bitswap) =
		sc_service::build_network(sc_service::BuildNetworkParams {
			config: &config,
			net_config,
			client: client.clone(),
			transaction_pool: transaction_pool.clone(),
			spawn_handle: task_manager.spawn_handle(),
			spawn_essential_handle: task_manager.spawn_essential_handle(),
			import_queue,
			block_announce_validator_builder: None,
			warp_sync_config: Some(WarpSyncConfig::WithProvider(warp_sync)),
			block_relay: None,
			metrics,
			gap_sync_body_policy: None,
		})?;

	// The node's own metrics (src/metrics), beside Substrate's on its Prometheus endpoint.
	let inference = match (inference, config.prometheus_registry()) {
		(Some(mut inference), Some(registry)) => {
			let metrics =
				crate::metrics::inference::InferenceMetrics::register(registry, &inference.engine)
					.map_err(|e| ServiceError::Other(format!("inference metrics: {e}")))?;
			inference.engine.set_observer(metrics.clone());
			inference.metrics = Some(metrics);
			Some(inference)
		},
		(inference, _) => inference,
	};
	if let Some(registry) = config.prometheus_registry() {
		let metrics = crate::metrics::chain::ChainMetrics::register(registry)
			.map_err(|e| ServiceError::Other(format!("chain metrics: {e}")))?;
		task_manager.spawn_handle().spawn(
			"chain-metrics",
			None,
			crate::metrics::chain::run(
				client.clone(),
				keystore_container.keystore(),
				crate::metrics::chain::Tracker::new(metrics),
			),
		);
	}

	// Job traces over OTLP (`--otlp-endpoint`): the job host reports the engine's part.
	if let Some(traces) = crate::traces::start(
		&traces,
		config.network.node_name.clone(),
		client.clone(),
		keystore_container.keystore(),
		genesis_hash.into(),
		&task_manager.spawn_handle(),
	) {
		if let Some(inference) = &inference {
			inference.host.set_observer(traces);
		}
	}

	if config.offchain_worker.enabled {
		let offchain_workers =
			sc_offchain::OffchainWorkers::new(sc_offchain::OffchainWorkerOptions {
				runtime_api_provider: client.clone(),
				is_validator: config.role.is_authority(),
				keystore: Some(keystore_container.keystore()),
				offchain_db: backend.offchain_storage(),
				transaction_pool: Some(OffchainTransactionPoolFactory::new(
					transaction_pool.clone(),
				)),
				network_provider: Arc::new(network.clone()),
				enable_http_requests: true,
				// The inference engine reaches the runtime's off-chain workers as an
				// externalities extension behind the `inference_host_api` host functions.
				// Without an engine the host functions answer `Unavailable`.
				custom_extensions: {
					let host = inference.as_ref().map(|i| i.host.clone());
					move |_| match &host {
						Some(host) => {
							vec![
								Box::new(inference_primitives::InferenceExt::new(host.clone()))
									as Box<_>,
							]
						},
						None => vec![],
					}
				},
			})?;
		task_manager.spawn_handle().spawn(
			"offchain-workers-runner",
			"offchain-worker",
			offchain_workers
				.run(client.clone(), task_manager.spawn_handle())
				.boxed(),
		);
	}

	let role = config.role;
	let force_authoring = config.force_authoring;
	let name = config.network.node_name.clone();
	let enable_grandpa = !config.disable_grandpa;
	let prometheus_registry = config.prometheus_registry().cloned();

	// The `inference_*` methods are served twice, with separate counters: on Substrate's RPC
	// server below, and on the dedicated inference port (per-client limits, see
	// `inference::rpc::limits`).
	// The model-transfer endpoint serves the engine's store (no engine, no store to serve).
	let models = match inference.as_ref() {
		Some(inference) => {
			let key = config
				.base_path
				.config_dir(config.chain_spec.id())
				.join("model-p2p")
				.join("secret_ed25519");
			let spawner = task_manager.spawn_handle();
			let net = crate::model_p2p::start(&model_p2p, &key, inference.engine.store(), |task| {
				spawner.spawn("model-transfer", None, task)
			})
			.map_err(ServiceError::Other)?;
			// Declared (and, if opted in, whitelisted) models missing from the store are
			// fetched from the nodes that have them.
			if let Some(net) = net.clone() {
				let (client, keystore) = (client.clone(), keystore_container.keystore());
				let view = move || crate::model_sync::ClientView::new(client.clone(), &keystore);
				let dir = inference.engine.store().dir().to_path_buf();
				spawner.spawn(
					"model-sync",
					None,
					crate::model_sync::run(view, net, dir, model_p2p.fetch_whitelisted_models),
				);
			}
			net
		},
		None => None,
	};
	if let (Some(net), Some(registry)) = (models.as_ref(), config.prometheus_registry()) {
		crate::metrics::transfer::register(registry, net)
			.map_err(|e| ServiceError::Other(format!("model transfer metrics: {e}")))?;
	}
	let inference_deps = crate::rpc::InferenceDeps {
		engine: inference.clone(),
		keystore: keystore_container.keystore(),
		offchain: backend.offchain_storage(),
		limits: inference_rpc.limits,
		port: inference_rpc.port(),
		models,
	};
	let rpc_builder = {
		let client = client.clone();
		let pool = transaction_pool.clone();
		let inference = inference_deps.clone();
		Box::new(move |_| {
			let deps = crate::rpc::FullDeps {
				client: client.clone(),
				pool: pool.clone(),
				inference: inference.clone(),
			};
			crate::rpc::create_full(deps).map_err(Into::into)
		})
	};

	sc_service::spawn_tasks(sc_service::SpawnTasksParams {
		network: network.clone(),
		client: client.clone(),
		keystore: keystore_container.keystore(),
		task_manager: &mut task_manager,
		transaction_pool: transaction_pool.clone(),
		rpc_builder,
		backend,
		system_rpc_tx,
		tx_handler_controller,
		sync_service: sync_service.clone(),
		config,
		telemetry: telemetry.as_mut(),
		tracing_execute_block: None,
	})?;

	let max_request_bytes = inference_rpc.max_request_bytes();
	if let Some(listener) = inference_rpc.openai_listener {
		let peers = inference_rpc.openai_forward.then(|| {
			std::sync::Arc::new(crate::inference::openai::peers::RegistryPeers::new(
				client.clone(),
				keystore_container.keystore(),
			)) as std::sync::Arc<dyn crate::inference::openai::peers::PeerSource>
		});
		let gateway = std::sync::Arc::new(crate::inference::openai::Gateway::new(
			crate::rpc::inference_rpc(client.clone(), inference_deps.clone()).serving_http(),
			inference_rpc.openai_remotes,
			peers,
		));
		// A task of the task manager: it stops, and its connections with it, with the node.
		task_manager
			.spawn_handle()
			.spawn("openai-api", None, async move {
				match tokio::net::TcpListener::from_std(listener) {
					Ok(listener) => crate::inference::openai::serve(listener, gateway).await,
					Err(e) => log::error!(target: "inference", "OpenAI API: {e}"),
				}
			});
	}
	if let Some(listener) = inference_rpc.listener {
		let module = crate::rpc::inference_module(client.clone(), inference_deps)
			.map_err(|e| ServiceError::Other(e.to_string()))?;
		// A task of the task manager: it stops, and closes its connections, with the node.
		crate::inference::rpc::port::start(
			listener,
			module,
			task_manager.spawn_handle(),
			max_request_bytes,
		)
		.map_err(ServiceError::Other)?;
	}

	if role.is_authority() {
		let proposer_factory = sc_basic_authorship::ProposerFactory::new(
			task_manager.spawn_handle(),
			client.clone(),
			transaction_pool.clone(),
			prometheus_registry.as_ref(),
			telemetry.as_ref().map(|x| x.handle()),
		);

		let babe = sc_consensus_babe::start_babe(BabeParams {
			keystore: keystore_container.keystore(),
			client,
			select_chain,
			env: proposer_factory,
			block_import,
			sync_oracle: sync_service.clone(),
			justification_sync_link: sync_service.clone(),
			create_inherent_data_providers: inherents,
			force_authoring,
			backoff_authoring_blocks: Option::<()>::None,
			babe_link,
			block_proposal_slot_portion: SlotProportion::new(2f32 / 3f32),
			max_block_proposal_slot_portion: None,
			telemetry: telemetry.as_ref().map(|x| x.handle()),
		})?;
		// Authoring is essential: if it stops, the node stops rather than idling silently.
		task_manager.spawn_essential_handle().spawn_blocking(
			"babe-proposer",
			Some("block-authoring"),
			babe,
		);
	}

	if enable_grandpa {
		// Only authorities vote, so only they need the keystore.
		let keystore = role.is_authority().then(|| keystore_container.keystore());
		let grandpa_config = sc_consensus_grandpa::Config {
			gossip_duration: Duration::from_millis(333),
			justification_generation_period: GRANDPA_JUSTIFICATION_PERIOD,
			name: Some(name),
			observer_enabled: false,
			keystore,
			local_role: role,
			telemetry: telemetry.as_ref().map(|x| x.handle()),
			protocol_name: grandpa_protocol_name,
		};
		let grandpa_params = sc_consensus_grandpa::GrandpaParams {
			config: grandpa_config,
			link: grandpa_link,
			network,
			sync: Arc::new(sync_service),
			notification_service: grandpa_notification_service,
			voting_rule: sc_consensus_grandpa::VotingRulesBuilder::default().build(),
			prometheus_registry,
			shared_voter_state: SharedVoterState::empty(),
			telemetry: telemetry.as_ref().map(|x| x.handle()),
			offchain_tx_pool_factory: OffchainTransactionPoolFactory::new(transaction_pool),
		};
		task_manager.spawn_essential_handle().spawn_blocking(
			"grandpa-voter",
			None,
			sc_consensus_grandpa::run_grandpa_voter(grandpa_params)?,
		);
	}

	Ok(task_manager)
}
