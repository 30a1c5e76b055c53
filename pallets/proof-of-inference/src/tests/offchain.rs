//! The off-chain worker against a fake inference host.

use super::*;
use codec::{Decode, Encode};
use inference_primitives::{
	commitment, result_hash, HostJobStatus, InferenceExt, InferenceHost, JobFailure, JobOutput,
	JobRequest,
};
use sp_core::offchain::{testing, OffchainDbExt, OffchainWorkerExt, TransactionPoolExt};
use sp_runtime::offchain::storage::StorageValueRef;
use std::{
	collections::HashMap,
	sync::{
		atomic::{AtomicU32, Ordering},
		Arc, Mutex,
	},
};

/// A fake inference engine: a job is queued on its first poll and done from the `ready_at`-th;
/// or, with `failure`, failed at once.
struct FakeHost {
	ready_at: u32,
	available: bool,
	failure: Option<JobFailure>,
	polls: Mutex<HashMap<Hash256, u32>>,
	requests: Mutex<Vec<JobRequest>>,
	released: Mutex<Vec<Hash256>>,
}

impl FakeHost {
	fn new(ready_at: u32) -> Arc<Self> {
		Arc::new(Self {
			ready_at,
			available: true,
			failure: None,
			polls: Mutex::new(HashMap::new()),
			requests: Mutex::new(Vec::new()),
			released: Mutex::new(Vec::new()),
		})
	}
	fn failing(failure: JobFailure) -> Arc<Self> {
		Arc::new(Self {
			failure: Some(failure),
			..Arc::into_inner(Self::new(1)).unwrap()
		})
	}
	fn polls(&self, digest: &Hash256) -> u32 {
		self.polls.lock().unwrap().get(digest).copied().unwrap_or(0)
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
	fn poll_job(&self, request: JobRequest) -> HostJobStatus {
		if !self.available {
			return HostJobStatus::Unavailable;
		}
		self.requests.lock().unwrap().push(request.clone());
		let mut polls = self.polls.lock().unwrap();
		let n = polls.entry(request.job_digest).or_default();
		*n += 1;
		if let Some(failure) = &self.failure {
			return HostJobStatus::Failed(failure.clone());
		}
		if *n >= self.ready_at {
			HostJobStatus::Done(Self::output(&request))
		} else {
			HostJobStatus::Queued
		}
	}
	fn release_job(&self, digest: Hash256) {
		self.released.lock().unwrap().push(digest);
	}
	fn ready_for(&self, _: Sha256, _: inference_primitives::EngineClass) -> bool {
		self.available
	}
}

/// A transaction pool that refuses the next `refusals` submissions, as the node's pool does
/// while it has not yet built its view of the block the worker runs on (it then checks against
/// the parent block, where a reveal after the last commit is premature).
struct LaggingPool {
	inner: testing::TestTransactionPoolExt,
	refusals: Arc<AtomicU32>,
}

impl sp_core::offchain::TransactionPool for LaggingPool {
	fn submit_transaction(&mut self, extrinsic: Vec<u8>) -> Result<(), ()> {
		if self
			.refusals
			.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
			.is_ok()
		{
			return Err(());
		}
		self.inner.submit_transaction(extrinsic)
	}
}

/// Test externalities with an off-chain worker, its database, a transaction pool and `host`
/// (if any), and a function that drains the transactions submitted so far.
fn offchain_test_ext(
	host: Option<Arc<FakeHost>>,
) -> (sp_io::TestExternalities, impl Fn() -> Vec<Call<Test>>) {
	lagging_pool_test_ext(host, Arc::new(AtomicU32::new(0)))
}

/// [`offchain_test_ext`] with a pool that refuses as many submissions as `refusals` holds.
fn lagging_pool_test_ext(
	host: Option<Arc<FakeHost>>,
	refusals: Arc<AtomicU32>,
) -> (sp_io::TestExternalities, impl Fn() -> Vec<Call<Test>>) {
	let mut ext = new_test_ext();
	let (offchain, state) = testing::TestOffchainExt::new();
	state.write().seed = [42; 32];
	state.write().timestamp = sp_core::offchain::Timestamp::from_unix_millis(1_000_000);
	let (inner, pool_state) = testing::TestTransactionPoolExt::new();
	ext.register_extension(OffchainWorkerExt::new(offchain.clone()));
	ext.register_extension(OffchainDbExt::new(offchain));
	ext.register_extension(TransactionPoolExt::new(LaggingPool { inner, refusals }));
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

fn digest(id: JobId) -> Hash256 {
	job(id).digest(id)
}

fn local_result(id: JobId, node: u64) -> Option<LocalResult> {
	StorageValueRef::persistent(&result_key(&digest(id), &node))
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
		let d = digest(id);
		// Block 1: the engine queues the job, with its digest, class and deadline; the worker
		// waits for it in the same run (the engine finishes at its second poll), stores the
		// result, releases the job and commits at once, without waiting for block 2.
		ProofOfInference::offchain_worker(1);
		let request = host.requests.lock().unwrap()[0].clone();
		assert_eq!(request.job_id, id);
		assert_eq!(request.job_digest, d);
		assert_eq!(
			request.class.engine_version,
			b"llama-cpp-2 0.1.160".to_vec()
		);
		// H-4: the host learns when the result stops mattering (the commit deadline).
		assert_eq!(request.expires_at_ms, 1_000_000 + COMMIT_PERIOD * 6_000);
		assert_eq!(host.polls(&d), 2);
		assert_eq!(*host.released.lock().unwrap(), vec![d]);
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
		assert_eq!(output.job_digest, d);
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
		assert!(key(1).verify(&commit_payload(&genesis(), commit), signature));
		submit_authorized(txs[0].clone());

		// The other assignees commit the same result.
		for n in nodes.iter().filter(|n| **n != 1) {
			commit_as(id, *n, expected);
		}
		// Everyone committed: the reveal goes out without polling again.
		run_to(2);
		ProofOfInference::offchain_worker(2);
		assert_eq!(host.polls(&d), 2);
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
		run_to(3);
		ProofOfInference::offchain_worker(3);
		assert!(take_txs().is_empty());
		check();
	});
}

