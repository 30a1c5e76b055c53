//! Disputes: the fee held through the challenge window, challenges, automatic audits and the
//! verdicts of the auditors.

use super::*;
use frame_support::assert_noop;
use sp_runtime::Perbill;

/// Challenge window of these tests (the mock's retention leaves room for at most 5 blocks).
const WINDOW: u64 = 5;

/// Turns challenges on, with automatic audits at `rate`.
fn disputes_on(rate: Perbill) {
	let mut p = test_parameters();
	p.challenge_period = WINDOW;
	p.audit_rate = rate;
	assert_ok!(ProofOfInference::set_parameters(RuntimeOrigin::root(), p));
}

fn deposit_held(who: u64) -> Balance {
	Balances::balance_on_hold(&HoldReason::ChallengeDeposit.into(), &who)
}

fn audit(id: JobId) -> Audit<Test> {
	Audits::<Test>::get(id).expect("audit exists")
}

fn auditors(id: JobId) -> Vec<u64> {
	audit(id).auditors.iter().map(|a| a.node).collect()
}

/// Every auditor of `id` commits and reveals `h`.
fn auditors_agree(id: JobId, h: Hash256) {
	let nodes = auditors(id);
	for n in &nodes {
		commit_as(id, *n, h);
	}
	for n in &nodes {
		reveal_as(id, *n, h);
	}
}

/// Submits an R = 3 job among nodes 1..=7 and settles it with two assignees revealing `majority`
/// and the third `third`; returns the job and its assignees.
fn settled_job(majority: Hash256, third: Hash256) -> (JobId, Vec<u64>) {
	let id = submit(3);
	let nodes = assignees(id);
	for (i, n) in nodes.iter().enumerate() {
		commit_as(id, *n, if i < 2 { majority } else { third });
	}
	for (i, n) in nodes.iter().enumerate() {
		reveal_as(id, *n, if i < 2 { majority } else { third });
	}
	assert_eq!(
		job(id).status,
		JobState::Completed {
			result_hash: majority
		}
	);
	(id, nodes)
}

/// A registered node that is not among `taken`.
/// After the auditors overturned a job `settled_job(hash(1), hash(2))` settled: its status says
/// so, the two liars (`nodes[..2]`) lost the audit slash (20% of their bond) and the owner has
/// its whole fee back (`owner_free` is its free balance before the job).
fn assert_overturned(id: JobId, nodes: &[u64], owner_free: Balance) {
	assert_eq!(
		job(id).status,
		JobState::Overturned {
			settled_hash: hash(1),
			audited_hash: hash(2)
		}
	);
	for n in &nodes[..2] {
		assert_eq!(bond(*n), MIN_BOND - MIN_BOND / 5);
	}
	assert_eq!(held_fee(CLIENT), 0);
	assert_eq!(Balances::free_balance(CLIENT), owner_free);
}

fn other_node(taken: &[u64]) -> u64 {
	(1..=7).find(|n| !taken.contains(n)).expect("a free node")
}

#[test]
fn a_completed_job_s_fee_is_held_until_its_window_closes() {
	new_test_ext().execute_with(|| {
		register_nodes(7);
		disputes_on(Perbill::zero());
		let (id, nodes) = settled_job(hash(1), hash(1));
		let settled_at = job(id).settled_at.unwrap();
		assert_eq!(held_fee(CLIENT), fee(MAX, 3), "held through the window");
		assert!(events().iter().any(|e| matches!(e,
			Event::JobCompleted { job_id, release_at: Some(at), .. }
				if *job_id == id && *at == settled_at + WINDOW)));
		let view = ProofOfInference::job_view(id).unwrap();
		assert_eq!(view.challengeable_until, Some(settled_at + WINDOW));
		assert!(view.fee_held);
		let free: Vec<Balance> = nodes.iter().map(Balances::free_balance).collect();
		run_to(settled_at + WINDOW - 1);
		assert_eq!(held_fee(CLIENT), fee(MAX, 3));
		run_to(settled_at + WINDOW);
		assert_eq!(held_fee(CLIENT), 0);
		for (n, before) in nodes.iter().zip(free) {
			assert!(Balances::free_balance(n) >= before + fee(MAX, 3) / 3);
		}
		assert!(events()
			.iter()
			.any(|e| matches!(e, Event::FeeReleased { job_id, .. } if *job_id == id)));
		let view = ProofOfInference::job_view(id).unwrap();
		assert_eq!(view.challengeable_until, None);
		assert!(!view.fee_held);
		check();
	});
}

