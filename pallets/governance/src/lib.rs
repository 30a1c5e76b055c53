//! # Governance pallet: reputation-weighted voting
//!
//! `pallet_referenda` runs this network's referenda (tracks, deposits, decision and confirmation
//! periods, enactment through `pallet_scheduler`); this pallet is its voting back end, the store
//! of its tracks and the source of the tracks' origins.
//!
//! ## Who votes, with what weight
//! Only operators of registered nodes vote ([`Config::Electorate`]), and only in polls that
//! opened at least [`VotingRules::min_voting_age`] blocks after their node registered. A vote
//! weighs
//!
//! ```text
//! weight = score × SCORE_SCALE × voting_units
//! ```
//!
//! where `score` is the node's reputation ([`Config::Reputation`]): zero without verified work,
//! growing with it; and `voting_units = clamp(bond / MinBond, 1, MaxVotingUnits)` from the node
//! registry. So weight comes from evidence first, stake only multiplies it, and one node's weight
//! is capped at `MaxVotingUnits × SCORE_SCALE`. The weight is fixed when the vote is cast;
//! changing the vote recomputes it. A node that leaves the registry (unbonding or banned) loses
//! its votes in every poll still running ([`Pallet::remove_votes_of`]).
//!
//! ## How a referendum is decided
//! Votes are aye, nay or abstain. `pallet_referenda` compares two numbers from the [`Tally`]
//! with each track's curves: *approval* = ayes / (ayes + nays) and *support* = (ayes + abstains)
//! / electorate. The electorate is fixed by the poll's first vote: the weight of every node that
//! may vote in the poll ([`Pallet::eligible_weight`]) — so idle capital that bonds nodes and never
//! earns reputation dilutes nothing. Support below the track's minimum is a failed quorum: the
//! referendum times out at the end of its decision period and nothing is dispatched.
//!
//! ## Tracks
//! The tracks (periods, thresholds, deposits) are chain-spec settings: [`TrackSpecs`], set at
//! genesis and changed only by [`Config::AdminOrigin`] (root) with
//! [`set_tracks`](Pallet::set_tracks), which cannot add or remove a track. The runtime's
//! `TracksInfo` reads them from storage.
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
mod fuzz;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
mod types;
pub mod weights;

/// A voter as the electorate knows it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Voter<BlockNumber> {
	/// Voting units (capped stake).
	pub units: u32,
	/// Block at which its node registered.
	pub registered_at: BlockNumber,
}

/// The voters: registered nodes and their voting units.
pub trait Electorate<AccountId, BlockNumber> {
	/// `who`'s node, `None` when `who` runs no node that may vote (none, or leaving).
	fn voter(who: &AccountId) -> Option<Voter<BlockNumber>>;
	/// Every node that may vote (at most [`Electorate::max_voters`]).
	fn voters() -> alloc::vec::Vec<(AccountId, Voter<BlockNumber>)>;
	/// The bound of [`Electorate::voters`].
	fn max_voters() -> u32;
	/// Makes `who` a voter with `units` units and verified work (benchmarks only).
	#[cfg(feature = "runtime-benchmarks")]
	fn make_voter(who: &AccountId, units: u32);
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::{
		pallet_prelude::*,
		traits::{PollStatus, Polling},
	};
	use frame_system::pallet_prelude::*;
	use pallet_reputation::ReputationInspect;
	use sp_runtime::traits::{AtLeast32BitUnsigned, Saturating};

	/// Index of a poll (referendum).
	pub type PollIndexOf<T> = <<T as Config>::Polls as Polling<Tally<T>>>::Index;
	/// A voter's ballots in polls: (poll, vote, weight counted).
	pub type VotesOf<T> = BoundedVec<(PollIndexOf<T>, Vote, Votes), <T as Config>::MaxVotes>;
	/// A track of this runtime.
	pub type TrackSpecOf<T> = TrackSpec<<T as Config>::Balance, BlockNumberFor<T>>;
	/// The tracks of this runtime.
	pub type TracksOf<T> = BoundedVec<TrackSpecOf<T>, <T as Config>::MaxTracks>;
	/// The voting rules of this runtime.
	pub type VotingRulesOf<T> = VotingRules<<T as Config>::Balance, BlockNumberFor<T>>;

