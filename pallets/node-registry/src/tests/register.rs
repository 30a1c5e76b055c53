//! Registration and declarations.

use super::*;
use frame_support::assert_noop;

#[test]
fn register_holds_bond_and_records_node() {
	new_test_ext().execute_with(|| {
		let k = register(1, 2_500);
		assert_eq!(held(1), 2_500);
		let record = Nodes::<Test>::get(1).unwrap();
		assert_eq!(record.bond, 2_500);
		assert_eq!(record.capabilities, caps());
		assert_eq!(record.served_models.to_vec(), vec![0]);
		assert!(record.ready_models.is_empty());
		assert_eq!(record.endpoints[0].to_vec(), endpoint()[0]);
		assert_eq!(record.inference_key, k);
		assert_eq!(record.status, NodeStatus::Active);
		assert_eq!(record.last_alive, 0);
		assert_eq!(NodeByKey::<Test>::get(&k), Some(1));
		assert_eq!(ModelServers::<Test>::get(0), 1);
		// 2 500 / 1 000 = 2 voting units.
		assert_eq!(NodeRegistry::voting_units(&1), Some(2));
		assert_eq!(NodeRegistry::voter(&1), Some((2, 1)));
		assert_eq!(TotalVotingUnits::<Test>::get(), 2);
		assert_eq!(reports(), vec![(1, "returned")]);
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
		assert_noop!(
			register_with(1, vec![0], key(9), MIN_BOND),
			Error::<Test>::AlreadyRegistered
		);
		assert_noop!(
			register_with(2, vec![0], key(2), MIN_BOND - 1),
			Error::<Test>::BondTooLow
		);
		assert_noop!(
			register_with(2, vec![0], k1, MIN_BOND),
			Error::<Test>::InferenceKeyInUse
		);
		assert_noop!(
			register_with(2, vec![7], key(2), MIN_BOND),
			Error::<Test>::UnknownModel
		);
		assert_noop!(
			register_with(2, vec![0, 0], key(2), MIN_BOND),
			Error::<Test>::DuplicateServedModel
		);
		assert_noop!(
			register_with(2, (0..17).collect(), key(2), MIN_BOND),
			Error::<Test>::TooManyServedModels
		);
		assert_noop!(
			register_with(2, vec![0], key(2), 1_000_000),
			Error::<Test>::InsufficientBalance
		);
		let reg_endpoints = |endpoints: Vec<Vec<u8>>| {
			let k = key(2);
			let p = proof(&k, 2);
			NodeRegistry::register(
				RuntimeOrigin::signed(2),
				caps(),
				vec![0],
				endpoints,
				k,
				p,
				MIN_BOND,
			)
		};
		assert_noop!(
			reg_endpoints(vec![b"/ip4/1".to_vec(); 5]),
			Error::<Test>::TooManyEndpoints
		);
		let long = [b"/dns/".to_vec(), vec![b'a'; 200]].concat();
		assert_noop!(reg_endpoints(vec![long]), Error::<Test>::EndpointTooLong);
		for bad in [
			b"ip4/1.2.3.4".to_vec(),
			b"/".to_vec(),
			b"/ip4/1.2.3.4 /tcp/1".to_vec(),
		] {
			assert_noop!(reg_endpoints(vec![bad]), Error::<Test>::InvalidEndpoint);
		}
		let reg_caps = |c: Capabilities| {
			let k = key(2);
			let p = proof(&k, 2);
			NodeRegistry::register(
				RuntimeOrigin::signed(2),
				c,
				vec![0],
				endpoint(),
				k,
				p,
				MIN_BOND,
			)
		};
		let mut no_cores = caps();
		no_cores.cpu_cores = 0;
		assert_noop!(reg_caps(no_cores), Error::<Test>::InvalidCapabilities);
		let mut twice = caps();
		twice.accelerators = vec![Accelerator::Cpu, Accelerator::Cpu].try_into().unwrap();
		assert_noop!(reg_caps(twice), Error::<Test>::InvalidCapabilities);
		let mut no_class = caps();
		no_class.class.engine_version = Default::default();
		assert_noop!(reg_caps(no_class), Error::<Test>::InvalidCapabilities);
		check();
	});
}

#[test]
fn deprecated_model_cannot_be_served() {
	new_test_ext().execute_with(|| {
		assert_ok!(ModelRegistry::deprecate_model(RuntimeOrigin::root(), 1));
		assert_noop!(
			register_with(1, vec![1], key(1), MIN_BOND),
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
			register_with(4, vec![0], key(4), MIN_BOND),
			Error::<Test>::TooManyNodes
		);
	});
}

#[test]
fn updates_replace_declarations() {
	new_test_ext().execute_with(|| {
		let k = register(1, MIN_BOND);
		land(signed_heartbeat_ready(1, &k, 0, vec![0]));
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
		// Same class: readiness kept.
		assert_eq!(
			Nodes::<Test>::get(1).unwrap().ready_models.to_vec(),
			vec![0]
		);

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
		// Model 0 is no longer served, so no longer ready.
		assert!(Nodes::<Test>::get(1).unwrap().ready_models.is_empty());

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

/// M-2: a node that switches to another engine build is not ready for anything until its
/// engine says so again.
#[test]
fn a_new_engine_class_clears_readiness() {
	new_test_ext().execute_with(|| {
		let k = register(1, MIN_BOND);
		land(signed_heartbeat_ready(1, &k, 0, vec![0]));
		assert_eq!(candidates(0), vec![1]);
		let mut upgraded = caps();
		upgraded.class.engine_version = b"llama-cpp-2 0.2.0".to_vec().try_into().unwrap();
		assert_ok!(NodeRegistry::update_capabilities(
			RuntimeOrigin::signed(1),
			upgraded
		));
		assert!(Nodes::<Test>::get(1).unwrap().ready_models.is_empty());
		assert!(candidates(0).is_empty());
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

/// M-2 and L-4: the one eligibility rule: active, serving, ready, of the model's class.
#[test]
fn candidates_are_active_ready_nodes_of_the_class() {
	new_test_ext().execute_with(|| {
		let k1 = register(1, MIN_BOND);
		let k2 = register(2, MIN_BOND);
		let k3 = register(3, MIN_BOND);
		// Registered, but no engine reported ready yet: nobody takes jobs.
		assert!(candidates(0).is_empty());
		land(signed_heartbeat_ready(1, &k1, 0, vec![0]));
		land(signed_heartbeat_ready(2, &k2, 0, vec![0]));
		assert_eq!(candidates(0), vec![1, 2]);
		// Node 3's engine is not ready (e.g. `--no-inference`): its heartbeat says so.
		run_to(PERIOD);
		land(signed_heartbeat_ready(3, &k3, 1, vec![]));
		assert_eq!(candidates(0), vec![1, 2]);
		assert!(candidates(1).is_empty());
		// Another class sees nobody.
		let mut other = class();
		other.cpu_target = b"aarch64".to_vec().try_into().unwrap();
		assert!(<NodeRegistry as NodeInspect<u64>>::candidates(0, &other).is_empty());
		// Offline and leaving nodes drop out.
		land(signed_heartbeat_ready(1, &k1, 1, vec![0]));
		run_to(2 * PERIOD);
		assert_eq!(candidates(0), vec![1]);
		assert_ok!(NodeRegistry::unregister(RuntimeOrigin::signed(1)));
		assert!(candidates(0).is_empty());
		check();
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
