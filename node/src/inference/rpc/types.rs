//! Request and response types of the `inference_*` methods. JSON field names are camelCase;
//! byte strings (hashes, keys, signatures) are `0x`-prefixed lowercase hex ([`hex0x`]).

use serde::{Deserialize, Serialize};

/// `0x`-prefixed lowercase hex, the one encoding of bytes in every `inference_*` answer.
pub fn hex0x(bytes: &[u8]) -> String {
	format!("0x{}", hex::encode(bytes))
}

/// Decodes `0x`-prefixed (or bare) hex of exactly `N` bytes.
pub fn parse_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
	let digits = text.strip_prefix("0x").unwrap_or(text);
	let mut out = [0u8; N];
	hex::decode_to_slice(digits, &mut out).ok()?;
	Some(out)
}

/// A chat message.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Message {
	/// `system`, `user` or `assistant`.
	pub role: String,
	/// The text.
	pub content: String,
}

/// Parameters of `inference_generate` and `inference_subscribeGenerate`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenerateParams {
	/// Model name (as in `inference_models`) or sha256 (hex, `0x` optional).
	pub model: String,
	/// A raw prompt (exclusive with `messages`).
	pub prompt: Option<String>,
	/// Chat messages, rendered with the model's template (exclusive with `prompt`).
	pub messages: Option<Vec<Message>>,
	/// Most tokens to generate (default 128).
	pub max_tokens: Option<u32>,
	/// Greedy decoding with the fixed context settings (default `true`): the same request
	/// gives the same tokens on every node of the model's determinism class.
	pub deterministic: Option<bool>,
	/// Sampling temperature when `deterministic` is `false` (default 0.8).
	pub temperature: Option<f32>,
	/// Nucleus (top-p) mass kept when `deterministic` is `false`, in `(0, 1]` (default 1: every
	/// token).
	pub top_p: Option<f32>,
	/// Seed of the draws when `deterministic` is `false` (default: from the clock). With the
	/// same seed and settings every node of the model's determinism class draws the same tokens.
	pub seed: Option<u32>,
	/// Up to 4 stop sequences of at most 64 bytes: generation ends where the text first
	/// contains one, and `text` ends before it (the token ids keep the token that completed it).
	pub stop: Option<Vec<String>>,
}

/// A model as reported by the node.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelRef {
	/// Name in the store.
	pub name: String,
	/// sha256, `0x` hex.
	pub sha256: String,
}

/// Where the time went.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TimingsView {
	/// Waiting for a worker.
	pub queue_ms: f64,
	/// Model lookup and context creation.
	pub load_ms: f64,
	/// Prompt evaluation.
	pub prompt_ms: f64,
	/// Generation.
	pub generation_ms: f64,
	/// Prompt tokens per second.
	pub prompt_tokens_per_second: f64,
	/// Generated tokens per second.
	pub generation_tokens_per_second: f64,
}

/// The context settings of a generation, as the proof's `requestHash` encodes them (three u32
/// in this order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileView {
	/// Context length in tokens.
	pub n_ctx: u32,
	/// Logical batch size.
	pub n_batch: u32,
	/// Physical batch size.
	pub n_ubatch: u32,
}

/// The signed proof of a generation, format version 2 (`inference_engine::proof`).
///
/// `signature` is the node's ed25519 signature over `message`, 209 bytes: the 37-byte context
/// `cognitive-internet/inference-proof/v2` ‖ `genesisHash` ‖ `blockHash` ‖ `blockNumber` (u32
/// LE) ‖ `modelSha256` ‖ `requestHash` ‖ `outputHash` ‖ `timestampMs` (u64 LE). A verifier
/// rebuilds the message from the other fields rather than trusting `message`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProofView {
	/// Format version (2).
	pub version: u8,
	/// Genesis hash of the chain the node is on.
	pub genesis_hash: String,
	/// The node's best block when it answered.
	pub block_hash: String,
	/// That block's number.
	pub block_number: u32,
	/// sha256 of the model file.
	pub model_sha256: String,
	/// blake2b-256 of SCALE((prompt bytes, max_tokens u32, sampling, profile)), where the
	/// prompt is the rendered `prompt` of the result, sampling is `0x00` (greedy) or `0x02` ‖
	/// temperature as f32 bits u32 ‖ top-p as f32 bits u32 ‖ seed u64, and profile is n_ctx,
	/// n_batch, n_ubatch (u32).
	pub request_hash: String,
	/// blake2b-256 of SCALE((prompt token ids Vec<u32>, output token ids Vec<u32>)).
	pub output_hash: String,
	/// Unix time in milliseconds.
	pub timestamp_ms: u64,
	/// The node's inference key (ed25519).
	pub public_key: String,
	/// ed25519 signature over `message`.
	pub signature: String,
	/// The signed bytes (209).
	pub message: String,
}

