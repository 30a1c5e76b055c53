//! # Governance pallet: reputation-weighted voting
//!
//! `pallet_referenda` runs this network's referenda (tracks, deposits, decision and confirmation
//! periods, enactment through `pallet_scheduler`); this pallet is its voting back end and the
//! source of the tracks' origins.
//!
//! ## Who votes, with what weight
//! Only operators of registered nodes vote ([`Config::Electorate`]). A vote weighs
//!
//! ```text
//! weight = score × SCORE_SCALE × voting_units
//! ```
//!
//! where `score` is the node's reputation (`Perbill`, [`Config::Reputation`]) and
//! `voting_units = clamp(bond / MinBond, 1, MaxVotingUnits)` from the node registry — so weight
//! grows with verified good work first and with stake only up to a cap. The weight is fixed when
//! the vote is cast; changing the vote recomputes it.
//!
//! ## How a referendum is decided
//! Votes are aye, nay or abstain. `pallet_referenda` compares two numbers from the [`Tally`]
//! with each track's curves: *approval* = ayes / (ayes + nays) and *support* = (ayes + abstains)
//! / (total voting units × SCORE_SCALE), i.e. turnout against the weight the electorate would
//! have if every node had a perfect score. Support below the track's minimum is a failed quorum:
//! the referendum times out at the end of its decision period and nothing is dispatched.
//!
//! ## Origins
//! A passed referendum dispatches its call with its track's origin: [`Origin::ModelWhitelist`],
//! [`Origin::NetworkParameters`], [`Origin::ReputationFormula`], [`Origin::Emergency`] or root.
//! [`EnsureModelWhitelist`] and friends let pallets require them.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
mod types;
pub mod weights;

