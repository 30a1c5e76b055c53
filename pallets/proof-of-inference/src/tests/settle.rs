//! Commit, reveal and settlement: payment, slashing, reputation, pruning.

use super::*;
use frame_support::{assert_noop, pallet_prelude::InvalidTransaction, traits::Get};

#[test]
fn unanimous_result_completes_and_pays_everyone() {
	new_test_ext().execute_with(|| {
		register_nodes(3);
		let id = submit(3);
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
		let share = fee(MAX, 3) / 3;
		for (i, n) in nodes.iter().enumerate() {
			assert_eq!(Balances::free_balance(n), before[i] + share);
			assert_eq!(record(*n).successes, 1);
			assert_eq!(record(*n).wrong, 0);
			assert!(ProofOfInference::pending_jobs(n).is_empty());
		}
		assert!(score(nodes[0]) > sp_runtime::Perbill::zero());
		assert!(Deadlines::<Test>::get(j.reveal_deadline).is_empty());
		assert!(events().contains(&Event::JobCompleted {
			job_id: id,
			result_hash: hash(1),
			shares: nodes.iter().map(|n| (*n, share)).collect(),
			release_at: None,
		}));
		// Nothing is left for the deadline.
		run_to(j.reveal_deadline + 1);
		assert_eq!(job(id).settled_at, Some(1));
		check();
	});
}

#[test]
fn dissenter_is_slashed_and_the_remainder_goes_to_the_first() {
	new_test_ext().execute_with(|| {
		register_nodes(4);
		let id = submit(4);
		let nodes = assignees(id);
		let (good, bad) = (&nodes[..3], nodes[3]);
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
			reason: SlashReason::Contradicted,
			amount: 100
		}));
		assert_eq!(record(bad).wrong, 1);
		assert_eq!(record(bad).successes, 0);
		// The fee (4 × 300 = 1 200) split three ways, 400 each; no remainder here, so check
		// the split with 7 tokens (4 × 290 = 1 160 = 386 × 3 + 2) on the next job.
		for n in good {
			assert_eq!(bond(*n), MIN_BOND);
			assert_eq!(record(*n).successes, 1);
		}
		let id = submit_with(7, 4);
		let nodes = assignees(id);
		let majority: Vec<u64> = nodes.iter().copied().filter(|n| *n != bad).collect();
		for n in &nodes {
			commit_as(id, *n, hash(if *n == bad { 2 } else { 1 }));
		}
		for n in &nodes {
			reveal_as(id, *n, hash(if *n == bad { 2 } else { 1 }));
		}
		let expected: Vec<(u64, Balance)> = majority
			.iter()
			.enumerate()
			.map(|(i, n)| (*n, if i == 0 { 388 } else { 386 }))
			.collect();
		assert!(events().contains(&Event::JobCompleted {
			job_id: id,
			result_hash: hash(1),
			shares: expected,
			release_at: None,
		}));
		check();
	});
}

/// H-1: without a majority the work part is refunded, but the base part is not: it pays the
/// nodes that did reveal.
#[test]
fn no_majority_refunds_the_work_and_pays_the_base_fee_to_revealers() {
	new_test_ext().execute_with(|| {
		register_nodes(3);
		let free = Balances::free_balance(CLIENT);
		let id = submit(3);
		let nodes = assignees(id);
		let before: Vec<_> = nodes.iter().map(Balances::free_balance).collect();
		for (i, n) in nodes.iter().enumerate() {
			commit_as(id, *n, hash(i as u8));
		}
		for (i, n) in nodes.iter().enumerate() {
			reveal_as(id, *n, hash(i as u8));
		}
		assert_eq!(job(id).status, JobState::Failed(FailureReason::NoMajority));
		assert_eq!(held_fee(CLIENT), 0);
		assert_eq!(Balances::free_balance(CLIENT), free - 3 * BASE_FEE);
		for (i, n) in nodes.iter().enumerate() {
			assert_eq!(Balances::free_balance(n), before[i] + BASE_FEE);
			assert_eq!(bond(*n), MIN_BOND);
			assert_eq!(record(*n).wrong, 0);
			assert_eq!(record(*n).successes, 0);
		}
		assert!(events().contains(&Event::JobFailed {
			job_id: id,
			reason: FailureReason::NoMajority,
			refunded: fee(MAX, 3) - 3 * BASE_FEE,
			paid: nodes.iter().map(|n| (*n, BASE_FEE)).collect(),
			burnt: 0,
		}));
		check();
	});
}

