//! A job's prompt: raw text tokenized as is, or chat messages that the model's own chat
//! template (from its GGUF file) turns into the text the model reads.
//!
//! The chain stores either form as bytes beside a [`PromptFormat`]: text as its UTF-8 bytes,
//! chat as the SCALE encoding of its [`ChatTurn`]s. Roles are an enum rather than free text so
//! that a job cannot name a role the template does not know.

use crate::Sha256;
use alloc::vec::Vec;
use codec::{Decode, DecodeAll, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// Most messages in a chat job.
pub const MAX_CHAT_TURNS: u32 = 16;

/// Bytes of prompt a chat job is charged, and must leave room for, per message and once more
/// for the assistant turn the template opens: the template's own markers (`<|im_start|>user\n`,
/// `<|im_end|>\n` in ChatML: under 10 tokens). Prompt lengths on chain count bytes because a
/// token covers at least one byte; the markers are counted in this allowance instead, so a chat
/// job that passes the chain's length check fits the context on every node.
pub const CHAT_TURN_ALLOWANCE: u32 = 16;

/// Who speaks in a chat message.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum ChatRole {
	/// Instructions to the model.
	System,
	/// The user.
	User,
	/// The model's earlier answers.
	Assistant,
}

impl ChatRole {
	/// The role's name as chat templates spell it.
	pub fn as_str(&self) -> &'static str {
		match self {
			ChatRole::System => "system",
			ChatRole::User => "user",
			ChatRole::Assistant => "assistant",
		}
	}
}

/// One chat message.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub struct ChatTurn {
	/// Who speaks.
	pub role: ChatRole,
	/// What is said, UTF-8.
	pub content: Vec<u8>,
}

/// A job's prompt as `submit_job` takes it.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, PartialEq, Eq, Debug, TypeInfo)]
pub enum JobPrompt {
	/// UTF-8 text, tokenized as is (the model continues it).
	Text(Vec<u8>),
	/// Messages, rendered with the model's chat template with the assistant's turn opened (the
	/// model answers the last one).
	Chat(Vec<ChatTurn>),
}

/// How a job's stored prompt bytes are read. Part of the job's digest.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum PromptFormat {
	/// UTF-8 text.
	Text,
	/// SCALE-encoded [`ChatTurn`]s, rendered with the chat template whose sha256 the model's
	/// whitelist entry records; a node whose model file carries another template refuses the
	/// job.
	Chat {
		/// sha256 of the template text (the GGUF key `tokenizer.chat_template`).
		template_sha256: Sha256,
	},
}

impl PromptFormat {
	/// [`JobPrompt::billed_len`] of the prompt stored as `stored` in this format, read from the
	/// message count at the head of a chat's bytes without decoding the messages.
	pub fn billed_len(&self, stored: &[u8]) -> u32 {
		match self {
			PromptFormat::Text => billed(stored.len(), 0),
			PromptFormat::Chat { .. } => {
				let turns = codec::Compact::<u32>::decode(&mut &stored[..]).map_or(0, |c| c.0);
				billed(stored.len(), (turns as usize).saturating_add(1))
			},
		}
	}
}

/// `stored` bytes plus `turns` allowances, saturated to `u32`.
fn billed(stored: usize, turns: usize) -> u32 {
	let allowance = turns.saturating_mul(CHAT_TURN_ALLOWANCE as usize);
	u32::try_from(stored.saturating_add(allowance)).unwrap_or(u32::MAX)
}

/// Why a [`JobPrompt`] is refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum InvalidPrompt {
	/// Empty text, no messages, or an empty message.
	Empty,
	/// Text or a message that is not UTF-8.
	NotUtf8,
	/// More than [`MAX_CHAT_TURNS`] messages.
	TooManyTurns,
}

impl JobPrompt {
	/// Checks what the chain can check: non-empty UTF-8, at most [`MAX_CHAT_TURNS`] messages.
	pub fn validate(&self) -> Result<(), InvalidPrompt> {
		let utf8 = |bytes: &[u8]| core::str::from_utf8(bytes).is_ok();
		match self {
			JobPrompt::Text(text) => {
				if text.is_empty() {
					return Err(InvalidPrompt::Empty);
				}
				if !utf8(text) {
					return Err(InvalidPrompt::NotUtf8);
				}
			},
			JobPrompt::Chat(turns) => {
				if turns.is_empty() || turns.iter().any(|t| t.content.is_empty()) {
					return Err(InvalidPrompt::Empty);
				}
				if turns.len() > MAX_CHAT_TURNS as usize {
					return Err(InvalidPrompt::TooManyTurns);
				}
				if !turns.iter().all(|t| utf8(&t.content)) {
					return Err(InvalidPrompt::NotUtf8);
				}
			},
		}
		Ok(())
	}

