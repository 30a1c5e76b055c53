//! Submission: input checks, the fee, the indexes.

use super::*;
use frame_support::assert_noop;
use sp_runtime::{DispatchError, DispatchResult};

#[test]
fn submit_holds_fee_and_assigns_distinct_nodes() {
	new_test_ext().execute_with(|| {
		register_nodes(5);
		let free = Balances::free_balance(CLIENT);
		let id = submit(3);
		assert_eq!(id, 0);
		assert_eq!(NextJobId::<Test>::get(), 1);
		assert_eq!(held_fee(CLIENT), fee(MAX, 3));
		assert_eq!(Balances::free_balance(CLIENT), free - fee(MAX, 3));

		let j = job(id);
		let nodes = assignees(id);
		assert_eq!(nodes.len(), 3);
		for (i, n) in nodes.iter().enumerate() {
			assert!((1..=5).contains(n));
			assert!(!nodes[..i].contains(n), "assignees repeat");
			assert_eq!(ProofOfInference::pending_jobs(n), vec![id]);
		}
		let model = sample_model(0);
		assert_eq!(j.owner, CLIENT);
		assert_eq!(j.model_sha256, model.sha256);
		assert_eq!(j.profile.n_ctx, model.profile.n_ctx);
		assert_eq!(j.profile.n_batch, model.profile.n_batch);
		assert_eq!(j.class, model.profile.class());
		assert_eq!(j.prompt.to_vec(), PROMPT.to_vec());
		assert_eq!(j.base_fee, 3 * BASE_FEE);
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
				fee: fee(MAX, 3),
			})
		);
		check();
	});
}

/// H-1: the fee grows with R × (prompt bytes + max tokens): every assignee processes both.
#[test]
fn fee_follows_the_work_of_all_assignees() {
	new_test_ext().execute_with(|| {
		register_nodes(5);
		let per_node =
			|prompt: usize, max: u32| BASE_FEE + PRICE * (prompt as Balance + max as Balance);
		let cases: [(usize, u32, u8); 4] = [(12, 8, 1), (12, 8, 3), (60, 8, 3), (12, 30, 5)];
		for (prompt, max, r) in cases {
			let before = held_fee(CLIENT);
			assert_ok!(ProofOfInference::submit_job(
				RuntimeOrigin::signed(CLIENT),
				0,
				JobPrompt::Text(vec![b'a'; prompt]),
				max,
				r,
				SamplingRequest::Greedy
			));
			assert_eq!(
				held_fee(CLIENT) - before,
				r as Balance * per_node(prompt, max)
			);
			assert_eq!(
				ProofOfInference::job_fee(prompt as u32, max, r),
				Some((
					r as Balance * per_node(prompt, max),
					r as Balance * BASE_FEE
				))
			);
		}
		check();
	});
}

