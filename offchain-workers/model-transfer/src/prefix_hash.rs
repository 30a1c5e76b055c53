//! The sha256 of a file that is written out of order, computed in order while it is written.
//!
//! A fetch writes leaves wherever they land, but the chain's sha256 is over the bytes in order.
//! Hashing the whole file after the last leaf made the fetch wait for a full extra pass over
//! it (a second or more per GiB). Instead a thread of its own hashes the file's *written
//! prefix* as it grows — the bytes are still in the page cache — so when the last leaf lands
//! only the tail is left to hash.

use sha2::{Digest, Sha256};
use std::{
	fs::File,
	io,
	os::unix::fs::FileExt,
	sync::{mpsc, Arc},
	thread,
};

enum Message {
	/// Every byte before this offset is written.
	WrittenUpTo(u64),
	/// Every byte of the file (this long) is written: reply with its digest.
	Finish(u64, mpsc::Sender<io::Result<[u8; 32]>>),
}

/// Hashes `file` in order, as far as it is told the bytes are written.
pub struct PrefixHasher {
	file: Arc<File>,
	sender: Option<mpsc::Sender<Message>>,
	/// The largest offset sent (nothing before it is sent again).
	sent: u64,
}

impl PrefixHasher {
	/// A hasher of `file`, which is being written; its thread starts with the first message.
	pub fn new(file: Arc<File>) -> Self {
		Self {
			file,
			sender: None,
			sent: 0,
		}
	}

	/// Every byte before `end` is written and will not change.
	pub fn written_up_to(&mut self, end: u64) {
		if end <= self.sent {
			return;
		}
		self.sent = end;
		let sender = self.sender();
		let _ = sender.send(Message::WrittenUpTo(end));
	}

	/// The digest of the file's first `len` bytes, all written: the tail not hashed yet is
	/// hashed now. Blocks until it is done.
	pub fn finish(&mut self, len: u64) -> io::Result<[u8; 32]> {
		let (reply, answer) = mpsc::channel();
		self.sender()
			.send(Message::Finish(len, reply))
			.map_err(|_| io::Error::other("the hashing thread stopped"))?;
		let digest = answer
			.recv()
			.map_err(|_| io::Error::other("the hashing thread stopped"))?;
		// The thread ends after a digest; a later call starts over.
		self.sender = None;
		self.sent = 0;
		digest
	}

	fn sender(&mut self) -> &mpsc::Sender<Message> {
		let file = self.file.clone();
		self.sender.get_or_insert_with(|| {
			let (sender, messages) = mpsc::channel();
			// A thread per fetch in progress, idle between messages; it ends when the fetch
			// drops its hasher or takes the digest.
			let _ = thread::Builder::new()
				.name("model-fetch-sha256".into())
				.spawn(move || hash_in_order(&file, messages));
			sender
		})
	}
}

/// The thread: hashes `file` from its start, as far as each message allows.
fn hash_in_order(file: &File, messages: mpsc::Receiver<Message>) {
	let mut hasher = Sha256::new();
	let mut hashed = 0u64;
	let mut failed: Option<io::Error> = None;
	let mut buf = vec![0u8; 1 << 20];
	let mut advance = |hasher: &mut Sha256, hashed: &mut u64, end: u64| -> io::Result<()> {
		while *hashed < end {
			let n =
				usize::try_from((end - *hashed).min(buf.len() as u64)).map_err(io::Error::other)?;
			file.read_exact_at(&mut buf[..n], *hashed)?;
			hasher.update(&buf[..n]);
			*hashed += n as u64;
		}
		Ok(())
	};
	for message in messages {
		match message {
			Message::WrittenUpTo(end) => {
				if failed.is_none() {
					if let Err(e) = advance(&mut hasher, &mut hashed, end) {
						failed = Some(e);
					}
				}
			},
			Message::Finish(len, reply) => {
				let result = match failed.take() {
					Some(e) => Err(e),
					None if hashed > len => Err(io::Error::other(format!(
						"{hashed} bytes hashed of a file of {len}"
					))),
					None => advance(&mut hasher, &mut hashed, len)
						.map(|()| std::mem::take(&mut hasher).finalize().into()),
				};
				let _ = reply.send(result);
				return;
			},
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use std::io::Write;

	#[test]
	fn the_digest_is_the_files_whatever_order_the_prefix_grows_in() {
		let path = std::env::temp_dir().join(format!("prefix-hash-{}", std::process::id()));
		let bytes: Vec<u8> = (0..3_500_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
		File::create(&path).unwrap().write_all(&bytes).unwrap();
		let file = Arc::new(File::open(&path).unwrap());
		let expected: [u8; 32] = Sha256::digest(&bytes).into();

		// In steps, with repeats and a step backwards (ignored).
		let mut hasher = PrefixHasher::new(file.clone());
		for end in [10, 1 << 20, 1 << 20, 5, 2_000_001, 3_000_000] {
			hasher.written_up_to(end);
		}
		assert_eq!(hasher.finish(bytes.len() as u64).unwrap(), expected);
		// Nothing told in advance: the whole file at the end.
		assert_eq!(
			PrefixHasher::new(file.clone())
				.finish(bytes.len() as u64)
				.unwrap(),
			expected
		);
		// Told more than the file holds: an error, not a digest.
		let mut hasher = PrefixHasher::new(file);
		hasher.written_up_to(bytes.len() as u64 + 1);
		assert!(hasher.finish(bytes.len() as u64).is_err());
		let _ = std::fs::remove_file(path);
	}
}
