//! The off-chain worker: for every local inference key of a registered node, advance each
//! pending job assigned to it, and each audit it was drawn for — run the job on the node's
//! engine, commit, reveal — and delete what it stored for jobs long settled. An audit is the
//! same job (the same digest and request) in another commit-reveal round ([`crate::Round`]).
//!
//! Everything the worker keeps is keyed by the job's digest, not its id: on another fork the
//! same id can name another job, and a result computed for one must never be committed for the
//! other. The worker is idempotent: the result is kept in offchain storage, each step checks the
//! chain, and sends are rate-limited per job, node and phase.

use crate::{
	commit_payload, output_key, result_key, reveal_payload, Call, CommitPayload, Config, Job, Jobs,
	LocalEntry, LocalResult, Pallet, PendingJobs, RevealPayload, Round, StoredOutput,
	LOCAL_INDEX_KEY, LOCK_KEY_PREFIX, LOG_TARGET, SENT_KEY_PREFIX,
};
use alloc::vec::Vec;
use codec::Encode;
use frame_support::traits::Get;
use frame_system::pallet_prelude::BlockNumberFor;
use inference_primitives::{
	inference_host_api, Hash256, HostJobStatus, JobFailure, JobId, JobRequest,
};
use pallet_node_registry::{
	genesis_hash, host_class,
	offchain::{claim_send, release_send, submit_authorized},
	InferenceKey, NodeInspect,
};
use sp_runtime::{
	offchain::{
		storage::StorageValueRef,
		storage_lock::{BlockAndTime, StorageLock},
		Duration, Timestamp,
	},
	traits::Saturating,
	RuntimeAppPublic, SaturatedConversion,
};

/// Blocks after which the off-chain worker re-sends a commit or reveal that has not landed.
pub const RESEND_BLOCKS: u32 = 3;

/// How long the per-job lock lasts (blocks, and milliseconds) if a worker dies holding it.
const LOCK_BLOCKS: u32 = 2;
const LOCK_MILLIS: u64 = 20_000;

/// Most entries of the local index; beyond it the oldest entry's records are deleted early.
pub const MAX_LOCAL_ENTRIES: usize = 4_096;

/// Offchain-storage prefix of the marker of a job the engine cannot run (its failure is not
/// transient), so the worker does not ask again.
pub const FAILED_KEY_PREFIX: &[u8] = b"cognitive-internet/poi/failed/";

/// Why the worker did nothing (more) for a job this time. Logged at debug level; none is an
/// error of the node.
#[derive(Debug, PartialEq, Eq)]
pub enum OffchainErr {
	/// The job's digest is being polled by another worker.
	Locked,
	/// The engine is still queueing or generating the job.
	Running,
	/// The engine could not run the job.
	HostFailed(JobFailure),
	/// The engine gave up on this job earlier for good.
	GaveUp,
	/// The node runs no engine.
	NoEngine,
	/// No result, and the commit phase closed or the node committed elsewhere.
	NoResult,
	/// The commitment on chain is not the one this node's stored result opens.
	ForeignCommitment,
	/// A send for this job, node and phase happened less than `RESEND_BLOCKS` ago.
	RateLimited,
	/// The inference key is no longer in the keystore.
	KeyGone,
	/// The transaction pool kept refusing the commit or reveal; the next block's worker retries.
	Refused,
	/// Nothing to do in this phase.
	Idle,
}

/// The local index as offchain storage hands it to `mutate`.
type IndexRead<T> = Result<
	Option<Vec<LocalEntry<<T as frame_system::Config>::AccountId, BlockNumberFor<T>>>>,
	sp_runtime::offchain::storage::StorageRetrievalError,
>;

/// How often the worker asks the engine again while it waits for a job to finish.
const POLL_INTERVAL_MS: u64 = 100;