/// The first case: a wrong majority, an honest challenge, auditors that re-execute and
/// contradict it.
#[test]
fn an_upheld_challenge_slashes_the_majority_refunds_the_owner_and_rewards_the_challenger() {
	new_test_ext().execute_with(|| {
		register_nodes(7);
		disputes_on(Perbill::zero());
		let owner_free = Balances::free_balance(CLIENT);
		let (id, nodes) = settled_job(hash(1), hash(2));
		let challenger = other_node(&nodes);
		let challenger_free = Balances::free_balance(challenger);
		assert_ok!(ProofOfInference::challenge(
			RuntimeOrigin::signed(challenger),
			id
		));
		assert_eq!(deposit_held(challenger), DEPOSIT);
		let drawn = auditors(id);
		assert_eq!(drawn.len(), 3);
		check();

		let auditor_free: Vec<Balance> = drawn.iter().map(Balances::free_balance).collect();
		let wrong_records: Vec<u32> = nodes[..2].iter().map(|n| record(*n).wrong).collect();
		auditors_agree(id, hash(2));

		assert_eq!(
			audit(id).verdict,
			Some(Verdict::Overturned {
				audited_hash: hash(2)
			})
		);
		// The two liars lose the audit slash (20% of their bond), shared by the challenger and
		// the three auditors: 200 each → 50 to each of four, twice. The owner gets the whole
		// fee back; nobody is paid for the overturned result.
		assert_overturned(id, &nodes, owner_free);
		for (n, before) in nodes[..2].iter().zip(wrong_records) {
			assert_eq!(record(*n).wrong, before + 1, "the liars' records say so");
		}
		assert_eq!(
			Balances::free_balance(challenger),
			challenger_free + 100,
			"deposit back plus a share of the slash"
		);
		assert_eq!(deposit_held(challenger), 0);
		for (n, before) in drawn.iter().zip(auditor_free) {
			assert_eq!(Balances::free_balance(n), before + 100);
		}
		assert!(events().iter().any(|e| matches!(e,
			Event::AuditConcluded { job_id, refunded, .. }
				if *job_id == id && *refunded == fee(MAX, 3))));
		// The honest minority, slashed at settlement, has the truth on record.
		assert!(record(nodes[2]).successes >= 1);
		run_to(job(id).settled_at.unwrap() + WINDOW);
		assert!(!events()
			.iter()
			.any(|e| matches!(e, Event::FeeReleased { job_id, .. } if *job_id == id)));
		check();
	});
}

#[test]
fn a_rejected_challenge_loses_its_deposit_to_the_auditors() {
	new_test_ext().execute_with(|| {
		register_nodes(7);
		disputes_on(Perbill::zero());
		let (id, nodes) = settled_job(hash(1), hash(1));
		let challenger_free = Balances::free_balance(CLIENT);
		// The owner may challenge its own job.
		assert_ok!(ProofOfInference::challenge(
			RuntimeOrigin::signed(CLIENT),
			id
		));
		let drawn = auditors(id);
		let auditor_free: Vec<Balance> = drawn.iter().map(Balances::free_balance).collect();
		auditors_agree(id, hash(1));
		assert_eq!(audit(id).verdict, Some(Verdict::Confirmed));
		assert_eq!(
			job(id).status,
			JobState::Completed {
				result_hash: hash(1)
			}
		);
		assert_eq!(deposit_held(CLIENT), 0);
		assert_eq!(Balances::free_balance(CLIENT), challenger_free - DEPOSIT);
		let paid: Balance = drawn
			.iter()
			.zip(auditor_free)
			.map(|(n, before)| Balances::free_balance(n) - before)
			.sum();
		assert_eq!(paid, DEPOSIT, "the deposit goes to the auditors");
		for n in &nodes {
			assert_eq!(bond(*n), MIN_BOND, "nobody in the majority is slashed");
		}
		// The fee goes to the majority when the window closes.
		run_to(job(id).settled_at.unwrap() + WINDOW);
		assert_eq!(held_fee(CLIENT), 0);
		check();
	});
}

