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

/// Largest `max_units_per_report` governance may set (one report can never outweigh the
/// evidence of a hundred ordinary jobs).
pub const MAX_UNITS_PER_REPORT: u32 = 10_000;

/// Largest `confidence_units` governance may set.
pub const MAX_CONFIDENCE_UNITS: u32 = 1_000_000;

/// Smallest `decay_factor` governance may set: evidence must not vanish within a few periods,
/// or a node's record would say nothing about it.
pub const MIN_DECAY_FACTOR: Perbill = Perbill::from_percent(50);

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
	/// Verified work agreeing with the majority of a job replicated at least three times (adds
	/// the job's units to `alpha`).
	Success,
	/// A result contradicting the majority, or a commitment never opened (adds the job's units
	/// to `beta`).
	Wrong,
	/// Nothing sent for a job that other assignees delivered (adds the job's units to `beta`).
	Missed,
	/// Nothing sent for a job that no assignee delivered: the job, the network or a general
	/// overload is as likely at fault as the node, so it weighs only `timeout_units`.
	Timeout,
	/// A missed heartbeat period (adds `offline_units` to `beta`).
	Offline,
}

/// Parameters of the formula, set at genesis and by governance.
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
	/// Factor both counters are multiplied by once per elapsed period (at least
	/// [`MIN_DECAY_FACTOR`]).
	pub decay_factor: Perbill,
	/// Failure units a missed heartbeat period counts as (1..=`max_units_per_report`).
	pub offline_units: u32,
	/// Failure units a job that timed out for every assignee counts as
	/// (0..=`max_units_per_report`).
	pub timeout_units: u32,
	/// Cap on the units one report may add, so a single huge job cannot decide a score
	/// (1..=[`MAX_UNITS_PER_REPORT`]).
	pub max_units_per_report: u32,
	/// Evidence, in units, at which a flawless node's score reaches one half
	/// (1..=[`MAX_CONFIDENCE_UNITS`]); see [`Record::score`].
	pub confidence_units: u32,
}

impl<BlockNumber: AtLeast32BitUnsigned> Default for FormulaParameters<BlockNumber> {
	fn default() -> Self {
		Self {
			// 600 blocks = 1 hour at 6 s blocks; 99% per hour halves evidence in ~69 hours.
			decay_period: 600u32.into(),
			decay_factor: Perbill::from_percent(99),
			offline_units: 1,
			timeout_units: 1,
			max_units_per_report: 100,
			// Ten full-size jobs agreeing with their majorities give a score of one half.
			confidence_units: 1_000,
		}
	}
}

impl<BlockNumber: AtLeast32BitUnsigned> FormulaParameters<BlockNumber> {
	/// Whether every field is inside its documented bounds.
	pub fn is_valid(&self) -> bool {
		!self.decay_period.is_zero()
			&& self.decay_factor >= MIN_DECAY_FACTOR
			&& (1..=MAX_UNITS_PER_REPORT).contains(&self.max_units_per_report)
			&& (1..=self.max_units_per_report).contains(&self.offline_units)
			&& self.timeout_units <= self.max_units_per_report
			&& (1..=MAX_CONFIDENCE_UNITS).contains(&self.confidence_units)
	}
}

/// The evidence about one account.
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
	/// Lifetime count of wrong results and unopened commitments (not decayed; informative).
	pub wrong: u32,
	/// Lifetime count of jobs missed while others delivered (not decayed; informative).
	pub missed: u32,
	/// Lifetime count of jobs that timed out for every assignee (not decayed; informative).
	pub timeouts: u32,
	/// Lifetime count of missed heartbeat periods (not decayed; informative).
	pub offline: u32,
}

impl<BlockNumber: AtLeast32BitUnsigned + Copy> Record<BlockNumber> {
	/// A record with no evidence (score zero).
	pub fn new(now: BlockNumber) -> Self {
		Self {
			alpha: 0,
			beta: 0,
			updated_at: now,
			successes: 0,
			wrong: 0,
			missed: 0,
			timeouts: 0,
			offline: 0,
		}
	}

	/// `alpha / (alpha + beta + confidence_units)`: zero without verified work (no prior
	/// counts), one half for a flawless node with `confidence_units` of evidence, approaching
	/// one as verified work accumulates; every failure pulls it down.
	pub fn score(&self, params: &FormulaParameters<BlockNumber>) -> Perbill {
		let confidence = u128::from(params.confidence_units.max(1)).saturating_mul(EVIDENCE_SCALE);
		let den = self
			.alpha
			.saturating_add(self.beta)
			.saturating_add(confidence);
		Perbill::from_rational(self.alpha, den)
	}

	/// Whether the record still carries at least one unit of evidence either way.
	pub fn is_informative(&self) -> bool {
		self.alpha >= EVIDENCE_SCALE || self.beta >= EVIDENCE_SCALE
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

	/// Adds one report. Work outcomes weigh `units` capped to `1..=max_units_per_report`;
	/// a timeout weighs `timeout_units`, an offline period `offline_units`.
	pub fn add(&mut self, outcome: Outcome, units: u32, params: &FormulaParameters<BlockNumber>) {
		let cap = params.max_units_per_report.max(1);
		let units = match outcome {
			Outcome::Offline => params.offline_units.min(cap),
			Outcome::Timeout => params.timeout_units.min(cap),
			Outcome::Success | Outcome::Wrong | Outcome::Missed => units.clamp(1, cap),
		};
		let amount = u128::from(units).saturating_mul(EVIDENCE_SCALE);
		match outcome {
			Outcome::Success => {
				self.alpha = self.alpha.saturating_add(amount);
				self.successes.saturating_inc();
			},
			Outcome::Wrong => {
				self.beta = self.beta.saturating_add(amount);
				self.wrong.saturating_inc();
			},
			Outcome::Missed => {
				self.beta = self.beta.saturating_add(amount);
				self.missed.saturating_inc();
			},
			Outcome::Timeout => {
				self.beta = self.beta.saturating_add(amount);
				self.timeouts.saturating_inc();
			},
			Outcome::Offline => {
				self.beta = self.beta.saturating_add(amount);
				self.offline.saturating_inc();
			},
		}
	}
}
