//! Unit tests of the proof-of-inference pallet.

use crate::{mock::*, *};
use codec::{Decode, Encode};
use frame_support::{
	assert_noop, assert_ok,
	pallet_prelude::{InvalidTransaction, TransactionSource, TransactionValidityError},
	traits::{fungible::InspectHold, Authorize, Get, Hooks},
	weights::Weight,
};
use inference_primitives::{
	commitment, result_hash, InferenceExt, InferenceHost, JobOutput, JobRequest, JobStatus,
};
use pallet_node_registry::{Accelerator, Capabilities, NodeStatus, Nodes};
use sp_core::{
	ed25519,
	offchain::{testing, OffchainDbExt, OffchainWorkerExt, TransactionPoolExt},
	Pair,
};
use sp_runtime::{offchain::storage::StorageValueRef, DispatchError, RuntimeAppPublic};
use std::{
	collections::HashMap,
	sync::{Arc, Mutex},
};

// ---------------------------------------------------------------------------------------------
// Helpers

fn pair(node: u64) -> ed25519::Pair {
	ed25519::Pair::from_string(&format!("//node{node}"), None).unwrap()
}

fn key(node: u64) -> InferenceKey {
	pair(node).public().into()
}

/// Puts `node`'s inference key in the local keystore (the off-chain worker acts for it).
fn make_local(node: u64) {
	let k = InferenceKey::generate_pair(Some(format!("//node{node}").into_bytes()));
	assert_eq!(k, key(node));
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

fn register_serving(who: u64, models: Vec<u32>) {
	assert_ok!(NodeRegistry::register(
		RuntimeOrigin::signed(who),
		caps(),
		models,
		vec![b"/ip4/127.0.0.1/tcp/30333".to_vec()],
		key(who),
		MIN_BOND
	));
}

/// Registers nodes `1..=n` serving model 0.
fn register_nodes(n: u64) {
	for who in 1..=n {
		register_serving(who, vec![0]);
	}
}

const PROMPT: &[u8] = b"Hello, world";
const MAX: u32 = 8;

fn fee(max_tokens: u32) -> Balance {
	BASE_FEE + PRICE * max_tokens as Balance
}

/// Submits a job for model 0 from `CLIENT`; returns its id.
fn submit(r: u8) -> JobId {
	submit_with(MAX, r)
}

fn submit_with(max_tokens: u32, r: u8) -> JobId {
	let id = NextJobId::<Test>::get();
	assert_ok!(ProofOfInference::submit_job(
		RuntimeOrigin::signed(CLIENT),
		0,
		PROMPT.to_vec(),
		max_tokens,
		r
	));
	id
}

fn job(id: JobId) -> Job<Test> {
	Jobs::<Test>::get(id).expect("job exists")
}

fn assignees(id: JobId) -> Vec<u64> {
	job(id).assignees.iter().map(|a| a.node).collect()
}

fn held_fee(who: u64) -> Balance {
	Balances::balance_on_hold(&HoldReason::JobFee.into(), &who)
}

fn bond(who: u64) -> Balance {
	Nodes::<Test>::get(who).unwrap().bond
}

fn hash(n: u8) -> Hash256 {
	[n; 32]
}

fn salt(node: u64) -> Hash256 {
	[node as u8 + 100; 32]
}

fn commit_call_with(id: JobId, node: u64, c: Hash256, signer: u64) -> Call<Test> {
	let commit = CommitPayload {
		job_id: id,
		node,
		commitment: c,
	};
	let signature = pair(signer).sign(&commit_payload(&commit)).into();
	Call::commit { commit, signature }
}

fn commit_call(id: JobId, node: u64, h: Hash256) -> Call<Test> {
	commit_call_with(id, node, commitment(&h, &salt(node), &node), node)
}

fn reveal_call_with(id: JobId, node: u64, h: Hash256, s: Hash256, signer: u64) -> Call<Test> {
	let reveal = RevealPayload {
		job_id: id,
		node,
		result_hash: h,
		salt: s,
	};
	let signature = pair(signer).sign(&reveal_payload(&reveal)).into();
	Call::reveal { reveal, signature }
}

fn reveal_call(id: JobId, node: u64, h: Hash256) -> Call<Test> {
	reveal_call_with(id, node, h, salt(node), node)
}

fn authorize(call: &Call<Test>) -> Result<(), TransactionValidityError> {
	RuntimeCall::from(call.clone())
		.authorize(TransactionSource::External)
		.expect("an authorized call")
		.map(|_| ())
}

fn dispatch_authorized(call: Call<Test>) -> sp_runtime::DispatchResult {
	use frame_support::traits::UnfilteredDispatchable;
	call.dispatch_bypass_filter(frame_system::RawOrigin::Authorized.into())
		.map(|_| ())
		.map_err(|e| e.error)
}

/// Authorizes and dispatches, as block production would.
fn submit_authorized(call: Call<Test>) {
	assert_ok!(authorize(&call));
	assert_ok!(dispatch_authorized(call));
}

fn commit_as(id: JobId, node: u64, h: Hash256) {
	submit_authorized(commit_call(id, node, h));
}

fn reveal_as(id: JobId, node: u64, h: Hash256) {
	submit_authorized(reveal_call(id, node, h));
}

fn check() {
	ProofOfInference::do_try_state().expect("proof-of-inference invariants");
	// The node registry's own `do_try_state` only exists in its tests: check what slashing
	// touches (held bond equals the record, voting total).
	let mut units = 0;
	for (who, record) in Nodes::<Test>::iter() {
		assert_eq!(
			Balances::balance_on_hold(&pallet_node_registry::HoldReason::NodeBond.into(), &who),
			record.bond
		);
		units += NodeRegistry::voting_units(&who).unwrap_or(0);
	}
	assert_eq!(pallet_node_registry::TotalVotingUnits::<Test>::get(), units);
}

/// Runs `on_initialize` and `on_idle` for every block up to `n`.
fn run_to(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		ProofOfInference::on_initialize(next);
		ProofOfInference::on_idle(next, Weight::MAX);
	}
}

fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| match r.event {
			RuntimeEvent::ProofOfInference(e) => Some(e),
			_ => None,
		})
		.collect()
}

fn successes(who: u64) -> u32 {
	pallet_reputation::Pallet::<Test>::current_record(&who).map_or(0, |r| r.successes)
}

fn failures(who: u64) -> u32 {
	pallet_reputation::Pallet::<Test>::current_record(&who).map_or(0, |r| r.failures)
}

// ---------------------------------------------------------------------------------------------
// Submission

#[test]
fn submit_holds_fee_and_assigns_distinct_nodes() {
	new_test_ext().execute_with(|| {
		register_nodes(5);
		let free = Balances::free_balance(CLIENT);
		let id = submit(3);
		assert_eq!(id, 0);
		assert_eq!(NextJobId::<Test>::get(), 1);
		assert_eq!(held_fee(CLIENT), fee(MAX));
		assert_eq!(Balances::free_balance(CLIENT), free - fee(MAX));

		let j = job(id);
		let nodes = assignees(id);
		assert_eq!(nodes.len(), 3);
		for (i, n) in nodes.iter().enumerate() {
			assert!((1..=5).contains(n));
			assert!(!nodes[..i].contains(n), "assignees repeat");
			assert_eq!(ProofOfInference::pending_jobs(n), vec![id]);
		}
		let model = pallet_model_registry::testing::sample_model(0);
		assert_eq!(j.owner, CLIENT);
		assert_eq!(j.model_sha256, model.sha256);
		assert_eq!(j.profile.n_ctx, model.profile.n_ctx);
		assert_eq!(j.profile.n_batch, model.profile.n_batch);
		assert_eq!(j.prompt.to_vec(), PROMPT.to_vec());
		assert_eq!(j.commit_deadline, 1 + COMMIT_PERIOD);
		assert_eq!(j.reveal_deadline, 1 + COMMIT_PERIOD + REVEAL_PERIOD);
		assert_eq!(j.status, JobState::Pending);
		assert_eq!(Deadlines::<Test>::get(j.reveal_deadline).to_vec(), vec![id]);
		assert_eq!(
			events().last(),
			Some(&Event::JobSubmitted {
				job_id: id,
				owner: CLIENT,
				model: 0,
				assignees: nodes,
				fee: fee(MAX),
			})
		);
		check();
	});
}

#[test]
fn submit_rejects_bad_input_without_state_change() {
	new_test_ext().execute_with(|| {
		register_nodes(3);
		let call = |model: u32, prompt: Vec<u8>, max: u32, r: u8| {
			ProofOfInference::submit_job(RuntimeOrigin::signed(CLIENT), model, prompt, max, r)
		};
		assert_noop!(
			call(99, PROMPT.to_vec(), MAX, 3),
			Error::<Test>::UnknownModel
		);
		assert_ok!(ModelRegistry::deprecate_model(RuntimeOrigin::root(), 1));
		assert_noop!(
			call(1, PROMPT.to_vec(), MAX, 3),
			Error::<Test>::ModelNotActive
		);
		assert_noop!(call(0, vec![], MAX, 3), Error::<Test>::EmptyPrompt);
		assert_noop!(
			call(0, vec![b'a'; MAX_PROMPT as usize + 1], MAX, 3),
			Error::<Test>::PromptTooLong
		);
		assert_noop!(
			call(0, vec![0xff, 0xfe, b'a'], MAX, 3),
			Error::<Test>::InvalidPrompt
		);
		assert_noop!(
			call(0, PROMPT.to_vec(), 0, 3),
			Error::<Test>::InvalidMaxTokens
		);
		assert_noop!(
			call(0, PROMPT.to_vec(), MAX_TOKENS + 1, 3),
			Error::<Test>::InvalidMaxTokens
		);
		assert_noop!(
			call(0, PROMPT.to_vec(), MAX, 0),
			Error::<Test>::InvalidReplication
		);
		assert_noop!(
			call(0, PROMPT.to_vec(), MAX, MAX_R as u8 + 1),
			Error::<Test>::InvalidReplication
		);
		// Model 2's context cannot hold MAX_PROMPT + 1 + max_tokens.
		assert_noop!(
			call(2, PROMPT.to_vec(), 1, 1),
			Error::<Test>::ContextOverflow
		);
		assert_noop!(
			call(0, PROMPT.to_vec(), MAX, 4),
			Error::<Test>::NotEnoughNodes
		);
		assert_noop!(
			ProofOfInference::submit_job(RuntimeOrigin::signed(POOR), 0, PROMPT.to_vec(), MAX, 3),
			Error::<Test>::InsufficientBalance
		);
		assert_noop!(
			ProofOfInference::submit_job(RuntimeOrigin::none(), 0, PROMPT.to_vec(), MAX, 3),
			DispatchError::BadOrigin
		);
		// The limits themselves are accepted.
		assert_ok!(call(0, vec![b'a'; MAX_PROMPT as usize], MAX_TOKENS, 3));
		check();
	});
}