	/// The bytes the chain stores: the text, or the SCALE encoding of the messages.
	pub fn stored_bytes(&self) -> Vec<u8> {
		match self {
			JobPrompt::Text(text) => text.clone(),
			JobPrompt::Chat(turns) => turns.encode(),
		}
	}

	/// The prompt length the chain charges and bounds: the stored bytes, plus
	/// [`CHAT_TURN_ALLOWANCE`] per message and once more for a chat.
	pub fn billed_len(&self) -> u32 {
		match self {
			JobPrompt::Text(text) => billed(text.len(), 0),
			JobPrompt::Chat(turns) => billed(turns.encoded_size(), turns.len().saturating_add(1)),
		}
	}

	/// The prompt stored as `bytes` in `format`; `None` if the bytes do not decode as that
	/// format (the chain never stores such bytes).
	pub fn from_stored(format: &PromptFormat, bytes: &[u8]) -> Option<JobPrompt> {
		match format {
			PromptFormat::Text => Some(JobPrompt::Text(bytes.to_vec())),
			PromptFormat::Chat { .. } => Vec::<ChatTurn>::decode_all(&mut &bytes[..])
				.ok()
				.map(JobPrompt::Chat),
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn turn(role: ChatRole, content: &str) -> ChatTurn {
		ChatTurn {
			role,
			content: content.as_bytes().to_vec(),
		}
	}

	#[test]
	fn chat_round_trips_through_its_stored_bytes() {
		let chat = JobPrompt::Chat(vec![
			turn(ChatRole::System, "Be brief."),
			turn(ChatRole::User, "What is the capital of France?"),
		]);
		let format = PromptFormat::Chat {
			template_sha256: [1; 32],
		};
		assert_eq!(
			JobPrompt::from_stored(&format, &chat.stored_bytes()),
			Some(chat)
		);
		// Trailing bytes are not a chat.
		let mut extra = JobPrompt::Chat(vec![turn(ChatRole::User, "hi")]).stored_bytes();
		extra.push(0);
		assert_eq!(JobPrompt::from_stored(&format, &extra), None);
	}

	#[test]
	fn billed_length_counts_the_template_allowance() {
		let text = JobPrompt::Text(b"hello".to_vec());
		assert_eq!(text.billed_len(), 5);
		let chat = JobPrompt::Chat(vec![turn(ChatRole::User, "hello")]);
		// 1 byte for the count, 1 for the role, 1 for the length, 5 for the text; two turns of
		// allowance (the message and the opened assistant turn).
		assert_eq!(chat.billed_len(), 8 + 2 * CHAT_TURN_ALLOWANCE);
		// The stored form gives the same figure.
		let format = PromptFormat::Chat {
			template_sha256: [0; 32],
		};
		assert_eq!(format.billed_len(&chat.stored_bytes()), chat.billed_len());
		assert_eq!(PromptFormat::Text.billed_len(b"hello"), 5);
	}

	#[test]
	fn invalid_prompts_are_named() {
		assert_eq!(
			JobPrompt::Text(vec![]).validate(),
			Err(InvalidPrompt::Empty)
		);
		assert_eq!(
			JobPrompt::Text(vec![0xff]).validate(),
			Err(InvalidPrompt::NotUtf8)
		);
		assert_eq!(
			JobPrompt::Chat(vec![]).validate(),
			Err(InvalidPrompt::Empty)
		);
		assert_eq!(
			JobPrompt::Chat(vec![turn(ChatRole::User, "")]).validate(),
			Err(InvalidPrompt::Empty)
		);
		let bad = ChatTurn {
			role: ChatRole::User,
			content: vec![0xc3],
		};
		assert_eq!(
			JobPrompt::Chat(vec![bad]).validate(),
			Err(InvalidPrompt::NotUtf8)
		);
		let many = vec![turn(ChatRole::User, "x"); MAX_CHAT_TURNS as usize + 1];
		assert_eq!(
			JobPrompt::Chat(many).validate(),
			Err(InvalidPrompt::TooManyTurns)
		);
		let most = vec![turn(ChatRole::User, "x"); MAX_CHAT_TURNS as usize];
		assert_eq!(JobPrompt::Chat(most).validate(), Ok(()));
	}
}