#[test]
fn submit_rejects_bad_input_without_state_change() {
	new_test_ext().execute_with(|| {
		register_nodes(3);
		let call = |model: u32, prompt: JobPrompt, max: u32, r: u8| {
			ProofOfInference::submit_job(
				RuntimeOrigin::signed(CLIENT),
				model,
				prompt,
				max,
				r,
				SamplingRequest::Greedy,
			)
		};
		assert_noop!(call(99, text(PROMPT), MAX, 3), Error::<Test>::UnknownModel);
		assert_ok!(ModelRegistry::deprecate_model(RuntimeOrigin::root(), 1));
		assert_noop!(call(1, text(PROMPT), MAX, 3), Error::<Test>::ModelNotActive);
		assert_noop!(call(0, text(b""), MAX, 3), Error::<Test>::EmptyPrompt);
		assert_noop!(
			call(
				0,
				JobPrompt::Text(vec![b'a'; MAX_PROMPT as usize + 1]),
				MAX,
				3
			),
			Error::<Test>::PromptTooLong
		);
		assert_noop!(
			call(0, text(&[0xff, 0xfe, b'a']), MAX, 3),
			Error::<Test>::InvalidPrompt
		);
		// Chats: no message, an empty one, one that is not UTF-8, too many, too long once the
		// template allowance is counted.
		assert_noop!(
			call(0, JobPrompt::Chat(vec![]), MAX, 3),
			Error::<Test>::EmptyPrompt
		);
		assert_noop!(call(0, chat(b""), MAX, 3), Error::<Test>::EmptyPrompt);
		assert_noop!(call(0, chat(&[0xc3]), MAX, 3), Error::<Test>::InvalidPrompt);
		let many = vec![
			ChatTurn {
				role: ChatRole::User,
				content: b"hi".to_vec(),
			};
			inference_primitives::MAX_CHAT_TURNS as usize + 1
		];
		// The length is checked first (it bounds the other checks' work): 17 messages are too
		// long for this mock's 64-byte bound before they are too many (the turn count is
		// tested in `inference-primitives`, where the bound does not interfere).
		assert_noop!(
			call(0, JobPrompt::Chat(many), MAX, 3),
			Error::<Test>::PromptTooLong
		);
		let fits_as_text = MAX_PROMPT as usize - 8;
		assert_ok!(JobPrompt::Text(vec![b'a'; fits_as_text]).validate());
		assert_noop!(
			call(0, chat(&vec![b'a'; fits_as_text]), MAX, 3),
			Error::<Test>::PromptTooLong
		);
		assert_noop!(call(0, text(PROMPT), 0, 3), Error::<Test>::InvalidMaxTokens);
		assert_noop!(
			call(0, text(PROMPT), MAX_TOKENS + 1, 3),
			Error::<Test>::InvalidMaxTokens
		);
		assert_noop!(
			call(0, text(PROMPT), MAX, 0),
			Error::<Test>::InvalidReplication
		);
		assert_noop!(
			call(0, text(PROMPT), MAX, MAX_R as u8 + 1),
			Error::<Test>::InvalidReplication
		);
		// Model 2's context cannot hold MAX_PROMPT + 1 + max_tokens.
		assert_noop!(call(2, text(PROMPT), 1, 1), Error::<Test>::ContextOverflow);
		assert_noop!(call(0, text(PROMPT), MAX, 4), Error::<Test>::NotEnoughNodes);
		assert_noop!(
			ProofOfInference::submit_job(
				RuntimeOrigin::signed(POOR),
				0,
				text(PROMPT),
				MAX,
				3,
				SamplingRequest::Greedy
			),
			Error::<Test>::InsufficientBalance
		);
		assert_noop!(
			ProofOfInference::submit_job(
				RuntimeOrigin::none(),
				0,
				text(PROMPT),
				MAX,
				3,
				SamplingRequest::Greedy
			),
			DispatchError::BadOrigin
		);
		// The limits themselves are accepted.
		assert_ok!(call(
			0,
			JobPrompt::Text(vec![b'a'; MAX_PROMPT as usize]),
			MAX_TOKENS,
			3
		));
		check();
	});
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
			ProofOfInference::submit_job(
				RuntimeOrigin::signed(CLIENT),
				0,
				text(PROMPT),
				MAX,
				1,
				SamplingRequest::Greedy
			),
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
			ProofOfInference::submit_job(
				RuntimeOrigin::signed(CLIENT),
				0,
				text(PROMPT),
				MAX,
				1,
				SamplingRequest::Greedy
			),
			Error::<Test>::TooManyJobs
		);
		// The next block has its own bucket.
		run_to(2);
		submit(1);
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
		assert_eq!(view.digest, job(id).digest(id));
		assert_eq!(view.owner, CLIENT);
		assert_eq!(view.model, 0);
		assert_eq!(view.model_sha256, sample_model(0).sha256);
		assert_eq!(view.prompt, PROMPT.to_vec());
		assert_eq!(view.max_tokens, MAX);
		assert_eq!(view.replication, 3);
		assert_eq!(view.fee, fee(MAX, 3));
		assert_eq!(view.base_fee, 3 * BASE_FEE);
		assert_eq!(view.status, JobState::Pending);
		assert_eq!(view.commit_deadline, 1 + COMMIT_PERIOD);
		assert_eq!(view.reveal_deadline, 1 + COMMIT_PERIOD + REVEAL_PERIOD);
		assert_eq!(view.settled_at, None);
		assert_eq!(view.assignees.len(), 3);
		assert_eq!(view.assignees[0].node, nodes[0]);
		assert_eq!(
			view.assignees[0].commitment,
			Some(inference_primitives::commitment(
				&hash(1),
				&salt(nodes[0]),
				&nodes[0]
			))
		);
		assert_eq!(view.assignees[0].revealed, None);
		assert_eq!(view.assignees[1].commitment, None);
		assert_eq!(ProofOfInference::pending_jobs(&nodes[1]), vec![id]);
		assert!(ProofOfInference::pending_jobs(&99).is_empty());
		assert!(ProofOfInference::job_view(id + 1).is_none());
	});
}

/// M-1: the digest covers everything that defines the work, so a job id reused on another fork
/// with another prompt has another digest.
#[test]
fn job_digest_changes_with_the_content() {
	new_test_ext().execute_with(|| {
		register_nodes(3);
		let id = submit(3);
		let original = job(id).digest(id);
		let mut other = job(id);
		other.prompt = b"Another prompt".to_vec().try_into().unwrap();
		assert_ne!(other.digest(id), original);
		let mut later = job(id);
		later.submitted_at += 1;
		assert_ne!(later.digest(id), original);
		let mut owner = job(id);
		owner.owner = POOR;
		assert_ne!(owner.digest(id), original);
		assert_ne!(job(id).digest(id + 1), original);
	});
}

