//! The node's own JSON-RPC methods, added to the standard Substrate ones
//! (`chain_*`, `state_*`, `author_*`, `system_*`, `rpc_methods`, the v2 `chainHead_*` family),
//! and the module served on the dedicated inference port.

use std::sync::Arc;

use crate::inference::{
	rpc::{InferenceApiServer, InferenceRpc, RpcDeps},
	Inference, KeystoreSigner, RpcLimits,
};
use cognitive_runtime::{opaque::Block, AccountId, Balance, BlockNumber, Nonce};
use jsonrpsee::RpcModule;
use pallet_proof_of_inference::runtime_api::ProofOfInferenceApi;
use sc_transaction_pool_api::TransactionPool;
use sp_api::ProvideRuntimeApi;
use sp_block_builder::BlockBuilder;
use sp_blockchain::{Error as BlockChainError, HeaderBackend, HeaderMetadata};

/// What the RPC extensions need from the node.
pub struct FullDeps<C, P, S> {
	/// The client, to call runtime APIs.
	pub client: Arc<C>,
	/// The transaction pool, for the account-nonce helper.
	pub pool: Arc<P>,
	/// The inference engine and what the `inference_*` methods need besides the client.
	pub inference: InferenceDeps<S>,
}

/// What the `inference_*` methods need besides the client.
#[derive(Clone)]
pub struct InferenceDeps<S> {
	/// The inference engine (`None` with `--no-inference`).
	pub engine: Option<Inference>,
	/// The keystore, whose inference key signs proofs.
	pub keystore: sp_keystore::KeystorePtr,
	/// The local offchain database, where off-chain workers keep job outputs.
	pub offchain: Option<S>,
	/// Limits of the methods.
	pub limits: RpcLimits,
	/// The dedicated inference port, if it runs.
	pub port: Option<u16>,
	/// The model-transfer endpoint, if it runs.
	pub models: Option<model_transfer::ModelNet>,
}

/// The `inference_*` methods' implementation, with counters of its own: each server (the RPC
/// ports, the OpenAI API) gets a fresh one.
pub fn inference_rpc<C, S>(client: Arc<C>, deps: InferenceDeps<S>) -> InferenceRpc<C, S>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: ProofOfInferenceApi<Block, AccountId, Balance, BlockNumber>,
	S: sp_core::offchain::OffchainStorage + 'static,
{
	InferenceRpc::new(RpcDeps {
		inference: deps.engine,
		signer: KeystoreSigner::new(deps.keystore),
		client,
		offchain: deps.offchain,
		limits: deps.limits,
		inference_port: deps.port,
		models: deps.models,
	})
}

/// The `inference_*` methods as an RPC module of their own ([`inference_rpc`]).
pub fn inference_module<C, S>(
	client: Arc<C>,
	deps: InferenceDeps<S>,
) -> Result<RpcModule<()>, Box<dyn std::error::Error + Send + Sync>>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: ProofOfInferenceApi<Block, AccountId, Balance, BlockNumber>,
	S: sp_core::offchain::OffchainStorage + 'static,
{
	let mut module = RpcModule::new(());
	module.merge(inference_rpc(client, deps).into_rpc())?;
	Ok(module)
}

/// Builds the extra RPC methods of Substrate's RPC server: `system_accountNextIndex`,
/// `system_dryRun` and the `payment_*` fee queries that wallets and Polkadot.js use, and the
/// `inference_*` methods.
pub fn create_full<C, P, S>(
	deps: FullDeps<C, P, S>,
) -> Result<RpcModule<()>, Box<dyn std::error::Error + Send + Sync>>
where
	C: ProvideRuntimeApi<Block>
		+ HeaderBackend<Block>
		+ HeaderMetadata<Block, Error = BlockChainError>
		+ Send
		+ Sync
		+ 'static,
	C::Api: substrate_frame_rpc_system::AccountNonceApi<Block, AccountId, Nonce>,
	C::Api: pallet_transaction_payment_rpc::TransactionPaymentRuntimeApi<Block, Balance>,
	C::Api: BlockBuilder<Block>,
	C::Api: ProofOfInferenceApi<Block, AccountId, Balance, BlockNumber>,
	P: TransactionPool + 'static,
	S: sp_core::offchain::OffchainStorage + 'static,
{
	use pallet_transaction_payment_rpc::{TransactionPayment, TransactionPaymentApiServer};
	use substrate_frame_rpc_system::{System, SystemApiServer};

	let FullDeps {
		client,
		pool,
		inference,
	} = deps;
	let mut module = RpcModule::new(());
	module.merge(System::new(client.clone(), pool).into_rpc())?;
	module.merge(TransactionPayment::new(client.clone()).into_rpc())?;
	module.merge(inference_module(client, inference)?)?;
	Ok(module)
}
