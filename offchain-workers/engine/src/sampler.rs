//! Reproducible sampling: temperature and top-p with a seeded draw that every node of a
//! determinism class computes bit for bit, given the same logits.
//!
//! llama.cpp's own sampler chain is not used for sampled results that others must reproduce:
//! its draw goes through the C++ standard library's `uniform_real_distribution` (each standard
//! library computes it differently), its softmax through the platform's `expf`, and its sorts are
//! unstable, so equal logits can come out in another order. Everything here is specified:
//!
//! 1. `z_i = logit_i / temperature`, in `f64` (exact for `f32` inputs up to the division's
//!    rounding, which IEEE 754 fixes).
//! 2. `w_i = exp(z_i − max z)`, with the `libm` crate's `exp` (a pure-Rust port of musl's: the
//!    same code, hence the same bits, on every machine, unlike the platform's libm).
//! 3. Candidates ordered by `(w descending, token id ascending)`: a total order, so ties cannot
//!    be broken differently. The nucleus is the shortest prefix whose weight sum, added up in that
//!    order, reaches `top_p × Σw` (with `Σw` added up in token-id order); at least one token.
//!    Only as much of the order as needed is sorted (a selection of the top `k`, `k` growing
//!    fourfold), so a peaked distribution costs one pass over the vocabulary.
//! 4. The draw `u ∈ [0, 1)`: the top 53 bits of SplitMix64's `step`-th output for `seed`, times
//!    2⁻⁵³. The token is the first of the nucleus whose running weight sum exceeds `u × Σnucleus`.
//!
//! Temperature 0 is greedy: the highest logit, the lowest token id among equals.

use core::cmp::Ordering;

/// SplitMix64's increment (the golden ratio in 64-bit fixed point).
const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// How many candidates the first selection sorts; grows fourfold until the nucleus fits.
const FIRST_K: usize = 64;

/// The `step`-th output of SplitMix64 seeded with `seed` (`step` from 0): a counter-based
/// generator, so draw `n` needs no state from draws before it.
pub fn splitmix64(seed: u64, step: u64) -> u64 {
	let mut z = seed.wrapping_add(GOLDEN_GAMMA.wrapping_mul(step.wrapping_add(1)));
	z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
	z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
	z ^ (z >> 31)
}