#[test]
fn assignment_skips_offline_unbonding_and_non_serving_nodes() {
	new_test_ext().execute_with(|| {
		register_nodes(3);
		register_serving(4, vec![1]);
		register_serving(5, vec![0]);
		register_serving(6, vec![0]);
		Nodes::<Test>::mutate(5, |r| r.as_mut().unwrap().status = NodeStatus::Offline);
		assert_ok!(NodeRegistry::unregister(RuntimeOrigin::signed(6)));
		let id = submit(3);
		let mut nodes = assignees(id);
		nodes.sort();
		assert_eq!(nodes, vec![1, 2, 3]);
		assert_noop!(
			ProofOfInference::submit_job(RuntimeOrigin::signed(CLIENT), 0, PROMPT.to_vec(), MAX, 4),
			Error::<Test>::NotEnoughNodes
		);
		check();
	});
}

#[test]
fn assignment_is_deterministic_for_a_parent_hash() {
	let draw = |parent: [u8; 32]| {
		let mut ext = new_test_ext();
		ext.execute_with(|| {
			register_nodes(8);
			System::set_parent_hash(parent.into());
			let id = submit(3);
			assignees(id)
		})
	};
	let a = draw([1; 32]);
	assert_eq!(a, draw([1; 32]));
	// Other parent hashes give other draws (fixed inputs, so this is not flaky).
	let others: Vec<_> = (2u8..8).map(|i| draw([i; 32])).collect();
	assert!(others.iter().any(|o| o != &a));
}

#[test]
fn assignment_is_weighted_by_reputation() {
	let mut picked_bad = 0;
	for i in 0..30u8 {
		new_test_ext().execute_with(|| {
			register_nodes(4);
			for _ in 0..50 {
				<Reputation as pallet_reputation::ReputationSink<u64>>::record_failure(&1, 100);
			}
			System::set_parent_hash([i; 32].into());
			if assignees(submit(1)).contains(&1) {
				picked_bad += 1;
			}
		});
	}
	// Node 1's score is close to zero; the others have the prior 1/2.
	assert!(
		picked_bad <= 1,
		"low-reputation node picked {picked_bad} times"
	);
}

#[test]
fn full_nodes_and_full_deadline_blocks_are_refused() {
	new_test_ext().execute_with(|| {
		register_nodes(3);
		// MaxPendingPerNode = 4: after four jobs every node is full.
		for _ in 0..4 {
			submit(3);
		}
		assert_noop!(
			ProofOfInference::submit_job(RuntimeOrigin::signed(CLIENT), 0, PROMPT.to_vec(), MAX, 1),
			Error::<Test>::NotEnoughNodes
		);
		check();
	});
	new_test_ext().execute_with(|| {
		register_nodes(6);
		// MaxJobsPerBlock = 4 jobs share a reveal deadline.
		for _ in 0..4 {
			submit(1);
		}
		assert_noop!(
			ProofOfInference::submit_job(RuntimeOrigin::signed(CLIENT), 0, PROMPT.to_vec(), MAX, 1),
			Error::<Test>::TooManyJobs
		);
		// The next block has its own bucket.
		run_to(2);
		submit(1);
		check();
	});
}

// ---------------------------------------------------------------------------------------------
// Commit, reveal, settlement

#[test]
fn unanimous_result_completes_and_pays_everyone() {
	new_test_ext().execute_with(|| {
		register_nodes(3);
		// fee 170 = 56 × 3 + 2: the remainder goes to the first assignee.
		let id = submit_with(7, 3);
		let nodes = assignees(id);
		let before: Vec<_> = nodes.iter().map(Balances::free_balance).collect();
		for n in &nodes {
			commit_as(id, *n, hash(1));
		}
		for n in &nodes[..2] {
			reveal_as(id, *n, hash(1));
		}
		assert_eq!(job(id).status, JobState::Pending);
		reveal_as(id, nodes[2], hash(1));
		let j = job(id);
		assert_eq!(
			j.status,
			JobState::Completed {
				result_hash: hash(1)
			}
		);
		assert_eq!(j.settled_at, Some(1));
		assert_eq!(held_fee(CLIENT), 0);
		let paid = [58, 56, 56];
		for (i, n) in nodes.iter().enumerate() {
			assert_eq!(Balances::free_balance(n), before[i] + paid[i]);
			assert_eq!(successes(*n), 1);
			assert_eq!(failures(*n), 0);
			assert!(ProofOfInference::pending_jobs(n).is_empty());
		}
		assert!(
			<Reputation as pallet_reputation::ReputationInspect<u64>>::score(&nodes[0])
				> sp_runtime::Perbill::from_percent(50)
		);
		assert!(Deadlines::<Test>::get(j.reveal_deadline).is_empty());
		assert!(events().contains(&Event::JobCompleted {
			job_id: id,
			result_hash: hash(1),
			paid: nodes.iter().copied().zip(paid).collect(),
		}));
		// Nothing is left for the deadline.
		run_to(j.reveal_deadline + 1);
		assert_eq!(job(id).settled_at, Some(1));
		check();
	});
}

