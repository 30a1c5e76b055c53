//! Unbonding, withdrawal and bans: what leaving does to bonds, votes, jobs and reputation.

use super::*;
use frame_support::assert_noop;
use sp_runtime::DispatchError;

fn left() -> Vec<u64> {
	LEFT.with(|l| l.borrow().clone())
}

#[test]
fn unregister_then_withdraw_after_delay() {
	new_test_ext().execute_with(|| {
		let k = register(1, 3_000);
		REPORTS.with(|r| r.borrow_mut().clear());
		assert_noop!(
			NodeRegistry::withdraw_unbonded(RuntimeOrigin::signed(1)),
			Error::<Test>::NotUnbonding
		);
		assert_ok!(NodeRegistry::unregister(RuntimeOrigin::signed(1)));
		System::assert_last_event(
			Event::UnbondingStarted {
				node: 1,
				unlock_at: 21,
			}
			.into(),
		);
		// C-1: governance hears of it at once, so the node's votes leave running polls.
		assert_eq!(left(), vec![1]);
		assert_eq!(NodeRegistry::voting_units(&1), None);
		assert_eq!(NodeRegistry::voter(&1), None);
		assert_eq!(TotalVotingUnits::<Test>::get(), 0);
		assert_noop!(
			NodeRegistry::unregister(RuntimeOrigin::signed(1)),
			Error::<Test>::AlreadyUnbonding
		);
		assert_noop!(
			NodeRegistry::set_endpoints(RuntimeOrigin::signed(1), endpoint()),
			Error::<Test>::AlreadyUnbonding
		);
		run_to(20);
		assert_noop!(
			NodeRegistry::withdraw_unbonded(RuntimeOrigin::signed(1)),
			Error::<Test>::StillUnbonding
		);
		// Unbonding nodes are not reported offline.
		assert!(reports().is_empty());
		run_to(21);
		assert_ok!(NodeRegistry::withdraw_unbonded(RuntimeOrigin::signed(1)));
		System::assert_last_event(
			Event::NodeRemoved {
				node: 1,
				released: 3_000,
			}
			.into(),
		);
		assert_eq!(held(1), 0);
		assert_eq!(Balances::free_balance(1), 100_000);
		assert!(Nodes::<Test>::get(1).is_none() && NodeByKey::<Test>::get(&k).is_none());
		assert_eq!(ModelServers::<Test>::get(0), 0);
		// M-5: reputation keeps the account's record as a departed one.
		assert_eq!(reports(), vec![(1, "departed")]);
		assert_noop!(
			NodeRegistry::withdraw_unbonded(RuntimeOrigin::signed(1)),
			Error::<Test>::NotRegistered
		);
		assert_noop!(
			NodeRegistry::unregister(RuntimeOrigin::signed(1)),
			Error::<Test>::NotRegistered
		);
		// Registering again: reputation finds the account's record.
		register(1, MIN_BOND);
		assert_eq!(reports(), vec![(1, "departed"), (1, "returned")]);
		check();
	});
}

/// M-5: a node cannot withdraw its bond while jobs it was assigned are unsettled, so it cannot
/// escape the slashing of a wrong result.
#[test]
fn no_withdrawal_with_pending_jobs() {
	new_test_ext().execute_with(|| {
		register(1, MIN_BOND);
		assert_ok!(NodeRegistry::unregister(RuntimeOrigin::signed(1)));
		run_to(21);
		PENDING.with(|p| p.borrow_mut().push(1));
		assert_noop!(
			NodeRegistry::withdraw_unbonded(RuntimeOrigin::signed(1)),
			Error::<Test>::PendingJobs
		);
		assert_eq!(held(1), MIN_BOND);
		PENDING.with(|p| p.borrow_mut().clear());
		assert_ok!(NodeRegistry::withdraw_unbonded(RuntimeOrigin::signed(1)));
		check();
	});
}

#[test]
fn ban_burns_penalty_and_releases_rest() {
	new_test_ext().execute_with(|| {
		register(1, 5_000);
		register(2, 2_000);
		let issuance = Balances::total_issuance();
		assert_noop!(
			NodeRegistry::ban(RuntimeOrigin::signed(2), 1),
			DispatchError::BadOrigin
		);
		assert_noop!(
			NodeRegistry::ban(RuntimeOrigin::root(), 9),
			Error::<Test>::NotRegistered
		);
		assert_ok!(NodeRegistry::ban(RuntimeOrigin::root(), 1));
		System::assert_last_event(
			Event::NodeBanned {
				node: 1,
				slashed: 500,
				released: 4_500,
			}
			.into(),
		);
		assert_eq!(left(), vec![1]);
		assert_eq!(held(1), 0);
		assert_eq!(Balances::free_balance(1), 100_000 - 500);
		assert_eq!(Balances::total_issuance(), issuance - 500);
		assert!(Nodes::<Test>::get(1).is_none());
		assert_eq!(TotalVotingUnits::<Test>::get(), 2);
		// Also while unbonding (governance already heard of the leave then).
		assert_ok!(NodeRegistry::unregister(RuntimeOrigin::signed(2)));
		assert_ok!(NodeRegistry::ban(RuntimeOrigin::root(), 2));
		assert_eq!(left(), vec![1, 2]);
		assert_eq!(Balances::free_balance(2), 100_000 - 200);
		assert_eq!(TotalVotingUnits::<Test>::get(), 0);
		check();
	});
}