/// Runs the worker at block `now` (see the module documentation).
///
/// A job queued in this run usually finishes within the slot: the worker waits for it, polling
/// the engine, until two thirds of a block time have passed since the run started, so that the
/// commit goes out in time for the next block instead of waiting for the next block's worker.
/// Later jobs of the same run get whatever wait is left.
pub fn work<T: Config>(now: BlockNumberFor<T>) {
	let genesis = genesis_hash::<T>();
	let wait_until = sp_io::offchain::timestamp().add(Duration::from_millis(
		T::BlockTimeMs::get().saturating_mul(2) / 3,
	));
	for key in InferenceKey::all() {
		let Some(node) = T::Nodes::node_of_key(&key) else {
			continue;
		};
		for job_id in PendingJobs::<T>::get(&node).jobs {
			let Some(job) = Jobs::<T>::get(job_id) else {
				continue;
			};
			let Ok(audit) = Pallet::<T>::open_audit(job_id, &job) else {
				continue;
			};
			let round = audit.as_ref().map_or_else(|| job.round(), |a| a.round());
			if let Err(e) =
				work_on::<T>(now, wait_until, &genesis, &key, &node, job_id, &job, &round)
			{
				log::debug!(target: LOG_TARGET, "job {job_id} ({:?}): {e:?}", round.kind);
			}
		}
	}
	prune_local::<T>(now);
}

#[allow(clippy::too_many_arguments)]
fn work_on<T: Config>(
	now: BlockNumberFor<T>,
	wait_until: Timestamp,
	genesis: &Hash256,
	key: &InferenceKey,
	node: &T::AccountId,
	job_id: JobId,
	job: &Job<T>,
	round: &Round<'_, T::AccountId, BlockNumberFor<T>>,
) -> Result<(), OffchainErr> {
	let (_, slot) = round.member(node).ok_or(OffchainErr::Idle)?;
	let digest = job.digest(job_id);
	let stored = StorageValueRef::persistent(&result_key(&digest, node))
		.get::<LocalResult>()
		.ok()
		.flatten();
	let local = match stored {
		Some(local) => local,
		// Without a result there is nothing to do once the commit phase closed.
		None if slot.commitment.is_none() && now < round.commit_deadline => run_job::<T>(
			now,
			wait_until,
			node,
			job_id,
			&digest,
			job,
			round.commit_deadline,
		)?,
		None => return Err(OffchainErr::NoResult),
	};
	let commitment = inference_primitives::commitment(&local.result_hash, &local.salt, node);
	match slot.commitment {
		None => {
			if now >= round.commit_deadline {
				return Err(OffchainErr::NoResult);
			}
			let claim = claim::<T>(&digest, node, 0, now)?;
			let commit = CommitPayload {
				job_id,
				job_digest: digest,
				node: node.clone(),
				commitment,
			};
			let signature = key
				.sign(&commit_payload(genesis, &commit))
				.ok_or(OffchainErr::KeyGone)?;
			send::<T>(Call::commit { commit, signature }, "commit", &claim)
		},
		Some(on_chain) if on_chain != commitment => Err(OffchainErr::ForeignCommitment),
		Some(_)
			if slot.revealed.is_none()
				&& round.commit_phase_over(&now)
				&& now < round.reveal_deadline =>
		{
			let claim = claim::<T>(&digest, node, 1, now)?;
			let reveal = RevealPayload {
				job_id,
				node: node.clone(),
				result_hash: local.result_hash,
				salt: local.salt,
			};
			let signature = key
				.sign(&reveal_payload(genesis, &reveal))
				.ok_or(OffchainErr::KeyGone)?;
			send::<T>(Call::reveal { reveal, signature }, "reveal", &claim)
		},
		Some(_) => Err(OffchainErr::Idle),
	}
}

