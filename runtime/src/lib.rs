//! # Cognitive Internet runtime
//!
//! The FRAME runtime of the Cognitive Internet appchain. It is compiled twice: natively (for the
//! node's genesis tooling and tests) and to WASM, which is the code the chain actually executes
//! and which is stored on chain so that governance can upgrade it.
//!
//! Consensus is BABE (block production: VRF slot claims) with GRANDPA (finality); `pallet_session`
//! hands both authority sets over at every epoch, to validators chosen by the validator-set pallet
//! among registered nodes that opted in. Equivocations are reported through `pallet_offences`
//! and slash the offender's node bond. There is deliberately no `pallet_sudo`: the root origin is
//! reachable only through on-chain governance.

#![cfg_attr(not(feature = "std"), no_std)]
// `construct_runtime`/`impl_runtime_apis` expand to large types; the recursion limit is the usual
// one for FRAME runtimes.
#![recursion_limit = "256"]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

extern crate alloc;

pub mod apis;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarks;
pub mod configs;
pub mod genesis_config_presets;
pub mod governance;

use alloc::{borrow::Cow, vec::Vec};
use sp_runtime::{
	generic, impl_opaque_keys,
	traits::{BlakeTwo256, IdentifyAccount, Verify},
	MultiAddress, MultiSignature,
};
use sp_version::RuntimeVersion;

#[cfg(any(feature = "std", test))]
pub use sp_runtime::BuildStorage;

/// Types the node uses without knowing the runtime's concrete extrinsic format, so that it keeps
/// syncing across runtime upgrades that change that format.
pub mod opaque {
	use super::*;

	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	/// Opaque block header.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// Opaque block.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;
}

impl_opaque_keys! {
	/// The session keys of a node: BABE (block authoring) and GRANDPA (finality voting), which
	/// matter once it validates, and its inference key, so that one `author_rotateKeys` call
	/// creates every key a node needs.
	pub struct SessionKeys {
		/// BABE block-authoring key (sr25519).
		pub babe: Babe,
		/// GRANDPA finality key (ed25519).
		pub grandpa: Grandpa,
		/// Inference key (ed25519, `infr`): signs heartbeats and inference results.
		pub inference: NodeRegistry,
	}
}

/// The runtime version. `spec_version` must be bumped for every change of runtime logic, and
/// `transaction_version` whenever the encoding of calls or transaction extensions changes.
#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: Cow::Borrowed("cognitive-internet"),
	impl_name: Cow::Borrowed("cognitive-internet"),
	authoring_version: 1,
	spec_version: 205,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 6,
	system_version: 1,
};

/// Target block time. BABE slots have this length; it cannot be changed on a live chain.
pub const MILLI_SECS_PER_BLOCK: u64 = 3000;
/// BABE slot duration, equal to the block time.
pub const SLOT_DURATION: u64 = MILLI_SECS_PER_BLOCK;

/// One minute, in blocks.
pub const MINUTES: BlockNumber = 60_000 / (MILLI_SECS_PER_BLOCK as BlockNumber);
/// One hour, in blocks.
pub const HOURS: BlockNumber = MINUTES * 60;
/// One day, in blocks.
pub const DAYS: BlockNumber = HOURS * 24;

/// Length of a BABE epoch, which is also a session: the validator set can change at every
/// epoch boundary. Fixed at genesis (BABE cannot change it on a live chain).
pub const EPOCH_DURATION_IN_SLOTS: u64 = MINUTES as u64;

/// BABE's primary-slot probability `c = (1, 4)`: a quarter of the slots, on average, have a
/// VRF-elected primary author; every other slot falls to its secondary author (also with a VRF
/// output), so no slot stays empty while its authors are online.
pub const PRIMARY_PROBABILITY: (u64, u64) = (1, 4);

/// BABE's genesis epoch configuration.
pub const BABE_GENESIS_EPOCH_CONFIG: sp_consensus_babe::BabeEpochConfiguration =
	sp_consensus_babe::BabeEpochConfiguration {
		c: PRIMARY_PROBABILITY,
		allowed_slots: sp_consensus_babe::AllowedSlots::PrimaryAndSecondaryVRFSlots,
	};

/// Decimals of the native token (COG).
pub const TOKEN_DECIMALS: u32 = 12;
/// Symbol of the native token.
pub const TOKEN_SYMBOL: &str = "COG";
/// One COG in its smallest indivisible unit.
pub const UNIT: Balance = 1_000_000_000_000;
/// One thousandth of a COG.
pub const MILLI_UNIT: Balance = 1_000_000_000;
/// One millionth of a COG.
pub const MICRO_UNIT: Balance = 1_000_000;
/// Minimum balance an account must keep to exist.
pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_UNIT;
/// Deposit a challenge of a job's result holds until the verdict (genesis value of the
/// proof-of-inference parameter, and the value its storage migration sets).
pub const CHALLENGE_DEPOSIT: Balance = 10 * UNIT;
/// SS58 address prefix (42: the generic Substrate prefix, so addresses read the same in every
/// Polkadot.js tool without configuration).
pub const SS58_PREFIX: u16 = 42;

/// Largest prompt of an on-chain inference job, in bytes. With [`MAX_JOB_TOKENS`] and the BOS
/// token it fits the 2048-token context of the genesis model whatever the tokenizer does (a
/// token covers at least one byte), so no valid job can overflow the context.
pub const MAX_PROMPT_BYTES: u32 = 1536;