/// The answer of `inference_generate` (and the last item of a subscription).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateResult {
	/// The model that ran.
	pub model: ModelRef,
	/// The exact prompt the model was given (after the chat template).
	pub prompt: String,
	/// The generated text.
	pub text: String,
	/// Generated token ids.
	pub token_ids: Vec<u32>,
	/// The prompt's token ids (covered by the proof's `outputHash`).
	pub prompt_token_ids: Vec<u32>,
	/// The `maxTokens` the generation ran with (the request's, or the default), as the proof's
	/// `requestHash` covers it.
	pub max_tokens: u32,
	/// Prompt length in tokens.
	pub prompt_tokens: usize,
	/// Generated tokens.
	pub completion_tokens: usize,
	/// `stop` (an end-of-generation token), `stopSequence`, `length` or `contextFull`.
	pub finish_reason: &'static str,
	/// The request's stop sequences (covered by the proof's `requestHash`); empty if none.
	pub stop: Vec<String>,
	/// Whether greedy decoding was used.
	pub deterministic: bool,
	/// The sampling temperature (`null` with greedy decoding).
	pub temperature: Option<f32>,
	/// The nucleus mass kept (`null` with greedy decoding).
	pub top_p: Option<f32>,
	/// The seed of the draws (`null` with greedy decoding).
	pub seed: Option<u32>,
	/// The context settings the model ran with (covered by the proof's `requestHash`).
	pub profile: ProfileView,
	/// Timings.
	pub timings: TimingsView,
	/// The signed proof; `null` on a node without an inference key.
	pub proof: Option<ProofView>,
}

/// One item of `inference_subscribeGenerate`.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum StreamItem {
	/// A token and the text it completes.
	Token {
		/// Token id (`null` for the final flush of an incomplete character).
		id: Option<u32>,
		/// New text.
		text: String,
	},
	/// The end: the whole result with its proof.
	Done(Box<GenerateResult>),
	/// The generation failed after it started.
	Error {
		/// One of the codes of [`super::error::codes`].
		code: i32,
		/// What happened.
		message: String,
	},
}

/// A model in the store.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelInfoView {
	/// Name.
	pub name: String,
	/// sha256, `0x` hex.
	pub sha256: String,
	/// File size.
	pub size_bytes: u64,
	/// The file's IPFS CID (CIDv1 of its UnixFS DAG), computed when it was imported; `null`
	/// for a file placed in the store without `import`.
	pub cid: Option<String>,
	/// Whether it is loaded in memory now.
	pub loaded: bool,
}

/// `inference_nodeInfo`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeInfoView {
	/// The node's inference key (`0x` hex ed25519), if it has one.
	pub public_key: Option<String>,
	/// Engine build (`llama-cpp-2 0.1.160`).
	pub engine: &'static str,
	/// CPU instruction-set level llama.cpp is compiled for.
	pub cpu_target: &'static str,
	/// This build's determinism class, as `nodeRegistry.register`'s `capabilities.class`
	/// must name it for the node to be assigned jobs.
	pub engine_class: EngineClassView,
	/// Cores of this machine.
	pub cpu_cores: usize,
	/// The capability declaration this machine supports, measured when the node started
	/// (`cognitive-node hardware capabilities`); `null` if the CPUs or memory could not be read.
	/// `nodeRegistry.register` should send exactly this.
	pub capabilities: Option<crate::hardware_cmd::CapabilitiesView>,
	/// The figures of the last `cognitive-node bench` on this node's model store (per model:
	/// prompt and generation tokens per second, first token, memory), if they were measured
	/// with this engine build; `null` otherwise.
	pub ratings: Option<crate::bench_cmd::Ratings>,
	/// Threads per generation.
	pub threads: i32,
	/// Shared workers (on-chain jobs first, then public requests).
	pub workers: usize,
	/// Extra workers that only run on-chain jobs.
	pub chain_workers: usize,
	/// Requests waiting, both queues together.
	pub queue_depth: usize,
	/// On-chain jobs waiting.
	pub chain_queue_depth: usize,
	/// Public requests waiting.
	pub public_queue_depth: usize,
	/// Requests being generated (both kinds).
	pub running: usize,
	/// Most public requests that may wait.
	pub queue_capacity: usize,
	/// Most on-chain jobs that may wait.
	pub chain_queue_capacity: usize,
	/// Loaded models, most recently used first.
	pub loaded_models: Vec<ModelInfoView>,
	/// Largest prompt in bytes.
	pub max_prompt_bytes: usize,
	/// Largest `maxTokens`.
	pub max_tokens: u32,
	/// Generation requests in flight per connection.
	pub max_requests_per_connection: usize,
	/// Generation requests in flight per client address on the inference port.
	pub max_requests_per_ip: usize,
	/// Generation requests started per minute per client address on the inference port.
	pub requests_per_minute_per_ip: u32,
	/// The dedicated inference RPC port, if this node runs one.
	pub inference_rpc_port: Option<u16>,
	/// Where peers fetch this node's models over IPFS bitswap: multiaddrs ending in
	/// `/p2p/<peer id>` (empty without the endpoint). Publish one with
	/// `nodeRegistry.setEndpoints` so other nodes find it.
	pub model_endpoints: Vec<String>,
}