#[test]
fn dissenter_is_slashed_and_loses_reputation() {
	new_test_ext().execute_with(|| {
		register_nodes(3);
		let id = submit(3);
		let nodes = assignees(id);
		let (good, bad) = (&nodes[..2], nodes[2]);
		let issuance = Balances::total_issuance();
		for n in good {
			commit_as(id, *n, hash(1));
		}
		commit_as(id, bad, hash(2));
		for n in good {
			reveal_as(id, *n, hash(1));
		}
		reveal_as(id, bad, hash(2));
		assert_eq!(
			job(id).status,
			JobState::Completed {
				result_hash: hash(1)
			}
		);
		// 10% of the 1 000 bond is burnt.
		assert_eq!(bond(bad), 900);
		assert_eq!(Balances::total_issuance(), issuance - 100);
		assert!(events().contains(&Event::NodeSlashed {
			job_id: id,
			node: bad,
			amount: 100
		}));
		assert_eq!(failures(bad), 1);
		assert_eq!(successes(bad), 0);
		for n in good {
			assert_eq!(bond(*n), MIN_BOND);
			assert_eq!(successes(*n), 1);
		}
		// The fee (180) is split between the two majority nodes.
		assert!(events().contains(&Event::JobCompleted {
			job_id: id,
			result_hash: hash(1),
			paid: vec![(good[0], 90), (good[1], 90)],
		}));
		check();
	});
}

#[test]
fn no_majority_refunds_and_slashes_nobody() {
	new_test_ext().execute_with(|| {
		register_nodes(3);
		let free = Balances::free_balance(CLIENT);
		let id = submit(3);
		let nodes = assignees(id);
		for (i, n) in nodes.iter().enumerate() {
			commit_as(id, *n, hash(i as u8));
		}
		for (i, n) in nodes.iter().enumerate() {
			reveal_as(id, *n, hash(i as u8));
		}
		assert_eq!(job(id).status, JobState::Failed(FailureReason::NoMajority));
		assert_eq!(held_fee(CLIENT), 0);
		assert_eq!(Balances::free_balance(CLIENT), free);
		for n in &nodes {
			assert_eq!(bond(*n), MIN_BOND);
			assert_eq!(failures(*n), 0);
			assert_eq!(successes(*n), 0);
		}
		assert!(events().contains(&Event::JobFailed {
			job_id: id,
			reason: FailureReason::NoMajority
		}));
		check();
	});
}

#[test]
fn silent_node_loses_reputation_but_is_not_slashed() {
	new_test_ext().execute_with(|| {
		register_nodes(3);
		let id = submit(3);
		let nodes = assignees(id);
		let silent = nodes[2];
		for n in &nodes[..2] {
			commit_as(id, *n, hash(1));
		}
		// Not everyone committed: the reveal phase waits for the commit deadline.
		assert_noop!(
			dispatch_authorized(reveal_call(id, nodes[0], hash(1))),
			Error::<Test>::CommitPhaseOpen
		);
		assert_eq!(
			authorize(&reveal_call(id, nodes[0], hash(1))),
			Err(InvalidTransaction::Future.into())
		);
		let j = job(id);
		run_to(j.commit_deadline);
		// The silent node can no longer commit.
		assert_eq!(
			authorize(&commit_call(id, silent, hash(1))),
			Err(InvalidTransaction::Stale.into())
		);
		assert_noop!(
			dispatch_authorized(commit_call(id, silent, hash(1))),
			Error::<Test>::CommitPhaseClosed
		);
		for n in &nodes[..2] {
			reveal_as(id, *n, hash(1));
		}
		assert_eq!(job(id).status, JobState::Pending);
		run_to(j.reveal_deadline - 1);
		assert_eq!(job(id).status, JobState::Pending);
		run_to(j.reveal_deadline);
		let j = job(id);
		assert_eq!(
			j.status,
			JobState::Completed {
				result_hash: hash(1)
			}
		);
		assert_eq!(j.settled_at, Some(j.reveal_deadline));
		assert_eq!(failures(silent), 1);
		assert_eq!(bond(silent), MIN_BOND);
		assert!(ProofOfInference::pending_jobs(&silent).is_empty());
		check();
	});
}

#[test]
fn missing_commits_open_the_reveal_phase_at_the_deadline_and_late_reveals_fail() {
	new_test_ext().execute_with(|| {
		register_nodes(3);
		let id = submit(3);
		let nodes = assignees(id);
		commit_as(id, nodes[0], hash(1));
		let j = job(id);
		run_to(j.commit_deadline - 1);
		assert!(!ProofOfInference::commit_phase_over(
			&job(id),
			j.commit_deadline - 1
		));
		run_to(j.commit_deadline);
		assert!(ProofOfInference::commit_phase_over(
			&job(id),
			j.commit_deadline
		));
		// One reveal of three is no majority: at the deadline the fee is refunded.
		reveal_as(id, nodes[0], hash(1));
		run_to(j.reveal_deadline);
		assert_eq!(job(id).status, JobState::Failed(FailureReason::NoMajority));
		assert_eq!(held_fee(CLIENT), 0);
		assert_eq!(failures(nodes[0]), 0);
		assert_eq!(failures(nodes[1]), 1);
		assert_eq!(failures(nodes[2]), 1);
		// Too late now.
		assert_eq!(
			authorize(&reveal_call(id, nodes[1], hash(1))),
			Err(InvalidTransaction::Stale.into())
		);
		assert_noop!(
			dispatch_authorized(reveal_call(id, nodes[1], hash(1))),
			Error::<Test>::JobSettled
		);
		check();
	});
}