fn submit_sampled(temperature_milli: u16, top_p_ppm: u32) -> DispatchResult {
	ProofOfInference::submit_job(
		RuntimeOrigin::signed(CLIENT),
		0,
		text(PROMPT),
		MAX,
		3,
		SamplingRequest::Sampled {
			temperature_milli,
			top_p_ppm,
		},
	)
}

/// A sampled job keeps its settings and gets the seed the chain derived at assignment, which
/// its digest (what nodes key their results by) covers.
#[test]
fn a_sampled_job_gets_the_chain_s_seed() {
	new_test_ext().execute_with(|| {
		register_nodes(5);
		let greedy = submit(3);
		assert_eq!(job(greedy).sampling, JobSampling::Greedy);
		let id = NextJobId::<Test>::get();
		assert_ok!(submit_sampled(700, 950_000));
		let seed = ProofOfInference::sampling_seed(id);
		assert_eq!(
			job(id).sampling,
			JobSampling::Sampled {
				temperature_milli: 700,
				top_p_ppm: 950_000,
				seed,
			}
		);
		// The seed is job-specific: the next job in the same block draws another one.
		assert_ne!(seed, ProofOfInference::sampling_seed(id + 1));
		// Everything but the sampling equal: the digest still tells the jobs apart.
		let mut as_greedy = job(id);
		as_greedy.sampling = JobSampling::Greedy;
		assert_ne!(as_greedy.digest(id), job(id).digest(id));
		// The runtime API shows it.
		assert_eq!(
			ProofOfInference::job_view(id).map(|v| v.sampling),
			Some(job(id).sampling)
		);
		check();
	});
}

/// Settings out of range are refused before anything is held or assigned.
#[test]
fn sampling_settings_out_of_range_are_refused() {
	new_test_ext().execute_with(|| {
		register_nodes(5);
		let free = Balances::free_balance(CLIENT);
		for (t, p) in [(0, 950_000), (2_001, 950_000), (700, 0), (700, 1_000_001)] {
			assert_noop!(submit_sampled(t, p), Error::<Test>::InvalidSampling);
		}
		assert_eq!(Balances::free_balance(CLIENT), free);
		// The bounds themselves are accepted.
		assert_ok!(submit_sampled(1, 1));
		assert_ok!(submit_sampled(2_000, 1_000_000));
		check();
	});
}

/// A chat job stores its messages with the template hash of the model's whitelist entry, is
/// charged the template allowance, and its digest differs from the same text sent raw; a model
/// whose entry records no template takes no chat.
#[test]
fn chat_jobs_carry_their_template_and_pay_for_it() {
	use inference_primitives::CHAT_TURN_ALLOWANCE;
	new_test_ext().execute_with(|| {
		register_nodes(3);
		let raw = submit_as(text(PROMPT), MAX, 3, SamplingRequest::Greedy);
		let messages = chat(PROMPT);
		let asked = submit_as(messages.clone(), MAX, 3, SamplingRequest::Greedy);
		let (raw, asked) = (job(raw), job(asked));
		let template = <ModelRegistry as pallet_model_registry::ModelInspect>::job_spec(0)
			.unwrap()
			.profile
			.chat_template
			.unwrap();
		assert_eq!(
			asked.format,
			PromptFormat::Chat {
				template_sha256: template
			}
		);
		assert_eq!(raw.format, PromptFormat::Text);
		assert_eq!(
			JobPrompt::from_stored(&asked.format, &asked.prompt),
			Some(messages.clone())
		);
		assert_ne!(raw.digest(0), asked.digest(1));
		// Charged for the stored bytes and two turns of allowance (the message and the
		// assistant's opened turn).
		let billed = messages.billed_len();
		assert_eq!(billed, asked.prompt.len() as u32 + 2 * CHAT_TURN_ALLOWANCE);
		let per_node = |len: u32| BASE_FEE + PRICE * (len as Balance + MAX as Balance);
		assert_eq!(asked.fee, 3 * per_node(billed));
		assert_eq!(raw.fee, 3 * per_node(PROMPT.len() as u32));

		// A model without a template.
		let mut plain = pallet_model_registry::testing::sample_model(77);
		plain.profile.chat_template = None;
		let id = pallet_model_registry::NextModelId::<Test>::get();
		assert_ok!(ModelRegistry::whitelist_model(
			RuntimeOrigin::root(),
			Box::new(plain)
		));
		assert_noop!(
			ProofOfInference::submit_job(
				RuntimeOrigin::signed(CLIENT),
				id,
				chat(PROMPT),
				MAX,
				3,
				SamplingRequest::Greedy,
			),
			Error::<Test>::NoChatTemplate
		);
		check();
	});
}
