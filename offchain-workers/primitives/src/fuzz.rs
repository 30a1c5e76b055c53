//! Seeded random choices for the project's property-test harnesses (the pallets' random call
//! sequences and the inference RPC's parameter fuzzer), and the size of the campaign CI runs.
//!
//! A harness runs [`Campaign::from_env`]`.seeds()`: `FUZZ_CASES` cases (each harness has its
//! default) starting at seed `FUZZ_SEED`, so a failure printed as "seed N" replays with
//! `FUZZ_SEED=N FUZZ_CASES=1`. Only with the `fuzz` feature (tests, never the runtime).

use std::ops::Range;

/// xorshift64*: small, fast and seedable; good enough to choose test cases, not for anything
/// that needs unpredictability.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
	/// A generator for `seed`; nearby seeds start far apart.
	pub fn new(seed: u64) -> Self {
		// xorshift's state must not be zero.
		Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
	}

	/// The next 64 random bits.
	pub fn next_u64(&mut self) -> u64 {
		self.0 ^= self.0 >> 12;
		self.0 ^= self.0 << 25;
		self.0 ^= self.0 >> 27;
		self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
	}

	/// A number in `0..n` (0 when `n` is 0).
	pub fn below(&mut self, n: u64) -> u64 {
		self.next_u64() % n.max(1)
	}

	/// An index or length in `0..n` (0 when `n` is 0).
	pub fn index(&mut self, n: usize) -> usize {
		self.below(n as u64) as usize
	}

	/// True with probability `percent`/100.
	pub fn chance(&mut self, percent: u64) -> bool {
		self.below(100) < percent
	}

	/// One of `items`, which must not be empty.
	pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
		items[self.index(items.len())]
	}

	/// Up to `max` random bytes.
	pub fn bytes(&mut self, max: usize) -> Vec<u8> {
		let len = self.index(max + 1);
		(0..len).map(|_| self.next_u64() as u8).collect()
	}
}

/// How many cases a harness runs, and from which seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Campaign {
	/// The first seed (`FUZZ_SEED`).
	pub first_seed: u64,
	/// The number of cases (`FUZZ_CASES`).
	pub cases: u64,
}

impl Campaign {
	/// `FUZZ_CASES` and `FUZZ_SEED` from the environment, else the harness's defaults.
	pub fn from_env(default_cases: u64, default_seed: u64) -> Self {
		let var = |name: &str| std::env::var(name).ok().and_then(|v| v.parse().ok());
		Self {
			first_seed: var("FUZZ_SEED").unwrap_or(default_seed),
			cases: var("FUZZ_CASES").unwrap_or(default_cases),
		}
	}

	/// The seeds of the cases, one each.
	pub fn seeds(&self) -> Range<u64> {
		self.first_seed..self.first_seed.saturating_add(self.cases)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn choices_stay_in_range_and_replay() {
		let mut a = Rng::new(7);
		let mut b = Rng::new(7);
		for n in 0..200u64 {
			let x = a.below(n);
			assert!(x < n.max(1));
			assert_eq!(x, b.below(n));
		}
		assert_eq!(a.below(0), 0);
		assert!(a.bytes(5).len() <= 5);
		assert_ne!(Rng::new(1).next_u64(), Rng::new(2).next_u64());
		assert_eq!(
			Campaign {
				first_seed: 3,
				cases: 2
			}
			.seeds(),
			3..5
		);
	}
}