/// The voters: registered nodes and their voting units.
pub trait Electorate<AccountId> {
	/// Voting units of `who`'s node, `None` when `who` runs no node that may vote.
	fn voting_units(who: &AccountId) -> Option<u32>;
	/// Sum of the voting units of every node that may vote.
	fn total_units() -> u32;
	/// Makes `who` a voter with `units` units (benchmarks only).
	#[cfg(feature = "runtime-benchmarks")]
	fn make_voter(who: &AccountId, units: u32);
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		pallet_prelude::*,
		traits::{PollStatus, Polling},
	};
	use frame_system::pallet_prelude::*;
	use pallet_reputation::ReputationInspect;

	/// Index of a poll (referendum).
	pub type PollIndexOf<T> = <<T as Config>::Polls as Polling<Tally<T>>>::Index;
	/// A voter's ballots in polls: (poll, vote, weight counted).
	pub type VotesOf<T> = BoundedVec<(PollIndexOf<T>, Vote, Votes), <T as Config>::MaxVotes>;

	const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The polls (`pallet_referenda`).
		type Polls: Polling<Tally<Self>, Votes = Votes, Moment = BlockNumberFor<Self>>;
		/// Who may vote and with how many units.
		type Electorate: Electorate<Self::AccountId>;
		/// Node reputation.
		type Reputation: ReputationInspect<Self::AccountId>;
		/// Most polls one account can have a vote recorded in.
		#[pallet::constant]
		type MaxVotes: Get<u32>;
		/// Weights of this pallet's calls, from its benchmarks.
		type WeightInfo: WeightInfo;
	}

	/// The origins a passed referendum dispatches with, one per track (root is the system's).
	#[pallet::origin]
	#[derive(
		PartialEq, Eq, Clone, MaxEncodedLen, Encode, Decode, DecodeWithMemTracking, TypeInfo, Debug,
	)]
	pub enum Origin {
		/// Adds, deprecates and removes models.
		ModelWhitelist,
		/// Changes network parameters.
		NetworkParameters,
		/// Changes the reputation formula.
		ReputationFormula,
		/// Bans nodes.
		Emergency,
	}

	/// Each account's recorded votes. At most [`Config::MaxVotes`] per account; an account
	/// exists here only while it runs a node or has votes left to remove.
	#[pallet::storage]
	pub type VotingFor<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, VotesOf<T>, ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `who` voted `vote` in `poll` with `weight`.
		Voted {
			who: T::AccountId,
			poll: PollIndexOf<T>,
			vote: Vote,
			weight: Votes,
		},
		/// `who` withdrew its vote from `poll`.
		VoteRemoved {
			who: T::AccountId,
			poll: PollIndexOf<T>,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The caller runs no registered node that may vote.
		NotAVoter,
		/// The caller's node has zero weight (zero score).
		NoVotingWeight,
		/// The poll does not exist or is closed.
		NotOngoing,
		/// The caller has `MaxVotes` votes recorded; remove some first.
		TooManyVotes,
		/// The caller has no vote in this poll.
		NotVoted,
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Vote in an ongoing poll, or change an earlier vote in it. The weight is
		/// [`Pallet::vote_weight`] at this moment.
		///
		/// Emits [`Event::Voted`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::vote(T::MaxVotes::get()))]
		pub fn vote(origin: OriginFor<T>, poll: PollIndexOf<T>, vote: Vote) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let weight = Self::vote_weight(&who).ok_or(Error::<T>::NotAVoter)?;
			ensure!(weight > 0, Error::<T>::NoVotingWeight);
			T::Polls::try_access_poll(poll, |status| {
				let PollStatus::Ongoing(tally, _class) = status else {
					return Err(Error::<T>::NotOngoing.into());
				};
				VotingFor::<T>::try_mutate(&who, |votes| {
					match votes.binary_search_by_key(&poll, |v| v.0) {
						Ok(i) => {
							let (_, old_vote, old_weight) = votes[i];
							tally.remove(old_vote, old_weight);
							votes[i] = (poll, vote, weight);
						},
						Err(i) => votes
							.try_insert(i, (poll, vote, weight))
							.map_err(|_| Error::<T>::TooManyVotes)?,
					}
					tally.add(vote, weight);
					Ok::<_, DispatchError>(())
				})
			})?;
			Self::deposit_event(Event::Voted {
				who,
				poll,
				vote,
				weight,
			});
			Ok(())
		}

		/// Withdraw the caller's vote from a poll. While the poll is ongoing its weight leaves
		/// the tally; after it closed this only frees the storage.
		///
		/// Emits [`Event::VoteRemoved`].
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::remove_vote(T::MaxVotes::get()))]
		pub fn remove_vote(origin: OriginFor<T>, poll: PollIndexOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut votes = VotingFor::<T>::get(&who);
			let i = votes
				.binary_search_by_key(&poll, |v| v.0)
				.map_err(|_| Error::<T>::NotVoted)?;
			let (_, vote, weight) = votes.remove(i);
			T::Polls::access_poll(poll, |status| {
				if let PollStatus::Ongoing(tally, _) = status {
					tally.remove(vote, weight);
				}
			});
			if votes.is_empty() {
				VotingFor::<T>::remove(&who);
			} else {
				VotingFor::<T>::insert(&who, votes);
			}
			Self::deposit_event(Event::VoteRemoved { who, poll });
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// `score × SCORE_SCALE × voting_units` for a voter, `None` for anyone else.
		pub fn vote_weight(who: &T::AccountId) -> Option<Votes> {
			let units = T::Electorate::voting_units(who)?;
			let score = T::Reputation::score(who).deconstruct() as Votes;
			Some(score.saturating_mul(units as Votes))
		}
	}
}

/// Implements `EnsureOrigin` for one variant of [`Origin`].
macro_rules! ensure_track_origin {
	($(#[$doc:meta])* $name:ident => $variant:ident) => {
		$(#[$doc])*
		pub struct $name;
		impl<O> frame_support::traits::EnsureOrigin<O> for $name
		where
			O: Into<Result<Origin, O>> + From<Origin>,
		{
			type Success = ();
			fn try_origin(o: O) -> Result<(), O> {
				o.into().and_then(|o| match o {
					Origin::$variant => Ok(()),
					other => Err(O::from(other)),
				})
			}
			#[cfg(feature = "runtime-benchmarks")]
			fn try_successful_origin() -> Result<O, ()> {
				Ok(O::from(Origin::$variant))
			}
		}
	};
}

ensure_track_origin!(
	/// Passes for [`Origin::ModelWhitelist`].
	EnsureModelWhitelist => ModelWhitelist
);
ensure_track_origin!(
	/// Passes for [`Origin::NetworkParameters`].
	EnsureNetworkParameters => NetworkParameters
);
ensure_track_origin!(
	/// Passes for [`Origin::ReputationFormula`].
	EnsureReputationFormula => ReputationFormula
);
ensure_track_origin!(
	/// Passes for [`Origin::Emergency`].
	EnsureEmergency => Emergency
);
