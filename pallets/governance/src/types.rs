//! Types of the governance pallet: a vote, the tally `pallet_referenda` reads, the tracks and
//! the voting rules set in the chain spec.

use crate::Config;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::fmt::Debug;
use frame_support::{
	traits::ConstU32, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use frame_system::pallet_prelude::BlockNumberFor;
use scale_info::TypeInfo;
use sp_runtime::Perbill;

/// Voting weight; see [`crate::Pallet::vote_weight`].
pub type Votes = u128;

/// Weight of a perfect score: a score is counted in parts per billion.
pub const SCORE_SCALE: Votes = 1_000_000_000;

/// Longest track name, as `pallet_referenda` stores it.
pub const MAX_TRACK_NAME: u32 = 25;

/// Longest period a track may have, in blocks (about a year and a half of 6-second blocks).
pub const MAX_TRACK_PERIOD: u32 = 8_000_000;

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
/// * support = `(ayes + abstains) / electorate`, where `electorate` is fixed by the poll's first
///   vote: the weight every node that may vote in the poll had at that moment
///   ([`crate::Pallet::eligible_weight`]). Nodes without verified work, nodes too young for the
///   poll and nodes that left count neither as voters nor in the electorate, so bonding idle
///   capital cannot dilute support either. Turnout is capped at the electorate, so support never
///   exceeds 100%.
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
	/// The weight of the poll's electorate, fixed by its first vote (zero before it).
	pub electorate: Votes,
	/// Block at which the poll opened; voters must have been registered `min_voting_age`
	/// blocks before it.
	pub opened_at: BlockNumberFor<T>,
}

impl<T: Config> Tally<T> {
	/// An empty tally opening now.
	pub fn empty() -> Self {
		Self::from_parts(0, 0, 0, 0)
	}