/// Rate limit of sends per job digest, node and phase (0 commit, 1 reveal): the claim's
/// storage key if nothing was sent for them in the last [`RESEND_BLOCKS`] blocks.
fn claim<T: Config>(
	digest: &Hash256,
	node: &T::AccountId,
	phase: u8,
	now: BlockNumberFor<T>,
) -> Result<Vec<u8>, OffchainErr> {
	let key = (SENT_KEY_PREFIX, digest, node, phase).encode();
	claim_send(&key, now, RESEND_BLOCKS.into())
		.then_some(key)
		.ok_or(OffchainErr::RateLimited)
}

/// Submits a commit or reveal. If the pool kept refusing it, the claim is released so the next
/// block's worker tries again rather than waiting out [`RESEND_BLOCKS`].
fn send<T: Config>(call: Call<T>, what: &str, claim: &[u8]) -> Result<(), OffchainErr> {
	if submit_authorized::<T, Call<T>>(call, what) {
		Ok(())
	} else {
		release_send(claim);
		Err(OffchainErr::Refused)
	}
}

/// Polls the engine for a job under a per-digest offchain lock, until it is done or
/// `wait_until` (the engine drops it at `commit_deadline`); stores and returns the result once
/// it is done. Failures the host cannot
/// recover from are remembered; every failed job is released so the host forgets it at once.
fn run_job<T: Config>(
	now: BlockNumberFor<T>,
	wait_until: Timestamp,
	node: &T::AccountId,
	job_id: JobId,
	digest: &Hash256,
	job: &Job<T>,
	commit_deadline: BlockNumberFor<T>,
) -> Result<LocalResult, OffchainErr> {
	let lock_key = (LOCK_KEY_PREFIX, digest, node).encode();
	let mut lock =
		StorageLock::<BlockAndTime<frame_system::Pallet<T>>>::with_block_and_time_deadline(
			&lock_key,
			LOCK_BLOCKS,
			Duration::from_millis(LOCK_MILLIS),
		);
	let _guard = lock.try_lock().map_err(|_| OffchainErr::Locked)?;
	let result_storage_key = result_key(digest, node);
	let result_ref = StorageValueRef::persistent(&result_storage_key);
	if let Ok(Some(local)) = result_ref.get::<LocalResult>() {
		return Ok(local);
	}
	let failed_key = (FAILED_KEY_PREFIX, digest, node).encode();
	if StorageValueRef::persistent(&failed_key)
		.get::<JobFailure>()
		.ok()
		.flatten()
		.is_some()
	{
		return Err(OffchainErr::GaveUp);
	}
	let blocks_left: u64 = commit_deadline.saturating_sub(now).saturated_into();
	let expires_at_ms = sp_io::offchain::timestamp()
		.unix_millis()
		.saturating_add(blocks_left.saturating_mul(T::BlockTimeMs::get()));
	let request = JobRequest {
		job_id,
		job_digest: *digest,
		model_sha256: job.model_sha256,
		format: job.format,
		prompt: job.prompt.to_vec(),
		max_tokens: job.max_tokens,
		sampling: job.sampling,
		profile: job.profile,
		class: host_class(&job.class),
		expires_at_ms,
	};
	let status = loop {
		match inference_host_api::poll_job(request.clone()) {
			HostJobStatus::Queued | HostJobStatus::Running => {
				let now_ms = sp_io::offchain::timestamp();
				if now_ms >= wait_until {
					return Err(OffchainErr::Running);
				}
				let next = now_ms.add(Duration::from_millis(POLL_INTERVAL_MS));
				sp_io::offchain::sleep_until(if next < wait_until { next } else { wait_until });
			},
			status => break status,
		}
	};
	match status {
		HostJobStatus::Done(output) => {
			let result_hash = inference_primitives::result_hash(
				job_id,
				&job.model_sha256,
				&output.prompt_tokens,
				&output.output_tokens,
			);
			let local = LocalResult {
				result_hash,
				salt: sp_io::offchain::random_seed(),
			};
			StorageValueRef::persistent(&output_key(job_id)).set(&StoredOutput {
				job_digest: *digest,
				model_sha256: job.model_sha256,
				output,
				result_hash,
			});
			result_ref.set(&local);
			remember::<T>(job_id, digest, node, job);
			inference_host_api::release_job(*digest);
			log::info!(target: LOG_TARGET, "job {job_id} done");
			Ok(local)
		},
		HostJobStatus::Queued | HostJobStatus::Running => Err(OffchainErr::Running),
		HostJobStatus::Failed(failure) => {
			inference_host_api::release_job(*digest);
			let transient = matches!(
				failure,
				JobFailure::QueueFull | JobFailure::UnknownModel | JobFailure::Cancelled
			);
			if !transient {
				StorageValueRef::persistent(&failed_key).set(&failure);
				remember::<T>(job_id, digest, node, job);
			}
			log::warn!(target: LOG_TARGET, "job {job_id} failed: {failure:?}");
			Err(OffchainErr::HostFailed(failure))
		},
		HostJobStatus::Unavailable => {
			log::warn!(target: LOG_TARGET, "no inference engine; job {job_id} not run");
			Err(OffchainErr::NoEngine)
		},
	}
}

