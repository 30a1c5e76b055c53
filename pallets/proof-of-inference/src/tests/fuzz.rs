//! A property-test harness: random sequences of every call of the model registry, node registry,
//! reputation and proof-of-inference pallets (with random, mostly invalid, parameters and
//! origins, and random block advances through the hooks) against the mock runtime, with every
//! pallet's `try_state` checked after each step. Nothing may panic and no invariant may break;
//! rejected calls are fine.
//!
//! `FUZZ_CASES` sets the number of sequences (default 200, 40 steps each); `FUZZ_SEED` the first
//! seed. A failure prints the seed and the step that broke, so it can be replayed and turned into
//! a regression test.

use super::*;
use frame_support::traits::UnfilteredDispatchable;
use inference_primitives::fuzz::{Campaign, Rng};
use pallet_model_registry::ModelInfo;

const ACCOUNTS: [u64; 11] = [1, 2, 3, 4, 5, 6, 7, 8, CLIENT, POOR, 99];

fn origin(rng: &mut Rng) -> RuntimeOrigin {
	match rng.below(10) {
		0 => RuntimeOrigin::root(),
		1 => RuntimeOrigin::none(),
		_ => RuntimeOrigin::signed(rng.pick(&ACCOUNTS)),
	}
}

fn prompt_bytes(rng: &mut Rng) -> Vec<u8> {
	if rng.chance(70) {
		let len = rng.below(MAX_PROMPT as u64 + 4) as usize;
		vec![b'a' + (rng.below(26) as u8); len]
	} else {
		rng.bytes(MAX_PROMPT as usize + 8)
	}
}

/// Text, or chat messages of random roles (sometimes more than allowed, sometimes empty).
fn prompt(rng: &mut Rng) -> JobPrompt {
	if rng.chance(70) {
		return JobPrompt::Text(prompt_bytes(rng));
	}
	let turns = rng.below(u64::from(inference_primitives::MAX_CHAT_TURNS) + 2) as usize;
	JobPrompt::Chat(
		(0..turns)
			.map(|_| ChatTurn {
				role: rng.pick(&[ChatRole::System, ChatRole::User, ChatRole::Assistant]),
				content: rng.bytes(MAX_PROMPT as usize / 4),
			})
			.collect(),
	)
}

fn register_random(rng: &mut Rng) -> sp_runtime::DispatchResult {
	let who = rng.pick(&ACCOUNTS);
	let key_seed = if rng.chance(80) {
		who
	} else {
		rng.pick(&ACCOUNTS)
	};
	let signer = if rng.chance(85) {
		key_seed
	} else {
		rng.pick(&ACCOUNTS)
	};
	let proof = pair(signer)
		.sign(&pallet_node_registry::key_ownership_payload(
			&genesis(),
			&who,
		))
		.into();
	let mut c = caps();
	if rng.chance(10) {
		c.cpu_cores = 0;
	}
	if rng.chance(10) {
		c.class.cpu_target = b"x86-64-v4".to_vec().try_into().unwrap();
	}
	let models: Vec<u32> = (0..rng.below(3)).map(|_| rng.below(4) as u32).collect();
	let endpoints = (0..rng.below(3)).map(|_| rng.bytes(20)).collect();
	let bond = rng.pick(&[0, MIN_BOND - 1, MIN_BOND, 3 * MIN_BOND, 1_000_000_000]);
	NodeRegistry::register(
		RuntimeOrigin::signed(who),
		c,
		models,
		endpoints,
		key(key_seed),
		proof,
		bond,
	)
}

fn heartbeat_random(rng: &mut Rng) -> sp_runtime::DispatchResult {
	let who = rng.pick(&ACCOUNTS);
	let ready: Vec<u32> = (0..rng.below(3)).map(|_| rng.below(3) as u32).collect();
	let period =
		NodeRegistry::current_period().saturating_sub(rng.below(2) as u32) + rng.below(2) as u32;
	let heartbeat = pallet_node_registry::Heartbeat {
		node: who,
		period,
		ready_models: ready.try_into().unwrap_or_default(),
	};
	let signer = if rng.chance(85) {
		who
	} else {
		rng.pick(&ACCOUNTS)
	};
	let signature = pair(signer)
		.sign(&pallet_node_registry::heartbeat_payload(
			&genesis(),
			&heartbeat,
		))
		.into();
	let call = pallet_node_registry::Call::<Test>::heartbeat {
		heartbeat,
		signature,
	};
	if rng.chance(50)
		&& RuntimeCall::from(call.clone())
			.authorize(TransactionSource::External)
			.map(|r| r.is_err())
			.unwrap_or(true)
	{
		return Ok(());
	}
	call.dispatch_bypass_filter(frame_system::RawOrigin::Authorized.into())
		.map(|_| ())
		.map_err(|e| e.error)
}

