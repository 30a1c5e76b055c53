//! The departed accounts: a ring of capacity [`Config::MaxDeparted`] over [`DepartedQueue`],
//! indexed by [`Departed`], so that leaving, returning and evicting are all O(1).
//!
//! Positions `head .. head + len` (modulo the capacity) are occupied. Removing an account from
//! the middle (it registered again) moves the newest entry into the hole, so eviction order is
//! oldest-first except for that one moved entry.

use crate::{Config, Departed, DepartedQueue, DepartedRange, Event, Pallet, Reputations};
use frame_support::traits::Get;

fn position<T: Config>(head: u32, offset: u32) -> u32 {
	let cap = T::MaxDeparted::get().max(1);
	head.saturating_add(offset) % cap
}

/// Marks `who` as departed; drops the oldest departed record if the ring is full. Accounts
/// without a record are not tracked (there is nothing to keep).
pub(crate) fn push<T: Config>(who: &T::AccountId) {
	if !Reputations::<T>::contains_key(who) || Departed::<T>::contains_key(who) {
		return;
	}
	let cap = T::MaxDeparted::get().max(1);
	let (mut head, mut len) = DepartedRange::<T>::get();
	if len >= cap {
		if let Some(oldest) = DepartedQueue::<T>::take(head) {
			Departed::<T>::remove(&oldest);
			Reputations::<T>::remove(&oldest);
			Pallet::<T>::deposit_event(Event::RecordDropped { who: oldest });
		}
		head = position::<T>(head, 1);
		len = len.saturating_sub(1);
	}
	let at = position::<T>(head, len);
	DepartedQueue::<T>::insert(at, who);
	Departed::<T>::insert(who, at);
	DepartedRange::<T>::put((head, len.saturating_add(1)));
}

/// `who` registered again: its record no longer counts as departed.
pub(crate) fn remove<T: Config>(who: &T::AccountId) {
	let Some(at) = Departed::<T>::take(who) else {
		return;
	};
	let (head, len) = DepartedRange::<T>::get();
	if len == 0 {
		return;
	}
	let last = position::<T>(head, len - 1);
	if last != at {
		if let Some(moved) = DepartedQueue::<T>::take(last) {
			DepartedQueue::<T>::insert(at, &moved);
			Departed::<T>::insert(&moved, at);
		}
	} else {
		DepartedQueue::<T>::remove(at);
	}
	DepartedRange::<T>::put((head, len - 1));
}

/// The ring, the index and the records agree.
#[cfg(any(feature = "try-runtime", feature = "test-utils", test))]
pub(crate) fn check<T: Config>() -> Result<(), sp_runtime::TryRuntimeError> {
	use frame_support::ensure;
	let cap = T::MaxDeparted::get().max(1);
	let (head, len) = DepartedRange::<T>::get();
	ensure!(head < cap && len <= cap, "departed range out of bounds");
	ensure!(
		Departed::<T>::count() == len,
		"departed index and ring differ in size"
	);
	let mut queued = 0u32;
	for (at, who) in DepartedQueue::<T>::iter() {
		ensure!(
			(at + cap - head) % cap < len,
			"departed entry outside the ring"
		);
		ensure!(
			Departed::<T>::get(&who) == Some(at),
			"departed index points elsewhere"
		);
		ensure!(
			Reputations::<T>::contains_key(&who),
			"departed account without a record"
		);
		queued += 1;
	}
	ensure!(queued == len, "holes in the departed ring");
	Ok(())
}
