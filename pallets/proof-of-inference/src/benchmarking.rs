//! Benchmarks of the proof-of-inference pallet (`frame_benchmarking` v2).

use super::*;
use crate::pallet::{Call, Config, Jobs, Pallet, Params, PruneQueueRange};
use alloc::{vec, vec::Vec};
use frame_benchmarking::v2::*;
use frame_support::{
	pallet_prelude::TransactionSource,
	traits::{fungible::Mutate, Authorize, EnsureOrigin, Get},
	weights::Weight,
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use pallet_model_registry::{ModelId, ModelInspect};
use pallet_node_registry::{genesis_hash, NodeInspect};
use sp_runtime::{traits::Saturating, RuntimeAppPublic};

/// Upper bound of the replication component (the runtime's `MaxReplication`); values above the
/// configured bound are clamped.
const BENCH_MAX_R: u32 = 5;
/// Upper bound of the node-count component of `submit_job` (clamped to the registry's
/// `MaxNodes`).
const BENCH_MAX_NODES: u32 = 256;

fn model<T: Config>() -> ModelId {
	T::Models::benchmark_model(7_000)
}

/// A client able to pay many maximal jobs.
fn client<T: Config>() -> T::AccountId {
	let who: T::AccountId = account("client", 0, 0);
	let (fee, _) = Pallet::<T>::job_fee(T::MaxPromptBytes::get(), T::MaxTokens::get(), u8::MAX)
		.unwrap_or_default();
	let ed = <T::Currency as frame_support::traits::fungible::Inspect<_>>::minimum_balance();
	let _ = T::Currency::mint_into(
		&who,
		fee.saturating_mul(1_000u32.into())
			.saturating_add(ed.saturating_mul(1_000u32.into())),
	);
	who
}

/// Registers node `i`, ready for the benchmark model; returns its key.
fn node<T: Config>(i: u32) -> Result<InferenceKey, BenchmarkError> {
	T::Nodes::benchmark_node(i, model::<T>())
		.map(|(_, key)| key)
		.ok_or(BenchmarkError::Stop("node registration failed"))
}

/// The largest `max_tokens` the model's context allows.
fn max_tokens<T: Config>() -> u32 {
	let n_ctx = T::Models::job_spec(model::<T>())
		.map(|s| s.profile.n_ctx)
		.unwrap_or_default();
	T::MaxTokens::get().min(n_ctx.saturating_sub(T::MaxPromptBytes::get().saturating_add(1)))
}

/// The costliest prompt to check and store: the most chat messages that fit the length bound,
/// as long as they can be.
fn longest_chat<T: Config>() -> JobPrompt {
	let max = T::MaxPromptBytes::get();
	let chat = |turns: usize, len: usize| {
		JobPrompt::Chat(vec![
			ChatTurn {
				role: ChatRole::User,
				content: vec![b'a'; len],
			};
			turns
		])
	};
	let mut turns = inference_primitives::MAX_CHAT_TURNS as usize;
	while turns > 1 && chat(turns, 1).billed_len() > max {
		turns -= 1;
	}
	let mut len = 1;
	while chat(turns, len + 1).billed_len() <= max {
		len += 1;
	}
	chat(turns, len)
}

/// Registers up to `n` ready nodes serving the benchmark model: fewer once the registry is full
/// (a chain's genesis nodes take room too; a full registry is the worst case the component
/// measures). Fails unless at least `min` were registered.
fn nodes<T: Config>(n: u32, min: u32) -> Result<u32, BenchmarkError> {
	let mut registered = 0;
	while registered < n && node::<T>(registered).is_ok() {
		registered += 1;
	}
	if registered < min {
		return Err(BenchmarkError::Stop("node registration failed"));
	}
	Ok(registered)
}

/// Registers up to `n` nodes and submits a job with replication `r` and a maximal prompt.
fn job<T: Config>(n: u32, r: u32) -> Result<JobId, BenchmarkError> {
	nodes::<T>(n, r)?;
	let id = crate::pallet::NextJobId::<T>::get();
	Pallet::<T>::submit_job(
		RawOrigin::Signed(client::<T>()).into(),
		model::<T>(),
		JobPrompt::Text(vec![b'a'; T::MaxPromptBytes::get() as usize]),
		max_tokens::<T>(),
		r as u8,
		SamplingRequest::Greedy,
	)
	.map_err(|_| BenchmarkError::Stop("submit_job failed"))?;
	Ok(id)
}

fn key_of<T: Config>(who: &T::AccountId) -> Result<InferenceKey, BenchmarkError> {
	T::Nodes::inference_key(who).ok_or(BenchmarkError::Stop("no node"))
}

fn commit_call<T: Config>(id: JobId, who: &T::AccountId) -> Result<Call<T>, BenchmarkError> {
	let job = Jobs::<T>::get(id).ok_or(BenchmarkError::Stop("no job"))?;
	let commit = CommitPayload {
		job_id: id,
		job_digest: job.digest(id),
		node: who.clone(),
		commitment: inference_primitives::commitment(&[1; 32], &[2; 32], who),
	};
	let signature = key_of::<T>(who)?
		.sign(&commit_payload(&genesis_hash::<T>(), &commit))
		.ok_or(BenchmarkError::Stop("no keystore"))?;
	Ok(Call::commit { commit, signature })
}

fn reveal_call<T: Config>(id: JobId, who: &T::AccountId) -> Result<Call<T>, BenchmarkError> {
	let reveal = RevealPayload {
		job_id: id,
		node: who.clone(),
		result_hash: [1; 32],
		salt: [2; 32],
	};
	let signature = key_of::<T>(who)?
		.sign(&reveal_payload(&genesis_hash::<T>(), &reveal))
		.ok_or(BenchmarkError::Stop("no keystore"))?;
	Ok(Call::reveal { reveal, signature })
}

fn assignees<T: Config>(id: JobId) -> Vec<T::AccountId> {
	Jobs::<T>::get(id)
		.map(|j| j.assignees.into_iter().map(|a| a.node).collect())
		.unwrap_or_default()
}

fn first_assignee<T: Config>(id: JobId) -> Result<T::AccountId, BenchmarkError> {
	assignees::<T>(id)
		.into_iter()
		.next()
		.ok_or(BenchmarkError::Stop("no assignee"))
}

/// A job whose `r` assignees all committed.
fn committed_job<T: Config>(r: u32) -> Result<JobId, BenchmarkError> {
	let id = job::<T>(r, r)?;
	for who in assignees::<T>(id) {
		let Call::commit { commit, signature } = commit_call::<T>(id, &who)? else {
			return Err(BenchmarkError::Stop("not a commit"));
		};
		Pallet::<T>::commit(RawOrigin::Authorized.into(), commit, signature)
			.map_err(|_| BenchmarkError::Stop("commit failed"))?;
	}
	Ok(id)
}

fn replication<T: Config>() -> u32 {
	T::MaxReplication::get().clamp(2, BENCH_MAX_R)
}

/// `k` auditors, as many as the registry has room for beside `r` assignees (at least one).
fn auditors<T: Config>(r: u32, k: u32) -> u32 {
	k.min(T::MaxReplication::get())
		.min(T::Nodes::max_nodes().saturating_sub(r))
		.max(1)
}

/// Turns disputes on: the longest challenge window the retention allows, `k` auditors, no
/// automatic audits (a benchmark starts the audit it measures itself).
fn disputes_on<T: Config>(k: u32) {
	Params::<T>::mutate(|p| {
		let lifetime = p.commit_period.saturating_add(p.reveal_period);
		p.challenge_period = T::RetentionPeriod::get().saturating_sub(lifetime);
		p.auditors = k.clamp(1, T::MaxReplication::get()) as u8;
		p.audit_rate = sp_runtime::Perbill::zero();
	});
}

/// A completed, escrowed job with `r` assignees that all revealed `[1; 32]`, among `n`
/// registered nodes.
fn completed_job<T: Config>(n: u32, r: u32) -> Result<JobId, BenchmarkError> {
	let id = job::<T>(n, r)?;
	let mut job = Jobs::<T>::get(id).ok_or(BenchmarkError::Stop("no job"))?;
	for a in job.assignees.iter_mut() {
		a.commitment = Some([0; 32]);
		a.revealed = Some([1; 32]);
	}
	Pallet::<T>::settle(id, job);
	if !crate::Escrow::<T>::contains_key(id) {
		return Err(BenchmarkError::Stop("not escrowed"));
	}
	Ok(id)
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// Submission of a sampled job with `n` eligible nodes to draw from.
	#[benchmark]
	fn submit_job(n: Linear<1, BENCH_MAX_NODES>) -> Result<(), BenchmarkError> {
		let n = nodes::<T>(n.min(T::Nodes::max_nodes()).max(1), 1)?;
		let r = T::MaxReplication::get().min(n);
		let client = client::<T>();
		let prompt = longest_chat::<T>();
		#[extrinsic_call]
		_(
			RawOrigin::Signed(client),
			model::<T>(),
			prompt,
			max_tokens::<T>(),
			r as u8,
			// Sampling is the costlier path: it derives the seed.
			SamplingRequest::Sampled {
				temperature_milli: 700,
				top_p_ppm: 950_000,
			},
		);
		assert!(Jobs::<T>::contains_key(0));
		Ok(())
	}

	#[benchmark]
	fn commit() -> Result<(), BenchmarkError> {
		let r = replication::<T>();
		let id = job::<T>(r, r)?;
		let who = first_assignee::<T>(id)?;
		let Call::commit {
			commit: payload,
			signature,
		} = commit_call::<T>(id, &who)?
		else {
			return Err(BenchmarkError::Stop("not a commit"));
		};
		#[extrinsic_call]
		_(RawOrigin::Authorized, payload, signature);
		assert!(
			Jobs::<T>::get(id).is_some_and(|j| j.assignees.iter().any(|a| a.commitment.is_some()))
		);
		Ok(())
	}

	#[benchmark]
	fn authorize_commit() -> Result<(), BenchmarkError> {
		let r = replication::<T>();
		let id = job::<T>(r, r)?;
		let who = first_assignee::<T>(id)?;
		let call = commit_call::<T>(id, &who)?;
		#[block]
		{
			call.authorize(TransactionSource::External)
				.ok_or(BenchmarkError::Stop("not authorizable"))?
				.map_err(|_| BenchmarkError::Stop("rejected"))?;
		}
		Ok(())
	}

	/// A reveal that is not the last (the last one adds `settle`).
	#[benchmark]
	fn reveal() -> Result<(), BenchmarkError> {
		let id = committed_job::<T>(replication::<T>())?;
		let who = first_assignee::<T>(id)?;
		let Call::reveal {
			reveal: payload,
			signature,
		} = reveal_call::<T>(id, &who)?
		else {
			return Err(BenchmarkError::Stop("not a reveal"));
		};
		#[extrinsic_call]
		_(RawOrigin::Authorized, payload, signature);
		assert!(
			Jobs::<T>::get(id).is_some_and(|j| j.assignees.iter().any(|a| a.revealed.is_some()))
		);
		Ok(())
	}

	#[benchmark]
	fn authorize_reveal() -> Result<(), BenchmarkError> {
		let id = committed_job::<T>(replication::<T>())?;
		let who = first_assignee::<T>(id)?;
		let call = reveal_call::<T>(id, &who)?;
		#[block]
		{
			call.authorize(TransactionSource::External)
				.ok_or(BenchmarkError::Stop("not authorizable"))?
				.map_err(|_| BenchmarkError::Stop("rejected"))?;
		}
		Ok(())
	}

	/// Settlement of a job with `r` assignees, all verified (`R ≥ 3` records reputation): a
	/// majority paid, the rest revealed another hash and is slashed and recorded (the most
	/// expensive outcome).
	#[benchmark]
	fn settle(r: Linear<1, BENCH_MAX_R>) -> Result<(), BenchmarkError> {
		let r = r.min(T::MaxReplication::get()).max(1);
		let id = committed_job::<T>(r)?;
		let mut job = Jobs::<T>::get(id).ok_or(BenchmarkError::Stop("no job"))?;
		let majority = (r / 2 + 1) as usize;
		for (i, a) in job.assignees.iter_mut().enumerate() {
			a.revealed = Some(if i < majority { [1; 32] } else { [9; 32] });
		}
		#[block]
		{
			Pallet::<T>::settle(id, job);
		}
		assert!(Jobs::<T>::get(id).is_some_and(|j| j.settled_at.is_some()));
		Ok(())
	}

	#[benchmark]
	fn set_parameters() -> Result<(), BenchmarkError> {
		let origin =
			T::ParametersOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		// The genesis parameters with every field changed that can change within its bounds.
		let mut parameters = Params::<T>::get();
		parameters.base_fee = 1u32.into();
		parameters.price_per_token = 1u32.into();
		parameters.slash_fraction = sp_runtime::Perbill::from_percent(5);
		parameters.audit_slash_fraction = sp_runtime::Perbill::from_percent(10);
		parameters.audit_rate = sp_runtime::Perbill::from_percent(3);
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, parameters.clone());
		assert_eq!(Params::<T>::get(), parameters);
		Ok(())
	}

	/// A challenge with `n` registered nodes to draw the auditors from.
	#[benchmark]
	fn challenge(n: Linear<1, BENCH_MAX_NODES>) -> Result<(), BenchmarkError> {
		let r = replication::<T>();
		let k = auditors::<T>(r, replication::<T>());
		disputes_on::<T>(k);
		let n = n.min(T::Nodes::max_nodes()).max(r + k);
		let id = completed_job::<T>(n, r)?;
		let owner = client::<T>();
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id);
		assert!(crate::Audits::<T>::contains_key(id));
		Ok(())
	}

	/// The verdict of an audit by `k` auditors that overturns the majority of a challenged job
	/// (the most expensive verdict: every assignee slashed to the challenger and the auditors,
	/// the fee refunded, reputations recorded).
	#[benchmark]
	fn conclude_audit(k: Linear<1, BENCH_MAX_R>) -> Result<(), BenchmarkError> {
		let r = replication::<T>();
		let k = auditors::<T>(r, k);
		disputes_on::<T>(k);
		let id = completed_job::<T>(r + k, r)?;
		Pallet::<T>::challenge(RawOrigin::Signed(client::<T>()).into(), id)
			.map_err(|_| BenchmarkError::Stop("challenge failed"))?;
		let job = Jobs::<T>::get(id).ok_or(BenchmarkError::Stop("no job"))?;
		let mut audit = crate::Audits::<T>::get(id).ok_or(BenchmarkError::Stop("no audit"))?;
		for a in audit.auditors.iter_mut() {
			a.commitment = Some([0; 32]);
			a.revealed = Some([9; 32]);
		}
		#[block]
		{
			Pallet::<T>::conclude_audit(id, job, audit);
		}
		assert!(crate::Audits::<T>::get(id).is_some_and(|a| a.verdict.is_some()));
		Ok(())
	}

	/// Paying out the held fee of a job to its `r` agreeing assignees.
	#[benchmark]
	fn release(r: Linear<1, BENCH_MAX_R>) -> Result<(), BenchmarkError> {
		let r = r.min(T::MaxReplication::get()).max(1);
		disputes_on::<T>(1);
		let id = completed_job::<T>(r, r)?;
		let job = Jobs::<T>::get(id).ok_or(BenchmarkError::Stop("no job"))?;
		#[block]
		{
			Pallet::<T>::release(id, &job);
		}
		assert!(!crate::Escrow::<T>::contains_key(id));
		Ok(())
	}

	/// Pruning of one settled job whose retention ended.
	#[benchmark]
	fn prune_job() -> Result<(), BenchmarkError> {
		let r = replication::<T>();
		let id = job::<T>(r, r)?;
		let job = Jobs::<T>::get(id).ok_or(BenchmarkError::Stop("no job"))?;
		Pallet::<T>::settle(id, job);
		let now: BlockNumberFor<T> =
			frame_system::Pallet::<T>::block_number().saturating_add(T::RetentionPeriod::get());
		#[block]
		{
			Pallet::<T>::prune(now, Weight::MAX);
		}
		assert!(!Jobs::<T>::contains_key(id));
		assert_eq!(PruneQueueRange::<T>::get(), (1, 1));
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
