//! Errors of the `inference_*` methods and their stable JSON-RPC codes.
//!
//! Every error a method returns is an [`Error`]; [`Error::code`] is the code clients see, and it
//! never changes once published (docs/rpc.md lists them). Parameter errors that jsonrpsee finds
//! while deserializing use JSON-RPC's own `-32602`; a call to an unsafe method where unsafe
//! methods are denied answers Substrate's usual `-32601`.

use inference_engine::EngineError;
use jsonrpsee::types::{error::ErrorCode, ErrorObjectOwned};

/// The stable codes, by name.
pub mod codes {
	/// The node runs no inference engine (`--no-inference`).
	pub const INFERENCE_DISABLED: i32 = 4000;
	/// The model is not in this node's store.
	pub const UNKNOWN_MODEL: i32 = 4001;
	/// The prompt is larger than the node's limit, or does not fit the context.
	pub const PROMPT_TOO_LARGE: i32 = 4002;
	/// `maxTokens` is 0 or above the node's limit.
	pub const BAD_MAX_TOKENS: i32 = 4003;
	/// The engine's public queue is full; retry later.
	pub const QUEUE_FULL: i32 = 4004;
	/// This connection already has its maximum of generation requests in flight.
	pub const TOO_MANY_REQUESTS: i32 = 4005;
	/// Neither `prompt` nor `messages`, or both, or an empty message list.
	pub const BAD_INPUT: i32 = 4006;
	/// The model has no chat template, or the messages could not be rendered.
	pub const TEMPLATE: i32 = 4007;
	/// No such job on chain (at the block asked about).
	pub const JOB_NOT_FOUND: i32 = 4008;
	/// The job exists but this node holds no output for it (not assigned, or not run yet).
	pub const JOB_OUTPUT_UNAVAILABLE: i32 = 4009;
	/// The model does not fit the memory budget next to models in use.
	pub const MEMORY_BUDGET: i32 = 4010;
	/// The engine failed (llama.cpp, a corrupt model file, shutdown), or a runtime API call did.
	pub const ENGINE: i32 = 4011;
	/// Generation is not served on this interface (Substrate's RPC port where unsafe methods
	/// are denied); use the dedicated inference port.
	pub const USE_INFERENCE_PORT: i32 = 4012;
	/// This client address already has its maximum of generation requests in flight, or the
	/// server tracks too many busy addresses to admit another one.
	pub const TOO_MANY_PER_IP: i32 = 4013;
	/// This client address started its maximum of generation requests in the last minute.
	pub const RATE_LIMITED: i32 = 4014;
	/// The job is pending on chain: its output is served only to the job's owner, on a request
	/// signed by the owner (`auth`).
	pub const JOB_PENDING: i32 = 4015;
	/// `auth` is malformed, or its signature is not the job owner's over the job-result payload
	/// for this chain, this job and this node.
	pub const BAD_AUTH: i32 = 4016;
	/// The output held here answers another job that had the same id (the chain reorganized);
	/// its digest differs from the on-chain job's.
	pub const JOB_MISMATCH: i32 = 4017;
	/// The node has no inference key (`infr`) in its keystore.
	pub const NO_INFERENCE_KEY: i32 = 4018;
	/// The block given as `at` is not known to this node (or its state is gone).
	pub const UNKNOWN_BLOCK: i32 = 4019;
	/// `temperature` is negative or not a number, or `topP` is not in `(0, 1]`.
	pub const BAD_SAMPLING: i32 = 4020;
	/// More than 4 stop sequences, or one that is empty or longer than 64 bytes.
	pub const BAD_STOP: i32 = 4021;
}

/// An error of an `inference_*` method.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
	/// [`codes::INFERENCE_DISABLED`].
	InferenceDisabled,
	/// [`codes::UNKNOWN_MODEL`], with what was asked for.
	UnknownModel(String),
	/// [`codes::PROMPT_TOO_LARGE`], with the details.
	PromptTooLarge(String),
	/// [`codes::BAD_MAX_TOKENS`], with the node's limit.
	BadMaxTokens(u32),
	/// [`codes::QUEUE_FULL`], with the details.
	QueueFull(String),
	/// [`codes::TOO_MANY_REQUESTS`], with the per-connection limit.
	TooManyPerConnection(usize),
	/// [`codes::BAD_INPUT`].
	BadInput,
	/// [`codes::TEMPLATE`], with the details.
	Template(String),
	/// [`codes::JOB_NOT_FOUND`], with the job id.
	JobNotFound(u64),
	/// [`codes::JOB_OUTPUT_UNAVAILABLE`], with the job id.
	JobOutputUnavailable(u64),
	/// [`codes::MEMORY_BUDGET`], with the details.
	MemoryBudget(String),
	/// [`codes::ENGINE`], with the details.
	Engine(String),
	/// [`codes::USE_INFERENCE_PORT`], with the inference port if this node runs one.
	UseInferencePort(Option<u16>),
	/// [`codes::TOO_MANY_PER_IP`], with the per-address limit (`None`: too many addresses).
	TooManyPerIp(Option<usize>),
	/// [`codes::RATE_LIMITED`], with the per-minute limit.
	RateLimited(u32),
	/// [`codes::JOB_PENDING`], with the job id.
	JobPending(u64),
	/// [`codes::BAD_AUTH`], with what is wrong.
	BadAuth(String),
	/// [`codes::JOB_MISMATCH`], with the job id.
	JobMismatch(u64),
	/// [`codes::NO_INFERENCE_KEY`].
	NoInferenceKey,
	/// [`codes::UNKNOWN_BLOCK`], with the block hash.
	UnknownBlock(String),
	/// [`codes::BAD_SAMPLING`], with what is wrong.
	BadSampling(String),
	/// [`codes::BAD_STOP`], with what is wrong.
	BadStop(String),
	/// JSON-RPC's invalid params (`-32602`), for values that deserialize but mean nothing (an
	/// account that is not SS58).
	InvalidParams(String),
	/// Substrate's "unsafe method" refusal (`-32601`).
	Unsafe,
}

