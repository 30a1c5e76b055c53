//! The OpenAI API's request and response bodies, as far as this node serves them: the fields
//! clients (the `openai` SDKs, LangChain, chat UIs) send and read. Field names are OpenAI's
//! (snake_case). Unknown request fields are ignored, as OpenAI-compatible servers do, except
//! those that change the answer and are not supported (`n` > 1, tools), which are refused.

use serde::{Deserialize, Serialize};

/// Message content: a string, or a list of parts of which only text parts are supported.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum Content {
	/// Plain text.
	Text(String),
	/// Parts (`[{ "type": "text", "text": "…" }]`).
	Parts(Vec<ContentPart>),
}

/// One part of a message's content.
#[derive(Clone, Debug, Deserialize)]
pub struct ContentPart {
	/// `text` (images and audio are refused).
	#[serde(rename = "type")]
	pub kind: String,
	/// The text of a text part.
	pub text: Option<String>,
}

/// A chat message of a request.
#[derive(Clone, Debug, Deserialize)]
pub struct ChatMessageIn {
	/// `system`, `developer` (read as `system`), `user` or `assistant`.
	pub role: String,
	/// What is said (`null` is allowed for an assistant turn that called tools; refused here).
	pub content: Option<Content>,
}

/// `stop`: one sequence or several (at most 4).
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum Stop {
	/// One sequence.
	One(String),
	/// Several.
	Many(Vec<String>),
}

/// `stream_options`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct StreamOptions {
	/// Send a last chunk with the usage.
	#[serde(default)]
	pub include_usage: bool,
}

/// `POST /v1/chat/completions`.
#[derive(Clone, Debug, Deserialize)]
pub struct ChatCompletionRequest {
	/// Model name or sha256, as `GET /v1/models` lists them.
	pub model: String,
	/// The conversation.
	pub messages: Vec<ChatMessageIn>,
	/// Most tokens to generate (deprecated by OpenAI in favour of `max_completion_tokens`).
	pub max_tokens: Option<u32>,
	/// Most tokens to generate.
	pub max_completion_tokens: Option<u32>,
	/// What both generation routes take.
	#[serde(flatten)]
	pub common: GenerationOptions,
	/// Tools; not served.
	pub tools: Option<serde_json::Value>,
}

/// The fields `/v1/chat/completions` and `/v1/completions` share.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct GenerationOptions {
	/// 0 to 2; 0 is greedy decoding. OpenAI's default is 1.
	pub temperature: Option<f32>,
	/// Nucleus mass, `(0, 1]`.
	pub top_p: Option<f32>,
	/// Seed of the draws: with the same seed and settings, every node of the model's class
	/// draws the same tokens.
	pub seed: Option<i64>,
	/// Stop sequences.
	pub stop: Option<Stop>,
	/// Answer as server-sent events.
	#[serde(default)]
	pub stream: bool,
	/// Streaming options.
	pub stream_options: Option<StreamOptions>,
	/// Number of choices; only 1 is served.
	pub n: Option<u32>,
}

/// `prompt` of a completion: one string (a list of several is refused: `n` answers per request
/// are not served).
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum PromptIn {
	/// One prompt.
	One(String),
	/// A list, served only when it has one element.
	Many(Vec<String>),
}

/// `POST /v1/completions`.
#[derive(Clone, Debug, Deserialize)]
pub struct CompletionRequest {
	/// Model name or sha256.
	pub model: String,
	/// The text to continue.
	pub prompt: PromptIn,
	/// Most tokens to generate (OpenAI's default for completions: 16).
	pub max_tokens: Option<u32>,
	/// What both generation routes take.
	#[serde(flatten)]
	pub common: GenerationOptions,
}

/// Token counts of an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Usage {
	/// Tokens of the (rendered) prompt.
	pub prompt_tokens: usize,
	/// Generated tokens.
	pub completion_tokens: usize,
	/// Their sum.
	pub total_tokens: usize,
}

impl Usage {
	/// The usage of `prompt` and `completion` tokens.
	pub fn new(prompt: usize, completion: usize) -> Self {
		Self {
			prompt_tokens: prompt,
			completion_tokens: completion,
			total_tokens: prompt.saturating_add(completion),
		}
	}
}

/// The assistant's message of an answer.
#[derive(Clone, Debug, Serialize)]
pub struct ChatMessageOut {
	/// Always `assistant`.
	pub role: &'static str,
	/// The generated text.
	pub content: String,
}

