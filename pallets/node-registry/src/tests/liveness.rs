//! Heartbeats, readiness and liveness.

use super::*;
use frame_support::{assert_noop, pallet_prelude::InvalidTransaction};
use sp_runtime::DispatchError;

#[test]
fn valid_heartbeat_is_authorized_once_per_period() {
	new_test_ext().execute_with(|| {
		let k = register(1, MIN_BOND);
		run_to(PERIOD); // period 1; registered in period 0
		let call = signed_heartbeat(1, &k, 1);
		let (validity, _) = RuntimeCall::from(call.clone())
			.authorize(TransactionSource::External)
			.unwrap()
			.unwrap();
		assert_eq!(validity.longevity, PERIOD);
		assert_eq!(validity.provides.len(), 1);
		assert_ok!(dispatch_authorized(call.clone()));
		System::assert_last_event(
			Event::HeartbeatReceived {
				node: 1,
				period: 1,
				ready_models: Default::default(),
			}
			.into(),
		);
		assert_eq!(Nodes::<Test>::get(1).unwrap().last_alive, 1);
		// Replaying the same heartbeat: stale, and the dispatch refuses too.
		assert_eq!(authorize(&call), Err(InvalidTransaction::Stale.into()));
		assert_noop!(dispatch_authorized(call), Error::<Test>::NothingNew);
		check();
	});
}

/// L-4: readiness grows within a period (a model became ready), but cannot flip back and forth
/// for free: shrinking waits for the next period.
#[test]
fn readiness_grows_within_a_period_and_shrinks_at_the_next() {
	new_test_ext().execute_with(|| {
		let k = register(1, MIN_BOND);
		assert_ok!(NodeRegistry::set_served_models(
			RuntimeOrigin::signed(1),
			vec![0, 1]
		));
		// Registered in period 0: the first heartbeat there must bring news (ready models).
		assert_eq!(
			authorize(&signed_heartbeat(1, &k, 0)),
			Err(InvalidTransaction::Stale.into())
		);
		land(signed_heartbeat_ready(1, &k, 0, vec![0]));
		assert_eq!(
			Nodes::<Test>::get(1).unwrap().ready_models.to_vec(),
			vec![0]
		);
		land(signed_heartbeat_ready(1, &k, 0, vec![0, 1]));
		assert_eq!(candidates(1), vec![1]);
		// Same period: neither the same set again nor a smaller one.
		assert_eq!(
			authorize(&signed_heartbeat_ready(1, &k, 0, vec![1, 0])),
			Err(InvalidTransaction::Stale.into())
		);
		assert_eq!(
			authorize(&signed_heartbeat_ready(1, &k, 0, vec![1])),
			Err(InvalidTransaction::Stale.into())
		);
		assert_noop!(
			dispatch_authorized(signed_heartbeat_ready(1, &k, 0, vec![1])),
			Error::<Test>::NothingNew
		);
		// Next period: the ready set can shrink.
		run_to(PERIOD);
		land(signed_heartbeat_ready(1, &k, 1, vec![1]));
		assert_eq!(candidates(0), Vec::<u64>::new());
		assert_eq!(candidates(1), vec![1]);
		// A model it does not serve, or one listed twice, is invalid.
		assert_eq!(
			authorize(&signed_heartbeat_ready(1, &k, 1, vec![1, 2])),
			Err(InvalidTransaction::Custom(INVALID_NOT_SERVED).into())
		);
		assert_eq!(
			authorize(&signed_heartbeat_ready(1, &k, 1, vec![1, 1])),
			Err(InvalidTransaction::Custom(INVALID_NOT_SERVED).into())
		);
		assert_noop!(
			dispatch_authorized(signed_heartbeat_ready(1, &k, 1, vec![1, 2])),
			Error::<Test>::NotServed
		);
		check();
	});
}

