//! Unit tests of the node registry.

use crate::{mock::*, *};
use codec::Decode;
use frame_support::{
	assert_noop, assert_ok,
	pallet_prelude::{InvalidTransaction, TransactionSource, TransactionValidityError},
	traits::{fungible::InspectHold, Authorize, Hooks},
};
use pallet_model_registry::ModelId;
use sp_core::offchain::{testing, OffchainDbExt, OffchainWorkerExt, TransactionPoolExt};
use sp_runtime::{DispatchError, RuntimeAppPublic};

fn key(seed: u64) -> InferenceKey {
	InferenceKey::generate_pair(Some(format!("//node{seed}").into_bytes()))
}

fn caps() -> Capabilities {
	Capabilities {
		cpu_cores: 2,
		ram_mib: 24 * 1024,
		gpu_memory_mib: 0,
		accelerators: vec![Accelerator::Cpu].try_into().unwrap(),
		model_formats: vec![pallet_model_registry::ModelFormat::Gguf]
			.try_into()
			.unwrap(),
	}
}

fn endpoint() -> Vec<Vec<u8>> {
	vec![b"/ip4/127.0.0.1/tcp/30333".to_vec()]
}

fn register(who: u64, bond: Balance) -> InferenceKey {
	let k = key(who);
	assert_ok!(NodeRegistry::register(
		RuntimeOrigin::signed(who),
		caps(),
		vec![0],
		endpoint(),
		k.clone(),
		bond
	));
	k
}

fn held(who: u64) -> Balance {
	Balances::balance_on_hold(&HoldReason::NodeBond.into(), &who)
}

fn check() {
	NodeRegistry::do_try_state().expect("node registry invariants");
}

fn signed_heartbeat(who: u64, k: &InferenceKey, period: PeriodIndex) -> Call<Test> {
	let heartbeat = Heartbeat { node: who, period };
	let signature = k.sign(&heartbeat_payload(&heartbeat)).unwrap();
	Call::heartbeat {
		heartbeat,
		signature,
	}
}

fn authorize(call: &Call<Test>) -> Result<(), TransactionValidityError> {
	RuntimeCall::from(call.clone())
		.authorize(TransactionSource::External)
		.expect("heartbeat is an authorized call")
		.map(|_| ())
}

fn dispatch_authorized(call: Call<Test>) -> sp_runtime::DispatchResult {
	use frame_support::traits::UnfilteredDispatchable;
	call.dispatch_bypass_filter(frame_system::RawOrigin::Authorized.into())
		.map(|_| ())
		.map_err(|e| e.error)
}

/// Runs `on_initialize` for every block up to `n`.
fn run_to(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		NodeRegistry::on_initialize(next);
	}
}

/// Test externalities with an offchain worker, its database and a transaction pool, and a
/// function that drains the transactions submitted to the pool so far.
fn offchain_test_ext() -> (sp_io::TestExternalities, impl Fn() -> Vec<Vec<u8>>) {
	let mut ext = new_test_ext();
	let (offchain, _) = testing::TestOffchainExt::new();
	let (pool, pool_state) = testing::TestTransactionPoolExt::new();
	ext.register_extension(OffchainWorkerExt::new(offchain.clone()));
	ext.register_extension(OffchainDbExt::new(offchain));
	ext.register_extension(TransactionPoolExt::new(pool));
	(ext, move || {
		std::mem::take(&mut pool_state.write().transactions)
	})
}

fn reports() -> Vec<(u64, &'static str)> {
	REPORTS.with(|r| r.borrow().clone())
}

#[test]
fn register_holds_bond_and_records_node() {
	new_test_ext().execute_with(|| {
		let k = register(1, 2_500);
		assert_eq!(held(1), 2_500);
		let record = Nodes::<Test>::get(1).unwrap();
		assert_eq!(record.bond, 2_500);
		assert_eq!(record.capabilities, caps());
		assert_eq!(record.served_models.to_vec(), vec![0]);
		assert_eq!(record.endpoints[0].to_vec(), endpoint()[0]);
		assert_eq!(record.inference_key, k);
		assert_eq!(record.status, NodeStatus::Active);
		assert_eq!(record.last_alive, 0);
		assert_eq!(NodeByKey::<Test>::get(&k), Some(1));
		assert_eq!(ModelServers::<Test>::get(0), 1);
		// 2 500 / 1 000 = 2 voting units.
		assert_eq!(NodeRegistry::voting_units(&1), Some(2));
		assert_eq!(TotalVotingUnits::<Test>::get(), 2);
		assert!(NodeRegistry::serves(&1, 0) && !NodeRegistry::serves(&1, 1));
		System::assert_last_event(
			Event::NodeRegistered {
				node: 1,
				bond: 2_500,
				inference_key: k,
			}
			.into(),
		);
		check();
	});
}

