//! The audit's job-flood scenario (H-1) and the bounds on governance-set parameters (L-3).

use super::*;
use frame_support::assert_noop;
use sp_runtime::{DispatchError, Perbill};

/// Gives nodes 1..=3 a record of verified work.
fn establish() {
	for _ in 0..2 {
		let id = submit(3);
		all_agree(id, hash(1));
	}
}

/// H-1: an attacker floods the nodes with jobs nobody can answer in time. Honest scores stay
/// where they were and the attacker pays the base fee of every job; nobody is slashed. The
/// flood is bounded by `MaxPendingPerNode`, which the runtime sizes so that a node finishes
/// that many jobs within a commit period.
#[test]
fn a_flood_of_unanswered_jobs_costs_the_attacker_and_not_the_honest_nodes() {
	new_test_ext().execute_with(|| {
		register_nodes(3);
		establish();
		let scores: Vec<_> = (1..=3).map(score).collect();
		let records: Vec<_> = (1..=3).map(record).collect();
		let free = Balances::free_balance(CLIENT);
		let issuance = Balances::total_issuance();
		let mut flood = Vec::new();
		loop {
			let id = NextJobId::<Test>::get();
			match ProofOfInference::submit_job(
				RuntimeOrigin::signed(CLIENT),
				0,
				JobPrompt::Text(vec![b'a'; MAX_PROMPT as usize]),
				MAX_TOKENS,
				3,
				SamplingRequest::Greedy,
			) {
				Ok(()) => flood.push(id),
				Err(e) => {
					assert_eq!(e, Error::<Test>::NotEnoughNodes.into());
					break;
				},
			}
		}
		// Three of the largest jobs fill a node's pending work (MaxPendingWork).
		assert_eq!(flood.len() as u32, MAX_PENDING_WORK / LARGEST_JOB_WORK);
		run_to(job(flood[0]).reveal_deadline);
		for id in &flood {
			assert_eq!(job(*id).status, JobState::Failed(FailureReason::NoMajority));
		}
		for (i, n) in (1..=3).enumerate() {
			assert_eq!(score(n), scores[i], "score of node {n} moved");
			assert_eq!(record(n).beta, records[i].beta);
			assert_eq!(bond(n), MIN_BOND);
		}
		let base_fees = flood.len() as Balance * 3 * BASE_FEE;
		assert_eq!(Balances::free_balance(CLIENT), free - base_fees);
		assert_eq!(Balances::total_issuance(), issuance - base_fees);
		assert_eq!(held_fee(CLIENT), 0);
		check();
	});
}

/// H-1, the other half: when the nodes do answer (the pending bound keeps the flood within
/// what they can run), the flood is paid work and their scores rise.
#[test]
fn a_flood_the_nodes_answer_is_paid_work() {
	new_test_ext().execute_with(|| {
		register_nodes(3);
		establish();
		let scores: Vec<_> = (1..=3).map(score).collect();
		let before: Vec<_> = (1..=3).map(Balances::free_balance).collect();
		let mut paid = 0;
		for _ in 0..4 {
			let id = submit(3);
			all_agree(id, hash(3));
			paid += fee(MAX, 3) / 3;
		}
		for (i, n) in (1..=3).enumerate() {
			assert!(score(n) > scores[i]);
			assert_eq!(Balances::free_balance(n), before[i] + paid);
		}
		check();
	});
}

/// H-1: a node is assigned no more work than it finishes within a commit period: large jobs
/// are bounded by their work, small ones by the count.
#[test]
fn pending_work_bounds_what_a_node_is_assigned() {
	new_test_ext().execute_with(|| {
		register_nodes(3);
		let large = || {
			ProofOfInference::submit_job(
				RuntimeOrigin::signed(CLIENT),
				0,
				JobPrompt::Text(vec![b'a'; MAX_PROMPT as usize]),
				MAX_TOKENS,
				3,
				SamplingRequest::Greedy,
			)
		};
		for _ in 0..3 {
			assert_ok!(large());
		}
		assert_eq!(PendingJobs::<Test>::get(1).work, MAX_PENDING_WORK);
		assert_noop!(large(), Error::<Test>::NotEnoughNodes);
		// Even a small job does not fit any more.
		assert_noop!(
			ProofOfInference::submit_job(
				RuntimeOrigin::signed(CLIENT),
				0,
				text(PROMPT),
				1,
				1,
				SamplingRequest::Greedy
			),
			Error::<Test>::NotEnoughNodes
		);
		run_to(job(0).reveal_deadline);
		assert!(PendingJobs::<Test>::get(1).jobs.is_empty());
		// Small jobs: four fit (the count bound), their work far below the work bound.
		for _ in 0..4 {
			submit(3);
		}
		assert_eq!(
			PendingJobs::<Test>::get(1).work,
			4 * ProofOfInference::job_work(PROMPT.len() as u32, MAX)
		);
		assert_noop!(
			ProofOfInference::submit_job(
				RuntimeOrigin::signed(CLIENT),
				0,
				text(PROMPT),
				1,
				1,
				SamplingRequest::Greedy
			),
			Error::<Test>::NotEnoughNodes
		);
		check();
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
		// L-3: every value has bounds.
		for bad in [
			Parameters {
				commit_period: 0,
				..p.clone()
			},
			Parameters {
				commit_period: 1,
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
			Parameters {
				slash_fraction: Perbill::from_percent(51),
				..p.clone()
			},
			Parameters {
				newcomer_weight: Perbill::zero(),
				..p.clone()
			},
			Parameters {
				base_fee: MAX_BASE_FEE + 1,
				..p.clone()
			},
			Parameters {
				price_per_token: MAX_PRICE + 1,
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
		assert_eq!(
			held_fee(CLIENT),
			1 + PRICE * (PROMPT.len() + MAX as usize) as Balance
		);
		check();
	});
}