#[test]
fn bad_heartbeats_are_rejected() {
	new_test_ext().execute_with(|| {
		let k = register(1, MIN_BOND);
		register(2, MIN_BOND);
		run_to(2 * PERIOD); // period 2
					  // Signed by another node's key.
		let forged = signed_heartbeat(1, &key(2), 2);
		assert_eq!(authorize(&forged), Err(InvalidTransaction::BadProof.into()));
		// A valid signature over a different statement.
		let Call::heartbeat { signature, .. } = signed_heartbeat(1, &k, 2) else {
			unreachable!()
		};
		let tampered = Call::heartbeat {
			heartbeat: Heartbeat {
				node: 2,
				period: 2,
				ready_models: Default::default(),
			},
			signature,
		};
		assert_eq!(
			authorize(&tampered),
			Err(InvalidTransaction::BadProof.into())
		);
		// Old and future periods.
		assert_eq!(
			authorize(&signed_heartbeat(1, &k, 1)),
			Err(InvalidTransaction::Stale.into())
		);
		assert_eq!(
			authorize(&signed_heartbeat(1, &k, 3)),
			Err(InvalidTransaction::Future.into())
		);
		// Unknown node.
		assert_eq!(
			authorize(&signed_heartbeat(4, &key(4), 2)),
			Err(InvalidTransaction::Custom(INVALID_UNKNOWN_NODE).into())
		);
		// Leaving node.
		assert_ok!(NodeRegistry::unregister(RuntimeOrigin::signed(1)));
		assert_eq!(
			authorize(&signed_heartbeat(1, &k, 2)),
			Err(InvalidTransaction::Custom(INVALID_NODE_LEAVING).into())
		);
		// Not authorized origins cannot call it.
		assert_noop!(
			NodeRegistry::heartbeat(
				RuntimeOrigin::signed(1),
				Heartbeat {
					node: 1,
					period: 2,
					ready_models: Default::default()
				},
				k.sign(&[0u8]).unwrap()
			),
			DispatchError::BadOrigin
		);
		assert_eq!(Nodes::<Test>::get(2).unwrap().last_alive, 0);
		check();
	});
}

#[test]
fn missed_period_marks_offline_and_reports() {
	new_test_ext().execute_with(|| {
		let k1 = register(1, MIN_BOND);
		register(2, MIN_BOND);
		REPORTS.with(|r| r.borrow_mut().clear());
		run_to(PERIOD); // period 1 starts; both registered in period 0, nobody offline
		assert!(reports().is_empty());
		assert_ok!(dispatch_authorized(signed_heartbeat(1, &k1, 1)));
		run_to(2 * PERIOD); // period 1 ended: node 2 missed it
		assert_eq!(Nodes::<Test>::get(1).unwrap().status, NodeStatus::Active);
		assert_eq!(Nodes::<Test>::get(2).unwrap().status, NodeStatus::Offline);
		assert_eq!(reports(), vec![(2, "offline")]);
		System::assert_has_event(Event::NodeOffline { node: 2, period: 1 }.into());
		// Still silent: reported again for period 2, node 1 now too.
		run_to(3 * PERIOD);
		assert_eq!(
			reports(),
			vec![(2, "offline"), (1, "offline"), (2, "offline")]
		);
		// A heartbeat brings node 2 back.
		assert_ok!(dispatch_authorized(signed_heartbeat(2, &key(2), 3)));
		assert_eq!(Nodes::<Test>::get(2).unwrap().status, NodeStatus::Active);
		check();
	});
}

#[test]
fn block_author_counts_as_alive_but_not_ready() {
	new_test_ext().execute_with(|| {
		register(1, MIN_BOND);
		REPORTS.with(|r| r.borrow_mut().clear());
		run_to(PERIOD);
		AUTHOR.with(|a| *a.borrow_mut() = Some(1));
		run_to(PERIOD + 1);
		AUTHOR.with(|a| *a.borrow_mut() = None);
		assert_eq!(Nodes::<Test>::get(1).unwrap().last_alive, 1);
		run_to(2 * PERIOD);
		assert!(reports().is_empty());
		assert_eq!(Nodes::<Test>::get(1).unwrap().status, NodeStatus::Active);
		// Authoring blocks proves a running node, not a working engine.
		assert!(candidates(0).is_empty());
	});
}

#[test]
fn heartbeat_dispatch_rechecks_what_authorization_checked() {
	new_test_ext().execute_with(|| {
		let k = register(1, MIN_BOND);
		run_to(PERIOD);
		// Authorized in period 0, included in period 1.
		assert_noop!(
			dispatch_authorized(signed_heartbeat_ready(1, &k, 0, vec![0])),
			Error::<Test>::WrongPeriod
		);
		assert_noop!(
			dispatch_authorized(signed_heartbeat(2, &key(2), 1)),
			Error::<Test>::NotRegistered
		);
		assert_ok!(NodeRegistry::unregister(RuntimeOrigin::signed(1)));
		assert_noop!(
			dispatch_authorized(signed_heartbeat(1, &k, 1)),
			Error::<Test>::AlreadyUnbonding
		);
	});
}
