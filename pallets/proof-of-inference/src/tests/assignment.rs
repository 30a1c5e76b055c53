//! Assignment: who is eligible, how the draw is weighted, where randomness comes from.

use super::*;
use frame_support::assert_noop;

#[test]
fn assignment_skips_ineligible_nodes() {
	new_test_ext().execute_with(|| {
		register_nodes(3);
		// Serves another model.
		register_serving(4, vec![1]);
		// Offline.
		register_serving(5, vec![0]);
		Nodes::<Test>::mutate(5, |r| {
			r.as_mut().unwrap().status = pallet_node_registry::NodeStatus::Offline
		});
		// Leaving.
		register_serving(6, vec![0]);
		assert_ok!(NodeRegistry::unregister(RuntimeOrigin::signed(6)));
		// L-4: registered and serving, but its engine never reported the model ready.
		let proof = pair(7)
			.sign(&pallet_node_registry::key_ownership_payload(
				&genesis(),
				&7u64,
			))
			.into();
		assert_ok!(NodeRegistry::register(
			RuntimeOrigin::signed(7),
			caps(),
			vec![0],
			vec![b"/ip4/127.0.0.1/tcp/30333".to_vec()],
			key(7),
			proof,
			MIN_BOND
		));
		// M-2: another engine build.
		register_serving(8, vec![0]);
		let mut other = caps();
		other.class.cpu_target = b"x86-64-v4".to_vec().try_into().unwrap();
		assert_ok!(NodeRegistry::update_capabilities(
			RuntimeOrigin::signed(8),
			other
		));
		let id = submit(3);
		let mut nodes = assignees(id);
		nodes.sort();
		assert_eq!(nodes, vec![1, 2, 3]);
		assert_noop!(
			ProofOfInference::submit_job(
				RuntimeOrigin::signed(CLIENT),
				0,
				text(PROMPT),
				MAX,
				4,
				SamplingRequest::Greedy
			),
			Error::<Test>::NotEnoughNodes
		);
		check();
	});
}

/// H-6: a job's owner is never assigned to it, so an operator cannot pay itself for work it
/// never did.
#[test]
fn owner_is_never_assigned_to_its_own_job() {
	new_test_ext().execute_with(|| {
		register_nodes(3);
		for _ in 0..3 {
			let id = NextJobId::<Test>::get();
			assert_ok!(ProofOfInference::submit_job(
				RuntimeOrigin::signed(1),
				0,
				text(PROMPT),
				MAX,
				2,
				SamplingRequest::Greedy
			));
			assert!(!assignees(id).contains(&1));
		}
		// With R = 3 only two nodes are not the owner.
		assert_noop!(
			ProofOfInference::submit_job(
				RuntimeOrigin::signed(1),
				0,
				text(PROMPT),
				MAX,
				3,
				SamplingRequest::Greedy
			),
			Error::<Test>::NotEnoughNodes
		);
		check();
	});
}

#[test]
fn assignment_is_deterministic_for_its_randomness() {
	let draw = |parent: [u8; 32]| {
		let mut ext = new_test_ext();
		ext.execute_with(|| {
			register_nodes(8);
			System::set_parent_hash(parent.into());
			let seed = ProofOfInference::assignment_seed(0);
			let id = submit(3);
			(seed, assignees(id))
		})
	};
	let a = draw([1; 32]);
	assert_eq!(a, draw([1; 32]));
	// Other randomness gives other draws (fixed inputs, so this is not flaky).
	let others: Vec<_> = (2u8..8).map(|i| draw([i; 32])).collect();
	assert!(others.iter().all(|o| o.0 != a.0));
	assert!(others.iter().any(|o| o.1 != a.1));
}

#[test]
fn assignment_is_weighted_by_reputation() {
	let mut picked_bad = 0;
	for i in 0..30u8 {
		new_test_ext().execute_with(|| {
			register_nodes(4);
			for n in 2..=4 {
				<Reputation as pallet_reputation::ReputationSink<u64>>::record(
					&n,
					pallet_reputation::Outcome::Success,
					100,
				);
			}
			System::set_parent_hash([i; 32].into());
			if assignees(submit(1)).contains(&1) {
				picked_bad += 1;
			}
		});
	}
	// Node 1 has no verified work: weight 10% against three nodes at 100 / 116 each.
	assert!(
		picked_bad <= 6,
		"a node without evidence was picked {picked_bad} times in 30"
	);
}

/// H-6: a new node's assignment weight starts at `newcomer_weight` and grows with verified
/// work, so fresh Sybils are drawn rarely against nodes with a record.
#[test]
fn newcomers_start_low_and_grow_with_verified_work() {
	new_test_ext().execute_with(|| {
		register_nodes(3);
		let weight_of = |who: u64| score(who).max(Params::<Test>::get().newcomer_weight);
		assert_eq!(weight_of(1), sp_runtime::Perbill::from_percent(10));
		// Three verified jobs of 8 units each: 24 / (24 + 16).
		for _ in 0..3 {
			let id = submit(3);
			all_agree(id, hash(1));
		}
		for n in 1..=3 {
			assert_eq!(score(n), sp_runtime::Perbill::from_percent(60));
			assert!(weight_of(n) > sp_runtime::Perbill::from_percent(10));
		}
		check();
	});
}