/// A sampled job reaches the engine with its settings and the chain's seed: every assignee
/// draws the same tokens.
#[test]
fn a_sampled_job_reaches_the_engine_with_the_chain_s_seed() {
	let host = FakeHost::new(1);
	let (mut ext, _take_txs) = offchain_test_ext(Some(host.clone()));
	ext.execute_with(|| {
		register_nodes(3);
		make_local(1);
		let id = submit_sampled(3);
		ProofOfInference::offchain_worker(1);
		let request = host.requests.lock().unwrap()[0].clone();
		assert_eq!(request.job_digest, digest(id));
		assert_eq!(
			request.sampling,
			JobSampling::Sampled {
				temperature_milli: 700,
				top_p_ppm: 950_000,
				seed: ProofOfInference::sampling_seed(id),
			}
		);
	});
}

#[test]
fn the_worker_waits_for_a_running_job_two_thirds_of_a_block_then_leaves_it_to_the_next_run() {
	// The engine needs more polls than the wait allows.
	let host = FakeHost::new(1_000);
	let (mut ext, take_txs) = offchain_test_ext(Some(host.clone()));
	ext.execute_with(|| {
		let (id, _) = ocw_setup(1);
		let d = digest(id);
		let start = sp_io::offchain::timestamp().unix_millis();
		ProofOfInference::offchain_worker(1);
		// Polled every 100 ms from the start until two thirds of the 6-second block: 41 polls.
		let waited = sp_io::offchain::timestamp().unix_millis() - start;
		assert_eq!(waited, 4_000);
		assert_eq!(host.polls(&d), 41);
		assert!(take_txs().is_empty());
		assert!(local_result(id, 1).is_none());
		// The next block's run goes on polling the same job.
		run_to(2);
		ProofOfInference::offchain_worker(2);
		assert_eq!(host.polls(&d), 82);
		check();
	});
}

#[test]
fn offchain_worker_is_idempotent_and_rate_limited() {
	let host = FakeHost::new(1);
	let (mut ext, take_txs) = offchain_test_ext(Some(host.clone()));
	ext.execute_with(|| {
		let (id, _) = ocw_setup(1);
		let d = digest(id);
		ProofOfInference::offchain_worker(1);
		// An overlapping worker neither polls nor sends again.
		ProofOfInference::offchain_worker(1);
		assert_eq!(host.polls(&d), 1);
		assert_eq!(take_txs().len(), 1);
		run_to(1 + crate::offchain::RESEND_BLOCKS as u64 - 1);
		ProofOfInference::offchain_worker(System::block_number());
		assert!(take_txs().is_empty());
		// The commit did not land: re-sent after RESEND_BLOCKS, with the same commitment.
		let first = local_result(id, 1).unwrap();
		run_to(1 + crate::offchain::RESEND_BLOCKS as u64);
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
		assert_eq!(host.polls(&d), 1);
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
		assert_eq!(host.polls(&d), 1);
		check();
	});
}

