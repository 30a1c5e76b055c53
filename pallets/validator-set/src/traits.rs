//! What the validator set asks of the rest of the runtime. The runtime implements these traits
//! with adapters over the node registry and `pallet_session`; the pallet never names another
//! pallet's types, so it is tested against plain fakes.

use crate::NodeStanding;
use alloc::vec::Vec;
use frame_support::Parameter;
use sp_runtime::{
	traits::{AtLeast32BitUnsigned, Member},
	Perbill,
};
use sp_staking::SessionIndex;

/// What the validator set needs to know about a node (from the node registry), and the one
/// punishment it applies.
pub trait CandidateNodes<AccountId> {
	/// Balance type of bonds.
	type Balance: Parameter + Member + AtLeast32BitUnsigned + Copy + codec::MaxEncodedLen;

	/// The standing of `who`'s node; `None` if `who` runs no registered node.
	fn standing(who: &AccountId) -> Option<NodeStanding<Self::Balance>>;
	/// Burns `fraction` of `who`'s bond; returns the amount burnt (zero for an unknown node).
	fn slash(who: &AccountId, fraction: Perbill) -> Self::Balance;
	/// Registers an online, not leaving node for `who` with a bond of at least
	/// `MinCandidateBond` (for this pallet's benchmarks).
	#[cfg(feature = "runtime-benchmarks")]
	fn make_node(who: &AccountId);
}

/// The session machinery (`pallet_session` with its historical extension in the runtime).
pub trait SessionInterface<AccountId> {
	/// Whether `who` has set session keys (`session.setKeys`): without them `pallet_session`
	/// would leave it out of the set it is given.
	fn has_keys(who: &AccountId) -> bool;
	/// The validators of the current session.
	fn validators() -> Vec<AccountId>;
	/// The current session index.
	fn current_index() -> SessionIndex;
	/// Stops `who` from counting for the rest of the current session where the chain allows it
	/// (disabling); does nothing if `who` does not validate the current session.
	fn disable(who: &AccountId);
	/// Drops the key-ownership history of the sessions before `up_to`
	/// (`pallet_session::historical::Pallet::prune_up_to`), so it stays bounded. Offences in
	/// those sessions can no longer be proven.
	fn prune_history(up_to: SessionIndex);
	/// Sets session keys for `who` (for this pallet's benchmarks).
	#[cfg(feature = "runtime-benchmarks")]
	fn set_keys(who: &AccountId);
}