#[test]
fn copied_commitment_cannot_be_opened() {
	new_test_ext().execute_with(|| {
		register_nodes(3);
		let id = submit(3);
		let nodes = assignees(id);
		let (a, b, c) = (nodes[0], nodes[1], nodes[2]);
		commit_as(id, a, hash(1));
		// B copies A's commitment from the chain.
		let copied = job(id).assignees[0].commitment.unwrap();
		submit_authorized(commit_call_with(id, b, copied, b));
		commit_as(id, c, hash(1));
		reveal_as(id, a, hash(1));
		// B copies A's reveal too: the commitment binds A's account, so it does not open.
		let copy = reveal_call_with(id, b, hash(1), salt(a), b);
		assert_eq!(
			authorize(&copy),
			Err(InvalidTransaction::Custom(INVALID_REVEAL_MISMATCH).into())
		);
		assert_noop!(dispatch_authorized(copy), Error::<Test>::RevealMismatch);
		reveal_as(id, c, hash(1));
		run_to(job(id).reveal_deadline);
		assert_eq!(
			job(id).status,
			JobState::Completed {
				result_hash: hash(1)
			}
		);
		// B is silent: reputation down, no slash.
		assert_eq!(failures(b), 1);
		assert_eq!(bond(b), MIN_BOND);
		check();
	});
}

#[test]
fn reveal_checks() {
	new_test_ext().execute_with(|| {
		register_nodes(4);
		let id = submit(3);
		let nodes = assignees(id);
		let outsider = (1..=4).find(|n| !nodes.contains(n)).unwrap();
		commit_as(id, nodes[0], hash(1));
		commit_as(id, nodes[1], hash(1));
		// Reveal before the commit phase ends.
		assert_noop!(
			dispatch_authorized(reveal_call(id, nodes[0], hash(1))),
			Error::<Test>::CommitPhaseOpen
		);
		run_to(job(id).commit_deadline);
		// Reveal without a commit.
		let uncommitted = reveal_call(id, nodes[2], hash(1));
		assert_eq!(
			authorize(&uncommitted),
			Err(InvalidTransaction::Custom(INVALID_NO_COMMIT).into())
		);
		assert_noop!(dispatch_authorized(uncommitted), Error::<Test>::NoCommit);
		// Wrong salt, wrong hash.
		let wrong_salt = reveal_call_with(id, nodes[0], hash(1), [0; 32], nodes[0]);
		assert_eq!(
			authorize(&wrong_salt),
			Err(InvalidTransaction::Custom(INVALID_REVEAL_MISMATCH).into())
		);
		assert_noop!(
			dispatch_authorized(wrong_salt),
			Error::<Test>::RevealMismatch
		);
		assert_noop!(
			dispatch_authorized(reveal_call(id, nodes[0], hash(2))),
			Error::<Test>::RevealMismatch
		);
		// Not assigned, unknown job, bad signature.
		assert_eq!(
			authorize(&reveal_call(id, outsider, hash(1))),
			Err(InvalidTransaction::Custom(INVALID_NOT_ASSIGNED).into())
		);
		assert_eq!(
			authorize(&reveal_call(id + 1, nodes[0], hash(1))),
			Err(InvalidTransaction::Custom(INVALID_UNKNOWN_JOB).into())
		);
		assert_eq!(
			authorize(&reveal_call_with(
				id,
				nodes[0],
				hash(1),
				salt(nodes[0]),
				outsider
			)),
			Err(InvalidTransaction::BadProof.into())
		);
		// A correct reveal lands once.
		reveal_as(id, nodes[0], hash(1));
		assert_eq!(
			authorize(&reveal_call(id, nodes[0], hash(1))),
			Err(InvalidTransaction::Stale.into())
		);
		assert_noop!(
			dispatch_authorized(reveal_call(id, nodes[0], hash(1))),
			Error::<Test>::AlreadyRevealed
		);
		check();
	});
}

#[test]
fn commit_checks() {
	new_test_ext().execute_with(|| {
		register_nodes(4);
		let id = submit(3);
		let nodes = assignees(id);
		let outsider = (1..=4).find(|n| !nodes.contains(n)).unwrap();
		// A context-separated signature: a reveal signature does not authorise a commit.
		let c = commitment(&hash(1), &salt(nodes[0]), &nodes[0]);
		let payload = CommitPayload {
			job_id: id,
			node: nodes[0],
			commitment: c,
		};
		let wrong_context = pair(nodes[0]).sign(&payload.encode()).into();
		assert_eq!(
			authorize(&Call::commit {
				commit: payload,
				signature: wrong_context
			}),
			Err(InvalidTransaction::BadProof.into())
		);
		assert_eq!(
			authorize(&commit_call_with(id, nodes[0], c, outsider)),
			Err(InvalidTransaction::BadProof.into())
		);
		assert_eq!(
			authorize(&commit_call(id, outsider, hash(1))),
			Err(InvalidTransaction::Custom(INVALID_NOT_ASSIGNED).into())
		);
		assert_eq!(
			authorize(&commit_call(id + 7, nodes[0], hash(1))),
			Err(InvalidTransaction::Custom(INVALID_UNKNOWN_JOB).into())
		);
		// Valid: one tag per (job, node), living until the commit deadline.
		let call = commit_call(id, nodes[0], hash(1));
		let (validity, _) = RuntimeCall::from(call.clone())
			.authorize(TransactionSource::External)
			.unwrap()
			.unwrap();
		assert_eq!(
			validity.provides,
			vec![("PoiCommit", (b"poi-commit", id, nodes[0])).encode()]
		);
		assert_eq!(validity.longevity, COMMIT_PERIOD);
		assert_ok!(dispatch_authorized(call));
		assert!(events().contains(&Event::Committed {
			job_id: id,
			node: nodes[0]
		}));
		// A second commit is rejected by the pool and by the call.
		assert_eq!(
			authorize(&commit_call(id, nodes[0], hash(2))),
			Err(InvalidTransaction::Stale.into())
		);
		assert_noop!(
			dispatch_authorized(commit_call(id, nodes[0], hash(2))),
			Error::<Test>::AlreadyCommitted
		);
		// Other origins cannot call it.
		assert_noop!(
			ProofOfInference::commit(
				RuntimeOrigin::signed(nodes[1]),
				CommitPayload {
					job_id: id,
					node: nodes[1],
					commitment: c
				},
				pair(nodes[1]).sign(b"x").into()
			),
			DispatchError::BadOrigin
		);
		check();
	});
}