/// Commits node 1's result, and the other assignees' same result, so that block 2's worker
/// reveals. Returns the job and node 1's result hash.
fn all_committed(take_txs: &impl Fn() -> Vec<Call<Test>>) -> (JobId, Hash256) {
	let (id, nodes) = ocw_setup(1);
	ProofOfInference::offchain_worker(1);
	let expected = local_result(id, 1).unwrap().result_hash;
	let txs = take_txs();
	assert!(matches!(txs[..], [Call::commit { .. }]));
	submit_authorized(txs[0].clone());
	for n in nodes.iter().filter(|n| **n != 1) {
		commit_as(id, *n, expected);
	}
	run_to(2);
	(id, expected)
}

#[test]
fn a_reveal_the_pool_refuses_at_first_is_offered_again_in_the_same_run() {
	// The node's pool refuses a reveal until it has built its view of the block with the last
	// commit; the worker starts on that block's import, often before. Without a second offer
	// the reveal waited RESEND_BLOCKS blocks (measured: settlement 3 to 5 blocks late).
	let refusals = Arc::new(AtomicU32::new(0));
	let (mut ext, take_txs) = lagging_pool_test_ext(Some(FakeHost::new(1)), refusals.clone());
	ext.execute_with(|| {
		let (id, expected) = all_committed(&take_txs);
		refusals.store(3, Ordering::SeqCst);
		let start = sp_io::offchain::timestamp().unix_millis();
		ProofOfInference::offchain_worker(2);
		let waited = sp_io::offchain::timestamp().unix_millis() - start;
		assert_eq!(refusals.load(Ordering::SeqCst), 0);
		assert_eq!(
			waited,
			3 * pallet_node_registry::offchain::SUBMIT_RETRY_INTERVAL_MS
		);
		let txs = take_txs();
		assert_eq!(txs.len(), 1);
		let Call::reveal { reveal, .. } = &txs[0] else {
			panic!("not a reveal")
		};
		assert_eq!(reveal.result_hash, expected);
		submit_authorized(txs[0].clone());
		assert!(job(id)
			.assignees
			.iter()
			.any(|a| a.node == 1 && a.revealed.is_some()));
	});
}

#[test]
fn a_reveal_the_pool_keeps_refusing_is_sent_by_the_next_block_s_worker() {
	let refusals = Arc::new(AtomicU32::new(0));
	let (mut ext, take_txs) = lagging_pool_test_ext(Some(FakeHost::new(1)), refusals.clone());
	ext.execute_with(|| {
		let (_, expected) = all_committed(&take_txs);
		refusals.store(u32::MAX, Ordering::SeqCst);
		let start = sp_io::offchain::timestamp().unix_millis();
		ProofOfInference::offchain_worker(2);
		// Offered for SUBMIT_RETRY_MS, then given up without holding the rate limit.
		let waited = sp_io::offchain::timestamp().unix_millis() - start;
		assert_eq!(waited, pallet_node_registry::offchain::SUBMIT_RETRY_MS);
		assert!(take_txs().is_empty());
		refusals.store(0, Ordering::SeqCst);
		// Block 3, well within RESEND_BLOCKS of the first try: sent.
		assert!(3 < 2 + crate::offchain::RESEND_BLOCKS as u64);
		run_to(3);
		ProofOfInference::offchain_worker(3);
		let txs = take_txs();
		assert_eq!(txs.len(), 1);
		let Call::reveal { reveal, .. } = &txs[0] else {
			panic!("not a reveal")
		};
		assert_eq!(reveal.result_hash, expected);
		// A reveal the pool took holds the rate limit as before.
		run_to(4);
		ProofOfInference::offchain_worker(4);
		assert!(take_txs().is_empty());
	});
}

#[test]
fn offchain_worker_respects_the_job_lock() {
	let host = FakeHost::new(1);
	let (mut ext, take_txs) = offchain_test_ext(Some(host.clone()));
	ext.execute_with(|| {
		let (id, _) = ocw_setup(1);
		let d = digest(id);
		let lock_key = (LOCK_KEY_PREFIX, d, 1u64).encode();
		let mut lock = sp_runtime::offchain::storage_lock::StorageLock::<
			sp_runtime::offchain::storage_lock::BlockAndTime<System>,
		>::with_block_and_time_deadline(
			&lock_key,
			2,
			sp_runtime::offchain::Duration::from_millis(20_000),
		);
		let guard = lock.try_lock().unwrap();
		ProofOfInference::offchain_worker(1);
		assert_eq!(host.polls(&d), 0);
		assert!(take_txs().is_empty());
		drop(guard);
		ProofOfInference::offchain_worker(1);
		assert_eq!(host.polls(&d), 1);
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
		assert_eq!(host.polls(&digest(id)), 0);
		assert!(take_txs().is_empty());
	});
}

