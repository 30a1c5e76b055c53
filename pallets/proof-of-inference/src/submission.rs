//! Job submission: validation, the fee, assignment and the indexes.

use crate::{
	Assignment, BalanceOf, Config, Deadlines, Error, Event, HoldReason, Job, JobState, Jobs,
	NextJobId, Pallet, Params, PendingJobs, SamplingRequest,
};
use frame_support::{
	ensure,
	traits::{fungible::MutateHold, Get},
	BoundedVec,
};
use inference_primitives::{ExecutionProfile, InvalidPrompt, JobPrompt, PromptFormat};
use pallet_model_registry::{ModelId, ModelInspect};
use sp_runtime::{
	traits::{CheckedAdd, CheckedMul, Saturating},
	DispatchResult,
};

impl<T: Config> Pallet<T> {
	/// The fee of a job with `prompt_len` prompt bytes, `max_tokens` and `r` assignees under the
	/// current parameters: `(total, non-refundable base part)`, where the total is
	/// `r × (base_fee + price_per_token × (prompt_len + max_tokens))` and the base part
	/// `r × base_fee`.
	pub fn job_fee(
		prompt_len: u32,
		max_tokens: u32,
		r: u8,
	) -> Option<(BalanceOf<T>, BalanceOf<T>)> {
		let params = Params::<T>::get();
		let r: BalanceOf<T> = u32::from(r).into();
		let work: BalanceOf<T> = prompt_len.saturating_add(max_tokens).into();
		let per_node = params
			.price_per_token
			.checked_mul(&work)?
			.checked_add(&params.base_fee)?;
		Some((per_node.checked_mul(&r)?, params.base_fee.checked_mul(&r)?))
	}

	/// `submit_job` for `owner`: checks, holds the fee, assigns and indexes the job.
	pub(crate) fn do_submit_job(
		owner: T::AccountId,
		model: ModelId,
		prompt: JobPrompt,
		max_tokens: u32,
		replication: u8,
		sampling: SamplingRequest,
	) -> DispatchResult {
		let spec = T::Models::job_spec(model).ok_or(Error::<T>::UnknownModel)?;
		ensure!(spec.active, Error::<T>::ModelNotActive);
		// The length first: it bounds the work of every other check.
		let billed_len = prompt.billed_len();
		ensure!(
			billed_len <= T::MaxPromptBytes::get(),
			Error::<T>::PromptTooLong
		);
		prompt.validate().map_err(|e| match e {
			InvalidPrompt::Empty => Error::<T>::EmptyPrompt,
			InvalidPrompt::NotUtf8 => Error::<T>::InvalidPrompt,
			InvalidPrompt::TooManyTurns => Error::<T>::TooManyChatTurns,
		})?;
		let format = match prompt {
			JobPrompt::Text(_) => PromptFormat::Text,
			JobPrompt::Chat(_) => PromptFormat::Chat {
				template_sha256: spec
					.profile
					.chat_template
					.ok_or(Error::<T>::NoChatTemplate)?,
			},
		};
		// Fits: the stored bytes are at most the billed length.
		let stored: BoundedVec<u8, T::MaxPromptBytes> = prompt
			.stored_bytes()
			.try_into()
			.map_err(|_| Error::<T>::PromptTooLong)?;
		ensure!(
			max_tokens >= 1 && max_tokens <= T::MaxTokens::get(),
			Error::<T>::InvalidMaxTokens
		);
		ensure!(
			replication >= 1 && u32::from(replication) <= T::MaxReplication::get(),
			Error::<T>::InvalidReplication
		);
		// Checked before the seed is drawn; `with_seed` keeps the settings as they are.
		ensure!(
			sampling.with_seed(0).is_valid(),
			Error::<T>::InvalidSampling
		);
		let profile = &spec.profile;
		// Every valid prompt must fit whatever the tokenizer does: at most one token per byte
		// (a chat's template markers are inside its billed length, [`JobPrompt::billed_len`]),
		// plus BOS.
		let needed = T::MaxPromptBytes::get()
			.saturating_add(1)
			.saturating_add(max_tokens);
		ensure!(needed <= profile.n_ctx, Error::<T>::ContextOverflow);

		let (fee, base_fee) =
			Self::job_fee(billed_len, max_tokens, replication).ok_or(Error::<T>::FeeOverflow)?;
		let job_id = NextJobId::<T>::get();
		let next = job_id.checked_add(1).ok_or(Error::<T>::TooManyJobs)?;
		let class = profile.class();
		let work = Self::job_work(billed_len, max_tokens);
		let nodes = Self::assign(job_id, &owner, model, &class, replication, work)?;
		// A greedy job draws nothing: no seed to derive.
		let seed = match sampling {
			SamplingRequest::Greedy => 0,
			SamplingRequest::Sampled { .. } => Self::sampling_seed(job_id),
		};
		let sampling = sampling.with_seed(seed);

		let params = Params::<T>::get();
		let now = frame_system::Pallet::<T>::block_number();
		let commit_deadline = now.saturating_add(params.commit_period);
		let reveal_deadline = commit_deadline.saturating_add(params.reveal_period);
		Deadlines::<T>::try_mutate(reveal_deadline, |bucket| bucket.try_push(job_id))
			.map_err(|_| Error::<T>::TooManyJobs)?;
		T::Currency::hold(&HoldReason::JobFee.into(), &owner, fee)
			.map_err(|_| Error::<T>::InsufficientBalance)?;
		let mut assignees = BoundedVec::<_, T::MaxReplication>::new();
		for node in &nodes {
			// `assign` only picks nodes with room in their index.
			PendingJobs::<T>::try_mutate(node, |pending| {
				pending.jobs.try_push(job_id)?;
				pending.work = pending.work.saturating_add(work);
				Ok::<_, inference_primitives::JobId>(())
			})
			.map_err(|_| Error::<T>::NotEnoughNodes)?;
			assignees
				.try_push(Assignment {
					node: node.clone(),
					commitment: None,
					revealed: None,
				})
				.map_err(|_| Error::<T>::InvalidReplication)?;
		}
		Jobs::<T>::insert(
			job_id,
			Job {
				owner: owner.clone(),
				model,
				model_sha256: spec.sha256,
				profile: ExecutionProfile {
					n_ctx: profile.n_ctx,
					n_batch: profile.n_batch,
					n_ubatch: profile.n_ubatch,
				},
				class,
				format,
				prompt: stored,
				max_tokens,
				sampling,
				fee,
				base_fee,
				assignees,
				submitted_at: now,
				commit_deadline,
				reveal_deadline,
				status: JobState::Pending,
				settled_at: None,
			},
		);
		NextJobId::<T>::put(next);
		Self::deposit_event(Event::JobSubmitted {
			job_id,
			owner,
			model,
			assignees: nodes,
			fee,
		});
		Ok(())
	}
}
