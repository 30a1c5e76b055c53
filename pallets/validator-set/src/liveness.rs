//! Liveness of validators: the blocks they author, and what the end of a session does to those
//! that were offline or silent (the rule and its odds are in the crate docs).

use crate::{
	AuthoredBlocks, CandidateNodes, Config, Event, LastActive, Pallet, RemovalReason,
	SessionInterface, Silence, SILENCE_SCALE,
};
use frame_support::{traits::Get, weights::Weight};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::{traits::Saturating, SaturatedConversion};
use sp_staking::SessionIndex;

/// The expected blocks, in thousandths, of one validator in a session of `set_size` validators:
/// `SessionLength × SILENCE_SCALE / set_size`.
pub(crate) fn expected_share<T: Config>(set_size: usize) -> u32 {
	let total = u64::from(T::SessionLength::get()).saturating_mul(u64::from(SILENCE_SCALE));
	(total / (set_size.max(1) as u64)).saturated_into()
}

/// What noting an author costs: the current validators, then the author's count read and
/// written.
pub(crate) fn note_author_weight<T: Config>() -> Weight {
	T::DbWeight::get().reads_writes(2, 1)
}

impl<T: Config> Pallet<T> {
	/// Counts a block for `author` if it validates the current session. Anyone else (there is
	/// nobody else under BABE) is ignored, so [`AuthoredBlocks`] holds at most one entry per
	/// validator.
	pub(crate) fn note_block(author: T::AccountId) {
		if T::Session::validators().contains(&author) {
			AuthoredBlocks::<T>::mutate(&author, |n| n.saturating_inc());
		}
	}

	/// Session `index` ends: records it as each validator's last active session, takes its
	/// block count, and ends the candidacy of validators that were offline or have been silent
	/// for `MinExpectedBlocks` expected blocks.
	pub(crate) fn end_of_session(index: SessionIndex) {
		let validators = T::Session::validators();
		let share = expected_share::<T>(validators.len());
		let limit = T::MinExpectedBlocks::get().saturating_mul(SILENCE_SCALE);
		for who in &validators {
			LastActive::<T>::insert(who, index);
			let authored = AuthoredBlocks::<T>::take(who);
			match T::Nodes::standing(who) {
				None => {
					Silence::<T>::remove(who);
					Self::remove_candidate(who, RemovalReason::NodeLeft);
				},
				Some(standing) if standing.leaving => {
					Silence::<T>::remove(who);
					Self::remove_candidate(who, RemovalReason::NodeLeft);
				},
				Some(standing) if !standing.online => {
					Silence::<T>::remove(who);
					Self::deposit_event(Event::ValidatorOffline {
						who: who.clone(),
						session: index,
					});
					Self::remove_candidate(who, RemovalReason::Offline);
				},
				Some(_) if authored > 0 => Silence::<T>::remove(who),
				Some(_) => {
					let silence = Silence::<T>::get(who).saturating_add(share);
					if silence >= limit {
						Silence::<T>::remove(who);
						Self::remove_candidate(who, RemovalReason::NoBlocks);
					} else {
						Silence::<T>::insert(who, silence);
					}
				},
			}
		}
		// Every entry belonged to a validator taken above; this only guards against a set that
		// changed under the pallet (e.g. a runtime upgrade mid-session) leaving one behind.
		let _ = AuthoredBlocks::<T>::clear(T::MaxValidators::get(), None);
	}
}

impl<T: Config> pallet_authorship::EventHandler<T::AccountId, BlockNumberFor<T>> for Pallet<T> {
	fn note_author(author: T::AccountId) {
		Self::note_block(author)
	}
}
