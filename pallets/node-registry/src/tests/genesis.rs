//! Nodes registered from the chain spec.

use super::*;

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
			assert!(record.ready_models.is_empty());
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
	assert!(json.contains("\"class\":{"), "{json}");
	let back: GenesisConfig<Test> = serde_json::from_str(&json).unwrap();
	assert_eq!(back.nodes, config.nodes);
}
