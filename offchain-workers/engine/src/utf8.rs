//! Incremental UTF-8 decoding of token pieces.
//!
//! A token's piece can end in the middle of a multi-byte character (byte-fallback vocabularies
//! split emoji and CJK text into single bytes), so a stream cannot print each piece on its own.
//! [`Utf8Decoder`] keeps an incomplete tail until the bytes that finish it arrive, and turns
//! bytes that can never become valid UTF-8 into U+FFFD.

/// Turns a stream of byte chunks into complete UTF-8 text.
#[derive(Default, Debug)]
pub struct Utf8Decoder {
	pending: Vec<u8>,
}

impl Utf8Decoder {
	/// A decoder with nothing buffered.
	pub fn new() -> Self {
		Self::default()
	}

	/// Adds `bytes` and returns the text that is now complete (possibly empty).
	pub fn push(&mut self, bytes: &[u8]) -> String {
		self.pending.extend_from_slice(bytes);
		let mut out = String::new();
		loop {
			match std::str::from_utf8(&self.pending) {
				Ok(text) => {
					out.push_str(text);
					self.pending.clear();
					return out;
				},
				Err(err) => {
					let valid = err.valid_up_to();
					// The prefix is valid by construction.
					out.push_str(&String::from_utf8_lossy(&self.pending[..valid]));
					match err.error_len() {
						// An invalid sequence: replace it and go on after it.
						Some(bad) => {
							out.push(char::REPLACEMENT_CHARACTER);
							self.pending.drain(..valid + bad);
						},
						// An incomplete sequence at the end: wait for more bytes.
						None => {
							self.pending.drain(..valid);
							return out;
						},
					}
				},
			}
		}
	}

	/// Ends the stream: an incomplete tail becomes U+FFFD.
	pub fn finish(&mut self) -> String {
		if self.pending.is_empty() {
			return String::new();
		}
		let text = String::from_utf8_lossy(&self.pending).into_owned();
		self.pending.clear();
		text
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn splits_inside_a_character_are_held_back() {
		let bytes = "a€😀b".as_bytes();
		let mut d = Utf8Decoder::new();
		let mut out = String::new();
		for b in bytes {
			out.push_str(&d.push(&[*b]));
		}
		out.push_str(&d.finish());
		assert_eq!(out, "a€😀b");

		let mut d = Utf8Decoder::new();
		assert_eq!(d.push(&[0xE2, 0x82]), "");
		assert_eq!(d.push(&[0xAC, b'x']), "€x");
	}

	#[test]
	fn invalid_bytes_become_replacement_characters() {
		let mut d = Utf8Decoder::new();
		assert_eq!(d.push(&[b'a', 0xFF, b'b']), "a\u{FFFD}b");
		assert_eq!(d.push(&[0xF0, 0x9F]), "");
		assert_eq!(d.finish(), "\u{FFFD}");
		assert_eq!(d.finish(), "");
	}
}