impl Error {
	/// How a generation request refused with this error ended, in the metrics.
	pub fn outcome(&self) -> crate::metrics::inference::Outcome {
		use crate::metrics::inference::Outcome;
		match self {
			Self::InferenceDisabled
			| Self::QueueFull(_)
			| Self::TooManyPerConnection(_)
			| Self::MemoryBudget(_)
			| Self::UseInferencePort(_)
			| Self::TooManyPerIp(_)
			| Self::RateLimited(_)
			| Self::NoInferenceKey
			| Self::Unsafe => Outcome::Refused,
			Self::UnknownModel(_)
			| Self::PromptTooLarge(_)
			| Self::BadMaxTokens(_)
			| Self::BadInput
			| Self::Template(_)
			| Self::JobNotFound(_)
			| Self::JobOutputUnavailable(_)
			| Self::JobPending(_)
			| Self::BadAuth(_)
			| Self::JobMismatch(_)
			| Self::UnknownBlock(_)
			| Self::BadSampling(_)
			| Self::BadStop(_)
			| Self::InvalidParams(_) => Outcome::Invalid,
			Self::Engine(_) => Outcome::Failed,
		}
	}

	/// The JSON-RPC error code.
	pub fn code(&self) -> i32 {
		use codes::*;
		match self {
			Self::InferenceDisabled => INFERENCE_DISABLED,
			Self::UnknownModel(_) => UNKNOWN_MODEL,
			Self::PromptTooLarge(_) => PROMPT_TOO_LARGE,
			Self::BadMaxTokens(_) => BAD_MAX_TOKENS,
			Self::QueueFull(_) => QUEUE_FULL,
			Self::TooManyPerConnection(_) => TOO_MANY_REQUESTS,
			Self::BadInput => BAD_INPUT,
			Self::Template(_) => TEMPLATE,
			Self::JobNotFound(_) => JOB_NOT_FOUND,
			Self::JobOutputUnavailable(_) => JOB_OUTPUT_UNAVAILABLE,
			Self::MemoryBudget(_) => MEMORY_BUDGET,
			Self::Engine(_) => ENGINE,
			Self::UseInferencePort(_) => USE_INFERENCE_PORT,
			Self::TooManyPerIp(_) => TOO_MANY_PER_IP,
			Self::RateLimited(_) => RATE_LIMITED,
			Self::JobPending(_) => JOB_PENDING,
			Self::BadAuth(_) => BAD_AUTH,
			Self::JobMismatch(_) => JOB_MISMATCH,
			Self::NoInferenceKey => NO_INFERENCE_KEY,
			Self::UnknownBlock(_) => UNKNOWN_BLOCK,
			Self::BadSampling(_) => BAD_SAMPLING,
			Self::BadStop(_) => BAD_STOP,
			Self::InvalidParams(_) => ErrorCode::InvalidParams.code(),
			Self::Unsafe => ErrorCode::MethodNotFound.code(),
		}
	}

	/// The human-readable message.
	pub fn message(&self) -> String {
		match self {
			Self::InferenceDisabled => "this node runs no inference engine".into(),
			Self::UnknownModel(model) => {
				format!("unknown model {model:?}; see inference_models")
			},
			Self::PromptTooLarge(details)
			| Self::QueueFull(details)
			| Self::Template(details)
			| Self::MemoryBudget(details)
			| Self::Engine(details) => details.clone(),
			Self::BadMaxTokens(limit) => format!("maxTokens must be between 1 and {limit}"),
			Self::TooManyPerConnection(limit) => {
				format!("at most {limit} inference requests per connection")
			},
			Self::BadInput => "give either `prompt` or a non-empty `messages`".into(),
			Self::JobNotFound(job) => format!("no job {job} on chain at this block"),
			Self::JobOutputUnavailable(job) => {
				format!("this node holds no output for job {job} (not assigned, or not run yet)")
			},
			Self::UseInferencePort(Some(port)) => format!(
				"public generation is served on this node's inference RPC port {port}, not here"
			),
			Self::UseInferencePort(None) => {
				"public generation is not served on this interface, and this node runs no \
				 inference RPC port"
					.into()
			},
			Self::TooManyPerIp(Some(limit)) => {
				format!("at most {limit} inference requests in flight per client address")
			},
			Self::TooManyPerIp(None) => {
				"too many client addresses have requests in flight; retry later".into()
			},
			Self::RateLimited(limit) => {
				format!("at most {limit} inference requests per minute per client address")
			},
			Self::JobPending(job) => format!(
				"job {job} is pending on chain: its output is served only to its owner, with \
				 `auth`"
			),
			Self::BadAuth(why) => format!("invalid auth: {why}"),
			Self::JobMismatch(job) => format!(
				"the output held here answers another job {job} (the chain reorganized since)"
			),
			Self::NoInferenceKey => {
				"this node has no inference key (`infr`) in its keystore".into()
			},
			Self::UnknownBlock(hash) => format!("unknown block {hash} (or its state is pruned)"),
			Self::BadSampling(details) | Self::BadStop(details) => details.clone(),
			Self::InvalidParams(details) => details.clone(),
			Self::Unsafe => sc_rpc_api::UnsafeRpcError.to_string(),
		}
	}

