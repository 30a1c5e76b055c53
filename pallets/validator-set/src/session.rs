//! The pallet as `pallet_session`'s session manager. At each rotation `pallet_session` calls
//! `end_session(i)`, `start_session(i + 1)` and `new_session(i + 2)`; the set returned by the
//! last becomes active one rotation later.

use crate::{Config, Pallet, Queued};
use alloc::vec::Vec;
use sp_staking::SessionIndex;

impl<T: Config> pallet_session::SessionManager<T::AccountId> for Pallet<T> {
	fn new_session(new_index: SessionIndex) -> Option<Vec<T::AccountId>> {
		// Prune first: a slash record that just expired makes its node eligible again.
		Self::prune(new_index);
		Self::select(new_index)
	}

	/// The genesis validators, for sessions 0 and 1 (`None` without any: `pallet_session` then
	/// uses its genesis keys).
	fn new_session_genesis(_new_index: SessionIndex) -> Option<Vec<T::AccountId>> {
		let genesis = Queued::<T>::get();
		(!genesis.is_empty()).then(|| genesis.into_inner())
	}

	fn end_session(end_index: SessionIndex) {
		Self::end_of_session(end_index)
	}

	fn start_session(_start_index: SessionIndex) {
		// The queued set is the one starting now; what `new_session` returns next is queued
		// anew (nothing queued means the next session keeps this set).
		Queued::<T>::kill();
		Self::disable_slashed_validators();
	}
}

/// The same with the full identification `()` that the runtime's historical extension records
/// (the runtime wraps the pallet in `pallet_session::historical::NoteHistoricalRoot`).
impl<T: Config> pallet_session::historical::SessionManager<T::AccountId, ()> for Pallet<T> {
	fn new_session(new_index: SessionIndex) -> Option<Vec<(T::AccountId, ())>> {
		<Self as pallet_session::SessionManager<_>>::new_session(new_index).map(with_unit_ids)
	}

	fn new_session_genesis(new_index: SessionIndex) -> Option<Vec<(T::AccountId, ())>> {
		<Self as pallet_session::SessionManager<_>>::new_session_genesis(new_index)
			.map(with_unit_ids)
	}

	fn start_session(start_index: SessionIndex) {
		<Self as pallet_session::SessionManager<_>>::start_session(start_index)
	}

	fn end_session(end_index: SessionIndex) {
		<Self as pallet_session::SessionManager<_>>::end_session(end_index)
	}
}

fn with_unit_ids<A>(validators: Vec<A>) -> Vec<(A, ())> {
	validators.into_iter().map(|v| (v, ())).collect()
}