/// `inference_modelTransfers`: one model fetch, running or finished.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelTransferView {
	/// The model's CID.
	pub cid: String,
	/// Its name.
	pub name: String,
	/// File size, once known.
	pub size_bytes: Option<u64>,
	/// Bytes on disk.
	pub bytes_done: u64,
	/// Bytes found on disk from an interrupted fetch.
	pub resumed_bytes: u64,
	/// Blocks still missing (of those known so far).
	pub blocks_outstanding: usize,
	/// Providers still asked.
	pub providers: usize,
	/// `running`, `verifying`, `done` or `failed`.
	pub state: &'static str,
	/// Why it failed.
	pub error: Option<String>,
	/// Seconds since it started.
	pub elapsed_secs: f64,
	/// What each provider delivered, most bytes first.
	pub sources: Vec<TransferSourceView>,
}

/// One provider of a model fetch and what it delivered.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferSourceView {
	/// The provider's peer id on the model-transfer network (the `/p2p/` part of its model
	/// endpoint).
	pub peer: String,
	/// Blocks taken from it.
	pub blocks: u64,
	/// Their bytes.
	pub bytes: u64,
}

impl From<model_transfer::Progress> for ModelTransferView {
	fn from(p: model_transfer::Progress) -> Self {
		use model_transfer::FetchState;
		let (state, error) = match p.state {
			FetchState::Running => ("running", None),
			FetchState::Verifying => ("verifying", None),
			FetchState::Done => ("done", None),
			FetchState::Failed(why) => ("failed", Some(why)),
		};
		Self {
			cid: p.root.to_string(),
			name: p.name,
			size_bytes: p.size,
			bytes_done: p.bytes_done,
			resumed_bytes: p.resumed_bytes,
			blocks_outstanding: p.blocks_outstanding,
			providers: p.providers_live,
			state,
			error,
			elapsed_secs: p.elapsed_secs,
			sources: {
				let mut sources: Vec<TransferSourceView> = p
					.sources
					.into_iter()
					.map(|s| TransferSourceView {
						peer: s.peer.to_string(),
						blocks: s.blocks,
						bytes: s.bytes,
					})
					.collect();
				sources.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.peer.cmp(&b.peer)));
				sources
			},
		}
	}
}

/// A determinism class (`inference_engine::engine_class`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EngineClassView {
	/// Inference engine (`llama.cpp`).
	pub engine: String,
	/// Exact engine build (`llama-cpp-2 0.1.160`).
	pub engine_version: String,
	/// CPU instruction-set level (`x86-64-v3`).
	pub cpu_target: String,
}

impl EngineClassView {
	/// The determinism class of this build of the engine.
	pub fn of_this_build() -> Self {
		let class = inference_engine::engine_class();
		let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
		EngineClassView {
			engine: text(class.engine),
			engine_version: text(class.engine_version),
			cpu_target: text(class.cpu_target),
		}
	}
}

/// One assignee of a job.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssigneeResult {
	/// Operator account (SS58).
	pub node: String,
	/// Whether it committed.
	pub committed: bool,
	/// Its revealed result hash.
	pub result_hash: Option<String>,
}