/// Adds the job to the local index, so its records are deleted once it is long settled.
fn remember<T: Config>(job_id: JobId, digest: &Hash256, node: &T::AccountId, job: &Job<T>) {
	// Twice the retention: the job was pruned on chain long before, on any fork that matters.
	let retention = T::RetentionPeriod::get();
	let expires_at = job
		.reveal_deadline
		.saturating_add(retention)
		.saturating_add(retention);
	let entry = LocalEntry {
		job_id,
		digest: *digest,
		node: node.clone(),
		expires_at,
	};
	let mut evicted = Vec::new();
	let _ = StorageValueRef::persistent(LOCAL_INDEX_KEY).mutate(|index: IndexRead<T>| {
		let mut index = index.ok().flatten().unwrap_or_default();
		if index
			.iter()
			.any(|e| e.digest == entry.digest && e.node == entry.node)
		{
			return Ok::<_, ()>(index);
		}
		while index.len() >= MAX_LOCAL_ENTRIES {
			evicted.push(index.remove(0));
		}
		index.push(entry.clone());
		Ok(index)
	});
	for old in evicted {
		forget::<T>(&old);
	}
}

/// Deletes the records of the index entries that expired at `now`.
fn prune_local<T: Config>(now: BlockNumberFor<T>) {
	let mut expired = Vec::new();
	let index_ref = StorageValueRef::persistent(LOCAL_INDEX_KEY);
	let _ = index_ref.mutate(|index: IndexRead<T>| {
		let index = index.ok().flatten().unwrap_or_default();
		let (gone, kept): (Vec<_>, Vec<_>) = index.into_iter().partition(|e| e.expires_at <= now);
		if gone.is_empty() {
			// Nothing to write.
			return Err(());
		}
		expired = gone;
		Ok(kept)
	});
	for entry in expired {
		forget::<T>(&entry);
	}
}

/// Deletes everything stored for one job and node.
fn forget<T: Config>(entry: &LocalEntry<T::AccountId, BlockNumberFor<T>>) {
	let digest = &entry.digest;
	StorageValueRef::persistent(&result_key(digest, &entry.node)).clear();
	StorageValueRef::persistent(&(FAILED_KEY_PREFIX, digest, &entry.node).encode()).clear();
	for phase in [0u8, 1] {
		StorageValueRef::persistent(&(SENT_KEY_PREFIX, digest, &entry.node, phase).encode())
			.clear();
	}
	let output_storage_key = output_key(entry.job_id);
	let mut output_ref = StorageValueRef::persistent(&output_storage_key);
	// The output slot is per job id: delete it only if it still holds this job's output.
	if output_ref
		.get::<StoredOutput>()
		.ok()
		.flatten()
		.is_some_and(|o| o.job_digest == *digest)
	{
		output_ref.clear();
	}
}
