//! Stop sequences: a direct request may name up to [`MAX_STOP_SEQUENCES`] strings; generation
//! ends as soon as its text contains one of them, and the text returned (and streamed) ends just
//! before it, as OpenAI's servers do.
//!
//! The tokens are not cut: the answer's token ids, and so the proof's output hash, include the
//! token that completed the stop sequence, because that is what the model computed. A verifier
//! decodes the tokens and cuts the text at the first occurrence of a stop sequence, which the
//! proof's request hash names (`proof::request_hash`).
//!
//! A stream must not show text that may turn out to be the start of a stop sequence: the
//! [`StopWatch`] holds back the longest tail of the text that is a proper prefix of some stop
//! sequence until the next tokens settle it.

use crate::types::EngineError;

/// Most stop sequences in one request (OpenAI's limit).
pub const MAX_STOP_SEQUENCES: usize = 4;

/// Longest stop sequence, in bytes.
pub const MAX_STOP_BYTES: usize = 64;

/// Refuses stop sequences that are too many, too long or empty (an empty one would stop before
/// the first token).
pub fn check(stop: &[String]) -> Result<(), EngineError> {
	if stop.len() > MAX_STOP_SEQUENCES {
		return Err(EngineError::BadStop(format!(
			"{} stop sequences, at most {MAX_STOP_SEQUENCES} are served",
			stop.len()
		)));
	}
	for s in stop {
		if s.is_empty() {
			return Err(EngineError::BadStop("a stop sequence is empty".into()));
		}
		if s.len() > MAX_STOP_BYTES {
			return Err(EngineError::BadStop(format!(
				"a stop sequence has {} bytes, at most {MAX_STOP_BYTES} are served",
				s.len()
			)));
		}
	}
	Ok(())
}

/// Watches a generation's text for stop sequences.
#[derive(Debug)]
pub struct StopWatch<'a> {
	stop: &'a [String],
	/// The text so far, cut at a stop sequence once one is found.
	text: String,
	/// How much of `text` has been released.
	released: usize,
	stopped: bool,
}

impl<'a> StopWatch<'a> {
	/// A watch for `stop` (which may be empty: then all text is released at once).
	pub fn new(stop: &'a [String]) -> Self {
		Self {
			stop,
			text: String::new(),
			released: 0,
			stopped: false,
		}
	}

	/// Adds newly decoded text. Returns the text that may now be shown, and whether a stop
	/// sequence has been found (then nothing after it is ever released).
	pub fn push(&mut self, text: &str) -> (String, bool) {
		if self.stopped {
			return (String::new(), true);
		}
		self.text.push_str(text);
		// No match can start before `released`: text is released only when no suffix of it is
		// the beginning of a stop sequence.
		let found = self
			.stop
			.iter()
			.filter_map(|s| self.text[self.released..].find(s.as_str()))
			.min();
		let end = match found {
			Some(at) => {
				self.stopped = true;
				self.text.truncate(self.released + at);
				self.text.len()
			},
			None => (self.text.len() - self.held_back()).max(self.released),
		};
		let out = self.text[self.released..end].to_string();
		self.released = end;
		(out, self.stopped)
	}

	/// The length of the longest tail of the text that is a proper prefix of a stop sequence.
	fn held_back(&self) -> usize {
		self.stop
			.iter()
			.flat_map(|s| {
				(1..s.len())
					.filter(|&k| s.is_char_boundary(k))
					.map(move |k| &s[..k])
			})
			.filter(|prefix| self.text.ends_with(prefix))
			.map(str::len)
			.max()
			.unwrap_or(0)
	}

	/// Ends the generation: returns what was held back (unless a stop sequence was found, which
	/// released everything before it already).
	pub fn finish(&mut self) -> String {
		let out = self.text[self.released..].to_string();
		self.released = self.text.len();
		out
	}

	/// Whether a stop sequence was found.
	pub fn stopped(&self) -> bool {
		self.stopped
	}

	/// The whole text, cut before the first stop sequence.
	pub fn into_text(self) -> String {
		self.text
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn run(stop: &[&str], pieces: &[&str]) -> (Vec<String>, String, bool) {
		let stop: Vec<String> = stop.iter().map(|s| s.to_string()).collect();
		let mut watch = StopWatch::new(&stop);
		let mut released = Vec::new();
		for piece in pieces {
			let (out, stopped) = watch.push(piece);
			released.push(out);
			if stopped {
				break;
			}
		}
		released.push(watch.finish());
		let stopped = watch.stopped();
		(released, watch.into_text(), stopped)
	}

	#[test]
	fn a_sequence_split_across_tokens_stops_and_is_never_shown() {
		let (released, text, stopped) = run(&["\nUser:"], &["Paris", ".\n", "Us", "er:", " more"]);
		assert!(stopped);
		assert_eq!(text, "Paris.");
		// The newline is held back until "Us" + "er:" settle it.
		assert_eq!(released, ["Paris", ".", "", "", ""]);
	}

	#[test]
	fn a_held_tail_that_does_not_continue_the_sequence_is_released() {
		let (released, text, stopped) = run(&["END"], &["the E", "ND", "x"]);
		assert!(stopped);
		assert_eq!(
			(text.as_str(), released.concat().as_str()),
			("the ", "the ")
		);
		let (released, text, stopped) = run(&["END"], &["the E", "nd"]);
		assert!(!stopped);
		assert_eq!(released, ["the ", "End", ""]);
		assert_eq!(text, "the End");
		// A tail still held when generation ends is released by `finish`.
		let (released, _, _) = run(&["END"], &["the EN"]);
		assert_eq!(released, ["the ", "EN"]);
	}

	#[test]
	fn the_earliest_of_several_sequences_wins_and_no_stop_releases_everything() {
		let (_, text, _) = run(&["b", "cd"], &["xxcdb"]);
		assert_eq!(text, "xx");
		let (released, text, stopped) = run(&[], &["a", "b"]);
		assert_eq!(
			(released.concat(), text, stopped),
			("ab".into(), "ab".into(), false)
		);
		// Multi-byte characters: prefixes are taken at character boundaries.
		let (_, text, stopped) = run(&["é!"], &["café", "!"]);
		assert_eq!((text.as_str(), stopped), ("caf", true));
	}

	#[test]
	fn bad_stop_lists_are_refused() {
		let many: Vec<String> = (0..5).map(|i| i.to_string()).collect();
		assert!(check(&many).is_err());
		assert!(check(&["".into()]).is_err());
		assert!(check(&["x".repeat(MAX_STOP_BYTES + 1)]).is_err());
		assert!(check(&["x".repeat(MAX_STOP_BYTES)]).is_ok());
		assert!(check(&[]).is_ok());
	}
}
