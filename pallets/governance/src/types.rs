//! Types of the governance pallet: a vote, and the tally `pallet_referenda` reads.

use crate::{Config, Electorate};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::{fmt::Debug, marker::PhantomData};
use frame_support::{CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound};
use scale_info::TypeInfo;
use sp_runtime::Perbill;

/// Voting weight; see [`crate::Pallet::vote_weight`].
pub type Votes = u128;

/// Weight of a perfect score: a score is counted in parts per billion.
pub const SCORE_SCALE: Votes = 1_000_000_000;

/// A ballot.
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
pub enum Vote {
	/// For the proposal: counts towards approval and support.
	Aye,
	/// Against: counts towards approval (as a no) only.
	Nay,
	/// Present but neutral: counts towards support (turnout) only.
	Abstain,
}

/// The running count of a referendum, read by `pallet_referenda` through
/// [`frame_support::traits::VoteTally`].
///
/// * approval = `ayes / (ayes + nays)` (abstentions excluded), 0 with no votes;
/// * support = `(ayes + abstains) / (TotalVotingUnits × SCORE_SCALE)`: turnout against the weight
///   the whole electorate would have if every node had a perfect score.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct Tally<T: Config> {
	/// Weight voting aye.
	pub ayes: Votes,
	/// Weight voting nay.
	pub nays: Votes,
	/// Weight abstaining.
	pub abstains: Votes,
	#[codec(skip)]
	_phantom: PhantomData<T>,
}

impl<T: Config> Tally<T> {
	/// An empty tally.
	pub fn empty() -> Self {
		Self {
			ayes: 0,
			nays: 0,
			abstains: 0,
			_phantom: PhantomData,
		}
	}

	/// A tally with the given counts.
	pub fn from_parts(ayes: Votes, nays: Votes, abstains: Votes) -> Self {
		Self {
			ayes,
			nays,
			abstains,
			_phantom: PhantomData,
		}
	}

	/// Counts `weight` for `vote`.
	pub fn add(&mut self, vote: Vote, weight: Votes) {
		let slot = self.slot(vote);
		*slot = slot.saturating_add(weight);
	}

	/// Takes back `weight` previously counted for `vote`.
	pub fn remove(&mut self, vote: Vote, weight: Votes) {
		let slot = self.slot(vote);
		*slot = slot.saturating_sub(weight);
	}

	fn slot(&mut self, vote: Vote) -> &mut Votes {
		match vote {
			Vote::Aye => &mut self.ayes,
			Vote::Nay => &mut self.nays,
			Vote::Abstain => &mut self.abstains,
		}
	}

	/// The largest possible turnout: every node voting with a perfect score.
	pub fn electorate() -> Votes {
		(T::Electorate::total_units() as Votes).saturating_mul(SCORE_SCALE)
	}
}

impl<T: Config, Class> frame_support::traits::VoteTally<Votes, Class> for Tally<T> {
	fn new(_: Class) -> Self {
		Self::empty()
	}

	fn ayes(&self, _: Class) -> Votes {
		self.ayes
	}

	fn support(&self, _: Class) -> Perbill {
		let electorate = Self::electorate();
		if electorate == 0 {
			return Perbill::zero();
		}
		Perbill::from_rational(self.ayes.saturating_add(self.abstains), electorate)
	}

	fn approval(&self, _: Class) -> Perbill {
		let cast = self.ayes.saturating_add(self.nays);
		if cast == 0 {
			return Perbill::zero();
		}
		Perbill::from_rational(self.ayes, cast)
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn unanimity(_: Class) -> Self {
		Self::from_parts(Self::electorate(), 0, 0)
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn rejection(_: Class) -> Self {
		Self::from_parts(0, Self::electorate(), 0)
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn from_requirements(support: Perbill, approval: Perbill, _: Class) -> Self {
		let turnout = support.mul_ceil(Self::electorate());
		let ayes = approval.mul_ceil(turnout);
		Self::from_parts(ayes, turnout.saturating_sub(ayes), 0)
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn setup(_: Class, _: Perbill) {}
}