#[test]
fn voting_units_are_capped() {
	new_test_ext().execute_with(|| {
		register(1, 50_000);
		assert_eq!(NodeRegistry::voting_units(&1), Some(5));
		assert_eq!(NodeRegistry::voting_units(&2), None);
	});
}

#[test]
fn register_rejects_bad_input_without_state_change() {
	new_test_ext().execute_with(|| {
		let k1 = register(1, MIN_BOND);
		let reg =
			|who: u64, models: Vec<ModelId>, endpoints: Vec<Vec<u8>>, k: InferenceKey, bond| {
				NodeRegistry::register(
					RuntimeOrigin::signed(who),
					caps(),
					models,
					endpoints,
					k,
					bond,
				)
			};
		assert_noop!(
			reg(1, vec![0], endpoint(), key(9), MIN_BOND),
			Error::<Test>::AlreadyRegistered
		);
		assert_noop!(
			reg(2, vec![0], endpoint(), key(2), MIN_BOND - 1),
			Error::<Test>::BondTooLow
		);
		assert_noop!(
			reg(2, vec![0], endpoint(), k1, MIN_BOND),
			Error::<Test>::InferenceKeyInUse
		);
		assert_noop!(
			reg(2, vec![7], endpoint(), key(2), MIN_BOND),
			Error::<Test>::UnknownModel
		);
		assert_noop!(
			reg(2, vec![0, 0], endpoint(), key(2), MIN_BOND),
			Error::<Test>::DuplicateServedModel
		);
		assert_noop!(
			reg(2, (0..17).collect(), endpoint(), key(2), MIN_BOND),
			Error::<Test>::TooManyServedModels
		);
		assert_noop!(
			reg(2, vec![0], vec![b"/ip4/1".to_vec(); 5], key(2), MIN_BOND),
			Error::<Test>::TooManyEndpoints
		);
		let long = [b"/dns/".to_vec(), vec![b'a'; 200]].concat();
		assert_noop!(
			reg(2, vec![0], vec![long], key(2), MIN_BOND),
			Error::<Test>::EndpointTooLong
		);
		for bad in [
			b"ip4/1.2.3.4".to_vec(),
			b"/".to_vec(),
			b"/ip4/1.2.3.4 /tcp/1".to_vec(),
		] {
			assert_noop!(
				reg(2, vec![0], vec![bad], key(2), MIN_BOND),
				Error::<Test>::InvalidEndpoint
			);
		}
		assert_noop!(
			reg(2, vec![0], endpoint(), key(2), 1_000_000),
			Error::<Test>::InsufficientBalance
		);
		let mut no_cores = caps();
		no_cores.cpu_cores = 0;
		assert_noop!(
			NodeRegistry::register(
				RuntimeOrigin::signed(2),
				no_cores,
				vec![0],
				endpoint(),
				key(2),
				MIN_BOND
			),
			Error::<Test>::InvalidCapabilities
		);
		let mut twice = caps();
		twice.accelerators = vec![Accelerator::Cpu, Accelerator::Cpu].try_into().unwrap();
		assert_noop!(
			NodeRegistry::register(
				RuntimeOrigin::signed(2),
				twice,
				vec![0],
				endpoint(),
				key(2),
				MIN_BOND
			),
			Error::<Test>::InvalidCapabilities
		);
		check();
	});
}

#[test]
fn deprecated_model_cannot_be_served() {
	new_test_ext().execute_with(|| {
		assert_ok!(ModelRegistry::deprecate_model(RuntimeOrigin::root(), 1));
		assert_noop!(
			NodeRegistry::register(
				RuntimeOrigin::signed(1),
				caps(),
				vec![1],
				endpoint(),
				key(1),
				MIN_BOND
			),
			Error::<Test>::ModelDeprecated
		);
		register(1, MIN_BOND);
		assert_noop!(
			NodeRegistry::set_served_models(RuntimeOrigin::signed(1), vec![0, 1]),
			Error::<Test>::ModelDeprecated
		);
	});
}

#[test]
fn registry_is_bounded() {
	new_test_ext().execute_with(|| {
		for who in 1..=3 {
			register(who, MIN_BOND);
		}
		assert_noop!(
			NodeRegistry::register(
				RuntimeOrigin::signed(4),
				caps(),
				vec![0],
				endpoint(),
				key(4),
				MIN_BOND
			),
			Error::<Test>::TooManyNodes
		);
	});
}