	/// A tally with the given counts and electorate, opening now.
	pub fn from_parts(ayes: Votes, nays: Votes, abstains: Votes, electorate: Votes) -> Self {
		Self {
			ayes,
			nays,
			abstains,
			electorate,
			opened_at: frame_system::Pallet::<T>::block_number(),
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
}

/// The electorate used by `pallet_referenda`'s benchmarks, which build tallies without votes.
#[cfg(feature = "runtime-benchmarks")]
const BENCHMARK_ELECTORATE: Votes = 1_000 * SCORE_SCALE;

impl<T: Config, Class> frame_support::traits::VoteTally<Votes, Class> for Tally<T> {
	fn new(_: Class) -> Self {
		Self::empty()
	}

	fn ayes(&self, _: Class) -> Votes {
		self.ayes
	}

	fn support(&self, _: Class) -> Perbill {
		if self.electorate == 0 {
			return Perbill::zero();
		}
		let turnout = self.ayes.saturating_add(self.abstains).min(self.electorate);
		Perbill::from_rational(turnout, self.electorate)
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
		Self::from_parts(BENCHMARK_ELECTORATE, 0, 0, BENCHMARK_ELECTORATE)
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn rejection(_: Class) -> Self {
		Self::from_parts(0, BENCHMARK_ELECTORATE, 0, BENCHMARK_ELECTORATE)
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn from_requirements(support: Perbill, approval: Perbill, _: Class) -> Self {
		let turnout = support.mul_ceil(BENCHMARK_ELECTORATE);
		let ayes = approval.mul_ceil(turnout);
		Self::from_parts(ayes, turnout.saturating_sub(ayes), 0, BENCHMARK_ELECTORATE)
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn setup(_: Class, _: Perbill) {}
}

/// A threshold falling linearly from `ceil` at the start of the decision period to `floor` at
/// its end (`ceil == floor` for a fixed threshold).
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
	serde::Serialize,
	serde::Deserialize,
)]
#[serde(rename_all = "camelCase")]
pub struct CurveSpec {
	/// Threshold at the start of the decision period.
	pub ceil: Perbill,
	/// Threshold at its end (at most `ceil`).
	pub floor: Perbill,
}

/// One referendum track, as the chain spec and root set it. The runtime hands it to
/// `pallet_referenda` as a `Track`.
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
pub struct TrackSpec<Balance, BlockNumber> {
	/// Track id (`pallet_referenda`'s class).
	pub id: u16,
	/// Name, at most [`MAX_TRACK_NAME`] bytes of ASCII.
	#[serde(with = "track_name")]
	pub name: BoundedVec<u8, ConstU32<MAX_TRACK_NAME>>,
	/// Referenda that may be deciding at once (at least one).
	pub max_deciding: u32,
	/// Deposit to move a referendum into its decision period (non-zero).
	pub decision_deposit: Balance,
	/// Blocks a referendum waits before it may be decided.
	pub prepare_period: BlockNumber,
	/// Blocks a referendum is decided in (non-zero).
	pub decision_period: BlockNumber,
	/// Blocks its thresholds must hold before it passes (non-zero).
	pub confirm_period: BlockNumber,
	/// Blocks between passing and enactment, at least.
	pub min_enactment_period: BlockNumber,
	/// Approval threshold (floor at least 50%: a minority never passes anything).
	pub min_approval: CurveSpec,
	/// Support threshold (floor at least 1%: no referendum passes without turnout).
	pub min_support: CurveSpec,
}

impl<Balance: Clone, BlockNumber: Clone> TrackSpec<Balance, BlockNumber> {
	/// The track as `pallet_referenda` takes it: thresholds fall linearly over the whole
	/// decision period.
	pub fn to_track(&self) -> pallet_referenda::Track<u16, Balance, BlockNumber> {
		let curve = |c: &CurveSpec| pallet_referenda::Curve::LinearDecreasing {
			length: Perbill::one(),
			floor: c.floor,
			ceil: c.ceil,
		};
		let mut name = [0u8; MAX_TRACK_NAME as usize];
		for (slot, byte) in name.iter_mut().zip(self.name.iter()) {
			*slot = *byte;
		}
		pallet_referenda::Track {
			id: self.id,
			info: pallet_referenda::TrackInfo {
				name,
				max_deciding: self.max_deciding,
				decision_deposit: self.decision_deposit.clone(),
				prepare_period: self.prepare_period.clone(),
				decision_period: self.decision_period.clone(),
				confirm_period: self.confirm_period.clone(),
				min_enactment_period: self.min_enactment_period.clone(),
				min_approval: curve(&self.min_approval),
				min_support: curve(&self.min_support),
			},
		}
	}
}

/// Who may vote, and what submitting costs: set in the chain spec.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	Clone,
	PartialEq,
	Eq,
	Debug,
	Default,
	TypeInfo,
	MaxEncodedLen,
	serde::Serialize,
	serde::Deserialize,
)]
#[serde(rename_all = "camelCase")]
pub struct VotingRules<Balance, BlockNumber> {
	/// A node votes in a poll only if it registered at least this many blocks before the poll
	/// opened: fresh capital cannot join an electorate for one vote.
	pub min_voting_age: BlockNumber,
	/// Deposit to submit a referendum (non-zero; returned when it closes).
	pub submission_deposit: Balance,
}

/// `serde` of a track name as a string.
mod track_name {
	use alloc::string::String;
	use frame_support::{traits::ConstU32, BoundedVec};
	use serde::{de::Error, Deserialize, Deserializer, Serializer};

	pub fn serialize<S: Serializer>(
		name: &BoundedVec<u8, ConstU32<{ super::MAX_TRACK_NAME }>>,
		s: S,
	) -> Result<S::Ok, S::Error> {
		s.serialize_str(core::str::from_utf8(name).unwrap_or_default())
	}

	pub fn deserialize<'de, D: Deserializer<'de>>(
		d: D,
	) -> Result<BoundedVec<u8, ConstU32<{ super::MAX_TRACK_NAME }>>, D::Error> {
		let name = String::deserialize(d)?;
		name.into_bytes()
			.try_into()
			.map_err(|_| D::Error::custom("track name too long"))
	}
}