/// The job as the chain sees it at the block asked about.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OnChainJob {
	/// `pending`, `completed` or `failed`.
	pub status: &'static str,
	/// The job's digest (`inference_primitives::job_digest`).
	pub digest: String,
	/// Who submitted it (SS58).
	pub owner: String,
	/// The agreed hash of a completed job.
	pub result_hash: Option<String>,
	/// sha256 of the model.
	pub model_sha256: String,
	/// Assignees and their reveals.
	pub assignees: Vec<AssigneeResult>,
}

/// `inference_jobResult`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobResultView {
	/// The job.
	pub job_id: u64,
	/// The block the on-chain view was read at.
	pub block_hash: String,
	/// The digest of the job this output answers (equal to `onChain.digest`).
	pub job_digest: String,
	/// The output text this node produced.
	pub text: String,
	/// Its prompt token ids.
	pub prompt_token_ids: Vec<u32>,
	/// Its output token ids.
	pub output_token_ids: Vec<u32>,
	/// sha256 of the model, `0x` hex.
	pub model_sha256: String,
	/// `blake2_256(SCALE(job_id, model_sha256, prompt_token_ids, output_token_ids))`.
	pub result_hash: String,
	/// The job on chain.
	pub on_chain: OnChainJob,
	/// Whether `result_hash` equals the chain's agreed hash (`null` while pending).
	pub matches_chain: Option<bool>,
}

/// A signature by an account key, in the shape of Substrate's `MultiSignature` in JSON:
/// `{"sr25519": "0x…"}` or `{"ed25519": "0x…"}` (64 bytes). The account id (`AccountId32`) is
/// the public key.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum AccountSignature {
	/// An sr25519 (schnorrkel) signature.
	Sr25519(String),
	/// An ed25519 signature.
	Ed25519(String),
}

/// The owner's authorization to read a pending job's output (`inference_jobResult`'s `auth`).
///
/// `signature` is by the job owner's account key over
/// `SCALE((b"cognitive-internet/job-result/v1" as Vec<u8>, genesis_hash [u8; 32], job_id u64,
/// node_public_key [u8; 32]))`, where `node_public_key` is the answering node's inference key
/// (`inference_nodeInfo.publicKey`): the authorization is good on one chain, for one job, at one
/// node, so the node that receives it cannot replay it to a co-assignee. The same bytes wrapped
/// in `<Bytes>…</Bytes>` (what Polkadot.js extensions' `signRaw` signs) are accepted too.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobResultAuth {
	/// The owner's signature.
	pub signature: AccountSignature,
}

/// `inference_keyOwnershipProof`: what `nodeRegistry.register` and `set_inference_key` need to
/// accept this node's inference key for an account.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyOwnershipProofView {
	/// The account the proof is for (SS58, as given).
	pub account: String,
	/// The node's inference key (ed25519, `0x` hex): the `inferenceKey` argument.
	pub public_key: String,
	/// ed25519 signature over `payload`: the `keyProof` argument.
	pub signature: String,
	/// The chain the proof is good on.
	pub genesis_hash: String,
	/// The signed bytes: SCALE((b"cognitive-internet/key-ownership/v1" as Vec<u8>,
	/// genesis_hash, account)).
	pub payload: String,
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn hex_round_trips() {
		assert_eq!(hex0x(&[0, 0xab]), "0x00ab");
		assert_eq!(parse_hex::<2>("0x00ab"), Some([0, 0xab]));
		assert_eq!(parse_hex::<2>("00AB"), Some([0, 0xab]));
		assert_eq!(parse_hex::<2>("0x00a"), None);
		assert_eq!(parse_hex::<2>("0x00abcd"), None);
		assert_eq!(parse_hex::<2>("0xzzzz"), None);
		assert_eq!(parse_hex::<2>("0x€€"), None);
	}

	#[test]
	fn auth_json_shape() {
		let auth: JobResultAuth =
			serde_json::from_str(r#"{"signature": {"sr25519": "0x01"}}"#).expect("valid");
		assert_eq!(auth.signature, AccountSignature::Sr25519("0x01".into()));
		let auth: JobResultAuth =
			serde_json::from_str(r#"{"signature": {"ed25519": "0x02"}}"#).expect("valid");
		assert_eq!(auth.signature, AccountSignature::Ed25519("0x02".into()));
		for bad in [
			r#"{"signature": {"ecdsa": "0x01"}}"#,
			r#"{"signature": "0x01"}"#,
			r#"{"signature": {"sr25519": "0x01"}, "extra": 1}"#,
			r#"{}"#,
		] {
			assert!(serde_json::from_str::<JobResultAuth>(bad).is_err(), "{bad}");
		}
	}
}
