//! The runtime as configured, on the genesis of its presets: the settings the presets carry,
//! and the audit's governance attack (C-1) played against the real pallets.
//!
//! C-1: on the local network the electorate is three established nodes with 1 000 COG bonds.
//! Two fresh accounts register nodes with 10 000 COG each and try to pass a root referendum
//! that mints them money, and to pass something on every track on their own. Before the fix a
//! fresh node voted at once with half weight times ten units and the root track decided in
//! minutes; now a node without verified work has no weight, a node younger than the voting age
//! cannot vote in a poll, and root needs a fixed half of the electorate.

mod common;

use codec::Encode;
use cognitive_runtime::{
	genesis_config_presets as presets, governance, AccountId, Balance, Balances, Governance,
	NodeRegistry, OriginCaller, ProofOfInference, Referenda, Runtime, RuntimeCall, RuntimeOrigin,
	System, UNIT,
};
use common::ext;
use frame_support::traits::{
	schedule::DispatchTime, OnInitialize, StorePreimage, UnfilteredDispatchable,
};
use pallet_governance::Vote;
use pallet_node_registry::{genesis_hash, InferenceSignature};
use serde_json::Value;
use sp_core::Pair;
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

/// Runs the hooks that matter here (referenda alarms through the scheduler, liveness, job
/// deadlines) up to block `n`.
fn run_to(n: u32) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		<(
			cognitive_runtime::Scheduler,
			Referenda,
			NodeRegistry,
			ProofOfInference,
		)>::on_initialize(next);
	}
}

fn authorized(call: RuntimeCall) {
	call.dispatch_bypass_filter(frame_system::RawOrigin::Authorized.into())
		.unwrap();
}

/// A heartbeat of `who` declaring model 0 ready.
fn make_ready(who: &AccountId, key: Ed25519Keyring) {
	authorized(heartbeat_call(who, key));
}

/// Heartbeats for every registered node in this period (as their off-chain workers would
/// send them; a node already alive in the period has nothing new to say).
fn keep_alive() {
	for (who, _) in pallet_node_registry::Nodes::<Runtime>::iter() {
		let _ = heartbeat_call(&who, inference_key(&who))
			.dispatch_bypass_filter(frame_system::RawOrigin::Authorized.into());
	}
}

fn heartbeat_call(who: &AccountId, key: Ed25519Keyring) -> RuntimeCall {
	let heartbeat = pallet_node_registry::Heartbeat {
		node: who.clone(),
		period: NodeRegistry::current_period(),
		ready_models: vec![0].try_into().unwrap(),
	};
	let signature: InferenceSignature = key
		.pair()
		.sign(&pallet_node_registry::heartbeat_payload(
			&genesis_hash::<Runtime>(),
			&heartbeat,
		))
		.into();
	RuntimeCall::NodeRegistry(pallet_node_registry::Call::heartbeat {
		heartbeat,
		signature,
	})
}

