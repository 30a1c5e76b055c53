//! Pure translations between the OpenAI API and the node's generation requests: an OpenAI
//! request becomes the [`GenerateParams`] the `inference_*` methods validate (so both front
//! ends share one set of limits and checks), and an [`Error`] becomes an OpenAI error with its
//! HTTP status.

use super::wire::*;
use crate::inference::rpc::{error::Error, types::GenerateParams, types::Message};

/// OpenAI's default `max_tokens` of `/v1/completions`.
pub const COMPLETIONS_DEFAULT_MAX_TOKENS: u32 = 16;

/// OpenAI's default temperature.
pub const OPENAI_DEFAULT_TEMPERATURE: f32 = 1.0;

/// An error of the OpenAI front end: the HTTP status and the body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
	/// HTTP status code.
	pub status: u16,
	/// The JSON body.
	pub body: ErrorBody,
}

impl ApiError {
	/// A 400 about request field `param`.
	pub fn invalid(param: &'static str, message: impl Into<String>) -> Self {
		Self::new(
			400,
			"invalid_request_error",
			Some(param),
			Some("invalid_value"),
			message,
		)
	}

	fn new(
		status: u16,
		kind: &'static str,
		param: Option<&'static str>,
		code: Option<&'static str>,
		message: impl Into<String>,
	) -> Self {
		Self {
			status,
			body: ErrorBody {
				error: ErrorDetail {
					message: message.into(),
					kind,
					param,
					code,
				},
			},
		}
	}

	/// 404 for a path or method this server does not serve.
	pub fn not_found(what: &str) -> Self {
		Self::new(
			404,
			"invalid_request_error",
			None,
			Some("unknown_url"),
			format!("no route {what}"),
		)
	}

	/// 400 for a body that is not the JSON the route takes.
	pub fn bad_json(message: impl Into<String>) -> Self {
		Self::new(
			400,
			"invalid_request_error",
			None,
			Some("invalid_json"),
			message,
		)
	}

	/// Whether this is the error with OpenAI code `code`.
	pub fn code_is(&self, code: &str) -> bool {
		self.body.error.code == Some(code)
	}

	/// A failure of a remote back end, or its bound reached: `status` with `code`.
	pub fn upstream(status: u16, code: &'static str, message: impl Into<String>) -> Self {
		Self::new(status, "server_error", None, Some(code), message)
	}

	/// 413 for a body above the server's limit.
	pub fn too_large(limit: usize) -> Self {
		Self::new(
			413,
			"invalid_request_error",
			None,
			Some("request_too_large"),
			format!("the request body is larger than {limit} bytes"),
		)
	}
}

impl From<Error> for ApiError {
	fn from(e: Error) -> Self {
		let message = e.message();
		let invalid = "invalid_request_error";
		match e {
			Error::UnknownModel(_) => Self::new(
				404,
				invalid,
				Some("model"),
				Some("model_not_found"),
				message,
			),
			Error::PromptTooLarge(_) => Self::new(
				400,
				invalid,
				Some("messages"),
				Some("context_length_exceeded"),
				message,
			),
			Error::BadMaxTokens(_) => Self::new(
				400,
				invalid,
				Some("max_tokens"),
				Some("invalid_value"),
				message,
			),
			Error::BadInput => Self::new(
				400,
				invalid,
				Some("messages"),
				Some("invalid_value"),
				message,
			),
			Error::Template(_) => Self::new(
				400,
				invalid,
				Some("messages"),
				Some("chat_template"),
				message,
			),
			Error::BadStop(_) => {
				Self::new(400, invalid, Some("stop"), Some("invalid_value"), message)
			},
			Error::BadSampling(_) => Self::new(
				400,
				invalid,
				Some("temperature"),
				Some("invalid_value"),
				message,
			),
			Error::TooManyPerConnection(_) | Error::TooManyPerIp(_) | Error::RateLimited(_) => {
				Self::new(
					429,
					"rate_limit_error",
					None,
					Some("rate_limit_exceeded"),
					message,
				)
			},
			Error::QueueFull(_) | Error::MemoryBudget(_) => {
				Self::new(503, "server_error", None, Some("overloaded"), message)
			},
			Error::InferenceDisabled => Self::new(
				503,
				"server_error",
				None,
				Some("inference_disabled"),
				message,
			),
			Error::InvalidParams(_) => {
				Self::new(400, invalid, None, Some("invalid_value"), message)
			},
			// Not reachable from generation requests; kept total for new variants' sake.
			_ => Self::new(500, "server_error", None, Some("internal_error"), message),
		}
	}
}

/// OpenAI's sampling fields in the node's terms.
struct Sampling {
	deterministic: bool,
	temperature: Option<f32>,
	top_p: Option<f32>,
	seed: Option<u32>,
}

/// A prompt or messages, as the node's parameters take them.
struct Input {
	prompt: Option<String>,
	messages: Option<Vec<Message>>,
}