#[test]
fn a_node_that_left_is_still_settled() {
	new_test_ext().execute_with(|| {
		register_nodes(3);
		let id = submit(3);
		let nodes = assignees(id);
		for n in &nodes {
			commit_as(id, *n, hash(if *n == nodes[2] { 2 } else { 1 }));
		}
		// The dissenter starts unbonding; it is still slashed from the held bond.
		assert_ok!(NodeRegistry::unregister(RuntimeOrigin::signed(nodes[2])));
		for n in &nodes {
			reveal_as(id, *n, hash(if *n == nodes[2] { 2 } else { 1 }));
		}
		assert_eq!(bond(nodes[2]), 900);
		check();
	});
}

// ---------------------------------------------------------------------------------------------
// Pruning, views, parameters

#[test]
fn settled_jobs_are_pruned_after_retention() {
	new_test_ext().execute_with(|| {
		register_nodes(3);
		let id = submit(3);
		let second = submit(3);
		let deadline = job(id).reveal_deadline;
		run_to(deadline);
		assert_eq!(job(id).settled_at, Some(deadline));
		assert_eq!(
			job(second).status,
			JobState::Failed(FailureReason::NoMajority)
		);
		// No weight, no pruning.
		assert_eq!(
			ProofOfInference::on_idle(deadline + RETENTION, Weight::zero()),
			Weight::zero()
		);
		run_to(deadline + RETENTION - 1);
		assert!(Jobs::<Test>::contains_key(id));
		check();
		// Weight for one job only: the first goes, the second stays.
		let one = <() as WeightInfo>::prune_job()
			+ <<Test as frame_system::Config>::DbWeight as Get<
				frame_support::weights::RuntimeDbWeight,
			>>::get()
			.reads_writes(1, 1);
		System::set_block_number(deadline + RETENTION);
		ProofOfInference::on_idle(deadline + RETENTION, one);
		assert!(!Jobs::<Test>::contains_key(id));
		assert!(Jobs::<Test>::contains_key(second));
		check();
		ProofOfInference::on_idle(deadline + RETENTION, Weight::MAX);
		assert!(!Jobs::<Test>::contains_key(second));
		assert_eq!(PruneQueueRange::<Test>::get(), (2, 2));
		assert!(ProofOfInference::job_view(id).is_none());
		check();
	});
}

#[test]
fn runtime_api_view_shows_everything() {
	new_test_ext().execute_with(|| {
		register_nodes(3);
		let id = submit(3);
		let nodes = assignees(id);
		commit_as(id, nodes[0], hash(1));
		let view = ProofOfInference::job_view(id).unwrap();
		assert_eq!(view.job_id, id);
		assert_eq!(view.owner, CLIENT);
		assert_eq!(view.model, 0);
		assert_eq!(
			view.model_sha256,
			pallet_model_registry::testing::sample_model(0).sha256
		);
		assert_eq!(view.prompt, PROMPT.to_vec());
		assert_eq!(view.max_tokens, MAX);
		assert_eq!(view.replication, 3);
		assert_eq!(view.fee, fee(MAX));
		assert_eq!(view.status, JobState::Pending);
		assert_eq!(view.commit_deadline, 1 + COMMIT_PERIOD);
		assert_eq!(view.reveal_deadline, 1 + COMMIT_PERIOD + REVEAL_PERIOD);
		assert_eq!(view.settled_at, None);
		assert_eq!(view.assignees.len(), 3);
		assert_eq!(view.assignees[0].node, nodes[0]);
		assert_eq!(
			view.assignees[0].commitment,
			Some(commitment(&hash(1), &salt(nodes[0]), &nodes[0]))
		);
		assert_eq!(view.assignees[0].result_hash, None);
		assert_eq!(view.assignees[1].commitment, None);
		assert_eq!(ProofOfInference::pending_jobs(&nodes[1]), vec![id]);
		assert!(ProofOfInference::pending_jobs(&99).is_empty());
		assert!(ProofOfInference::job_view(id + 1).is_none());
	});
}

#[test]
fn set_parameters_needs_the_origin_and_valid_values() {
	new_test_ext().execute_with(|| {
		let mut p = test_parameters();
		p.base_fee = 1;
		assert_noop!(
			ProofOfInference::set_parameters(RuntimeOrigin::signed(1), p.clone()),
			DispatchError::BadOrigin
		);
		for bad in [
			Parameters {
				commit_period: 0,
				..p.clone()
			},
			Parameters {
				reveal_period: 0,
				..p.clone()
			},
			Parameters {
				commit_period: MAX_JOB_LIFETIME as u64,
				..p.clone()
			},
		] {
			assert_noop!(
				ProofOfInference::set_parameters(RuntimeOrigin::root(), bad),
				Error::<Test>::InvalidParameters
			);
		}
		assert_ok!(ProofOfInference::set_parameters(
			RuntimeOrigin::root(),
			p.clone()
		));
		assert_eq!(Params::<Test>::get(), p);
		assert_eq!(
			events().last(),
			Some(&Event::ParametersSet { parameters: p })
		);
		// New jobs use the new fee.
		register_nodes(1);
		submit(1);
		assert_eq!(held_fee(CLIENT), 1 + PRICE * MAX as Balance);
		check();
	});
}

