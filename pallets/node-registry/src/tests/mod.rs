//! Unit tests of the node registry, by topic, with shared helpers.

mod genesis;
mod keys;
mod leaving;
mod liveness;
mod offchain;
mod ratings;
mod register;

use crate::{mock::*, *};
use frame_support::{
	assert_ok,
	pallet_prelude::{TransactionSource, TransactionValidityError},
	traits::{fungible::InspectHold, Authorize, Hooks},
};
use pallet_model_registry::{testing::sample_model, DeterminismClass, ModelId};
use sp_runtime::RuntimeAppPublic;

/// The inference key of node `seed`, generated into the test keystore.
pub fn key(seed: u64) -> InferenceKey {
	InferenceKey::generate_pair(Some(format!("//node{seed}").into_bytes()))
}

/// `key`'s proof that `who` may register it on the test chain.
pub fn proof(key: &InferenceKey, who: u64) -> InferenceSignature {
	key.sign(&key_ownership_payload(&genesis_hash::<Test>(), &who))
		.unwrap()
}

/// The class of the sample models.
pub fn class() -> DeterminismClass {
	sample_model(0).profile.class()
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
		class: class(),
	}
}

pub fn endpoint() -> Vec<Vec<u8>> {
	vec![b"/ip4/127.0.0.1/tcp/30333".to_vec()]
}

/// `register` with everything but the account, models, key and bond at their usual values.
pub fn register_with(
	who: u64,
	models: Vec<ModelId>,
	k: InferenceKey,
	bond: Balance,
) -> sp_runtime::DispatchResult {
	let p = proof(&k, who);
	NodeRegistry::register(
		RuntimeOrigin::signed(who),
		caps(),
		models,
		endpoint(),
		k,
		p,
		bond,
	)
}

/// Registers `who` serving model 0 with its own key and `bond`.
pub fn register(who: u64, bond: Balance) -> InferenceKey {
	let k = key(who);
	assert_ok!(register_with(who, vec![0], k.clone(), bond));
	k
}

pub fn held(who: u64) -> Balance {
	Balances::balance_on_hold(&HoldReason::NodeBond.into(), &who)
}

pub fn check() {
	NodeRegistry::do_try_state().expect("node registry invariants");
}

pub fn signed_heartbeat_ready(
	who: u64,
	k: &InferenceKey,
	period: PeriodIndex,
	ready: Vec<ModelId>,
) -> Call<Test> {
	let heartbeat = Heartbeat {
		node: who,
		period,
		ready_models: ready.try_into().unwrap(),
	};
	let signature = k
		.sign(&heartbeat_payload(&genesis_hash::<Test>(), &heartbeat))
		.unwrap();
	Call::heartbeat {
		heartbeat,
		signature,
	}
}

pub fn signed_heartbeat(who: u64, k: &InferenceKey, period: PeriodIndex) -> Call<Test> {
	signed_heartbeat_ready(who, k, period, vec![])
}

pub fn authorize(call: &Call<Test>) -> Result<(), TransactionValidityError> {
	RuntimeCall::from(call.clone())
		.authorize(TransactionSource::External)
		.expect("heartbeat is an authorized call")
		.map(|_| ())
}

pub fn dispatch_authorized(call: Call<Test>) -> sp_runtime::DispatchResult {
	use frame_support::traits::UnfilteredDispatchable;
	call.dispatch_bypass_filter(frame_system::RawOrigin::Authorized.into())
		.map(|_| ())
		.map_err(|e| e.error)
}

/// Authorizes and dispatches, as block production would.
pub fn land(call: Call<Test>) {
	assert_ok!(authorize(&call));
	assert_ok!(dispatch_authorized(call));
}

/// Runs `on_initialize` for every block up to `n`.
pub fn run_to(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		NodeRegistry::on_initialize(next);
	}
}

pub fn reports() -> Vec<(u64, &'static str)> {
	REPORTS.with(|r| r.borrow().clone())
}

pub fn candidates(model: ModelId) -> Vec<u64> {
	let mut c = <NodeRegistry as NodeInspect<u64>>::candidates(model, &class());
	c.sort();
	c
}