/// The node's parameters for generating from `input` with the options both routes share.
fn generate_params(
	model: String,
	input: Input,
	max_tokens: Option<u32>,
	options: GenerationOptions,
) -> Result<GenerateParams, ApiError> {
	let Sampling {
		deterministic,
		temperature,
		top_p,
		seed,
	} = sampling(options.temperature, options.top_p, options.seed)?;
	Ok(GenerateParams {
		model,
		prompt: input.prompt,
		messages: input.messages,
		max_tokens,
		deterministic: Some(deterministic),
		temperature,
		top_p,
		seed,
		stop: stop_sequences(options.stop),
	})
}

/// Temperature and seed as OpenAI means them: no temperature is 1 (sampled); 0 is greedy
/// decoding, the node's deterministic mode.
fn sampling(
	temperature: Option<f32>,
	top_p: Option<f32>,
	seed: Option<i64>,
) -> Result<Sampling, ApiError> {
	let temperature = temperature.unwrap_or(OPENAI_DEFAULT_TEMPERATURE);
	if !(0.0..=2.0).contains(&temperature) {
		return Err(ApiError::invalid(
			"temperature",
			"temperature must be between 0 and 2",
		));
	}
	let seed = seed
		.map(|s| {
			u32::try_from(s)
				.map_err(|_| ApiError::invalid("seed", "seed must be in 0..=4294967295"))
		})
		.transpose()?;
	if temperature == 0.0 {
		return Ok(Sampling {
			deterministic: true,
			temperature: None,
			top_p: None,
			seed: None,
		});
	}
	Ok(Sampling {
		deterministic: false,
		temperature: Some(temperature),
		top_p,
		seed,
	})
}

/// Refuses what this node does not serve rather than answer something else.
fn unsupported(n: Option<u32>) -> Result<(), ApiError> {
	if n.is_some_and(|n| n != 1) {
		return Err(ApiError::invalid("n", "only n = 1 is served"));
	}
	Ok(())
}

/// OpenAI's `stop` (a string or a list) as the node's list; empty strings mean nothing, as an
/// empty list does. The node checks the count and lengths ([`Error::BadStop`]).
fn stop_sequences(stop: Option<Stop>) -> Option<Vec<String>> {
	let stop: Vec<String> = match stop? {
		Stop::One(s) => vec![s],
		Stop::Many(v) => v,
	};
	let stop: Vec<String> = stop.into_iter().filter(|s| !s.is_empty()).collect();
	(!stop.is_empty()).then_some(stop)
}

/// The text of a message's content: a string, or its text parts joined.
fn text_of(content: Option<Content>) -> Result<String, ApiError> {
	match content {
		Some(Content::Text(text)) => Ok(text),
		Some(Content::Parts(parts)) => parts
			.into_iter()
			.map(|p| match (p.kind.as_str(), p.text) {
				("text", Some(text)) => Ok(text),
				_ => Err(ApiError::invalid("messages", "only text content is served")),
			})
			.collect::<Result<Vec<_>, _>>()
			.map(|texts| texts.concat()),
		None => Err(ApiError::invalid("messages", "a message without content")),
	}
}

/// A chat completion request as the node's generation parameters.
pub fn chat_params(request: ChatCompletionRequest) -> Result<GenerateParams, ApiError> {
	unsupported(request.common.n)?;
	if request.tools.as_ref().is_some_and(|t| !t.is_null()) {
		return Err(ApiError::invalid("tools", "tools are not served"));
	}
	let messages = request
		.messages
		.into_iter()
		.map(|m| {
			let role = match m.role.as_str() {
				"system" | "developer" => "system",
				"user" => "user",
				"assistant" => "assistant",
				_ => {
					return Err(ApiError::invalid(
						"messages",
						format!("role {:?} is not served", m.role),
					))
				},
			};
			Ok(Message {
				role: role.to_string(),
				content: text_of(m.content)?,
			})
		})
		.collect::<Result<Vec<_>, _>>()?;
	generate_params(
		request.model,
		Input {
			prompt: None,
			messages: Some(messages),
		},
		request.max_completion_tokens.or(request.max_tokens),
		request.common,
	)
}

/// A completion request as the node's generation parameters.
pub fn completion_params(request: CompletionRequest) -> Result<GenerateParams, ApiError> {
	unsupported(request.common.n)?;
	let prompt = match request.prompt {
		PromptIn::One(prompt) => prompt,
		PromptIn::Many(mut prompts) if prompts.len() == 1 => prompts.remove(0),
		PromptIn::Many(_) => return Err(ApiError::invalid("prompt", "one prompt per request")),
	};
	generate_params(
		request.model,
		Input {
			prompt: Some(prompt),
			messages: None,
		},
		Some(request.max_tokens.unwrap_or(COMPLETIONS_DEFAULT_MAX_TOKENS)),
		request.common,
	)
}

