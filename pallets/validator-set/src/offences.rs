//! Punishing proven equivocations reported through `pallet_offences` (the policy is in the crate
//! docs).

use crate::{
	bonding::oldest_provable, CandidateNodes, Config, Event, Pallet, Parameters, RemovalReason,
	SessionInterface, Slashes, LOG_TARGET,
};
use frame_support::{traits::Get, weights::Weight};
use sp_runtime::Perbill;
use sp_staking::{
	offence::{OffenceDetails, OnOffenceHandler},
	SessionIndex,
};

/// What handling `n` offenders costs, counted in storage accesses (the slash itself is the
/// node registry's: its record, the hold and the account). Fixed: the session index and the
/// parameters. Per offender: the slash record, the candidacy and its counter, three accesses of
/// the registry's slash, and disabling (the validators and the disabled list).
pub(crate) fn offence_weight<T: Config>(n: u32) -> Weight {
	let n = u64::from(n);
	T::DbWeight::get().reads_writes(2 + 8 * n, 7 * n)
}

impl<T: Config> Pallet<T> {
	/// Disables every validator of the current session with a slash on record. Called when a
	/// session starts: `pallet_session` forgets who was disabled whenever the set changes, and
	/// an offender can still be in a set chosen before it was caught.
	pub(crate) fn disable_slashed_validators() {
		for who in T::Session::validators() {
			if Slashes::<T>::iter_prefix(&who).next().is_some() {
				T::Session::disable(&who);
			}
		}
	}
}

/// Offenders are identified as `(validator, full identification)`; the runtime's
/// identification is `()`, but nothing here depends on it.
impl<T: Config, F> OnOffenceHandler<T::AccountId, (T::AccountId, F), Weight> for Pallet<T> {
	/// Slashes each offender that has no slash on record. One incident (say, a validator's keys
	/// running on two machines) produces an equivocation in every slot and round until the
	/// offender leaves the set, and `pallet_offences` passes every offender of the same kind
	/// and time slot again with each new report: the record, kept for `BondingSessions`, makes
	/// all of that one slash. `slash_fraction` is ignored: the pallet's own parameter applies.
	fn on_offence(
		offenders: &[OffenceDetails<T::AccountId, (T::AccountId, F)>],
		_slash_fraction: &[Perbill],
		session: SessionIndex,
	) -> Weight {
		if session < oldest_provable::<T>(T::Session::current_index()) {
			// Its history is pruned and the bonds it locked may be released already; a report
			// this late cannot have come through a key-ownership proof.
			log::warn!(target: LOG_TARGET, "offence of pruned session {session} ignored");
			return offence_weight::<T>(0);
		}
		let fraction = Parameters::<T>::get().equivocation_slash;
		for details in offenders {
			let who = &details.offender.0;
			if Slashes::<T>::iter_prefix(who).next().is_some() {
				continue;
			}
			let amount = T::Nodes::slash(who, fraction);
			Slashes::<T>::insert(who, session, amount);
			Self::remove_candidate(who, RemovalReason::Equivocation);
			T::Session::disable(who);
			Self::deposit_event(Event::Slashed {
				who: who.clone(),
				amount,
				session,
			});
		}
		offence_weight::<T>(offenders.len() as u32)
	}
}
