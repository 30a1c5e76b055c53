//! Choosing the validator set of a session among the candidates (the rule is in the crate
//! docs).

use crate::{
	BalanceOf, CandidateNodes, Candidates, Config, Event, Pallet, Parameters, Queued,
	RemovalReason, SessionInterface, Slashes,
};
use alloc::vec::Vec;
use core::cmp::Ordering;
use frame_support::{traits::Get, BoundedVec};
use pallet_reputation::ReputationInspect;
use sp_runtime::Perbill;
use sp_staking::SessionIndex;

/// An eligible candidate with what it is ranked by.
pub(crate) struct Ranked<AccountId, Balance> {
	pub who: AccountId,
	pub score: Perbill,
	pub bond: Balance,
}

/// The ranking: higher score first, then higher bond, then lower account id. Total, so the
/// order never depends on the storage iteration order.
pub(crate) fn rank<A: Ord, B: Ord>(a: &Ranked<A, B>, b: &Ranked<A, B>) -> Ordering {
	b.score
		.cmp(&a.score)
		.then_with(|| b.bond.cmp(&a.bond))
		.then_with(|| a.who.cmp(&b.who))
}

impl<T: Config> Pallet<T> {
	/// The eligible candidates, ranked. Removes the candidates whose node is gone or leaving.
	/// O(`MaxCandidates`).
	pub(crate) fn eligible_candidates() -> Vec<Ranked<T::AccountId, BalanceOf<T>>> {
		let min_bond = T::MinCandidateBond::get();
		let mut eligible = Vec::new();
		let mut gone = Vec::new();
		for who in Candidates::<T>::iter_keys() {
			let Some(standing) = T::Nodes::standing(&who).filter(|s| !s.leaving) else {
				gone.push(who);
				continue;
			};
			if !standing.online
				|| standing.bond < min_bond
				|| !T::Session::has_keys(&who)
				|| Slashes::<T>::iter_prefix(&who).next().is_some()
			{
				continue;
			}
			let score = T::Reputation::score(&who);
			eligible.push(Ranked {
				who,
				score,
				bond: standing.bond,
			});
		}
		// The runtime normally removed these already (`on_node_left`); this catches a node that
		// left through a path that does not call it.
		for who in gone {
			Self::remove_candidate(&who, RemovalReason::NodeLeft);
		}
		eligible.sort_by(rank);
		eligible
	}

	/// Plans session `index`: the chosen set, or `None` to keep the current one.
	pub(crate) fn select(index: SessionIndex) -> Option<Vec<T::AccountId>> {
		let eligible = Self::eligible_candidates();
		if eligible.len() < T::MinValidators::get() as usize {
			Self::deposit_event(Event::SelectionSkipped {
				session: index,
				eligible: eligible.len() as u32,
			});
			return None;
		}
		// Parameters are checked on every write; the clamp only guards a chain that added the
		// pallet without a genesis (zero default).
		let max = Parameters::<T>::get()
			.max_validators
			.max(T::MinValidators::get().max(1))
			.min(T::MaxValidators::get());
		let chosen: Vec<T::AccountId> = eligible
			.into_iter()
			.take(max as usize)
			.map(|r| r.who)
			.collect();
		// `take` above keeps it within `MaxValidators`, so the conversion never truncates.
		let queued = BoundedVec::truncate_from(chosen.clone());
		Queued::<T>::put(queued);
		Self::deposit_event(Event::NewSetQueued {
			session: index,
			validators: chosen.clone(),
		});
		Some(chosen)
	}
}
