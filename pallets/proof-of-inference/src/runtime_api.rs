//! Runtime API of the proof-of-inference pallet, callable from Polkadot.js as
//! `api.call.proofOfInferenceApi.job(jobId)` and `api.call.proofOfInferenceApi.pendingJobs(node)`.

use crate::JobView;
use inference_primitives::JobId;

sp_api::decl_runtime_apis! {
	/// Reads inference jobs.
	///
	/// Version 2: [`JobView`] names the job's sampling settings (and a sampled job's seed).
	/// Version 3: it shows the challenge window, whether the fee is held, and the audit.
	/// Version 4: it shows the prompt's format (text, or chat messages and their template).
	#[api_version(4)]
	pub trait ProofOfInferenceApi<AccountId, Balance, BlockNumber> where
		AccountId: codec::Codec,
		Balance: codec::Codec,
		BlockNumber: codec::Codec,
	{
		/// Everything about a job (until it is pruned `RetentionPeriod` blocks after settlement).
		fn job(job_id: JobId) -> Option<JobView<AccountId, Balance, BlockNumber>>;
		/// The unsettled jobs assigned to `node`, oldest first.
		fn pending_jobs(node: AccountId) -> alloc::vec::Vec<JobId>;
	}
}