/// Most tokens an on-chain inference job may ask for.
pub const MAX_JOB_TOKENS: u32 = 256;

/// Transaction signature: sr25519, ed25519 or ECDSA, like every Substrate chain.
pub type Signature = MultiSignature;
/// An account on the chain is identified by the public key of its signing scheme.
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;
/// Balance of an account.
pub type Balance = u128;
/// Transaction counter of an account.
pub type Nonce = u32;
/// Hash type of blocks and tries.
pub type Hash = sp_core::H256;
/// Block number.
pub type BlockNumber = u32;
/// Address format used in extrinsics.
pub type Address = MultiAddress<AccountId, ()>;
/// Block header.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
/// Block.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;

/// The transaction extensions: the standard set, so that generic clients (Polkadot.js,
/// polkadot-api, subxt) can build transactions from metadata alone. `CheckMetadataHash` lets
/// offline signers verify the metadata they are shown; `WeightReclaim` refunds unused weight.
pub type TxExtension = (
	// First: lets calls with `#[pallet::authorize]` (node heartbeats) be valid without an
	// account signature. Carries no data, so signed transactions are unaffected.
	frame_system::AuthorizeCall<Runtime>,
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
	frame_metadata_hash_extension::CheckMetadataHash<Runtime>,
	frame_system::WeightReclaim<Runtime>,
);

/// Extrinsic format of this runtime.
pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;

/// The payload that a transaction's signature covers.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// Storage migrations to run on the next runtime upgrade, besides the pallets' own. Each is
/// versioned: it runs only on a chain whose pallet storage is at the version it starts from.
type Migrations = (
	pallet_proof_of_inference::migrations::v2::MigrateV1ToV2<Runtime>,
	pallet_proof_of_inference::migrations::v3::MigrateV2ToV3<
		Runtime,
		frame_support::traits::ConstU32<{ 10 * MINUTES }>,
		frame_support::traits::ConstU128<CHALLENGE_DEPOSIT>,
	>,
	pallet_proof_of_inference::migrations::v4::MigrateV3ToV4<Runtime>,
	pallet_model_registry::migrations::v1::MigrateV0ToV1<
		Runtime,
		genesis_config_presets::KnownChatTemplates,
	>,
);

/// Dispatches extrinsics to the pallets and drives block execution.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

#[frame_support::runtime]
mod runtime {
	/// The runtime: the set of pallets that make up the chain's state transition function.
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Runtime;

	/// Accounts, blocks, events: the core of every FRAME runtime.
	#[runtime::pallet_index(0)]
	pub type System = frame_system;

	/// BABE block production: VRF slot claims. Declared before `Timestamp`, whose hook checks
	/// the slot BABE read from the block's digest.
	#[runtime::pallet_index(2)]
	pub type Babe = pallet_babe;

	/// Block timestamp inherent; BABE checks the slot against it.
	#[runtime::pallet_index(1)]
	pub type Timestamp = pallet_timestamp;

	/// The author of each block, as an account (validator liveness, equivocation reporters).
	#[runtime::pallet_index(14)]
	pub type Authorship = pallet_authorship;

	/// The native COG token.
	#[runtime::pallet_index(4)]
	pub type Balances = pallet_balances;

	/// Transaction fees.
	#[runtime::pallet_index(5)]
	pub type TransactionPayment = pallet_transaction_payment;

	/// Stores proposals' calls for referenda.
	#[runtime::pallet_index(6)]
	pub type Preimage = pallet_preimage;

	/// Enacts passed referenda.
	#[runtime::pallet_index(7)]
	pub type Scheduler = pallet_scheduler;

	/// Referenda on tracks; the only way to root (there is no sudo).
	#[runtime::pallet_index(8)]
	pub type Referenda = pallet_referenda;

	/// Reputation-weighted voting for referenda, and the tracks' origins.
	#[runtime::pallet_index(9)]
	pub type Governance = pallet_governance;

	/// Scores of inference nodes from verified work.
	#[runtime::pallet_index(10)]
	pub type Reputation = pallet_reputation;

	/// The whitelist of models.
	#[runtime::pallet_index(11)]
	pub type ModelRegistry = pallet_model_registry;

	/// Bonded inference nodes, their capabilities and liveness.
	#[runtime::pallet_index(12)]
	pub type NodeRegistry = pallet_node_registry;

	/// Inference jobs: assignment, commit-reveal of result hashes, settlement.
	#[runtime::pallet_index(13)]
	pub type ProofOfInference = pallet_proof_of_inference;

	/// The open validator set: candidates among registered nodes, chosen each session.
	/// Declared before `Session`, whose genesis asks it for the first set.
	#[runtime::pallet_index(15)]
	pub type ValidatorSet = pallet_validator_set;

	/// Sessions (one per BABE epoch): session keys and the hand-over of authority sets.
	#[runtime::pallet_index(16)]
	pub type Session = pallet_session;

	/// Each session's validator set as a trie root, for key-ownership proofs in equivocation
	/// reports.
	#[runtime::pallet_index(17)]
	pub type Historical = pallet_session::historical;

	/// GRANDPA finality. After `Session`, which schedules its authority-set changes.
	#[runtime::pallet_index(3)]
	pub type Grandpa = pallet_grandpa;

	/// Reported offences (BABE and GRANDPA equivocations), handed to `ValidatorSet` to punish.
	#[runtime::pallet_index(18)]
	pub type Offences = pallet_offences;
}
