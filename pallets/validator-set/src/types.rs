//! Types of the validator set pallet.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::fmt::Debug;
use scale_info::TypeInfo;
use sp_runtime::Perbill;
use sp_staking::SessionIndex;

/// Share of a node's bond burnt for a proven equivocation when a genesis config does not say
/// otherwise: enough that equivocating costs more than any block reward, not so much that one
/// buggy restart (a node run twice with the same keys) ends an operator's stake.
pub const DEFAULT_EQUIVOCATION_SLASH: Perbill = Perbill::from_percent(10);

/// Expected blocks are counted in thousandths, so a validator's share of a session
/// (`SessionLength / set size`) keeps three decimals instead of rounding to whole blocks.
pub const SILENCE_SCALE: u32 = 1_000;

/// The parameters governance sets (see `set_parameters`).
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Default,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct ValidatorSetParameters {
	/// Most validators chosen for a session: at least one and `MinValidators`, at most
	/// `MaxValidators`.
	pub max_validators: u32,
	/// Share of its bond a node loses for a proven equivocation (BABE or GRANDPA).
	pub equivocation_slash: Perbill,
}

impl ValidatorSetParameters {
	/// Whether these parameters respect the runtime's bounds: `max_validators` in
	/// `max(min_validators, 1)..=max_validators_bound`.
	pub fn is_valid(&self, min_validators: u32, max_validators_bound: u32) -> bool {
		self.max_validators >= min_validators.max(1) && self.max_validators <= max_validators_bound
	}
}

/// What the pallet keeps about a candidate.
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
pub struct CandidateInfo {
	/// The session during which the node opted in (0 for genesis validators).
	pub since: SessionIndex,
}

/// Why a node stopped being a candidate.
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
pub enum RemovalReason {
	/// The operator called `opt_out`.
	OptedOut,
	/// The node unregistered (started unbonding) or was banned from the registry.
	NodeLeft,
	/// The node validated a session while the registry saw it offline (missed heartbeats).
	Offline,
	/// The node validated sessions without authoring a block although it was expected to
	/// author at least `MinExpectedBlocks` of them.
	NoBlocks,
	/// The node was proven to equivocate and was slashed.
	Equivocation,
}

/// What the validator set needs to know about a node, from the node registry.
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
pub struct NodeStanding<Balance> {
	/// The bond the registry holds for the node.
	pub bond: Balance,
	/// Whether the node was seen alive (heartbeat, authored block or registration) in the last
	/// heartbeat period.
	pub online: bool,
	/// Whether the node is unbonding (it called `unregister`).
	pub leaving: bool,
}