#[test]
fn updates_replace_declarations() {
	new_test_ext().execute_with(|| {
		register(1, MIN_BOND);
		let mut bigger = caps();
		bigger.gpu_memory_mib = 80 * 1024;
		bigger.accelerators = vec![Accelerator::Cpu, Accelerator::Cuda]
			.try_into()
			.unwrap();
		assert_ok!(NodeRegistry::update_capabilities(
			RuntimeOrigin::signed(1),
			bigger.clone()
		));
		System::assert_last_event(Event::CapabilitiesUpdated { node: 1 }.into());
		assert_eq!(Nodes::<Test>::get(1).unwrap().capabilities, bigger);

		assert_ok!(NodeRegistry::set_served_models(
			RuntimeOrigin::signed(1),
			vec![1]
		));
		assert_eq!(ModelServers::<Test>::get(0), 0);
		assert_eq!(ModelServers::<Test>::get(1), 1);
		assert_eq!(
			Nodes::<Test>::get(1).unwrap().served_models.to_vec(),
			vec![1]
		);

		let two = vec![
			b"/ip4/10.0.0.2/tcp/30333".to_vec(),
			b"/dns/node.example/tcp/443/wss".to_vec(),
		];
		assert_ok!(NodeRegistry::set_endpoints(
			RuntimeOrigin::signed(1),
			two.clone()
		));
		System::assert_last_event(Event::EndpointsUpdated { node: 1 }.into());
		assert_eq!(Nodes::<Test>::get(1).unwrap().endpoints.len(), 2);
		assert_noop!(
			NodeRegistry::set_endpoints(RuntimeOrigin::signed(1), vec![b"no-slash".to_vec()]),
			Error::<Test>::InvalidEndpoint
		);

		assert_noop!(
			NodeRegistry::update_capabilities(RuntimeOrigin::signed(2), caps()),
			Error::<Test>::NotRegistered
		);
		assert_noop!(
			NodeRegistry::set_served_models(RuntimeOrigin::signed(2), vec![0]),
			Error::<Test>::NotRegistered
		);
		assert_noop!(
			NodeRegistry::set_endpoints(RuntimeOrigin::signed(2), endpoint()),
			Error::<Test>::NotRegistered
		);
		check();
	});
}