	const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The polls (`pallet_referenda`).
		type Polls: Polling<Tally<Self>, Votes = Votes, Moment = BlockNumberFor<Self>>;
		/// Who may vote and with how many units.
		type Electorate: Electorate<Self::AccountId, BlockNumberFor<Self>>;
		/// Node reputation.
		type Reputation: ReputationInspect<Self::AccountId>;
		/// Balance type of deposits.
		type Balance: Parameter
			+ Member
			+ MaxEncodedLen
			+ AtLeast32BitUnsigned
			+ Copy
			+ Default
			+ serde::Serialize
			+ serde::de::DeserializeOwned;
		/// Origin that changes the tracks and voting rules (root).
		type AdminOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// Most polls one account can have a vote recorded in.
		#[pallet::constant]
		type MaxVotes: Get<u32>;
		/// Most tracks.
		#[pallet::constant]
		type MaxTracks: Get<u32>;
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

	/// The referendum tracks, sorted by id. Empty only in a chain without genesis settings
	/// (then the runtime's compiled defaults apply).
	#[pallet::storage]
	pub type TrackSpecs<T: Config> = StorageValue<_, TracksOf<T>, ValueQuery>;

	/// Minimum voter age and the submission deposit.
	#[pallet::storage]
	pub type Rules<T: Config> = StorageValue<_, VotingRulesOf<T>, ValueQuery>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The tracks, sorted by id.
		pub tracks: Vec<TrackSpecOf<T>>,
		/// Minimum voter age and submission deposit.
		pub rules: VotingRulesOf<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			if self.tracks.is_empty() {
				// No settings: the runtime's compiled defaults apply.
				return;
			}
			let tracks = Pallet::<T>::validate_tracks(self.tracks.clone());
			assert!(tracks.is_ok(), "invalid governance tracks");
			assert!(
				!self.rules.submission_deposit.is_zero(),
				"zero submission deposit"
			);
			if let Ok(tracks) = tracks {
				TrackSpecs::<T>::put(tracks);
			}
			Rules::<T>::put(self.rules.clone());
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `who` voted `vote` in `poll` with `weight`.
		Voted {
			/// The voter.
			who: T::AccountId,
			/// The poll.
			poll: PollIndexOf<T>,
			/// Aye, nay or abstain.
			vote: Vote,
			/// The weight counted.
			weight: Votes,
		},
		/// `who` withdrew its vote from `poll`.
		VoteRemoved {
			/// The voter.
			who: T::AccountId,
			/// The poll.
			poll: PollIndexOf<T>,
		},
		/// `who`'s node left the registry: its votes left `polls` running polls.
		VotesWithdrawn {
			/// The former voter.
			who: T::AccountId,
			/// How many running polls its votes left.
			polls: u32,
		},
		/// Root replaced the tracks' settings.
		TracksSet,
		/// Root replaced the voting rules.
		RulesSet {
			/// The new rules.
			rules: VotingRulesOf<T>,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The caller runs no registered node that may vote.
		NotAVoter,
		/// The caller's node has no voting weight: no verified work yet (score zero).
		NoVotingWeight,
		/// The caller's node registered less than `min_voting_age` blocks before this poll
		/// opened.
		TooYoung,
		/// The poll does not exist or is closed.
		NotOngoing,
		/// The caller has `MaxVotes` votes recorded; remove some first.
		TooManyVotes,
		/// The caller has no vote in this poll.
		NotVoted,
		/// A track outside its bounds, tracks not sorted by id or ids repeated, or more than
		/// `MaxTracks`.
		InvalidTracks,
		/// `set_tracks` must keep exactly the current track ids (running referenda use them).
		TrackSetChanged,
		/// A zero submission deposit.
		InvalidRules,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Vote in an ongoing poll, or change an earlier vote in it. The weight is
		/// [`Pallet::vote_weight`] at this moment. The poll's first vote fixes its electorate
		/// ([`Pallet::eligible_weight`]).
		///
		/// Emits [`Event::Voted`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::vote(T::MaxVotes::get(), T::Electorate::max_voters()))]
		pub fn vote(
			origin: OriginFor<T>,
			poll: PollIndexOf<T>,
			vote: Vote,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let voter = T::Electorate::voter(&who).ok_or(Error::<T>::NotAVoter)?;
			let weight = Self::weight_of(&who, &voter);
			ensure!(weight > 0, Error::<T>::NoVotingWeight);
			let min_age = Rules::<T>::get().min_voting_age;
			let mut snapshot = false;
			T::Polls::try_access_poll(poll, |status| {
				let PollStatus::Ongoing(tally, _class) = status else {
					return Err(Error::<T>::NotOngoing.into());
				};
				ensure!(
					voter.registered_at.saturating_add(min_age) <= tally.opened_at,
					Error::<T>::TooYoung
				);
				if tally.electorate == 0 {
					tally.electorate = Self::eligible_weight(tally.opened_at);
					snapshot = true;
				}
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
			let voters = if snapshot {
				T::Electorate::max_voters()
			} else {
				0
			};
			Ok(Some(T::WeightInfo::vote(T::MaxVotes::get(), voters)).into())
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

		/// Replace the tracks' settings (periods, thresholds, deposits). The set of track ids
		/// must stay the same: running referenda refer to them.
		///
		/// Origin: [`Config::AdminOrigin`]. Emits [`Event::TracksSet`].
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::set_tracks(T::MaxTracks::get()))]
		pub fn set_tracks(origin: OriginFor<T>, tracks: Vec<TrackSpecOf<T>>) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			let tracks = Self::validate_tracks(tracks)?;
			let current = TrackSpecs::<T>::get();
			if !current.is_empty() {
				ensure!(
					current.iter().map(|t| t.id).eq(tracks.iter().map(|t| t.id)),
					Error::<T>::TrackSetChanged
				);
			}
			TrackSpecs::<T>::put(tracks);
			Self::deposit_event(Event::TracksSet);
			Ok(())
		}

		/// Replace the voting rules (minimum voter age, submission deposit).
		///
		/// Origin: [`Config::AdminOrigin`]. Emits [`Event::RulesSet`].
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::set_rules())]
		pub fn set_rules(origin: OriginFor<T>, rules: VotingRulesOf<T>) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			ensure!(
				!rules.submission_deposit.is_zero(),
				Error::<T>::InvalidRules
			);
			Rules::<T>::put(rules.clone());
			Self::deposit_event(Event::RulesSet { rules });
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// `score × SCORE_SCALE × voting_units` for a voter now, `None` for anyone else (the
		/// age rule depends on the poll and is checked by [`Pallet::vote`]).
		pub fn vote_weight(who: &T::AccountId) -> Option<Votes> {
			T::Electorate::voter(who).map(|voter| Self::weight_of(who, &voter))
		}

		fn weight_of(who: &T::AccountId, voter: &Voter<BlockNumberFor<T>>) -> Votes {
			let score = Votes::from(T::Reputation::score(who).deconstruct());
			score.saturating_mul(Votes::from(voter.units))
		}

		/// The weight of the electorate of a poll that opened at `opened_at`: the sum of the
		/// vote weights, now, of every node old enough to vote in it. O(nodes).
		pub fn eligible_weight(opened_at: BlockNumberFor<T>) -> Votes {
			let min_age = Rules::<T>::get().min_voting_age;
			T::Electorate::voters()
				.iter()
				.filter(|(_, voter)| voter.registered_at.saturating_add(min_age) <= opened_at)
				.fold(0, |sum: Votes, (who, voter)| {
					sum.saturating_add(Self::weight_of(who, voter))
				})
		}

		/// Takes every vote of `who` out of the polls still running and forgets its votes: its
		/// node left, and no vote may outlive its stake. At most [`Config::MaxVotes`] polls.
		pub fn remove_votes_of(who: &T::AccountId) {
			let votes = VotingFor::<T>::take(who);
			let mut running = 0u32;
			for (poll, vote, weight) in votes {
				T::Polls::access_poll(poll, |status| {
					if let PollStatus::Ongoing(tally, _) = status {
						tally.remove(vote, weight);
						running.saturating_inc();
					}
				});
			}
			if running > 0 {
				Self::deposit_event(Event::VotesWithdrawn {
					who: who.clone(),
					polls: running,
				});
			}
		}

		/// The most [`Pallet::remove_votes_of`] costs.
		pub fn remove_votes_weight() -> Weight {
			T::WeightInfo::remove_votes_of(T::MaxVotes::get())
		}

		/// `tracks` as stored, if every track is valid, ids are strictly increasing and there
		/// are at most `MaxTracks`.
		pub fn validate_tracks(tracks: Vec<TrackSpecOf<T>>) -> Result<TracksOf<T>, Error<T>> {
			let sorted = tracks.windows(2).all(|w| w[0].id < w[1].id);
			ensure!(
				!tracks.is_empty() && sorted && tracks.iter().all(track_is_valid::<T>),
				Error::<T>::InvalidTracks
			);
			tracks.try_into().map_err(|_| Error::<T>::InvalidTracks)
		}

		/// The tracks in force: the stored ones, or `defaults` on a chain without settings.
		pub fn tracks_or(defaults: impl FnOnce() -> Vec<TrackSpecOf<T>>) -> Vec<TrackSpecOf<T>> {
			let stored = TrackSpecs::<T>::get();
			if stored.is_empty() {
				defaults()
			} else {
				stored.into_inner()
			}
		}

		/// Invariants: a poll with votes has an electorate, vote lists are sorted, the stored
		/// tracks are valid.
		#[cfg(any(feature = "try-runtime", test))]
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			for (_, votes) in VotingFor::<T>::iter() {
				ensure!(
					votes.windows(2).all(|w| w[0].0 < w[1].0),
					"vote list not sorted"
				);
				for (poll, _, _) in votes.iter() {
					if let Some((tally, _)) = T::Polls::as_ongoing(*poll) {
						ensure!(tally.electorate > 0, "a poll with votes and no electorate");
					}
				}
			}
			let tracks = TrackSpecs::<T>::get().into_inner();
			if !tracks.is_empty() {
				ensure!(
					Self::validate_tracks(tracks).is_ok(),
					"invalid stored tracks"
				);
			}
			Ok(())
		}
	}

	/// Whether every field of `track` is inside its documented bounds.
	fn track_is_valid<T: Config>(track: &TrackSpecOf<T>) -> bool {
		{
			let to_u64 = |b: BlockNumberFor<T>| -> u64 {
				sp_runtime::SaturatedConversion::saturated_into(b)
			};
			let periods = [
				(to_u64(track.prepare_period), 0u64),
				(to_u64(track.decision_period), 1),
				(to_u64(track.confirm_period), 1),
				(to_u64(track.min_enactment_period), 0),
			];
			let curve_ok = |c: &CurveSpec, min_floor: sp_runtime::Perbill| {
				c.floor <= c.ceil && c.floor >= min_floor
			};
			!track.name.is_empty()
				&& track
					.name
					.iter()
					.all(|c| c.is_ascii_graphic() || *c == b' ')
				&& track.max_deciding > 0
				&& !track.decision_deposit.is_zero()
				&& periods
					.iter()
					.all(|(p, min)| (*min..=u64::from(MAX_TRACK_PERIOD)).contains(p))
				&& curve_ok(&track.min_approval, sp_runtime::Perbill::from_percent(50))
				&& curve_ok(&track.min_support, sp_runtime::Perbill::from_percent(1))
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
