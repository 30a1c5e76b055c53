//! How long a node's bond stays locked by validation, and pruning of everything kept for that
//! long (last active sessions, slash records, key-ownership history).
//!
//! All of it shares one horizon: during session `c`, offences of sessions `c - BondingSessions`
//! and later can still be proven, so their key-ownership history, the bonds of their validators
//! and their slash records are kept; older ones are dropped when the next session is planned.

use crate::{Candidates, Config, LastActive, Pallet, Queued, SessionInterface, Silence, Slashes};
use alloc::vec::Vec;
use frame_support::traits::Get;
use sp_staking::SessionIndex;

/// The oldest session whose offences can still be proven while session `current` runs.
pub(crate) fn oldest_provable<T: Config>(current: SessionIndex) -> SessionIndex {
	current.saturating_sub(T::BondingSessions::get())
}

impl<T: Config> Pallet<T> {
	/// Whether `who`'s node must keep its bond because of validation: it is a candidate,
	/// validates the current session, is in the queued set, or validated a session no more
	/// than [`Config::BondingSessions`] sessions ago (an offence of that session can still be
	/// proven and slashed).
	pub fn keeps_bond(who: &T::AccountId) -> bool {
		Candidates::<T>::contains_key(who)
			|| T::Session::validators().contains(who)
			|| Queued::<T>::get().contains(who)
			|| LastActive::<T>::get(who)
				.is_some_and(|last| last >= oldest_provable::<T>(T::Session::current_index()))
	}

	/// Drops what no longer matters once session `index` is planned (during session
	/// `index - 1`): last-active sessions and slash records older than the horizon, with the
	/// key-ownership history before it. O(`MaxValidators × BondingSessions`).
	pub(crate) fn prune(index: SessionIndex) {
		let oldest = oldest_provable::<T>(index.saturating_sub(1));
		let stale: Vec<_> = LastActive::<T>::iter()
			.filter(|(_, last)| *last < oldest)
			.map(|(who, _)| who)
			.collect();
		for who in stale {
			LastActive::<T>::remove(&who);
			// A silence count only means something for consecutive validated sessions; one that
			// outlived the horizon belongs to a node that stopped validating long ago.
			Silence::<T>::remove(&who);
		}
		let stale: Vec<_> = Slashes::<T>::iter_keys()
			.filter(|(_, session)| *session < oldest)
			.collect();
		for (who, session) in stale {
			Slashes::<T>::remove(&who, session);
		}
		T::Session::prune_history(oldest);
	}
}