#[test]
fn silent_node_misses_and_is_not_slashed() {
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
		// In the pool the reveal waits for the silent node's commit (or, once the deadline
		// block is imported, is valid outright); in a block it is refused.
		let early = validity(
			&reveal_call(id, nodes[0], hash(1)),
			TransactionSource::External,
		)
		.expect("an early reveal waits in the pool");
		assert_eq!(
			early.requires,
			vec![crate::authorize::commit_tag(id, &silent)]
		);
		assert_eq!(
			validity(
				&reveal_call(id, nodes[0], hash(1)),
				TransactionSource::InBlock
			),
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
		assert_eq!(record(silent).missed, 1);
		assert_eq!(bond(silent), MIN_BOND);
		assert!(ProofOfInference::pending_jobs(&silent).is_empty());
		check();
	});
}

/// M-3: committing and then staying silent costs at least what a wrong reveal costs, so a
/// cheater cannot commit a guess and reveal only if it matches the reveals already public.
#[test]
fn an_unopened_commitment_costs_as_much_as_a_wrong_reveal() {
	new_test_ext().execute_with(|| {
		register_nodes(5);
		let id = submit(5);
		let nodes = assignees(id);
		let (wrong, selective) = (nodes[3], nodes[4]);
		for n in &nodes {
			commit_as(id, *n, hash(if *n == wrong { 2 } else { 1 }));
		}
		for n in &nodes[..4] {
			reveal_as(id, *n, hash(if *n == wrong { 2 } else { 1 }));
		}
		// `selective` saw three reveals of hash 1 and one of 2, and keeps quiet.
		run_to(job(id).reveal_deadline);
		assert_eq!(
			job(id).status,
			JobState::Completed {
				result_hash: hash(1)
			}
		);
		assert_eq!(bond(wrong), 900);
		assert_eq!(bond(selective), bond(wrong));
		assert_eq!(record(selective).wrong, record(wrong).wrong);
		assert_eq!(record(selective).beta, record(wrong).beta);
		assert!(events().contains(&Event::NodeSlashed {
			job_id: id,
			node: selective,
			reason: SlashReason::Unopened,
			amount: 100
		}));
		check();
	});
}

