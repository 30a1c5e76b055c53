//! Unit tests of the validator set, by topic, with shared helpers. The session helpers drive the
//! pallet the way `pallet_session` (through its historical extension) does, against the mock's
//! fakes.

mod bonding;
mod candidacy;
mod genesis;
mod liveness;
mod offences;
mod parameters;
mod selection;

use crate::{mock::*, *};
use frame_support::{assert_ok, BoundedVec};
use pallet_session::historical::SessionManager as HistoricalManager;
use sp_runtime::{DispatchResult, Perbill};

/// Gives `who` an online node bonded with `bond` and session keys: ready to opt in.
pub fn ready(who: AccountId, bond: Balance) {
	set_node(who, bond);
	set_keys(who, true);
}

pub fn set_keys(who: AccountId, has: bool) {
	KEYS.with(|k| {
		if has {
			k.borrow_mut().insert(who);
		} else {
			k.borrow_mut().remove(&who);
		}
	});
}

pub fn opt_in(who: AccountId) -> DispatchResult {
	ValidatorSet::opt_in(RuntimeOrigin::signed(who))
}

/// [`ready`] and opted in.
pub fn candidate(who: AccountId, bond: Balance) {
	ready(who, bond);
	assert_ok!(opt_in(who));
}

pub fn set_score(who: AccountId, percent: u32) {
	SCORES.with(|s| s.borrow_mut().insert(who, Perbill::from_percent(percent)));
}

/// Changes the standing of `who`'s node, which must exist.
pub fn update_node(who: AccountId, f: impl FnOnce(&mut NodeStanding<Balance>)) {
	NODES.with(|n| f(n.borrow_mut().get_mut(&who).expect("registered node")));
}

pub fn unregister_node(who: AccountId) {
	NODES.with(|n| n.borrow_mut().remove(&who));
}

pub fn bond(who: AccountId) -> Balance {
	NODES.with(|n| n.borrow().get(&who).map(|s| s.bond).unwrap_or_default())
}

pub fn session() -> u32 {
	SESSION.with(|s| *s.borrow())
}

pub fn set_session(index: u32) {
	SESSION.with(|s| *s.borrow_mut() = index);
}

pub fn validators() -> Vec<AccountId> {
	VALIDATORS.with(|v| v.borrow().clone())
}

pub fn set_validators(validators: Vec<AccountId>) {
	VALIDATORS.with(|v| *v.borrow_mut() = validators);
}

/// The set `pallet_session` activates at the next rotation.
pub fn next() -> Vec<AccountId> {
	NEXT.with(|n| n.borrow().clone())
}

pub fn queued() -> Vec<AccountId> {
	Queued::<Test>::get().into_inner()
}

pub fn pruned() -> Vec<u32> {
	PRUNED.with(|p| p.borrow().clone())
}

pub fn slashes() -> Vec<(AccountId, Perbill, Balance)> {
	SLASHES.with(|s| s.borrow().clone())
}

pub fn is_candidate(who: AccountId) -> bool {
	Candidates::<Test>::contains_key(who)
}

/// Keeps the accounts that have session keys, as `pallet_session` does when it queues a set.
fn with_keys(set: Vec<AccountId>) -> Vec<AccountId> {
	set.into_iter()
		.filter(|v| KEYS.with(|k| k.borrow().contains(v)))
		.collect()
}

/// What `pallet_session`'s genesis build does: sessions 0 and 1 from `new_session_genesis`,
/// then `start_session(0)`.
pub fn start_chain() {
	let first: Vec<AccountId> =
		<ValidatorSet as HistoricalManager<AccountId, ()>>::new_session_genesis(0)
			.map(|v| v.into_iter().map(|(who, ())| who).collect())
			.unwrap_or_default();
	let second = <ValidatorSet as HistoricalManager<AccountId, ()>>::new_session_genesis(1)
		.map(|v| v.into_iter().map(|(who, ())| who).collect())
		.unwrap_or_else(|| first.clone());
	set_validators(first);
	NEXT.with(|n| *n.borrow_mut() = with_keys(second));
	<ValidatorSet as HistoricalManager<AccountId, ()>>::start_session(0);
}

/// What `pallet_session::rotate_session` does: ends the current session, activates the queued
/// set (re-enabling everyone), starts the next session and plans the one after it (keeping the
/// set if the pallet returns `None`).
pub fn rotate() {
	let ending = session();
	<ValidatorSet as HistoricalManager<AccountId, ()>>::end_session(ending);
	set_validators(NEXT.with(|n| n.take()));
	DISABLED.with(|d| d.borrow_mut().clear());
	set_session(ending + 1);
	<ValidatorSet as HistoricalManager<AccountId, ()>>::start_session(ending + 1);
	let planned = <ValidatorSet as HistoricalManager<AccountId, ()>>::new_session(ending + 2)
		.map(|v| v.into_iter().map(|(who, ())| who).collect())
		.unwrap_or_else(validators);
	NEXT.with(|n| *n.borrow_mut() = with_keys(planned));
}

/// A session in which every validator authors a block, then a rotation.
pub fn run_session() {
	for who in validators() {
		author(who, 1);
	}
	rotate();
}

/// `n` blocks authored by `who`.
pub fn author(who: AccountId, n: u32) {
	for _ in 0..n {
		<ValidatorSet as pallet_authorship::EventHandler<AccountId, u64>>::note_author(who);
	}
}

/// This pallet's events so far.
pub fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| match r.event {
			RuntimeEvent::ValidatorSet(e) => Some(e),
			_ => None,
		})
		.collect()
}

/// The `CandidateRemoved` events so far, as (account, reason).
pub fn removals() -> Vec<(AccountId, RemovalReason)> {
	events()
		.into_iter()
		.filter_map(|e| match e {
			Event::CandidateRemoved { who, reason } => Some((who, reason)),
			_ => None,
		})
		.collect()
}

pub fn check() {
	ValidatorSet::do_try_state().expect("validator-set invariants");
}
