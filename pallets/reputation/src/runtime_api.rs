//! Runtime API of the reputation pallet, callable from Polkadot.js as
//! `api.call.reputationApi.score(account)` and `api.call.reputationApi.topNodes(n)`.

use sp_runtime::Perbill;

sp_api::decl_runtime_apis! {
	/// Reads node reputation.
	pub trait ReputationApi<AccountId> where AccountId: codec::Codec {
		/// The score of `who` with decay applied, or `None` when the node has no record.
		fn score(who: AccountId) -> Option<Perbill>;
		/// Up to `n` nodes with the highest scores, best first.
		fn top_nodes(n: u32) -> alloc::vec::Vec<(AccountId, Perbill)>;
	}
}