/// The uniform draw in `[0, 1)` of generation step `step` for `seed`.
pub fn uniform(seed: u64, step: u64) -> f64 {
	(splitmix64(seed, step) >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Why sampling parameters are refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidSampling {
	/// The temperature is negative, NaN or infinite.
	#[error("temperature must be a finite number of at least 0")]
	Temperature,
	/// `top_p` is not in `(0, 1]`.
	#[error("top_p must be above 0 and at most 1")]
	TopP,
}

/// Temperature and top-p sampling with a seed (see the module documentation).
#[derive(Clone, Debug, PartialEq)]
pub struct Sampler {
	temperature: f32,
	top_p: f32,
	seed: u64,
	/// (weight, token id) of every candidate, kept between steps so that a generation
	/// allocates it once, not once per token.
	candidates: Vec<(f64, u32)>,
}

impl Sampler {
	/// A sampler; `temperature` 0 means greedy. Refuses a negative or non-finite temperature
	/// and a `top_p` outside `(0, 1]`.
	pub fn new(temperature: f32, top_p: f32, seed: u64) -> Result<Self, InvalidSampling> {
		if !temperature.is_finite() || temperature < 0.0 {
			return Err(InvalidSampling::Temperature);
		}
		if !(top_p > 0.0 && top_p <= 1.0) {
			return Err(InvalidSampling::TopP);
		}
		Ok(Self {
			temperature,
			top_p,
			seed,
			candidates: Vec::new(),
		})
	}

	/// The token (index into `logits`) chosen at generation step `step`. `None` only for empty
	/// logits. Non-finite logits are never chosen unless every logit is non-finite (then the
	/// greedy rule applies to whatever compares highest).
	pub fn sample(&mut self, logits: &[f32], step: u64) -> Option<usize> {
		if logits.is_empty() {
			return None;
		}
		if self.temperature == 0.0 {
			return greedy(logits);
		}
		let inv_t = 1.0 / f64::from(self.temperature);
		let max = logits
			.iter()
			.filter(|l| l.is_finite())
			.fold(f64::NEG_INFINITY, |m, &l| m.max(f64::from(l) * inv_t));
		if max == f64::NEG_INFINITY {
			return greedy(logits);
		}
		// Weights in token-id order; a non-finite logit weighs nothing.
		let candidates = &mut self.candidates;
		candidates.clear();
		candidates.extend(logits.iter().enumerate().map(|(i, &l)| {
			let w = if l.is_finite() {
				libm::exp(f64::from(l) * inv_t - max)
			} else {
				0.0
			};
			(w, i as u32)
		}));
		let total: f64 = candidates.iter().map(|c| c.0).sum();
		let target = f64::from(self.top_p) * total;
		let n = candidates.len();
		let mut k = FIRST_K.min(n);
		let nucleus_len = loop {
			if k < n {
				candidates.select_nth_unstable_by(k - 1, by_weight_then_id);
			}
			candidates[..k].sort_unstable_by(by_weight_then_id);
			let mut acc = 0.0;
			let reached = candidates[..k].iter().position(|c| {
				acc += c.0;
				acc >= target
			});
			match reached {
				Some(i) => break i + 1,
				None if k == n => break n,
				None => k = (k * 4).min(n),
			}
		};
		let nucleus = &candidates[..nucleus_len];
		let nucleus_total: f64 = nucleus.iter().map(|c| c.0).sum();
		let threshold = uniform(self.seed, step) * nucleus_total;
		let mut acc = 0.0;
		for c in nucleus {
			acc += c.0;
			if acc > threshold {
				return Some(c.1 as usize);
			}
		}
		// Rounding can leave the threshold at the very top: the last token of the nucleus.
		nucleus.last().map(|c| c.1 as usize)
	}
}

/// Descending weight, then ascending token id: a total order over the candidates.
fn by_weight_then_id(a: &(f64, u32), b: &(f64, u32)) -> Ordering {
	b.0.total_cmp(&a.0).then(a.1.cmp(&b.1))
}

/// The highest logit (by IEEE total order, so NaN never wins over a number), the lowest index
/// among equals.
fn greedy(logits: &[f32]) -> Option<usize> {
	let key = |l: f32| if l.is_nan() { f32::NEG_INFINITY } else { l };
	logits
		.iter()
		.enumerate()
		.fold(None, |best: Option<(usize, f32)>, (i, &l)| match best {
			Some((_, b)) if key(l).total_cmp(&key(b)) != Ordering::Greater => best,
			_ => Some((i, l)),
		})
		.map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn splitmix64_matches_the_reference_sequence() {
		// The reference implementation (Vigna's splitmix64.c) seeded with 1234567: its state is
		// advanced before each output, which `step` counts from 0.
		assert_eq!(splitmix64(1234567, 0), 6457827717110365317);
		assert_eq!(splitmix64(1234567, 1), 3203168211198807973);
		assert_eq!(splitmix64(1234567, 2), 9817491932198370423);
	}

	#[test]
	fn draws_are_in_the_unit_interval_and_differ_by_step_and_seed() {
		for step in 0..1000 {
			let u = uniform(42, step);
			assert!((0.0..1.0).contains(&u));
		}
		assert_ne!(uniform(42, 0), uniform(42, 1));
		assert_ne!(uniform(42, 0), uniform(43, 0));
	}

	#[test]
	fn parameters_are_checked() {
		assert_eq!(
			Sampler::new(-0.1, 0.9, 1),
			Err(InvalidSampling::Temperature)
		);
		assert_eq!(
			Sampler::new(f32::NAN, 0.9, 1),
			Err(InvalidSampling::Temperature)
		);
		assert_eq!(
			Sampler::new(f32::INFINITY, 0.9, 1),
			Err(InvalidSampling::Temperature)
		);
		assert_eq!(Sampler::new(0.7, 0.0, 1), Err(InvalidSampling::TopP));
		assert_eq!(Sampler::new(0.7, 1.01, 1), Err(InvalidSampling::TopP));
		assert_eq!(Sampler::new(0.7, f32::NAN, 1), Err(InvalidSampling::TopP));
		assert!(Sampler::new(0.0, 1.0, 1).is_ok());
	}

	#[test]
	fn temperature_zero_is_greedy_with_the_lowest_id_among_equals() {
		let mut s = Sampler::new(0.0, 1.0, 9).unwrap();
		assert_eq!(s.sample(&[0.5, 2.0, 2.0, -1.0], 0), Some(1));
		assert_eq!(s.sample(&[f32::NAN, 1.0], 0), Some(1));
		assert_eq!(s.sample(&[], 0), None);
	}

	#[test]
	fn a_tiny_top_p_keeps_only_the_most_likely_token() {
		let mut s = Sampler::new(1.0, 1e-6, 5).unwrap();
		let logits = [0.1, 3.0, 2.9, -4.0];
		for step in 0..200 {
			assert_eq!(s.sample(&logits, step), Some(1));
		}
	}

	#[test]
	fn the_nucleus_excludes_the_tail() {
		// Weights e^0, e^-1, e^-10 …: top_p = 0.9 keeps tokens 0 and 1 (0.73 + 0.27 ≥ 0.9).
		let mut s = Sampler::new(1.0, 0.9, 11).unwrap();
		let logits = [0.0, -1.0, -10.0, -10.0, -10.0];
		let mut seen = [0usize; 5];
		for step in 0..2000 {
			seen[s.sample(&logits, step).unwrap()] += 1;
		}
		assert_eq!(seen[2] + seen[3] + seen[4], 0, "{seen:?}");
		// P(0) = 1 / (1 + e^-1) ≈ 0.731 within the nucleus.
		let share = seen[0] as f64 / 2000.0;
		assert!((0.69..0.77).contains(&share), "{share}");
	}

	#[test]
	fn ties_are_ordered_by_token_id_whatever_their_position() {
		// Equal logits: the nucleus of top_p 0.5 over four equal tokens is the two lowest ids.
		let mut s = Sampler::new(1.0, 0.5, 3).unwrap();
		let logits = [1.0f32; 4];
		for step in 0..500 {
			assert!(s.sample(&logits, step).unwrap() < 2);
		}
	}

	#[test]
	fn a_large_vocabulary_grows_the_selection_until_the_nucleus_fits() {
		// 5000 equal logits and top_p 0.5: the nucleus is 2500 tokens, beyond several rounds of
		// selection; every draw lands in the lowest 2500 ids, and the draws spread over them.
		let mut s = Sampler::new(1.0, 0.5, 77).unwrap();
		let logits = vec![0.25f32; 5000];
		let mut max_seen = 0;
		for step in 0..3000 {
			let t = s.sample(&logits, step).unwrap();
			assert!(t < 2500, "{t}");
			max_seen = max_seen.max(t);
		}
		assert!(max_seen > 2000, "{max_seen}");
	}

	#[test]
	fn the_same_inputs_give_the_same_tokens_and_another_seed_others() {
		let logits: Vec<f32> = (0..1000)
			.map(|i| ((i * 7919) % 1000) as f32 / 250.0)
			.collect();
		let mut a = Sampler::new(0.7, 0.95, 2026).unwrap();
		let mut b = Sampler::new(0.7, 0.95, 2027).unwrap();
		let run = |s: &mut Sampler| {
			(0..64)
				.map(|step| s.sample(&logits, step))
				.collect::<Vec<_>>()
		};
		assert_eq!(run(&mut a), run(&mut a));
		assert_ne!(run(&mut a), run(&mut b));
	}
}
