//! Types of the node registry.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::fmt::Debug;
use frame_support::{traits::ConstU32, BoundedVec};
use pallet_model_registry::{DeterminismClass, ModelFormat, ModelId};
use scale_info::TypeInfo;

/// Most models one node may declare it serves.
pub const MAX_SERVED_MODELS: u32 = 16;
/// Most network endpoints one node may publish.
pub const MAX_ENDPOINTS: u32 = 4;
/// Longest endpoint (a multiaddr in text form, e.g. `/ip4/10.0.0.2/tcp/30333/p2p/12D3…`).
pub const MAX_ENDPOINT_LEN: u32 = 128;
/// Most accelerator kinds, and most model formats, in a capability declaration.
pub const MAX_KINDS: u32 = 4;

/// Models a node serves.
pub type ServedModels = BoundedVec<ModelId, ConstU32<MAX_SERVED_MODELS>>;
/// One multiaddr in text form.
pub type Endpoint = BoundedVec<u8, ConstU32<MAX_ENDPOINT_LEN>>;
/// A node's published endpoints.
pub type Endpoints = BoundedVec<Endpoint, ConstU32<MAX_ENDPOINTS>>;
/// Index of a heartbeat period: `block_number / HeartbeatPeriod`.
pub type PeriodIndex = u32;

/// Hardware that can run inference.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
	serde::Serialize,
	serde::Deserialize,
)]
pub enum Accelerator {
	/// General-purpose CPU (the deterministic path).
	Cpu,
	/// NVIDIA CUDA GPU.
	Cuda,
	/// AMD ROCm GPU.
	Rocm,
	/// Apple Metal GPU.
	Metal,
	/// Vulkan-capable GPU.
	Vulkan,
}

/// What a node declares it can do. Declarations are self-reported; the network verifies work,
/// not declarations.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
	serde::Serialize,
	serde::Deserialize,
)]
#[serde(rename_all = "camelCase")]
pub struct Capabilities {
	/// CPU cores available to inference.
	pub cpu_cores: u16,
	/// RAM in MiB.
	pub ram_mib: u32,
	/// GPU memory in MiB (0 without a GPU).
	pub gpu_memory_mib: u32,
	/// Accelerator kinds present, without repeats.
	pub accelerators: BoundedVec<Accelerator, ConstU32<MAX_KINDS>>,
	/// Model file formats the node's engine loads, without repeats.
	pub model_formats: BoundedVec<ModelFormat, ConstU32<MAX_KINDS>>,
	/// The engine build the node runs (`inference_nodeInfo` reports it). Jobs go only to nodes
	/// whose class equals their model's determinism class, so a node on another build is never
	/// asked for tokens it cannot reproduce; an operator who upgrades the engine updates it.
	pub class: DeterminismClass,
}

/// Where a node is in its lifecycle.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum NodeStatus<BlockNumber> {
	/// Sent a heartbeat or authored a block recently.
	Active,
	/// Missed at least one whole heartbeat period.
	Offline,
	/// Left; the bond is released by `withdraw_unbonded` from `unlock_at` on.
	Unbonding {
		/// First block at which the bond can be withdrawn.
		unlock_at: BlockNumber,
	},
}

impl<BlockNumber> NodeStatus<BlockNumber> {
	/// Whether the node has left and is waiting for its bond.
	pub fn is_leaving(&self) -> bool {
		matches!(self, NodeStatus::Unbonding { .. })
	}
}

/// Everything the registry keeps about a node; keyed by the operator's account.
#[derive(
	Encode, Decode, DecodeWithMemTracking, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen,
)]
pub struct NodeRecord<Balance, BlockNumber, Key> {
	/// Amount held from the operator's free balance.
	pub bond: Balance,
	/// Declared hardware.
	pub capabilities: Capabilities,
	/// Whitelisted models the node serves.
	pub served_models: ServedModels,
	/// Published multiaddrs.
	pub endpoints: Endpoints,
	/// The ed25519 key (key type `infr`) that signs heartbeats and inference results.
	pub inference_key: Key,
	/// Lifecycle state.
	pub status: NodeStatus<BlockNumber>,
	/// Block of registration.
	pub registered_at: BlockNumber,
	/// Last heartbeat period in which the node was seen alive (heartbeat, authored block, or
	/// registration).
	pub last_alive: PeriodIndex,
	/// Served models the node's engine reported ready in its last heartbeat (the verified file
	/// is in its store and its engine runs). Jobs go only to nodes ready for their model.
	pub ready_models: ServedModels,
}