// ---------------------------------------------------------------------------------------------
// Off-chain worker

/// A fake inference engine: a job is queued on its first poll and done from the `ready_at`-th.
struct FakeHost {
	ready_at: u32,
	available: bool,
	polls: Mutex<HashMap<JobId, u32>>,
	released: Mutex<Vec<JobId>>,
}

impl FakeHost {
	fn new(ready_at: u32) -> Arc<Self> {
		Arc::new(Self {
			ready_at,
			available: true,
			polls: Mutex::new(HashMap::new()),
			released: Mutex::new(Vec::new()),
		})
	}
	fn polls(&self, id: JobId) -> u32 {
		self.polls.lock().unwrap().get(&id).copied().unwrap_or(0)
	}
	fn output(request: &JobRequest) -> JobOutput {
		JobOutput {
			prompt_tokens: request.prompt.iter().map(|b| *b as u32).collect(),
			output_tokens: vec![1, 2, 3],
			text: b"abc".to_vec(),
		}
	}
}

impl InferenceHost for FakeHost {
	fn poll_job(&self, request: JobRequest) -> JobStatus {
		if !self.available {
			return JobStatus::Unavailable;
		}
		let mut polls = self.polls.lock().unwrap();
		let n = polls.entry(request.job_id).or_default();
		*n += 1;
		if *n >= self.ready_at {
			JobStatus::Done(Self::output(&request))
		} else {
			JobStatus::Queued
		}
	}
	fn release_job(&self, job_id: JobId) {
		self.released.lock().unwrap().push(job_id);
	}
}

/// Test externalities with an off-chain worker, its database, a transaction pool and `host`
/// (if any), and a function that drains the transactions submitted so far.
fn offchain_test_ext(
	host: Option<Arc<FakeHost>>,
) -> (sp_io::TestExternalities, impl Fn() -> Vec<Call<Test>>) {
	let mut ext = new_test_ext();
	let (offchain, state) = testing::TestOffchainExt::new();
	state.write().seed = [42; 32];
	let (pool, pool_state) = testing::TestTransactionPoolExt::new();
	ext.register_extension(OffchainWorkerExt::new(offchain.clone()));
	ext.register_extension(OffchainDbExt::new(offchain));
	ext.register_extension(TransactionPoolExt::new(pool));
	if let Some(host) = host {
		ext.register_extension(InferenceExt::new(host));
	}
	(ext, move || {
		std::mem::take(&mut pool_state.write().transactions)
			.into_iter()
			.map(|tx| {
				let xt = Extrinsic::decode(&mut &tx[..]).unwrap();
				assert!(matches!(
					xt.preamble,
					sp_runtime::generic::Preamble::General(..)
				));
				match xt.function {
					RuntimeCall::ProofOfInference(call) => call,
					other => panic!("unexpected call {other:?}"),
				}
			})
			.collect()
	})
}

fn local_result(id: JobId, node: u64) -> Option<LocalResult> {
	StorageValueRef::persistent(&result_key(id, &node))
		.get::<LocalResult>()
		.unwrap()
}

fn stored_output(id: JobId) -> Option<StoredOutput> {
	StorageValueRef::persistent(&output_key(id))
		.get::<StoredOutput>()
		.unwrap()
}

/// Registers three nodes, of which `local` has its key in the keystore, and submits a job.
fn ocw_setup(local: u64) -> (JobId, Vec<u64>) {
	register_nodes(3);
	make_local(local);
	let id = submit(3);
	(id, assignees(id))
}

#[test]
fn offchain_worker_runs_commits_and_reveals() {
	let host = FakeHost::new(2);
	let (mut ext, take_txs) = offchain_test_ext(Some(host.clone()));
	ext.execute_with(|| {
		let (id, nodes) = ocw_setup(1);
		// Block 1: the engine queues the job.
		ProofOfInference::offchain_worker(1);
		assert_eq!(host.polls(id), 1);
		assert!(take_txs().is_empty());
		assert!(local_result(id, 1).is_none());

		// Block 2: done → stored, released, committed.
		run_to(2);
		ProofOfInference::offchain_worker(2);
		assert_eq!(host.polls(id), 2);
		assert_eq!(*host.released.lock().unwrap(), vec![id]);
		let model_sha = job(id).model_sha256;
		let expected = result_hash(
			id,
			&model_sha,
			&PROMPT.iter().map(|b| *b as u32).collect::<Vec<_>>(),
			&[1, 2, 3],
		);
		let local = local_result(id, 1).unwrap();
		assert_eq!(local.result_hash, expected);
		assert_eq!(local.salt, [42; 32]);
		let output = stored_output(id).unwrap();
		assert_eq!(output.result_hash, expected);
		assert_eq!(output.model_sha256, model_sha);
		assert_eq!(output.output.text, b"abc".to_vec());
		// The key format the node's RPC reads.
		let mut raw_key = b"cognitive-internet/poi/output/".to_vec();
		raw_key.extend_from_slice(&id.to_le_bytes());
		assert_eq!(output_key(id), raw_key);

		let txs = take_txs();
		assert_eq!(txs.len(), 1);
		let Call::commit { commit, signature } = &txs[0] else {
			panic!("not a commit")
		};
		assert_eq!(commit.node, 1);
		assert_eq!(commit.commitment, commitment(&expected, &[42; 32], &1u64));
		assert!(key(1).verify(&commit_payload(commit), signature));
		submit_authorized(txs[0].clone());

		// The other assignees commit the same result.
		for n in nodes.iter().filter(|n| **n != 1) {
			commit_as(id, *n, expected);
		}
		// Everyone committed: the reveal goes out without polling again.
		run_to(3);
		ProofOfInference::offchain_worker(3);
		assert_eq!(host.polls(id), 2);
		let txs = take_txs();
		assert_eq!(txs.len(), 1);
		let Call::reveal { reveal, .. } = &txs[0] else {
			panic!("not a reveal")
		};
		assert_eq!(reveal.result_hash, expected);
		assert_eq!(reveal.salt, [42; 32]);
		submit_authorized(txs[0].clone());
		for n in nodes.iter().filter(|n| **n != 1) {
			reveal_as(id, *n, expected);
		}
		assert_eq!(
			job(id).status,
			JobState::Completed {
				result_hash: expected
			}
		);
		// Settled: nothing more to do.
		run_to(4);
		ProofOfInference::offchain_worker(4);
		assert!(take_txs().is_empty());
		check();
	});
}