#[test]
fn challenges_outside_the_rules_are_refused_and_hold_nothing() {
	new_test_ext().execute_with(|| {
		register_nodes(7);
		disputes_on(Perbill::zero());
		let pending = submit(3);
		assert_noop!(
			ProofOfInference::challenge(RuntimeOrigin::signed(CLIENT), pending),
			Error::<Test>::NotCompleted
		);
		all_agree(pending, hash(1));
		let (id, nodes) = (pending, assignees(pending));
		assert_noop!(
			ProofOfInference::challenge(RuntimeOrigin::signed(nodes[0]), id),
			Error::<Test>::NotAllowedToChallenge
		);
		assert_noop!(
			ProofOfInference::challenge(RuntimeOrigin::signed(POOR), id),
			Error::<Test>::NotAllowedToChallenge
		);
		assert_noop!(
			ProofOfInference::challenge(RuntimeOrigin::signed(CLIENT), 99),
			Error::<Test>::UnknownJob
		);
		assert_ok!(ProofOfInference::challenge(
			RuntimeOrigin::signed(CLIENT),
			id
		));
		let challenger = other_node(&[&nodes[..], &auditors(id)[..]].concat());
		assert_noop!(
			ProofOfInference::challenge(RuntimeOrigin::signed(challenger), id),
			Error::<Test>::AlreadyAudited
		);
		check();
	});
}

#[test]
fn a_challenge_after_the_window_is_refused() {
	new_test_ext().execute_with(|| {
		register_nodes(7);
		disputes_on(Perbill::zero());
		let (id, _) = settled_job(hash(1), hash(1));
		let end = job(id).settled_at.unwrap() + WINDOW;
		run_to(end);
		assert_noop!(
			ProofOfInference::challenge(RuntimeOrigin::signed(CLIENT), id),
			Error::<Test>::ChallengeWindowClosed
		);
		// With challenges off (a zero window) the fee is paid at settlement and nothing can be
		// challenged.
		assert_ok!(ProofOfInference::set_parameters(
			RuntimeOrigin::root(),
			test_parameters()
		));
		let (id, _) = settled_job(hash(1), hash(1));
		assert_eq!(held_fee(CLIENT), 0);
		assert_noop!(
			ProofOfInference::challenge(RuntimeOrigin::signed(CLIENT), id),
			Error::<Test>::ChallengeWindowClosed
		);
		check();
	});
}

#[test]
fn a_challenge_without_enough_auditors_is_refused() {
	new_test_ext().execute_with(|| {
		// Five nodes: three assignees and the challenger leave one possible auditor of three.
		register_nodes(5);
		disputes_on(Perbill::zero());
		let (id, nodes) = settled_job(hash(1), hash(1));
		let challenger = other_node(&nodes);
		assert_noop!(
			ProofOfInference::challenge(RuntimeOrigin::signed(challenger), id),
			Error::<Test>::NotEnoughAuditors
		);
		assert_eq!(deposit_held(challenger), 0);
		check();
	});
}