/// OpenAI's name of a finish reason of the node's answers.
pub fn finish_reason(node: &str) -> &'static str {
	match node {
		"stop" | "stopSequence" => "stop",
		_ => "length",
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn chat(json: serde_json::Value) -> Result<GenerateParams, ApiError> {
		chat_params(serde_json::from_value(json).expect("parses"))
	}

	#[test]
	fn a_plain_chat_request_is_sampled_at_openai_s_default_temperature() {
		let p = chat(serde_json::json!({
			"model": "m", "messages": [{ "role": "developer", "content": "Be brief." },
				{ "role": "user", "content": [{ "type": "text", "text": "Hi" }] }],
			"max_completion_tokens": 9, "seed": 7,
		}))
		.unwrap();
		assert_eq!(p.deterministic, Some(false));
		assert_eq!(p.temperature, Some(1.0));
		assert_eq!(p.seed, Some(7));
		assert_eq!(p.max_tokens, Some(9));
		let m = p.messages.unwrap();
		assert_eq!(
			(m[0].role.as_str(), m[0].content.as_str()),
			("system", "Be brief.")
		);
		assert_eq!((m[1].role.as_str(), m[1].content.as_str()), ("user", "Hi"));
	}

	#[test]
	fn temperature_zero_is_the_deterministic_mode() {
		let p = chat(serde_json::json!({
			"model": "m", "messages": [{ "role": "user", "content": "Hi" }], "temperature": 0,
			"max_tokens": 4,
		}))
		.unwrap();
		assert_eq!(p.deterministic, Some(true));
		assert_eq!((p.temperature, p.seed, p.max_tokens), (None, None, Some(4)));
	}

	#[test]
	fn what_is_not_served_is_refused_by_name() {
		let base = |extra: serde_json::Value| {
			let mut v = serde_json::json!({ "model": "m", "messages": [{ "role": "user", "content": "Hi" }] });
			v.as_object_mut()
				.unwrap()
				.extend(extra.as_object().unwrap().clone());
			chat(v).unwrap_err().body.error.param
		};
		assert_eq!(base(serde_json::json!({ "n": 2 })), Some("n"));
		assert_eq!(base(serde_json::json!({ "tools": [{}] })), Some("tools"));
		assert_eq!(
			base(serde_json::json!({ "temperature": 2.5 })),
			Some("temperature")
		);
		assert_eq!(base(serde_json::json!({ "seed": -1 })), Some("seed"));
		let tool_role = chat(
			serde_json::json!({ "model": "m", "messages": [{ "role": "tool", "content": "x" }] }),
		);
		assert_eq!(tool_role.unwrap_err().body.error.param, Some("messages"));
		let image = chat(serde_json::json!({ "model": "m",
			"messages": [{ "role": "user", "content": [{ "type": "image_url" }] }] }));
		assert_eq!(image.unwrap_err().status, 400);
		// Stop sequences pass through, a lone string as a list of one; empty ones mean nothing.
		let stop = |v: serde_json::Value| {
			chat(serde_json::json!({ "model": "m", "stop": v,
				"messages": [{ "role": "user", "content": "Hi" }] }))
			.unwrap()
			.stop
		};
		assert_eq!(stop(serde_json::json!("\n")), Some(vec!["\n".to_string()]));
		assert_eq!(
			stop(serde_json::json!(["a", "", "b"])),
			Some(vec!["a".into(), "b".into()])
		);
		assert_eq!(stop(serde_json::json!([""])), None);
		// An empty stop list changes nothing.
		assert!(chat(serde_json::json!({ "model": "m", "stop": [],
			"messages": [{ "role": "user", "content": "Hi" }] }))
		.is_ok());
	}

	#[test]
	fn completions_default_to_sixteen_tokens_and_one_prompt() {
		let p = completion_params(
			serde_json::from_value(serde_json::json!({ "model": "m", "prompt": ["Once"] }))
				.unwrap(),
		)
		.unwrap();
		assert_eq!(
			(p.prompt.as_deref(), p.max_tokens),
			(Some("Once"), Some(16))
		);
		let two = completion_params(
			serde_json::from_value(serde_json::json!({ "model": "m", "prompt": ["a", "b"] }))
				.unwrap(),
		);
		assert_eq!(two.unwrap_err().body.error.param, Some("prompt"));
	}

	#[test]
	fn node_errors_keep_openai_s_statuses_and_codes() {
		let unknown = ApiError::from(Error::UnknownModel("x".into()));
		assert_eq!(
			(unknown.status, unknown.body.error.code),
			(404, Some("model_not_found"))
		);
		let limited = ApiError::from(Error::RateLimited(30));
		assert_eq!(
			(limited.status, limited.body.error.kind),
			(429, "rate_limit_error")
		);
		let full = ApiError::from(Error::QueueFull("busy".into()));
		assert_eq!(full.status, 503);
		let long = ApiError::from(Error::PromptTooLarge("big".into()));
		assert_eq!(long.body.error.code, Some("context_length_exceeded"));
	}
}
