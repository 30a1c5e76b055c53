//! Unit tests of the proof-of-inference pallet, by topic, with shared helpers.
//!
//! The mock runtime uses the real balances, model registry, node registry and reputation
//! pallets, so the tests see what the chain does; `check()` runs every invariant after a test.

mod assignment;
mod authorize;
mod disputes;
mod economics;
mod fuzz;
mod migration;
mod offchain;
mod settle;
mod submit;

use crate::{mock::*, *};
use frame_support::{
	assert_ok,
	pallet_prelude::{TransactionSource, TransactionValidityError},
	traits::{fungible::InspectHold, Authorize, Hooks},
	weights::Weight,
};
use pallet_model_registry::testing::sample_model;
use pallet_node_registry::{Accelerator, Capabilities, Nodes};
use sp_core::{ed25519, Pair};
use sp_runtime::RuntimeAppPublic;

pub fn pair(node: u64) -> ed25519::Pair {
	ed25519::Pair::from_string(&format!("//node{node}"), None).unwrap()
}

pub fn key(node: u64) -> InferenceKey {
	pair(node).public().into()
}

/// The genesis hash every signed statement of the test chain includes.
pub fn genesis() -> Hash256 {
	pallet_node_registry::genesis_hash::<Test>()
}

/// Puts `node`'s inference key in the local keystore (the off-chain worker acts for it).
pub fn make_local(node: u64) {
	let k = InferenceKey::generate_pair(Some(format!("//node{node}").into_bytes()));
	assert_eq!(k, key(node));
}

pub fn caps() -> Capabilities {
	Capabilities {
		cpu_cores: 2,
		ram_mib: 24 * 1024,
		gpu_memory_mib: 0,
		accelerators: vec![Accelerator::Cpu].try_into().unwrap(),
		model_formats: vec![pallet_model_registry::ModelFormat::Gguf]
			.try_into()
			.unwrap(),
		class: sample_model(0).profile.class(),
	}
}

/// Registers `who` serving `models`, with its engine ready for all of them.
pub fn register_serving(who: u64, models: Vec<u32>) {
	let proof = pair(who)
		.sign(&pallet_node_registry::key_ownership_payload(
			&genesis(),
			&who,
		))
		.into();
	assert_ok!(NodeRegistry::register(
		RuntimeOrigin::signed(who),
		caps(),
		models.clone(),
		vec![b"/ip4/127.0.0.1/tcp/30333".to_vec()],
		key(who),
		proof,
		MIN_BOND
	));
	make_ready(who, models);
}

/// Lands a heartbeat of `who` declaring `models` ready.
pub fn make_ready(who: u64, models: Vec<u32>) {
	use frame_support::traits::UnfilteredDispatchable;
	let heartbeat = pallet_node_registry::Heartbeat {
		node: who,
		period: NodeRegistry::current_period(),
		ready_models: models.try_into().unwrap(),
	};
	let signature = pair(who)
		.sign(&pallet_node_registry::heartbeat_payload(
			&genesis(),
			&heartbeat,
		))
		.into();
	assert_ok!(pallet_node_registry::Call::<Test>::heartbeat {
		heartbeat,
		signature
	}
	.dispatch_bypass_filter(frame_system::RawOrigin::Authorized.into()));
}

/// Registers nodes `1..=n` serving model 0.
pub fn register_nodes(n: u64) {
	for who in 1..=n {
		register_serving(who, vec![0]);
	}
}

pub const PROMPT: &[u8] = b"Hello, world";

/// `prompt` as a text job's prompt.
pub fn text(prompt: &[u8]) -> JobPrompt {
	JobPrompt::Text(prompt.to_vec())
}

/// A chat job's prompt of one user message.
pub fn chat(message: &[u8]) -> JobPrompt {
	JobPrompt::Chat(vec![ChatTurn {
		role: ChatRole::User,
		content: message.to_vec(),
	}])
}
pub const MAX: u32 = 8;

/// The fee of a job of `PROMPT` with `max_tokens` and `r` assignees.
pub fn fee(max_tokens: u32, r: u8) -> Balance {
	r as Balance * (BASE_FEE + PRICE * (PROMPT.len() as Balance + max_tokens as Balance))
}

/// Submits a job for model 0 from `CLIENT`; returns its id.
pub fn submit(r: u8) -> JobId {
	submit_with(MAX, r)
}

pub fn submit_with(max_tokens: u32, r: u8) -> JobId {
	submit_as(text(PROMPT), max_tokens, r, SamplingRequest::Greedy)
}

/// Submits `PROMPT` as a sampled job (temperature 0.7, top-p 0.95) with `r` assignees.
pub fn submit_sampled(r: u8) -> JobId {
	let sampling = SamplingRequest::Sampled {
		temperature_milli: 700,
		top_p_ppm: 950_000,
	};
	submit_as(text(PROMPT), MAX, r, sampling)
}

