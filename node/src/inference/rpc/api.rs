//! The `inference` JSON-RPC namespace (docs/rpc.md documents each method).

use super::types::{
	GenerateParams, GenerateResult, JobResultAuth, JobResultView, KeyOwnershipProofView,
	ModelInfoView, ModelTransferView, NodeInfoView,
};
use jsonrpsee::{
	core::{RpcResult, SubscriptionResult},
	proc_macros::rpc,
};

/// The `inference` RPC namespace, generic over the block hash type.
#[rpc(server, namespace = "inference")]
pub trait InferenceApi<BlockHash> {
	/// Runs a prompt or chat on the engine's public lane and answers with the text, token ids,
	/// timings and a version 2 proof. Served on the inference port (limited per client address)
	/// and on Substrate's RPC port where unsafe methods are allowed.
	#[method(name = "generate", with_extensions)]
	async fn generate(&self, params: GenerateParams) -> RpcResult<GenerateResult>;

	/// Like `generate`, streaming `token` items and ending with a `done` (or `error`) item.
	#[subscription(
		name = "subscribeGenerate" => "generateEvent",
		unsubscribe = "unsubscribeGenerate",
		item = super::types::StreamItem,
		with_extensions
	)]
	async fn subscribe_generate(&self, params: GenerateParams) -> SubscriptionResult;

	/// The models in this node's store.
	#[method(name = "models")]
	fn models(&self) -> RpcResult<Vec<ModelInfoView>>;

	/// The node's inference key, engine, queues, loaded models, limits and model endpoints.
	#[method(name = "nodeInfo")]
	fn node_info(&self) -> RpcResult<NodeInfoView>;

	/// Model fetches over IPFS bitswap, running and finished, with their progress.
	#[method(name = "modelTransfers")]
	fn model_transfers(&self) -> RpcResult<Vec<ModelTransferView>>;

	/// The output this node produced for an on-chain job, with the job as the chain sees it at
	/// `at` (default: the best block). A pending job's output is served only with `auth`, the
	/// owner's signature; a settled job's only if the output answers that very job.
	#[method(name = "jobResult")]
	fn job_result(
		&self,
		job_id: u64,
		auth: Option<JobResultAuth>,
		at: Option<BlockHash>,
	) -> RpcResult<JobResultView>;

	/// Signs `pallet_node_registry::key_ownership_payload(genesis, account)` with the node's
	/// inference key, for `nodeRegistry.register` and `set_inference_key`. Unsafe: denied where
	/// Substrate denies unsafe methods, and on the inference port.
	#[method(name = "keyOwnershipProof", with_extensions)]
	fn key_ownership_proof(&self, account: String) -> RpcResult<KeyOwnershipProofView>;
}