/// Auditors are drawn only among nodes that neither ran the job, own it nor challenged it:
/// with seven nodes, three assignees and a challenging node, the three others are the only
/// possible auditors, whatever the randomness.
#[test]
fn an_auditor_is_never_an_assignee_the_owner_or_the_challenger() {
	new_test_ext().execute_with(|| {
		register_nodes(7);
		disputes_on(Perbill::zero());
		for _ in 0..4 {
			let (id, nodes) = settled_job(hash(1), hash(1));
			let challenger = other_node(&nodes);
			assert_ok!(ProofOfInference::challenge(
				RuntimeOrigin::signed(challenger),
				id
			));
			let mut drawn = auditors(id);
			drawn.sort();
			let expected: Vec<u64> = (1..=7)
				.filter(|n| !nodes.contains(n) && *n != challenger)
				.collect();
			assert_eq!(drawn, expected);
			auditors_agree(id, hash(1));
			run_to(System::block_number() + 1);
		}
		check();
	});
}

/// Auditors that stay silent conclude nothing: the settlement stands, the challenger gets its
/// deposit back, and an auditor that committed and never opened is slashed like an assignee.
#[test]
fn silent_auditors_leave_the_settlement_standing() {
	new_test_ext().execute_with(|| {
		register_nodes(7);
		disputes_on(Perbill::zero());
		let (id, nodes) = settled_job(hash(1), hash(1));
		let challenger_free = Balances::free_balance(CLIENT);
		assert_ok!(ProofOfInference::challenge(
			RuntimeOrigin::signed(CLIENT),
			id
		));
		let drawn = auditors(id);
		commit_as(id, drawn[0], hash(7));
		let deadline = audit(id).reveal_deadline;
		run_to(deadline);
		assert_eq!(audit(id).verdict, Some(Verdict::Inconclusive));
		assert_eq!(
			job(id).status,
			JobState::Completed {
				result_hash: hash(1)
			}
		);
		assert_eq!(Balances::free_balance(CLIENT), challenger_free);
		assert_eq!(deposit_held(CLIENT), 0);
		assert_eq!(
			bond(drawn[0]),
			MIN_BOND - MIN_BOND / 10,
			"an unopened commitment is slashed"
		);
		assert!(
			record(drawn[1]).missed >= 1,
			"a silent auditor missed its work"
		);
		// The window closed during the audit: the fee was paid when it concluded.
		assert_eq!(held_fee(CLIENT), 0);
		for n in &nodes {
			assert_eq!(bond(*n), MIN_BOND);
		}
		assert!(PendingJobs::<Test>::iter().all(|(_, p)| !p.jobs.contains(&id)));
		check();
	});
}

#[test]
fn an_automatic_audit_is_drawn_at_its_rate_and_paid_from_the_fee() {
	new_test_ext().execute_with(|| {
		register_nodes(7);
		// Never drawn at 0%.
		disputes_on(Perbill::zero());
		let (quiet, _) = settled_job(hash(1), hash(1));
		assert!(!Audits::<Test>::contains_key(quiet));
		// Always drawn at 100%; the auditors confirm and share the fee with the majority.
		disputes_on(Perbill::one());
		let (id, nodes) = settled_job(hash(1), hash(1));
		let drawn = auditors(id);
		assert_eq!(audit(id).challenger, None);
		assert!(events().iter().any(|e| matches!(e,
			Event::AuditStarted { job_id, .. } if *job_id == id)));
		auditors_agree(id, hash(1));
		assert_eq!(audit(id).verdict, Some(Verdict::Confirmed));
		run_to(job(id).settled_at.unwrap() + WINDOW);
		let paid = events()
			.into_iter()
			.find_map(|e| match e {
				Event::FeeReleased { job_id, paid } if job_id == id => Some(paid),
				_ => None,
			})
			.expect("fee released");
		let mut payees: Vec<u64> = paid.iter().map(|(n, _)| *n).collect();
		payees.sort();
		let mut expected = [&nodes[..], &drawn[..]].concat();
		expected.sort();
		assert_eq!(payees, expected, "six equal shares");
		assert_eq!(paid.iter().map(|(_, b)| *b).sum::<Balance>(), fee(MAX, 3));
		check();
	});
}