#[test]
fn model_registry_sees_served_models() {
	new_test_ext().execute_with(|| {
		register(1, MIN_BOND);
		assert_ok!(ModelRegistry::deprecate_model(RuntimeOrigin::root(), 0));
		assert_noop!(
			ModelRegistry::remove_model(RuntimeOrigin::root(), 0),
			pallet_model_registry::Error::<Test>::ModelInUse
		);
		assert_ok!(NodeRegistry::set_served_models(
			RuntimeOrigin::signed(1),
			vec![]
		));
		assert_ok!(ModelRegistry::remove_model(RuntimeOrigin::root(), 0));
		check();
	});
}

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
		System::assert_last_event(Event::HeartbeatReceived { node: 1, period: 1 }.into());
		assert_eq!(Nodes::<Test>::get(1).unwrap().last_alive, 1);
		// Replaying the same heartbeat: stale, and the dispatch refuses too.
		assert_eq!(authorize(&call), Err(InvalidTransaction::Stale.into()));
		assert_noop!(dispatch_authorized(call), Error::<Test>::AlreadyAlive);
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
		let mut forged = signed_heartbeat(1, &key(2), 2);
		assert_eq!(authorize(&forged), Err(InvalidTransaction::BadProof.into()));
		// A valid signature over a different statement.
		if let Call::heartbeat { heartbeat, .. } = &mut forged {
			heartbeat.node = 1;
		}
		let other = signed_heartbeat(1, &k, 2);
		let Call::heartbeat { signature, .. } = other else {
			unreachable!()
		};
		let tampered = Call::heartbeat {
			heartbeat: Heartbeat { node: 2, period: 2 },
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
				Heartbeat { node: 1, period: 2 },
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
fn block_author_counts_as_alive() {
	new_test_ext().execute_with(|| {
		register(1, MIN_BOND);
		run_to(PERIOD);
		AUTHOR.with(|a| *a.borrow_mut() = Some(1));
		run_to(PERIOD + 1);
		AUTHOR.with(|a| *a.borrow_mut() = None);
		assert_eq!(Nodes::<Test>::get(1).unwrap().last_alive, 1);
		run_to(2 * PERIOD);
		assert!(reports().is_empty());
		assert_eq!(Nodes::<Test>::get(1).unwrap().status, NodeStatus::Active);
	});
}

#[test]
fn unregister_then_withdraw_after_delay() {
	new_test_ext().execute_with(|| {
		let k = register(1, 3_000);
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
		assert_eq!(NodeRegistry::voting_units(&1), None);
		assert_eq!(TotalVotingUnits::<Test>::get(), 0);
		assert!(!NodeRegistry::serves(&1, 0));
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
		assert_eq!(reports(), vec![(1, "forget")]);
		assert_noop!(
			NodeRegistry::withdraw_unbonded(RuntimeOrigin::signed(1)),
			Error::<Test>::NotRegistered
		);
		assert_noop!(
			NodeRegistry::unregister(RuntimeOrigin::signed(1)),
			Error::<Test>::NotRegistered
		);
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
		assert_eq!(held(1), 0);
		assert_eq!(Balances::free_balance(1), 100_000 - 500);
		assert_eq!(Balances::total_issuance(), issuance - 500);
		assert!(Nodes::<Test>::get(1).is_none());
		assert_eq!(TotalVotingUnits::<Test>::get(), 2);
		// Also while unbonding.
		assert_ok!(NodeRegistry::unregister(RuntimeOrigin::signed(2)));
		assert_ok!(NodeRegistry::ban(RuntimeOrigin::root(), 2));
		assert_eq!(Balances::free_balance(2), 100_000 - 200);
		assert_eq!(TotalVotingUnits::<Test>::get(), 0);
		check();
	});
}

#[test]
fn offchain_worker_sends_one_signed_heartbeat() {
	let (mut ext, take_txs) = offchain_test_ext();
	ext.execute_with(|| {
		let k = register(1, MIN_BOND);
		// Alive in period 0 through registration: nothing to send.
		NodeRegistry::offchain_worker(1);
		assert!(take_txs().is_empty());

		run_to(PERIOD + 1);
		NodeRegistry::offchain_worker(PERIOD + 1);
		// A second worker in the same period does not send again.
		NodeRegistry::offchain_worker(PERIOD + 1);
		let txs = take_txs();
		assert_eq!(txs.len(), 1);
		let xt = Extrinsic::decode(&mut &txs[0][..]).unwrap();
		assert!(matches!(
			xt.preamble,
			sp_runtime::generic::Preamble::General(..)
		));
		let RuntimeCall::NodeRegistry(call) = xt.function else {
			panic!("not a heartbeat")
		};
		let Call::heartbeat {
			heartbeat,
			signature,
		} = &call
		else {
			panic!("not a heartbeat")
		};
		assert_eq!(heartbeat, &Heartbeat { node: 1, period: 1 });
		assert!(k.verify(&heartbeat_payload(heartbeat), signature));
		assert_ok!(authorize(&call));
		assert_ok!(dispatch_authorized(call));

		// Landed: later workers in the period stay quiet, even after the resend delay.
		run_to(PERIOD + 8);
		NodeRegistry::offchain_worker(PERIOD + 8);
		assert!(take_txs().is_empty());
		// Next period: a new heartbeat.
		run_to(2 * PERIOD);
		NodeRegistry::offchain_worker(2 * PERIOD);
		assert_eq!(take_txs().len(), 1);
	});
}

#[test]
fn offchain_worker_resends_when_heartbeat_did_not_land() {
	let (mut ext, take_txs) = offchain_test_ext();
	ext.execute_with(|| {
		register(1, MIN_BOND);
		run_to(PERIOD);
		NodeRegistry::offchain_worker(PERIOD);
		NodeRegistry::offchain_worker(PERIOD + 4);
		assert_eq!(take_txs().len(), 1);
		NodeRegistry::offchain_worker(PERIOD + 5);
		assert_eq!(take_txs().len(), 1);
	});
}

#[test]
fn offchain_worker_ignores_keys_of_unregistered_nodes() {
	let (mut ext, take_txs) = offchain_test_ext();
	ext.execute_with(|| {
		key(7);
		run_to(PERIOD);
		NodeRegistry::offchain_worker(PERIOD);
		assert!(take_txs().is_empty());
	});
}

#[test]
fn heartbeat_dispatch_rechecks_what_authorization_checked() {
	new_test_ext().execute_with(|| {
		let k = register(1, MIN_BOND);
		run_to(PERIOD);
		// Authorized in period 0, included in period 1.
		assert_noop!(
			dispatch_authorized(signed_heartbeat(1, &k, 0)),
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

#[test]
fn slash_bond_burns_from_hold_and_keeps_invariants() {
	new_test_ext().execute_with(|| {
		register(1, 3 * MIN_BOND);
		assert_eq!(TotalVotingUnits::<Test>::get(), 3);
		let issuance = Balances::total_issuance();
		let burnt = NodeRegistry::slash_bond(&1, sp_runtime::Perbill::from_percent(50));
		assert_eq!(burnt, 1_500);
		assert_eq!(held(1), 1_500);
		assert_eq!(Nodes::<Test>::get(1).unwrap().bond, 1_500);
		assert_eq!(Balances::total_issuance(), issuance - 1_500);
		assert_eq!(TotalVotingUnits::<Test>::get(), 1);
		check();
		// Unknown nodes and zero fractions burn nothing.
		assert_eq!(
			NodeRegistry::slash_bond(&2, sp_runtime::Perbill::from_percent(50)),
			0
		);
		assert_eq!(NodeRegistry::slash_bond(&1, sp_runtime::Perbill::zero()), 0);
		// An unbonding node's bond shrinks; the voting total is untouched.
		assert_ok!(NodeRegistry::unregister(RuntimeOrigin::signed(1)));
		assert_eq!(TotalVotingUnits::<Test>::get(), 0);
		assert_eq!(
			NodeRegistry::slash_bond(&1, sp_runtime::Perbill::from_percent(10)),
			150
		);
		assert_eq!(held(1), 1_350);
		assert_eq!(TotalVotingUnits::<Test>::get(), 0);
		check();
	});
}

/// Storage of `new_test_ext` plus the given genesis nodes.
fn genesis_ext(nodes: Vec<GenesisNode<u64, Balance, InferenceKey>>) -> sp_io::TestExternalities {
	use sp_runtime::BuildStorage;
	let mut storage = genesis_storage();
	GenesisConfig::<Test> { nodes }
		.assimilate_storage(&mut storage)
		.unwrap();
	ext_from(storage)
}

fn genesis_node(
	account: u64,
	models: Vec<ModelId>,
	bond: Balance,
) -> GenesisNode<u64, Balance, InferenceKey> {
	use sp_core::Pair;
	let pair = sp_core::ed25519::Pair::from_string(&format!("//genesis{account}"), None).unwrap();
	GenesisNode {
		account,
		capabilities: caps(),
		served_models: models,
		endpoints: vec!["/ip4/127.0.0.1/tcp/30333".into()],
		inference_key: pair.public().into(),
		bond,
	}
}

#[test]
fn genesis_nodes_are_registered_like_register() {
	let nodes = vec![
		genesis_node(1, vec![0], 1_000),
		genesis_node(2, vec![0, 1], 5_000),
	];
	let mut ext = genesis_ext(nodes.clone());
	ext.execute_with(|| {
		assert_eq!(Nodes::<Test>::count(), 2);
		for node in &nodes {
			let record = Nodes::<Test>::get(node.account).expect("registered at genesis");
			assert_eq!(record.status, NodeStatus::Active);
			assert_eq!(record.registered_at, 0);
			assert_eq!(record.bond, node.bond);
			assert_eq!(held(node.account), node.bond);
			assert_eq!(
				NodeByKey::<Test>::get(&node.inference_key),
				Some(node.account)
			);
		}
		assert_eq!(ModelServers::<Test>::get(0), 2);
		assert_eq!(ModelServers::<Test>::get(1), 1);
		assert_eq!(
			TotalVotingUnits::<Test>::get(),
			NodeRegistry::voting_units(&1).unwrap() + NodeRegistry::voting_units(&2).unwrap()
		);
		check();
	});
}

#[test]
#[should_panic(expected = "bad genesis node")]
fn genesis_rejects_an_unknown_model() {
	genesis_ext(vec![genesis_node(1, vec![7], 1_000)]);
}

#[test]
#[should_panic(expected = "bad genesis node")]
fn genesis_rejects_a_bond_the_account_cannot_pay() {
	genesis_ext(vec![genesis_node(1, vec![0], 1_000_000)]);
}

#[test]
fn genesis_config_round_trips_through_json() {
	let config = GenesisConfig::<Test> {
		nodes: vec![genesis_node(1, vec![0], 1_000)],
	};
	let json = serde_json::to_string(&config).unwrap();
	assert!(json.contains("\"servedModels\":[0]"), "{json}");
	let back: GenesisConfig<Test> = serde_json::from_str(&json).unwrap();
	assert_eq!(back.nodes, config.nodes);
}