/// H-1: a timeout where no assignee produced anything weighs far less than a wrong reveal (in
/// the tests' parameters, nothing), and the base fee is burnt: nobody earned it.
#[test]
fn a_job_nobody_answered_times_out_cheaply_and_burns_its_base_fee() {
	new_test_ext().execute_with(|| {
		register_nodes(3);
		let issuance = Balances::total_issuance();
		let free = Balances::free_balance(CLIENT);
		let id = submit(3);
		run_to(job(id).reveal_deadline);
		assert_eq!(job(id).status, JobState::Failed(FailureReason::NoMajority));
		assert_eq!(Balances::free_balance(CLIENT), free - 3 * BASE_FEE);
		assert_eq!(Balances::total_issuance(), issuance - 3 * BASE_FEE);
		for n in assignees(id) {
			assert_eq!(record(n).timeouts, 1);
			assert_eq!(record(n).beta, 0);
			assert_eq!(bond(n), MIN_BOND);
		}
		assert!(events().contains(&Event::JobFailed {
			job_id: id,
			reason: FailureReason::NoMajority,
			refunded: fee(MAX, 3) - 3 * BASE_FEE,
			paid: vec![],
			burnt: 3 * BASE_FEE,
		}));
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
		assert!(!job(id).round().commit_phase_over(&(j.commit_deadline - 1)));
		run_to(j.commit_deadline);
		assert!(job(id).round().commit_phase_over(&j.commit_deadline));
		// One reveal of three is no majority: the work part is refunded at the deadline, the
		// revealer earns the base fee, the silent nodes missed the job.
		reveal_as(id, nodes[0], hash(1));
		run_to(j.reveal_deadline);
		assert_eq!(job(id).status, JobState::Failed(FailureReason::NoMajority));
		assert_eq!(held_fee(CLIENT), 0);
		assert_eq!(record(nodes[0]).missed + record(nodes[0]).wrong, 0);
		assert_eq!(record(nodes[1]).missed, 1);
		assert_eq!(record(nodes[2]).missed, 1);
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

/// H-6: a job with fewer than three assignees verifies nothing, so it pays but moves no
/// reputation.
#[test]
fn jobs_below_three_assignees_earn_no_reputation() {
	new_test_ext().execute_with(|| {
		register_nodes(3);
		for r in [1u8, 2] {
			let id = submit(r);
			all_agree(id, hash(1));
			assert_eq!(
				job(id).status,
				JobState::Completed {
					result_hash: hash(1)
				}
			);
		}
		for n in 1..=3 {
			assert_eq!(record(n).successes, 0);
			assert_eq!(score(n), sp_runtime::Perbill::zero());
		}
		// A silent single assignee is not punished in reputation either.
		let id = submit(1);
		run_to(job(id).reveal_deadline);
		assert_eq!(record(assignees(id)[0]).timeouts, 0);
		check();
	});
}

/// M-5: a node that left the registry (banned) before its job settled gets no record back,
/// and a node that is only unbonding is still slashed from its held bond.
#[test]
fn outcomes_of_removed_nodes_are_skipped() {
	new_test_ext().execute_with(|| {
		register_nodes(5);
		let id = submit(5);
		let nodes = assignees(id);
		let (banned, leaving) = (nodes[3], nodes[4]);
		for n in &nodes {
			commit_as(id, *n, hash(if *n == leaving { 2 } else { 1 }));
		}
		assert_ok!(NodeRegistry::unregister(RuntimeOrigin::signed(leaving)));
		assert_ok!(NodeRegistry::ban(RuntimeOrigin::root(), banned));
		let records_before = pallet_reputation::Reputations::<Test>::count();
		for n in &nodes {
			if *n != banned {
				reveal_as(id, *n, hash(if *n == leaving { 2 } else { 1 }));
			}
		}
		run_to(job(id).reveal_deadline);
		assert_eq!(
			job(id).status,
			JobState::Completed {
				result_hash: hash(1)
			}
		);
		// The banned node's unopened commitment creates no record and slashes nothing.
		assert!(pallet_reputation::Reputations::<Test>::get(banned).is_none());
		assert!(pallet_reputation::Reputations::<Test>::count() <= records_before + 4);
		// The leaving node is still slashed and recorded.
		assert_eq!(bond(leaving), 900);
		assert_eq!(record(leaving).wrong, 1);
		check();
	});
}

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

/// M-5: a node with unsettled jobs cannot withdraw its bond (and escape their slashing), nor
/// switch keys under them.
#[test]
fn pending_jobs_keep_the_bond() {
	new_test_ext().execute_with(|| {
		register_nodes(3);
		// A job that outlives the unbonding period (20 blocks in the mock).
		let mut long = test_parameters();
		long.commit_period = 30;
		assert_ok!(ProofOfInference::set_parameters(
			RuntimeOrigin::root(),
			long
		));
		let id = submit(3);
		let node = assignees(id)[0];
		assert_ok!(NodeRegistry::unregister(RuntimeOrigin::signed(node)));
		run_to(21);
		assert_noop!(
			NodeRegistry::withdraw_unbonded(RuntimeOrigin::signed(node)),
			pallet_node_registry::Error::<Test>::PendingJobs
		);
		run_to(job(id).reveal_deadline);
		assert_ok!(NodeRegistry::withdraw_unbonded(RuntimeOrigin::signed(node)));
		check();
	});
}