/// The automatic audit's draw follows its rate without bias: over 20 000 job ids at the default
/// 5% the share drawn is within three standard deviations (±0.46 points) of 5%. (The earlier
/// draw, 32 bits modulo 10⁹, audited 5.8% of jobs: 5 × 5·10⁷ of 2³² values.) The share is the audits' overhead in jobs; in work it is this
/// share × auditors / R (docs/verification.md).
#[test]
fn the_automatic_audit_draw_follows_its_rate() {
	new_test_ext().execute_with(|| {
		let rate = crate::Parameters::<Balance, u64>::default().audit_rate;
		assert_eq!(rate, Perbill::from_percent(5), "the default rate");
		disputes_on(rate);
		const JOBS: u64 = 20_000;
		let drawn = (0..JOBS)
			.filter(|id| ProofOfInference::audit_drawn(*id))
			.count() as f64;
		let share = drawn / JOBS as f64;
		let sigma = (0.05 * 0.95 / JOBS as f64).sqrt();
		println!(
			"audits drawn at the default rate: {drawn} of {JOBS} jobs ({:.2}%)",
			share * 100.0
		);
		assert!(
			(share - 0.05).abs() < 3.0 * sigma,
			"drawn {share}, expected 0.05 ± {}",
			3.0 * sigma
		);
	});
}

/// An automatic audit catches a lazy majority nobody challenged: the majority is slashed, the
/// owner refunded, and the slash pays the auditors.
#[test]
fn an_automatic_audit_overturns_a_lazy_majority() {
	new_test_ext().execute_with(|| {
		register_nodes(7);
		disputes_on(Perbill::one());
		let owner_free = Balances::free_balance(CLIENT);
		let (id, nodes) = settled_job(hash(1), hash(2));
		let drawn = auditors(id);
		auditors_agree(id, hash(2));
		assert_overturned(id, &nodes, owner_free);
		let rewarded = events()
			.into_iter()
			.find_map(|e| match e {
				Event::AuditConcluded {
					job_id, rewarded, ..
				} if job_id == id => Some(rewarded),
				_ => None,
			})
			.expect("concluded");
		assert!(rewarded.iter().all(|(n, _)| drawn.contains(n)));
		assert_eq!(
			rewarded.iter().map(|(_, b)| *b).sum::<Balance>(),
			2 * MIN_BOND / 5,
			"the whole slash pays the auditors"
		);
		check();
	});
}

/// Pruning waits for the window and the audit: a job is kept until its retention ends, which
/// the parameters' bounds place after any audit's end.
#[test]
fn the_parameters_keep_audits_inside_the_retention() {
	new_test_ext().execute_with(|| {
		let mut p = test_parameters();
		p.challenge_period = RETENTION - COMMIT_PERIOD - REVEAL_PERIOD + 1;
		assert_noop!(
			ProofOfInference::set_parameters(RuntimeOrigin::root(), p.clone()),
			Error::<Test>::InvalidParameters
		);
		p.challenge_period -= 1;
		assert_ok!(ProofOfInference::set_parameters(
			RuntimeOrigin::root(),
			p.clone()
		));
		p.audit_slash_fraction = Perbill::from_percent(5);
		assert_noop!(
			ProofOfInference::set_parameters(RuntimeOrigin::root(), p.clone()),
			Error::<Test>::InvalidParameters
		);
		p.audit_slash_fraction = Perbill::from_percent(20);
		p.auditors = 0;
		assert_noop!(
			ProofOfInference::set_parameters(RuntimeOrigin::root(), p.clone()),
			Error::<Test>::InvalidParameters
		);
		p.auditors = MAX_R as u8 + 1;
		assert_noop!(
			ProofOfInference::set_parameters(RuntimeOrigin::root(), p.clone()),
			Error::<Test>::InvalidParameters
		);
		p.auditors = 3;
		p.challenge_deposit = MAX_DEPOSIT + 1;
		assert_noop!(
			ProofOfInference::set_parameters(RuntimeOrigin::root(), p),
			Error::<Test>::InvalidParameters
		);
	});
}
