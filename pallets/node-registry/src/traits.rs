//! How other pallets see the registry, and what the registry asks of them.

use crate::InferenceKey;
use alloc::vec::Vec;

/// What a slash took from a bond, and what each beneficiary received of it.
pub type Slashed<AccountId, Balance> = (Balance, Vec<(AccountId, Balance)>);
use frame_support::weights::Weight;
use pallet_model_registry::{DeterminismClass, ModelId};
use sp_runtime::Perbill;

/// Read access to registered nodes, and the one punishment other pallets may apply. Implemented
/// by this pallet for proof of inference.
pub trait NodeInspect<AccountId> {
	/// Balance type of bonds.
	type Balance;

	/// The nodes that may take a new job on `model` now: active (seen alive in the last
	/// heartbeat period), serving the model, ready for it (their engine reported the verified
	/// file in their last heartbeat) and of the model's determinism `class`. This is the one
	/// eligibility rule of the chain.
	fn candidates(model: ModelId, class: &DeterminismClass) -> Vec<AccountId>;
	/// Whether `who` runs a registered node (leaving or not).
	fn is_registered(who: &AccountId) -> bool;
	/// The inference key of `who`'s node.
	fn inference_key(who: &AccountId) -> Option<InferenceKey>;
	/// The operator account of the node with inference key `key`.
	fn node_of_key(key: &InferenceKey) -> Option<AccountId>;
	/// Burns `fraction` of `who`'s bond; returns what was burnt (zero for an unknown node).
	fn slash(who: &AccountId, fraction: Perbill) -> Self::Balance;
	/// Takes `fraction` of `who`'s bond and pays it to `beneficiaries` in equal shares (the
	/// remainder to the first); what cannot be paid is burnt, and with no beneficiaries all of
	/// it is. Returns the amount taken and what each beneficiary received.
	fn slash_to(
		who: &AccountId,
		fraction: Perbill,
		beneficiaries: &[AccountId],
	) -> Slashed<AccountId, Self::Balance>;
	/// Most nodes the registry holds (the bound of [`NodeInspect::candidates`]).
	fn max_nodes() -> u32;
	/// Registers a funded node serving `model`, ready for it, whose inference key is in the
	/// keystore (for other pallets' benchmarks).
	#[cfg(feature = "runtime-benchmarks")]
	fn benchmark_node(seed: u32, model: ModelId) -> Option<(AccountId, InferenceKey)>;
}

/// Work a node has promised and not finished. The registry keeps the bond of a node with
/// obligations: it cannot withdraw, or switch keys, until they are settled.
pub trait NodeObligations<AccountId> {
	/// Whether `who` has unsettled work.
	fn has_pending(who: &AccountId) -> bool;
}

impl<AccountId> NodeObligations<AccountId> for () {
	fn has_pending(_: &AccountId) -> bool {
		false
	}
}

/// Told when a node stops counting: it started unbonding or was banned. Governance removes the
/// node's votes from polls still running, so no vote outlives its stake.
pub trait OnNodeLeave<AccountId> {
	/// `who` left.
	fn on_leave(who: &AccountId);
	/// The most [`OnNodeLeave::on_leave`] can cost.
	fn weight() -> Weight;
}

impl<AccountId> OnNodeLeave<AccountId> for () {
	fn on_leave(_: &AccountId) {}
	fn weight() -> Weight {
		Weight::zero()
	}
}
