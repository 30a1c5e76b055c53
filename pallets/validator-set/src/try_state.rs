//! Invariants of the validator set, checked by `try_state` and after every unit test.

use crate::{
	AuthoredBlocks, Candidates, Config, LastActive, Pallet, Parameters, Queued, SessionInterface,
	Silence, Slashes, SILENCE_SCALE,
};
use alloc::collections::BTreeSet;
use frame_support::{ensure, traits::Get};

impl<T: Config> Pallet<T> {
	/// Invariants: valid parameters; the candidate counter matches and respects its bound; the
	/// queued set has no repeats and at least `MinValidators` members unless empty; block counts
	/// only for current validators; silence below the limit and only with a last active session;
	/// last active sessions and slash records within the horizon and their bounds.
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		ensure!(
			Parameters::<T>::get().is_valid(T::MinValidators::get(), T::MaxValidators::get()),
			"invalid parameters"
		);

		let candidates = Candidates::<T>::iter_keys().count() as u32;
		ensure!(
			candidates == Candidates::<T>::count(),
			"candidate counter out of sync"
		);
		ensure!(
			candidates <= T::MaxCandidates::get(),
			"more candidates than MaxCandidates"
		);

		let queued = Queued::<T>::get();
		ensure!(
			queued.iter().collect::<BTreeSet<_>>().len() == queued.len(),
			"queued set has repeats"
		);
		ensure!(
			queued.is_empty() || queued.len() >= T::MinValidators::get() as usize,
			"queued set smaller than MinValidators"
		);

		let validators = T::Session::validators();
		ensure!(
			AuthoredBlocks::<T>::iter_keys().all(|who| validators.contains(&who)),
			"block count of a non-validator"
		);

		let limit = T::MinExpectedBlocks::get().saturating_mul(SILENCE_SCALE);
		for (who, silence) in Silence::<T>::iter() {
			ensure!(silence < limit, "silence at the limit was not acted on");
			ensure!(
				LastActive::<T>::contains_key(&who),
				"silence without a last active session"
			);
		}

		let current = T::Session::current_index();
		let horizon = T::BondingSessions::get().saturating_add(2);
		let bound = T::MaxValidators::get().saturating_mul(horizon);
		let mut active = 0u32;
		for (_, last) in LastActive::<T>::iter() {
			active += 1;
			ensure!(last <= current, "last active session in the future");
			ensure!(
				last.saturating_add(horizon) >= current,
				"last active session beyond the horizon"
			);
		}
		ensure!(active <= bound, "more last active sessions than the bound");

		let mut slashes = 0u32;
		for (_, session) in Slashes::<T>::iter_keys() {
			slashes += 1;
			ensure!(session <= current, "slash for a future session");
			ensure!(
				session.saturating_add(horizon) >= current,
				"slash record beyond the horizon"
			);
		}
		ensure!(slashes <= bound, "more slash records than the bound");
		Ok(())
	}
}