/// One choice of a chat completion.
#[derive(Clone, Debug, Serialize)]
pub struct ChatChoice {
	/// Always 0 (one choice per request).
	pub index: u32,
	/// The answer.
	pub message: ChatMessageOut,
	/// Always `null`: log probabilities are not served.
	pub logprobs: Option<()>,
	/// `stop` (end of generation or a stop sequence) or `length` (`max_tokens` or the context).
	pub finish_reason: &'static str,
}

/// Every generation answer and stream chunk has this envelope; `C` is its kind of choice
/// (a streamed chat's `chat.completion.chunk` events carry [`ChunkChoice`]s) and `R` the
/// receipt.
#[derive(Clone, Debug, Serialize)]
pub struct Answer<C, R> {
	/// `chatcmpl-…` or `cmpl-…`, unique per answer of this node, the same for every chunk of a
	/// stream.
	pub id: String,
	/// `chat.completion`, `chat.completion.chunk` or `text_completion`.
	pub object: &'static str,
	/// Unix time in seconds.
	pub created: u64,
	/// The model, as the request named it.
	pub model: String,
	/// The node's engine class, for clients that log it.
	pub system_fingerprint: String,
	/// The one choice (none in a stream's usage chunk).
	pub choices: Vec<C>,
	/// Token counts: always in a whole answer; in a stream only in the usage chunk (`null`
	/// elsewhere).
	pub usage: Option<Usage>,
	/// The node's signed receipt of the generation (see `docs/openai.md`); in a stream, in the
	/// chunk that finishes the answer.
	#[serde(skip_serializing_if = "Option::is_none")]
	pub receipt: Option<R>,
}

/// The answer of `POST /v1/chat/completions` (`stream: false`).
pub type ChatCompletion<R> = Answer<ChatChoice, R>;

/// The answer of `POST /v1/completions`, and each chunk of its stream (`text_completion`).
pub type Completion<R> = Answer<CompletionChoice, R>;

/// The change a stream chunk carries.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Delta {
	/// `assistant`, in the first chunk only.
	#[serde(skip_serializing_if = "Option::is_none")]
	pub role: Option<&'static str>,
	/// New text.
	#[serde(skip_serializing_if = "Option::is_none")]
	pub content: Option<String>,
}

/// One choice of a stream chunk.
#[derive(Clone, Debug, Serialize)]
pub struct ChunkChoice {
	/// Always 0.
	pub index: u32,
	/// The change.
	pub delta: Delta,
	/// Always `null`.
	pub logprobs: Option<()>,
	/// Set in the last content chunk.
	pub finish_reason: Option<&'static str>,
}

/// One choice of a completion.
#[derive(Clone, Debug, Serialize)]
pub struct CompletionChoice {
	/// The generated text (or, in a stream chunk, its new part).
	pub text: String,
	/// Always 0.
	pub index: u32,
	/// Always `null`.
	pub logprobs: Option<()>,
	/// `stop` or `length`; `null` in stream chunks before the last.
	pub finish_reason: Option<&'static str>,
}

/// One entry of `GET /v1/models`.
#[derive(Clone, Debug, Serialize)]
pub struct ModelEntry {
	/// The model's name in the store (requests may also name it by sha256).
	pub id: String,
	/// `model`.
	pub object: &'static str,
	/// Unix time in seconds; 0 (the store does not record it).
	pub created: u64,
	/// `cognitive-internet` for the embedded engine's models, `remote` for a back end's.
	pub owned_by: String,
	/// Whether greedy requests (`temperature: 0`) get the same tokens on every node of the
	/// model's determinism class: true for the embedded engine, false for a remote back end.
	pub deterministic: bool,
}

/// `GET /v1/models`.
#[derive(Clone, Debug, Serialize)]
pub struct ModelList {
	/// `list`.
	pub object: &'static str,
	/// The models this node serves.
	pub data: Vec<ModelEntry>,
}

/// The body of every error answer: `{ "error": { … } }`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ErrorBody {
	/// The error.
	pub error: ErrorDetail,
}

/// An error as OpenAI's clients parse it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ErrorDetail {
	/// One line for a person.
	pub message: String,
	/// `invalid_request_error`, `rate_limit_error`, `server_error`, …
	#[serde(rename = "type")]
	pub kind: &'static str,
	/// The request field at fault, if one is.
	pub param: Option<&'static str>,
	/// A stable code (`model_not_found`, `rate_limit_exceeded`, … and this node's own).
	pub code: Option<&'static str>,
}