/// A commit or reveal for a pending job: usually by an assignee, signed by it, with one of two
/// result hashes (so agreement, dissent and no majority all happen).
fn commit_or_reveal(rng: &mut Rng) -> sp_runtime::DispatchResult {
	let next = NextJobId::<Test>::get();
	let id = rng.below(next + 1);
	let audit = Audits::<Test>::get(id).filter(|a| a.verdict.is_none());
	let node = match (Jobs::<Test>::get(id), audit) {
		// An open audit's auditors, half the time.
		(_, Some(a)) if rng.chance(50) && !a.auditors.is_empty() => {
			a.auditors[rng.below(a.auditors.len() as u64) as usize].node
		},
		(Some(job), _) if rng.chance(85) && !job.assignees.is_empty() => {
			job.assignees[rng.below(job.assignees.len() as u64) as usize].node
		},
		_ => rng.pick(&ACCOUNTS),
	};
	let h = hash(rng.pick(&[1u8, 1, 2]));
	let signer = if rng.chance(90) {
		node
	} else {
		rng.pick(&ACCOUNTS)
	};
	let call = if rng.chance(50) {
		commit_call_with(
			id,
			node,
			inference_primitives::commitment(&h, &salt(node), &node),
			signer,
		)
	} else {
		let s = if rng.chance(90) { salt(node) } else { [0; 32] };
		reveal_call_with(id, node, h, s, signer)
	};
	if rng.chance(70) && authorize(&call).is_err() {
		return Ok(());
	}
	dispatch_authorized(call)
}

fn step(rng: &mut Rng) -> sp_runtime::DispatchResult {
	match rng.below(20) {
		0 => {
			let mut info: ModelInfo = sample_model(10 + rng.below(5) as u32);
			if rng.chance(30) {
				info.profile.n_ctx = rng.pick(&[0, 8, 64, 4096, 200_000]);
			}
			ModelRegistry::whitelist_model(origin(rng), Box::new(info))
		},
		1 => ModelRegistry::deprecate_model(origin(rng), rng.below(5) as u32),
		2 => ModelRegistry::remove_model(origin(rng), rng.below(5) as u32),
		3 | 4 => register_random(rng),
		5 => NodeRegistry::update_capabilities(origin(rng), caps()),
		6 => NodeRegistry::set_served_models(
			origin(rng),
			(0..rng.below(3)).map(|_| rng.below(4) as u32).collect(),
		),
		7 => NodeRegistry::set_endpoints(
			origin(rng),
			(0..rng.below(3)).map(|_| rng.bytes(30)).collect(),
		),
		8 => heartbeat_random(rng),
		9 => NodeRegistry::unregister(origin(rng)),
		10 => NodeRegistry::withdraw_unbonded(origin(rng)),
		11 => NodeRegistry::ban(origin(rng), rng.pick(&ACCOUNTS)),
		12 => {
			let who = rng.pick(&ACCOUNTS);
			let k = rng.pick(&ACCOUNTS) + 20;
			let proof = pair(k)
				.sign(&pallet_node_registry::key_ownership_payload(
					&genesis(),
					&who,
				))
				.into();
			NodeRegistry::set_inference_key(RuntimeOrigin::signed(who), key(k), proof)
		},
		13 => {
			let mut p = reputation_parameters();
			p.confidence_units = rng.below(40) as u32;
			p.timeout_units = rng.below(3) as u32;
			Reputation::set_parameters(origin(rng), p)
		},
		14 | 15 => ProofOfInference::submit_job(
			origin(rng),
			rng.below(4) as u32,
			prompt(rng),
			rng.below(MAX_TOKENS as u64 + 3) as u32,
			rng.below(MAX_R as u64 + 2) as u8,
			if rng.below(2) == 0 {
				SamplingRequest::Greedy
			} else {
				// Across both bounds of both settings.
				SamplingRequest::Sampled {
					temperature_milli: rng.below(2_003) as u16,
					top_p_ppm: rng.pick(&[0, 1, 950_000, 1_000_000, 1_000_001]),
				}
			},
		),
		16 | 17 => commit_or_reveal(rng),
		18 => ProofOfInference::challenge(
			origin(rng),
			rng.below(NextJobId::<Test>::get().saturating_add(2)),
		),
		_ => {
			let mut p = test_parameters();
			p.base_fee = rng.pick(&[0, BASE_FEE, MAX_BASE_FEE + 1]);
			p.commit_period = rng.below(12);
			p.slash_fraction = sp_runtime::Perbill::from_percent(rng.below(60) as u32);
			// Disputes on (within the mock's retention, or just past it) and automatic audits
			// never, sometimes or always.
			p.challenge_period = rng.pick(&[0, 3, 5, 6]);
			p.audit_rate = sp_runtime::Perbill::from_percent(rng.pick(&[0, 50, 100]));
			ProofOfInference::set_parameters(origin(rng), p)
		},
	}
}

#[test]
fn random_call_sequences_keep_every_invariant() {
	let campaign = Campaign::from_env(200, 1);
	let mut outcomes = [0u64; 2];
	for seed in campaign.seeds() {
		new_test_ext().execute_with(|| {
			let mut rng = Rng::new(seed);
			// Start from a network that can take jobs.
			if rng.chance(80) {
				register_nodes(3 + rng.below(3));
			}
			for i in 0..40 {
				let result = step(&mut rng);
				outcomes[result.is_ok() as usize] += 1;
				if rng.chance(25) {
					run_to(System::block_number() + 1 + rng.below(8));
				}
				if let Err(e) = std::panic::catch_unwind(check) {
					panic!("seed {seed}, step {i}: invariant broken: {e:?}");
				}
			}
		});
	}
	eprintln!(
		"fuzz: {} sequences from seed {}: {} calls accepted, {} rejected",
		campaign.cases, campaign.first_seed, outcomes[1], outcomes[0]
	);
	// The harness must reach the pallets' success paths, not only their rejections.
	assert!(
		outcomes[1] > campaign.cases,
		"only {} of {} calls succeeded",
		outcomes[1],
		outcomes[0] + outcomes[1]
	);
}
