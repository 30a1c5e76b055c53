//! Becoming and ceasing to be a candidate.

use crate::{
	CandidateInfo, CandidateNodes, Candidates, Config, Error, Event, Pallet, RemovalReason,
	SessionInterface, WeightInfo,
};
use frame_support::{ensure, pallet_prelude::DispatchResult, traits::Get, weights::Weight};

impl<T: Config> Pallet<T> {
	/// `opt_in` for `who`: checks the node's standing and the session keys, then records the
	/// candidacy.
	pub(crate) fn do_opt_in(who: T::AccountId) -> DispatchResult {
		ensure!(
			!Candidates::<T>::contains_key(&who),
			Error::<T>::AlreadyCandidate
		);
		let standing = T::Nodes::standing(&who).ok_or(Error::<T>::NotRegistered)?;
		// Leaving first: an unbonding node also stops heartbeating, and "leaving" is the reason
		// that tells the operator what to do (nothing: it is on its way out).
		ensure!(!standing.leaving, Error::<T>::NodeLeaving);
		ensure!(standing.online, Error::<T>::NodeOffline);
		ensure!(
			standing.bond >= T::MinCandidateBond::get(),
			Error::<T>::BondTooLow
		);
		// `pallet_session` silently drops validators without keys from a set; refusing them
		// here keeps the candidate list to nodes that can actually validate.
		ensure!(T::Session::has_keys(&who), Error::<T>::NoSessionKeys);
		ensure!(
			Candidates::<T>::count() < T::MaxCandidates::get(),
			Error::<T>::TooManyCandidates
		);
		Candidates::<T>::insert(
			&who,
			CandidateInfo {
				since: T::Session::current_index(),
			},
		);
		Self::deposit_event(Event::CandidateAdded { who });
		Ok(())
	}

	/// Ends `who`'s candidacy for `reason`; returns whether it was a candidate (an account that
	/// is not one gets no event, so a repeated removal is invisible).
	pub(crate) fn remove_candidate(who: &T::AccountId, reason: RemovalReason) -> bool {
		if Candidates::<T>::take(who).is_none() {
			return false;
		}
		Self::deposit_event(Event::CandidateRemoved {
			who: who.clone(),
			reason,
		});
		true
	}

	/// `who`'s node left the registry (it unregistered or was banned): it stops being a
	/// candidate. Called by the runtime; does nothing for a node that is not a candidate.
	///
	/// Emits [`Event::CandidateRemoved`] with [`RemovalReason::NodeLeft`].
	pub fn on_node_left(who: &T::AccountId) {
		Self::remove_candidate(who, RemovalReason::NodeLeft);
	}

	/// The most [`Pallet::on_node_left`] costs.
	pub fn on_node_left_weight() -> Weight {
		T::WeightInfo::on_node_left()
	}
}