	/// Every code an `inference_*` method may answer with (the fuzz test checks against it).
	#[cfg(test)]
	pub fn documented_codes() -> std::ops::RangeInclusive<i32> {
		codes::INFERENCE_DISABLED..=codes::BAD_SAMPLING
	}
}

impl From<Error> for ErrorObjectOwned {
	fn from(error: Error) -> Self {
		ErrorObjectOwned::owned(error.code(), error.message(), None::<()>)
	}
}

impl From<EngineError> for Error {
	fn from(error: EngineError) -> Self {
		let message = error.to_string();
		match error {
			EngineError::UnknownModel(model) => Self::UnknownModel(model),
			EngineError::PromptTooLarge { .. } | EngineError::ContextOverflow { .. } => {
				Self::PromptTooLarge(message)
			},
			EngineError::BadMaxTokens(limit) => Self::BadMaxTokens(limit),
			EngineError::BadSampling(_) => Self::BadSampling(message),
			EngineError::BadStop(_) => Self::BadStop(message),
			EngineError::QueueFull(_) => Self::QueueFull(message),
			EngineError::Template(_) => Self::Template(message),
			EngineError::MemoryBudget { .. } => Self::MemoryBudget(message),
			EngineError::BadProfile(_)
			| EngineError::Cancelled
			| EngineError::ShuttingDown
			| EngineError::Llama(_)
			| EngineError::Store(_) => Self::Engine(message),
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn codes_are_stable() {
		let cases = [
			(Error::InferenceDisabled, 4000),
			(Error::UnknownModel("m".into()), 4001),
			(Error::PromptTooLarge(String::new()), 4002),
			(Error::BadMaxTokens(1), 4003),
			(Error::QueueFull(String::new()), 4004),
			(Error::TooManyPerConnection(2), 4005),
			(Error::BadInput, 4006),
			(Error::Template(String::new()), 4007),
			(Error::JobNotFound(0), 4008),
			(Error::JobOutputUnavailable(0), 4009),
			(Error::MemoryBudget(String::new()), 4010),
			(Error::Engine(String::new()), 4011),
			(Error::UseInferencePort(Some(9955)), 4012),
			(Error::TooManyPerIp(Some(2)), 4013),
			(Error::RateLimited(30), 4014),
			(Error::JobPending(0), 4015),
			(Error::BadAuth(String::new()), 4016),
			(Error::JobMismatch(0), 4017),
			(Error::NoInferenceKey, 4018),
			(Error::UnknownBlock(String::new()), 4019),
			(Error::BadSampling(String::new()), 4020),
			(Error::BadStop(String::new()), 4021),
			(Error::InvalidParams(String::new()), -32602),
			(Error::Unsafe, -32601),
		];
		for (error, code) in cases {
			assert_eq!(error.code(), code, "{error:?}");
			let object = ErrorObjectOwned::from(error.clone());
			assert_eq!(object.code(), code);
			assert_eq!(object.message(), error.message());
		}
	}

	#[test]
	fn engine_errors_map_to_their_codes() {
		let cases = [
			(EngineError::UnknownModel("x".into()), 4001),
			(
				EngineError::BadSampling(inference_engine::sampler::InvalidSampling::TopP),
				4020,
			),
			(EngineError::PromptTooLarge { bytes: 2, limit: 1 }, 4002),
			(
				EngineError::ContextOverflow {
					prompt_tokens: 1,
					max_tokens: 1,
					n_ctx: 1,
				},
				4002,
			),
			(EngineError::BadMaxTokens(5), 4003),
			(EngineError::QueueFull(3), 4004),
			(EngineError::Template("t".into()), 4007),
			(
				EngineError::MemoryBudget {
					needed: 2,
					budget: 1,
				},
				4010,
			),
			(EngineError::Cancelled, 4011),
			(EngineError::ShuttingDown, 4011),
			(EngineError::Llama("l".into()), 4011),
			(EngineError::BadProfile("p"), 4011),
		];
		for (error, code) in cases {
			assert_eq!(Error::from(error).code(), code);
		}
	}
}
