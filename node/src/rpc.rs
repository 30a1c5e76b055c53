//! The node's own JSON-RPC methods, added to the standard Substrate ones
//! (`chain_*`, `state_*`, `author_*`, `system_*`, `rpc_methods`, the v2 `chainHead_*` family).

use std::sync::Arc;

use cognitive_runtime::{opaque::Block, AccountId, Balance, Nonce};
use jsonrpsee::RpcModule;
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
	/// The inference engine (`None` with `--no-inference`).
	pub inference: Option<crate::inference::Inference>,
	/// The keystore, whose inference key signs proofs.
	pub keystore: sp_keystore::KeystorePtr,
	/// The local offchain database, where off-chain workers keep job outputs.
	pub offchain: Option<S>,
}

/// Builds the extra RPC methods: `system_accountNextIndex`, `system_dryRun` and the
/// `payment_*` fee queries that wallets and Polkadot.js use, and the `inference_*` methods.
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
	C::Api: pallet_proof_of_inference::runtime_api::ProofOfInferenceApi<
		Block,
		AccountId,
		Balance,
		cognitive_runtime::BlockNumber,
	>,
	P: TransactionPool + 'static,
	S: sp_core::offchain::OffchainStorage + 'static,
{
	use crate::inference_rpc::{InferenceApiServer, InferenceRpc};
	use pallet_transaction_payment_rpc::{TransactionPayment, TransactionPaymentApiServer};
	use substrate_frame_rpc_system::{System, SystemApiServer};

	let FullDeps {
		client,
		pool,
		inference,
		keystore,
		offchain,
	} = deps;
	let mut module = RpcModule::new(());
	module.merge(System::new(client.clone(), pool).into_rpc())?;
	module.merge(TransactionPayment::new(client.clone()).into_rpc())?;
	let signer = crate::inference::KeystoreSigner::new(keystore);
	module.merge(InferenceRpc::new(inference, signer, client, offchain).into_rpc())?;
	Ok(module)
}