/// The ed25519 key of each well-known account that runs a node in these tests.
fn inference_key(who: &AccountId) -> Ed25519Keyring {
	[
		(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
		(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
		(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
		(Sr25519Keyring::Eve, Ed25519Keyring::Eve),
		(Sr25519Keyring::Ferdie, Ed25519Keyring::Ferdie),
	]
	.into_iter()
	.find(|(sr, _)| &sr.to_account_id() == who)
	.map(|(_, ed)| ed)
	.unwrap()
}

/// Dave submits an R = 3 job; its assignees all commit and reveal the same hash.
fn verified_job() {
	keep_alive();
	let id = pallet_proof_of_inference::NextJobId::<Runtime>::get();
	ProofOfInference::submit_job(
		RuntimeOrigin::signed(Sr25519Keyring::Dave.to_account_id()),
		0,
		pallet_proof_of_inference::JobPrompt::Text(b"What is a validator?".to_vec()),
		32,
		3,
		pallet_proof_of_inference::SamplingRequest::Greedy,
	)
	.unwrap();
	let job = pallet_proof_of_inference::Jobs::<Runtime>::get(id).unwrap();
	let genesis = genesis_hash::<Runtime>();
	let (result, salt) = ([7u8; 32], [9u8; 32]);
	for a in job.assignees.iter() {
		let key = inference_key(&a.node).pair();
		let commit = pallet_proof_of_inference::CommitPayload {
			job_id: id,
			job_digest: job.digest(id),
			node: a.node.clone(),
			commitment: inference_primitives::commitment(&result, &salt, &a.node),
		};
		let signature = key.sign(&pallet_proof_of_inference::commit_payload(
			&genesis, &commit,
		));
		authorized(RuntimeCall::ProofOfInference(
			pallet_proof_of_inference::Call::commit {
				commit,
				signature: signature.into(),
			},
		));
	}
	for a in job.assignees.iter() {
		let key = inference_key(&a.node).pair();
		let reveal = pallet_proof_of_inference::RevealPayload {
			job_id: id,
			node: a.node.clone(),
			result_hash: result,
			salt,
		};
		let signature = key.sign(&pallet_proof_of_inference::reveal_payload(
			&genesis, &reveal,
		));
		authorized(RuntimeCall::ProofOfInference(
			pallet_proof_of_inference::Call::reveal {
				reveal,
				signature: signature.into(),
			},
		));
	}
	assert!(matches!(
		pallet_proof_of_inference::Jobs::<Runtime>::get(id)
			.unwrap()
			.status,
		pallet_proof_of_inference::JobState::Completed { .. }
	));
}

/// Registers `who`'s node with `bond` and its own key, ready for model 0.
fn register_fresh(who: Sr25519Keyring, key: Ed25519Keyring, bond: Balance) {
	let account = who.to_account_id();
	let proof = key
		.pair()
		.sign(&pallet_node_registry::key_ownership_payload(
			&genesis_hash::<Runtime>(),
			&account,
		));
	let class = presets::genesis_models()[0].profile.class();
	NodeRegistry::register(
		RuntimeOrigin::signed(account.clone()),
		pallet_node_registry::Capabilities {
			cpu_cores: 8,
			ram_mib: 16_384,
			gpu_memory_mib: 0,
			accelerators: vec![pallet_node_registry::Accelerator::Cpu]
				.try_into()
				.unwrap(),
			model_formats: vec![pallet_model_registry::ModelFormat::Gguf]
				.try_into()
				.unwrap(),
			class,
		},
		vec![0],
		vec![b"/ip4/10.0.0.9/tcp/30333".to_vec()],
		key.public().into(),
		proof.into(),
		bond,
	)
	.unwrap();
	make_ready(&account, key);
}

/// Submits a referendum for `call` on `origin`'s track from `who`, with its decision deposit.
fn propose(who: &AccountId, origin: OriginCaller, call: RuntimeCall) -> u32 {
	let index = pallet_referenda::ReferendumCount::<Runtime>::get();
	Referenda::submit(
		RuntimeOrigin::signed(who.clone()),
		Box::new(origin),
		<pallet_preimage::Pallet<Runtime> as StorePreimage>::bound(call).unwrap(),
		DispatchTime::After(0),
	)
	.unwrap();
	Referenda::place_decision_deposit(RuntimeOrigin::signed(who.clone()), index).unwrap();
	index
}

fn approved(index: u32) -> bool {
	matches!(
		pallet_referenda::ReferendumInfoFor::<Runtime>::get(index),
		Some(pallet_referenda::ReferendumInfo::Approved(..))
	)
}

fn vote(who: &AccountId, poll: u32, v: Vote) -> sp_runtime::DispatchResult {
	Governance::vote(RuntimeOrigin::signed(who.clone()), poll, v)
		.map(|_| ())
		.map_err(|e| e.error)
}

/// Makes the three genesis validators ready (heartbeat, served model), gives each verified
/// work through three settled jobs and moves past the voting age; returns their accounts.
fn establish_genesis_validators() -> Vec<AccountId> {
	let honest: Vec<AccountId> = [
		Sr25519Keyring::Alice,
		Sr25519Keyring::Bob,
		Sr25519Keyring::Charlie,
	]
	.iter()
	.map(|k| k.to_account_id())
	.collect();
	for who in &honest {
		make_ready(who, inference_key(who));
	}
	for _ in 0..3 {
		verified_job();
	}
	run_to(20);
	honest
}

#[test]
fn c1_fresh_capital_cannot_pass_root_or_any_track() {
	ext(presets::local_testnet_genesis()).execute_with(|| {
		// The established nodes have verified work.
		let honest = establish_genesis_validators();
		// The attack: two fresh nodes with ten times the bond each.
		let eve = Sr25519Keyring::Eve.to_account_id();
		let ferdie = Sr25519Keyring::Ferdie.to_account_id();
		keep_alive();
		register_fresh(Sr25519Keyring::Eve, Ed25519Keyring::Eve, 10_000 * UNIT);
		register_fresh(
			Sr25519Keyring::Ferdie,
			Ed25519Keyring::Ferdie,
			10_000 * UNIT,
		);
		// A bond ten times the minimum buys no weight: weight comes only from verified work.
		assert_eq!(NodeRegistry::voting_units(&eve), Some(1));
		assert_eq!(Governance::vote_weight(&eve), Some(0));
		let mint = RuntimeCall::Balances(pallet_balances::Call::force_set_balance {
			who: eve.clone().into(),
			new_free: 1_000_000_000 * UNIT,
		});
		// The attack opens a poll on every track at once: root mints, the others deprecate the
		// model, raise the slash, rewrite the reputation formula and ban an honest node.
		let origins = [
			(OriginCaller::system(frame_system::RawOrigin::Root), mint),
			(
				OriginCaller::Governance(pallet_governance::Origin::ModelWhitelist),
				RuntimeCall::ModelRegistry(pallet_model_registry::Call::deprecate_model { id: 0 }),
			),
			(
				OriginCaller::Governance(pallet_governance::Origin::NetworkParameters),
				RuntimeCall::ProofOfInference(pallet_proof_of_inference::Call::set_parameters {
					parameters: pallet_proof_of_inference::Parameters {
						slash_fraction: sp_runtime::Perbill::from_percent(50),
						..pallet_proof_of_inference::Params::<Runtime>::get()
					},
				}),
			),
			(
				OriginCaller::Governance(pallet_governance::Origin::ReputationFormula),
				RuntimeCall::Reputation(pallet_reputation::Call::set_parameters {
					parameters: pallet_reputation::FormulaParameters {
						confidence_units: 1,
						..pallet_reputation::Parameters::<Runtime>::get()
					},
				}),
			),
			(
				OriginCaller::Governance(pallet_governance::Origin::Emergency),
				RuntimeCall::NodeRegistry(pallet_node_registry::Call::ban {
					node: honest[0].clone(),
				}),
			),
		];
		let mut polls = Vec::new();
		for (origin, call) in origins {
			polls.push(propose(&ferdie, origin, call));
		}
		let root = polls[0];
		// No verified work: no weight.
		for poll in &polls {
			for attacker in [&eve, &ferdie] {
				assert_eq!(
					vote(attacker, *poll, Vote::Aye),
					Err(pallet_governance::Error::<Runtime>::NoVotingWeight.into())
				);
			}
		}
		// The honest electorate votes against the mint; it does not vote on the rest, so the
		// attackers would be alone there.
		for who in &honest {
			vote(who, root, Vote::Nay).unwrap();
		}
		// The attackers earn evidence: jobs now assign them too.
		for _ in 0..8 {
			verified_job();
		}
		assert!(
			pallet_reputation::Pallet::<Runtime>::score_of(&eve).is_some()
				|| pallet_reputation::Pallet::<Runtime>::score_of(&ferdie).is_some()
		);
		// With reputation, they are still too young for polls opened before they matured.
		for poll in &polls {
			for attacker in [&eve, &ferdie] {
				let result = vote(attacker, *poll, Vote::Aye);
				assert!(
					result == Err(pallet_governance::Error::<Runtime>::NoVotingWeight.into())
						|| result == Err(pallet_governance::Error::<Runtime>::TooYoung.into()),
					"attacker voted: {result:?}"
				);
			}
		}
		run_to(System::block_number() + 80);
		for poll in polls {
			assert!(!approved(poll), "referendum {poll} passed");
		}
		// The mint never ran: Eve holds less than she started with (the deposits).
		assert!(Balances::free_balance(&eve) < presets::ENDOWMENT);
		assert!(pallet_node_registry::Nodes::<Runtime>::contains_key(
			&honest[0]
		));
		assert_eq!(
			pallet_model_registry::Models::<Runtime>::get(0)
				.unwrap()
				.status,
			pallet_model_registry::ModelStatus::Active
		);
	});
}

/// The established nodes alone still govern: the fix does not lock the honest electorate out.
#[test]
fn established_nodes_pass_a_root_referendum() {
	ext(presets::local_testnet_genesis()).execute_with(|| {
		let honest = establish_genesis_validators();
		let call = RuntimeCall::System(frame_system::Call::remark_with_event {
			remark: b"ok".to_vec(),
		});
		let root = propose(
			&honest[0],
			OriginCaller::system(frame_system::RawOrigin::Root),
			call,
		);
		run_to(System::block_number() + 3);
		for who in &honest {
			vote(who, root, Vote::Aye).unwrap();
		}
		run_to(System::block_number() + 20);
		assert!(approved(root));
	});
}

#[test]
fn presets_carry_their_settings() {
	for (preset, tracks, min_age) in [
		(
			presets::development_genesis(),
			governance::test_tracks(),
			cognitive_runtime::MINUTES,
		),
		(
			presets::local_testnet_genesis(),
			governance::test_tracks(),
			cognitive_runtime::MINUTES,
		),
		(
			presets::prototype_genesis(),
			governance::prototype_tracks(),
			7 * cognitive_runtime::DAYS,
		),
	] {
		ext(preset).execute_with(|| {
			assert_eq!(
				pallet_governance::TrackSpecs::<Runtime>::get().into_inner(),
				tracks
			);
			assert_eq!(
				pallet_governance::Rules::<Runtime>::get().min_voting_age,
				min_age
			);
			use pallet_referenda::TracksInfo;
			let root = governance::Tracks::info(governance::track::ROOT).unwrap();
			assert_eq!(root.decision_period, tracks[0].decision_period);
			assert_eq!(pallet_model_registry::Models::<Runtime>::count(), 1);
		});
	}
	// Both sets are valid; the prototype's root and emergency tracks are day-scale.
	for set in [governance::test_tracks(), governance::prototype_tracks()] {
		assert!(Governance::validate_tracks(set.clone()).is_ok());
		assert_eq!(
			set.iter().map(|t| t.id).collect::<Vec<_>>(),
			[0, 1, 2, 3, 4]
		);
	}
	let p = governance::prototype_tracks();
	let day = cognitive_runtime::DAYS;
	assert!(p[0].decision_period >= 7 * day && p[0].confirm_period >= day);
	assert!(p[4].decision_period >= day && p[4].confirm_period >= day);
	assert_eq!(p[0].min_support.floor, p[0].min_support.ceil);
}

/// One source for the models' facts: the file the scripts and JavaScript tests read is the one
/// compiled into the presets, and its profile names the engine this node is built with.
#[test]
fn models_file_is_the_genesis_whitelist() {
	let file: Value =
		serde_json::from_str(include_str!("../models.json")).expect("runtime/models.json parses");
	let known = presets::known_models();
	assert_eq!(known.len(), file["models"].as_array().unwrap().len());
	for (_, model) in &known {
		assert_eq!(model.validate(), Ok(()));
		assert_eq!(
			model.profile.engine_version.to_vec(),
			b"llama-cpp-2 0.1.160".to_vec()
		);
	}
	let genesis = presets::genesis_models();
	assert_eq!(genesis.len(), 1);
	assert_eq!(
		genesis[0].name.to_vec(),
		b"SmolLM2-135M-Instruct-Q4_1".to_vec()
	);
	assert_eq!(
		hex_of(&genesis[0].sha256),
		file["models"][0]["sha256"].as_str().unwrap()
	);
	let _ = genesis[0].encode();
}

fn hex_of(bytes: &[u8]) -> String {
	bytes.iter().map(|b| format!("{b:02x}")).collect()
}
