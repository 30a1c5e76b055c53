//! Types of the reputation pallet: the formula's parameters and a node's evidence.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::fmt::Debug;
use scale_info::TypeInfo;
use sp_runtime::{
	traits::{AtLeast32BitUnsigned, Saturating},
	Perbill,
};

/// Fixed-point scale of `alpha` and `beta`: one unit of work is `EVIDENCE_SCALE`. The scale keeps
/// decayed evidence from rounding to zero after a few periods.
pub const EVIDENCE_SCALE: u128 = 1_000_000;

/// What a piece of evidence says about a node.
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
pub enum Outcome {
	/// Verified work agreeing with the majority (adds to `alpha`).
	Success,
	/// Wrong or missing result (adds to `beta`).
	Failure,
	/// A missed heartbeat period (adds `offline_units` to `beta`).
	Offline,
}

/// Parameters of the formula, set by governance.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	PartialEq,
	Eq,
	Debug,
	TypeInfo,
	MaxEncodedLen,
	serde::Serialize,
	serde::Deserialize,
)]
#[serde(rename_all = "camelCase")]
pub struct FormulaParameters<BlockNumber> {
	/// Length of a decay period in blocks (non-zero).
	pub decay_period: BlockNumber,
	/// Factor both counters are multiplied by once per elapsed period.
	pub decay_factor: Perbill,
	/// Failure units a missed heartbeat period counts as (non-zero).
	pub offline_units: u32,
	/// Cap on the units one report may add, so a single huge job cannot decide a score.
	pub max_units_per_report: u32,
}

impl<BlockNumber: AtLeast32BitUnsigned> Default for FormulaParameters<BlockNumber> {
	fn default() -> Self {
		Self {
			// 600 blocks = 1 hour at 6 s blocks; 99% per hour halves evidence in ~69 hours.
			decay_period: 600u32.into(),
			decay_factor: Perbill::from_percent(99),
			offline_units: 1,
			max_units_per_report: 100,
		}
	}
}

impl<BlockNumber: AtLeast32BitUnsigned> FormulaParameters<BlockNumber> {
	/// Whether the period and the unit counts are non-zero.
	pub fn is_valid(&self) -> bool {
		!self.decay_period.is_zero() && self.offline_units > 0 && self.max_units_per_report > 0
	}
}

/// The evidence about one node.
#[derive(
	Encode, Decode, DecodeWithMemTracking, Clone, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen,
)]
pub struct Record<BlockNumber> {
	/// Decayed successes, scaled by [`EVIDENCE_SCALE`].
	pub alpha: u128,
	/// Decayed failures, scaled by [`EVIDENCE_SCALE`].
	pub beta: u128,
	/// Block up to which decay has been applied (start of the current period for this record).
	pub updated_at: BlockNumber,
	/// Lifetime count of success reports (not decayed; informative).
	pub successes: u32,
	/// Lifetime count of failure reports (not decayed; informative).
	pub failures: u32,
	/// Lifetime count of missed heartbeat periods (not decayed; informative).
	pub offline: u32,
}

impl<BlockNumber: AtLeast32BitUnsigned + Copy> Record<BlockNumber> {
	/// A record with no evidence (score 1/2).
	pub fn new(now: BlockNumber) -> Self {
		Self {
			alpha: 0,
			beta: 0,
			updated_at: now,
			successes: 0,
			failures: 0,
			offline: 0,
		}
	}

	/// The Beta posterior mean `(alpha + 1) / (alpha + beta + 2)`.
	pub fn score(&self) -> Perbill {
		let num = self.alpha.saturating_add(EVIDENCE_SCALE);
		let den = self
			.alpha
			.saturating_add(self.beta)
			.saturating_add(2 * EVIDENCE_SCALE);
		Perbill::from_rational(num, den)
	}

	/// This record with the decay of every full period since `updated_at` applied at `now`.
	pub fn decayed(mut self, now: BlockNumber, params: &FormulaParameters<BlockNumber>) -> Self {
		if params.decay_period.is_zero() || now <= self.updated_at {
			return self;
		}
		let elapsed = now.saturating_sub(self.updated_at);
		let periods = elapsed / params.decay_period;
		if periods.is_zero() {
			return self;
		}
		// Beyond u32::MAX periods the factor is zero anyway (any factor < 1).
		let exponent: usize = periods.try_into().unwrap_or(usize::MAX);
		let factor = if params.decay_factor == Perbill::one() {
			Perbill::one()
		} else {
			params.decay_factor.saturating_pow(exponent)
		};
		self.alpha = factor.mul_floor(self.alpha);
		self.beta = factor.mul_floor(self.beta);
		self.updated_at = self
			.updated_at
			.saturating_add(periods.saturating_mul(params.decay_period));
		self
	}

	/// Adds one report. `units` is capped by `max_units_per_report`; offline reports weigh
	/// `offline_units`.
	pub fn add(&mut self, outcome: Outcome, units: u32, params: &FormulaParameters<BlockNumber>) {
		let units = match outcome {
			Outcome::Offline => params.offline_units,
			_ => units.clamp(1, params.max_units_per_report.max(1)),
		};
		let amount = (units as u128).saturating_mul(EVIDENCE_SCALE);
		match outcome {
			Outcome::Success => {
				self.alpha = self.alpha.saturating_add(amount);
				self.successes.saturating_inc();
			},
			Outcome::Failure => {
				self.beta = self.beta.saturating_add(amount);
				self.failures.saturating_inc();
			},
			Outcome::Offline => {
				self.beta = self.beta.saturating_add(amount);
				self.offline.saturating_inc();
			},
		}
	}
}