/// M-1: after a reorg the same job id names a job with another prompt. The node's stored
/// result (for the old prompt) is not committed for it; the new job is run afresh.
#[test]
fn a_reused_job_id_with_another_prompt_is_not_answered_with_the_old_result() {
	let host = FakeHost::new(1);
	let (mut ext, take_txs) = offchain_test_ext(Some(host.clone()));
	ext.execute_with(|| {
		let (id, _) = ocw_setup(1);
		let old_digest = digest(id);
		ProofOfInference::offchain_worker(1);
		let txs = take_txs();
		assert_eq!(txs.len(), 1);
		let old = local_result(id, 1).unwrap();
		// The fork: job `id` now carries another prompt (same id, same assignees).
		Jobs::<Test>::mutate(id, |j| {
			j.as_mut().unwrap().prompt = b"Another prompt".to_vec().try_into().unwrap()
		});
		let new_digest = digest(id);
		assert_ne!(new_digest, old_digest);
		run_to(2);
		ProofOfInference::offchain_worker(2);
		// The engine was asked for the new job, under its own digest.
		assert_eq!(host.polls(&new_digest), 1);
		let txs = take_txs();
		assert_eq!(txs.len(), 1);
		let Call::commit { commit, .. } = &txs[0] else {
			panic!("not a commit")
		};
		let new = local_result(id, 1).unwrap();
		assert_ne!(new.result_hash, old.result_hash);
		assert_eq!(
			commit.commitment,
			commitment(&new.result_hash, &new.salt, &1u64)
		);
		assert_ne!(
			commit.commitment,
			commitment(&old.result_hash, &old.salt, &1u64)
		);
		// The stored output names the job it answers.
		assert_eq!(stored_output(id).unwrap().job_digest, new_digest);
	});
}

/// H-4: a job the host failed is released at once (the host keeps no slot for it); a failure
/// that cannot heal is remembered, so the worker does not ask again every block.
#[test]
fn failed_jobs_are_released_and_permanent_failures_not_retried() {
	let host = FakeHost::failing(JobFailure::PromptTooLong);
	let (mut ext, take_txs) = offchain_test_ext(Some(host.clone()));
	ext.execute_with(|| {
		let (id, _) = ocw_setup(1);
		let d = digest(id);
		ProofOfInference::offchain_worker(1);
		assert_eq!(*host.released.lock().unwrap(), vec![d]);
		for n in 2..5 {
			run_to(n);
			ProofOfInference::offchain_worker(n);
		}
		assert_eq!(host.polls(&d), 1);
		assert!(take_txs().is_empty());
	});
	// A transient failure (queue full) is retried on the next block.
	let host = FakeHost::failing(JobFailure::QueueFull);
	let (mut ext, _take_txs) = offchain_test_ext(Some(host.clone()));
	ext.execute_with(|| {
		let (id, _) = ocw_setup(1);
		let d = digest(id);
		ProofOfInference::offchain_worker(1);
		run_to(2);
		ProofOfInference::offchain_worker(2);
		assert_eq!(host.polls(&d), 2);
		assert_eq!(host.released.lock().unwrap().len(), 2);
	});
}

/// L-4: what the worker stored for a job is deleted once the job is long settled, so the
/// offchain database does not grow without bound.
#[test]
fn local_records_are_deleted_after_the_job_is_long_settled() {
	let host = FakeHost::new(1);
	let (mut ext, take_txs) = offchain_test_ext(Some(host.clone()));
	ext.execute_with(|| {
		let (id, nodes) = ocw_setup(1);
		let d = digest(id);
		ProofOfInference::offchain_worker(1);
		let local = local_result(id, 1).unwrap();
		submit_authorized(take_txs()[0].clone());
		for n in nodes.iter().filter(|n| **n != 1) {
			commit_as(id, *n, local.result_hash);
		}
		let reveal_deadline = job(id).reveal_deadline;
		let expires = reveal_deadline + 2 * RETENTION;
		// Still there while the job can be read on chain, and a while after.
		run_to(expires - 1);
		ProofOfInference::offchain_worker(expires - 1);
		assert!(StorageValueRef::persistent(&result_key(&d, &1u64))
			.get::<LocalResult>()
			.unwrap()
			.is_some());
		assert!(stored_output(id).is_some());
		run_to(expires);
		ProofOfInference::offchain_worker(expires);
		assert!(StorageValueRef::persistent(&result_key(&d, &1u64))
			.get::<LocalResult>()
			.unwrap()
			.is_none());
		assert!(stored_output(id).is_none());
		for phase in [0u8, 1] {
			assert!(
				StorageValueRef::persistent(&(SENT_KEY_PREFIX, d, 1u64, phase).encode())
					.get::<u64>()
					.unwrap()
					.is_none()
			);
		}
		assert!(StorageValueRef::persistent(LOCAL_INDEX_KEY)
			.get::<Vec<LocalEntry<u64, u64>>>()
			.unwrap()
			.unwrap_or_default()
			.is_empty());
	});
}
