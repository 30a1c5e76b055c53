//! The off-chain worker: heartbeats with the engine's readiness.

use super::*;
use codec::Decode;
use sp_core::offchain::{testing, OffchainDbExt, OffchainWorkerExt, TransactionPoolExt};
use std::sync::{Arc, Mutex};

/// Test externalities with an offchain worker, its database, a transaction pool and a fake
/// inference host ready for model 0; and a function that drains the pool.
fn offchain_test_ext() -> (
	sp_io::TestExternalities,
	impl Fn() -> Vec<Vec<u8>>,
	Arc<FakeHost>,
) {
	let mut ext = new_test_ext();
	let (offchain, _) = testing::TestOffchainExt::new();
	let (pool, pool_state) = testing::TestTransactionPoolExt::new();
	ext.register_extension(OffchainWorkerExt::new(offchain.clone()));
	ext.register_extension(OffchainDbExt::new(offchain));
	ext.register_extension(TransactionPoolExt::new(pool));
	let host = Arc::new(FakeHost(Mutex::new(vec![sample_model(0).sha256])));
	ext.register_extension(inference_primitives::InferenceExt::new(host.clone()));
	(
		ext,
		move || std::mem::take(&mut pool_state.write().transactions),
		host,
	)
}

fn decode_heartbeat(tx: &[u8]) -> Call<Test> {
	let xt = Extrinsic::decode(&mut &tx[..]).unwrap();
	assert!(matches!(
		xt.preamble,
		sp_runtime::generic::Preamble::General(..)
	));
	let RuntimeCall::NodeRegistry(call) = xt.function else {
		panic!("not a heartbeat")
	};
	call
}

#[test]
fn offchain_worker_reports_readiness_then_one_heartbeat_per_period() {
	let (mut ext, take_txs, _host) = offchain_test_ext();
	ext.execute_with(|| {
		let k = register(1, MIN_BOND);
		// Alive in period 0 through registration, but not yet known to be ready: the worker
		// reports its engine's readiness at once.
		NodeRegistry::offchain_worker(1);
		// A second worker in the same block does not send again.
		NodeRegistry::offchain_worker(1);
		let txs = take_txs();
		assert_eq!(txs.len(), 1);
		let call = decode_heartbeat(&txs[0]);
		let Call::heartbeat {
			heartbeat,
			signature,
		} = &call
		else {
			panic!("not a heartbeat")
		};
		assert_eq!(heartbeat.ready_models.to_vec(), vec![0]);
		assert!(k.verify(
			&heartbeat_payload(&genesis_hash::<Test>(), heartbeat),
			signature
		));
		land(call);
		assert_eq!(candidates(0), vec![1]);
		// Landed: later workers in the period stay quiet, even after the resend delay.
		run_to(8);
		NodeRegistry::offchain_worker(8);
		assert!(take_txs().is_empty());
		// Next period: a new heartbeat.
		run_to(PERIOD + 1);
		NodeRegistry::offchain_worker(PERIOD + 1);
		let txs = take_txs();
		assert_eq!(txs.len(), 1);
		let call = decode_heartbeat(&txs[0]);
		land(call);
		assert_eq!(Nodes::<Test>::get(1).unwrap().last_alive, 1);
	});
}

/// L-4: a node whose engine is not ready (no model, `--no-inference`) is not assigned.
#[test]
fn offchain_worker_reports_an_engine_that_is_not_ready() {
	let (mut ext, take_txs, host) = offchain_test_ext();
	ext.execute_with(|| {
		host.0.lock().unwrap().clear();
		register(1, MIN_BOND);
		// Nothing new to say in period 0 (already alive, nothing ready).
		NodeRegistry::offchain_worker(1);
		assert!(take_txs().is_empty());
		run_to(PERIOD);
		NodeRegistry::offchain_worker(PERIOD);
		let txs = take_txs();
		assert_eq!(txs.len(), 1);
		land(decode_heartbeat(&txs[0]));
		assert!(Nodes::<Test>::get(1).unwrap().ready_models.is_empty());
		assert!(candidates(0).is_empty());
		// The model arrives: the next worker says so in the same period.
		host.0.lock().unwrap().push(sample_model(0).sha256);
		NodeRegistry::offchain_worker(PERIOD + 1);
		let txs = take_txs();
		assert_eq!(txs.len(), 1);
		land(decode_heartbeat(&txs[0]));
		assert_eq!(candidates(0), vec![1]);
	});
}

#[test]
fn offchain_worker_resends_when_heartbeat_did_not_land() {
	let (mut ext, take_txs, _host) = offchain_test_ext();
	ext.execute_with(|| {
		register(1, MIN_BOND);
		run_to(PERIOD);
		NodeRegistry::offchain_worker(PERIOD);
		NodeRegistry::offchain_worker(PERIOD + 4);
		assert_eq!(take_txs().len(), 1);
		NodeRegistry::offchain_worker(PERIOD + 5);
		assert_eq!(take_txs().len(), 1);
	});
}

#[test]
fn offchain_worker_ignores_keys_of_unregistered_nodes() {
	let (mut ext, take_txs, _host) = offchain_test_ext();
	ext.execute_with(|| {
		key(7);
		run_to(PERIOD);
		NodeRegistry::offchain_worker(PERIOD);
		assert!(take_txs().is_empty());
	});
}