/// The statement an inference key signs to prove its node is alive in `period` and to say
/// which of its served models its engine can run now.
#[derive(
	Encode, Decode, DecodeWithMemTracking, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen,
)]
pub struct Heartbeat<AccountId> {
	/// The node's operator account.
	pub node: AccountId,
	/// The period the heartbeat is for; only the current period is accepted.
	pub period: PeriodIndex,
	/// The served models the engine is ready for (a subset of the served models).
	pub ready_models: ServedModels,
}

/// Domain separator of a signed [`Heartbeat`], so a heartbeat signature can never be mistaken
/// for another message signed by the same key.
pub const HEARTBEAT_CONTEXT: &[u8] = b"cognitive-internet/heartbeat/v2";

/// Domain separator of the proof that an account holds an inference key.
pub const KEY_OWNERSHIP_CONTEXT: &[u8] = b"cognitive-internet/key-ownership/v1";

/// The bytes an inference key signs for `heartbeat` on the chain with `genesis_hash`.
pub fn heartbeat_payload<AccountId: Encode>(
	genesis_hash: &[u8; 32],
	heartbeat: &Heartbeat<AccountId>,
) -> alloc::vec::Vec<u8> {
	inference_primitives::signing_payload(HEARTBEAT_CONTEXT, genesis_hash, heartbeat)
}

/// The bytes an inference key signs to prove that `account` may register it (or switch to it)
/// on the chain with `genesis_hash`: `SCALE((KEY_OWNERSHIP_CONTEXT, genesis_hash, account))`.
///
/// Without this proof anyone who learns a node's public key could register it first and have
/// the node's off-chain workers heartbeat, compute and collect for the wrong account.
pub fn key_ownership_payload<AccountId: Encode>(
	genesis_hash: &[u8; 32],
	account: &AccountId,
) -> alloc::vec::Vec<u8> {
	inference_primitives::signing_payload(KEY_OWNERSHIP_CONTEXT, genesis_hash, account)
}

/// A node registered from genesis (see the pallet's `GenesisConfig`): the arguments of
/// `register`, with the operator account.
#[derive(Clone, PartialEq, Eq, Debug, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenesisNode<AccountId, Balance, Key> {
	/// Operator account; must hold `bond` in its free balance at genesis.
	pub account: AccountId,
	/// Declared hardware.
	pub capabilities: Capabilities,
	/// Whitelisted genesis models the node serves.
	pub served_models: alloc::vec::Vec<ModelId>,
	/// Published multiaddrs, as text.
	pub endpoints: alloc::vec::Vec<alloc::string::String>,
	/// The node's inference key.
	pub inference_key: Key,
	/// Bond held from the operator's balance (at least `MinBond`).
	pub bond: Balance,
}

/// A node's own measurement of one model it serves (`cognitive-node bench`: the hardware
/// specification's benchmark prompt, 64 greedy tokens, the median of several runs). Like the
/// capabilities it is self-reported; a gateway balancing requests weighs nodes by it, and the
/// network checks work, not declarations.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
	serde::Serialize,
	serde::Deserialize,
)]
#[serde(rename_all = "camelCase")]
pub struct ModelRating {
	/// The whitelisted model measured (one the node serves).
	pub model: ModelId,
	/// Prompt tokens evaluated per second, in thousandths.
	pub prompt_milli_tps: u32,
	/// Tokens generated per second, in thousandths (non-zero).
	pub generation_milli_tps: u32,
	/// From the start of the prompt to the first token, in milliseconds.
	pub first_token_ms: u32,
	/// Peak resident memory with the model loaded, in MiB.
	pub memory_mib: u32,
}

/// A node's ratings, one per served model at most.
pub type ModelRatings = BoundedVec<ModelRating, ConstU32<MAX_SERVED_MODELS>>;

/// What a node published of its ratings, and when.
#[derive(
	Encode, Decode, DecodeWithMemTracking, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen,
)]
pub struct NodeRatings<BlockNumber> {
	/// Block of the `rate_models` call.
	pub rated_at: BlockNumber,
	/// The ratings, in the order given.
	pub ratings: ModelRatings,
}