/// Submits a job of model 0 as `CLIENT`; its id.
pub fn submit_as(prompt: JobPrompt, max_tokens: u32, r: u8, sampling: SamplingRequest) -> JobId {
	let id = NextJobId::<Test>::get();
	assert_ok!(ProofOfInference::submit_job(
		RuntimeOrigin::signed(CLIENT),
		0,
		prompt,
		max_tokens,
		r,
		sampling
	));
	id
}

pub fn job(id: JobId) -> Job<Test> {
	Jobs::<Test>::get(id).expect("job exists")
}

pub fn assignees(id: JobId) -> Vec<u64> {
	job(id).assignees.iter().map(|a| a.node).collect()
}

pub fn held_fee(who: u64) -> Balance {
	Balances::balance_on_hold(&HoldReason::JobFee.into(), &who)
}

pub fn bond(who: u64) -> Balance {
	Nodes::<Test>::get(who).unwrap().bond
}

pub fn hash(n: u8) -> Hash256 {
	[n; 32]
}

pub fn salt(node: u64) -> Hash256 {
	[(node as u8).wrapping_add(100); 32]
}

pub fn commit_call_with(id: JobId, node: u64, c: Hash256, signer: u64) -> Call<Test> {
	// The digest of the job of this id, if there is one (tests also commit to unknown jobs).
	let job_digest = Jobs::<Test>::get(id)
		.map(|j| j.digest(id))
		.unwrap_or_default();
	let commit = CommitPayload {
		job_id: id,
		job_digest,
		node,
		commitment: c,
	};
	let signature = pair(signer)
		.sign(&commit_payload(&genesis(), &commit))
		.into();
	Call::commit { commit, signature }
}

pub fn commit_call(id: JobId, node: u64, h: Hash256) -> Call<Test> {
	commit_call_with(
		id,
		node,
		inference_primitives::commitment(&h, &salt(node), &node),
		node,
	)
}

pub fn reveal_call_with(id: JobId, node: u64, h: Hash256, s: Hash256, signer: u64) -> Call<Test> {
	let reveal = RevealPayload {
		job_id: id,
		node,
		result_hash: h,
		salt: s,
	};
	let signature = pair(signer)
		.sign(&reveal_payload(&genesis(), &reveal))
		.into();
	Call::reveal { reveal, signature }
}

pub fn reveal_call(id: JobId, node: u64, h: Hash256) -> Call<Test> {
	reveal_call_with(id, node, h, salt(node), node)
}

pub fn authorize(call: &Call<Test>) -> Result<(), TransactionValidityError> {
	RuntimeCall::from(call.clone())
		.authorize(TransactionSource::External)
		.expect("an authorized call")
		.map(|_| ())
}

/// The pool validity of an authorized call from `source`.
pub fn validity(
	call: &Call<Test>,
	source: TransactionSource,
) -> Result<sp_runtime::transaction_validity::ValidTransaction, TransactionValidityError> {
	RuntimeCall::from(call.clone())
		.authorize(source)
		.expect("an authorized call")
		.map(|(v, _)| v)
}

pub fn dispatch_authorized(call: Call<Test>) -> sp_runtime::DispatchResult {
	use frame_support::traits::UnfilteredDispatchable;
	call.dispatch_bypass_filter(frame_system::RawOrigin::Authorized.into())
		.map(|_| ())
		.map_err(|e| e.error)
}

/// Authorizes and dispatches, as block production would.
pub fn submit_authorized(call: Call<Test>) {
	assert_ok!(authorize(&call));
	assert_ok!(dispatch_authorized(call));
}

pub fn commit_as(id: JobId, node: u64, h: Hash256) {
	submit_authorized(commit_call(id, node, h));
}

pub fn reveal_as(id: JobId, node: u64, h: Hash256) {
	submit_authorized(reveal_call(id, node, h));
}

/// Every invariant of this pallet and of the node registry and reputation it drives.
pub fn check() {
	ProofOfInference::do_try_state().expect("proof-of-inference invariants");
	NodeRegistry::do_try_state().expect("node-registry invariants");
	Reputation::do_try_state().expect("reputation invariants");
}

/// Runs `on_initialize` and `on_idle` for every block up to `n`.
pub fn run_to(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		ProofOfInference::on_initialize(next);
		ProofOfInference::on_idle(next, Weight::MAX);
	}
}

pub fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| match r.event {
			RuntimeEvent::ProofOfInference(e) => Some(e),
			_ => None,
		})
		.collect()
}

/// The reputation record of `who` (all counters zero without one).
pub fn record(who: u64) -> pallet_reputation::Record<u64> {
	Reputation::current_record(&who).unwrap_or(pallet_reputation::Record::new(0))
}

pub fn score(who: u64) -> sp_runtime::Perbill {
	<Reputation as pallet_reputation::ReputationInspect<u64>>::score(&who)
}

/// Commits and reveals `h` for every assignee of `id`.
pub fn all_agree(id: JobId, h: Hash256) {
	let nodes = assignees(id);
	for n in &nodes {
		commit_as(id, *n, h);
	}
	for n in &nodes {
		reveal_as(id, *n, h);
	}
}