#[test]
fn offchain_worker_is_idempotent_and_rate_limited() {
	let host = FakeHost::new(1);
	let (mut ext, take_txs) = offchain_test_ext(Some(host.clone()));
	ext.execute_with(|| {
		let (id, _) = ocw_setup(1);
		ProofOfInference::offchain_worker(1);
		// An overlapping worker neither polls nor sends again.
		ProofOfInference::offchain_worker(1);
		assert_eq!(host.polls(id), 1);
		assert_eq!(take_txs().len(), 1);
		run_to(1 + RESEND_BLOCKS as u64 - 1);
		ProofOfInference::offchain_worker(System::block_number());
		assert!(take_txs().is_empty());
		// The commit did not land: re-sent after RESEND_BLOCKS, with the same commitment.
		let first = local_result(id, 1).unwrap();
		run_to(1 + RESEND_BLOCKS as u64);
		ProofOfInference::offchain_worker(System::block_number());
		let txs = take_txs();
		assert_eq!(txs.len(), 1);
		let Call::commit { commit, .. } = &txs[0] else {
			panic!("not a commit")
		};
		assert_eq!(
			commit.commitment,
			commitment(&first.result_hash, &first.salt, &1u64)
		);
		assert_eq!(host.polls(id), 1);
		submit_authorized(txs[0].clone());
		// Landed: quiet until the reveal phase, which opens at the commit deadline.
		let deadline = job(id).commit_deadline;
		run_to(deadline - 1);
		ProofOfInference::offchain_worker(deadline - 1);
		assert!(take_txs().is_empty());
		run_to(deadline);
		ProofOfInference::offchain_worker(deadline);
		ProofOfInference::offchain_worker(deadline);
		let txs = take_txs();
		assert_eq!(txs.len(), 1);
		assert!(matches!(txs[0], Call::reveal { .. }));
		// Past the commit deadline a node without a result does not start the job.
		assert_eq!(host.polls(id), 1);
		check();
	});
}

#[test]
fn offchain_worker_respects_the_job_lock() {
	let host = FakeHost::new(1);
	let (mut ext, take_txs) = offchain_test_ext(Some(host.clone()));
	ext.execute_with(|| {
		let (id, _) = ocw_setup(1);
		let lock_key = (b"cognitive-internet/poi/lock/", id, 1u64).encode();
		let mut lock = sp_runtime::offchain::storage_lock::StorageLock::<
			sp_runtime::offchain::storage_lock::BlockAndTime<System>,
		>::with_block_and_time_deadline(
			&lock_key,
			2,
			sp_runtime::offchain::Duration::from_millis(20_000),
		);
		let guard = lock.try_lock().unwrap();
		ProofOfInference::offchain_worker(1);
		assert_eq!(host.polls(id), 0);
		assert!(take_txs().is_empty());
		drop(guard);
		ProofOfInference::offchain_worker(1);
		assert_eq!(host.polls(id), 1);
		assert_eq!(take_txs().len(), 1);
	});
}

#[test]
fn offchain_worker_stays_silent_without_an_engine() {
	let (mut ext, take_txs) = offchain_test_ext(None);
	ext.execute_with(|| {
		let (id, _) = ocw_setup(1);
		ProofOfInference::offchain_worker(1);
		assert!(take_txs().is_empty());
		assert!(local_result(id, 1).is_none());
		assert!(stored_output(id).is_none());
	});
	let host = Arc::new(FakeHost {
		available: false,
		..Arc::into_inner(FakeHost::new(1)).unwrap()
	});
	let (mut ext, take_txs) = offchain_test_ext(Some(host));
	ext.execute_with(|| {
		let (id, _) = ocw_setup(1);
		ProofOfInference::offchain_worker(1);
		assert!(take_txs().is_empty());
		assert!(local_result(id, 1).is_none());
	});
}

#[test]
fn offchain_worker_ignores_unassigned_and_unregistered_keys() {
	let host = FakeHost::new(1);
	let (mut ext, take_txs) = offchain_test_ext(Some(host.clone()));
	ext.execute_with(|| {
		register_nodes(4);
		let id = submit(3);
		let outsider = (1..=4).find(|n| !assignees(id).contains(n)).unwrap();
		make_local(outsider);
		make_local(7);
		ProofOfInference::offchain_worker(1);
		assert_eq!(host.polls(id), 0);
		assert!(take_txs().is_empty());
	});
}
