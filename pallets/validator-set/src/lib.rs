//! # Validator set pallet
//!
//! The chain's validators are chosen among its inference nodes. A registered, bonded node (the
//! node registry holds its bond) that has set session keys [`opt_in`](Pallet::opt_in)s as a
//! validator *candidate*; at every session boundary this pallet, as `pallet_session`'s
//! `SessionManager`, chooses the set that validates the session after next.
//!
//! ## Selection
//! When `pallet_session` plans session `i` ([`new_session`](pallet_session::SessionManager)),
//! a candidate is *eligible* if its node is registered ([`CandidateNodes::standing`]), online
//! (seen alive in the last heartbeat period), not leaving, bonded with at least
//! [`Config::MinCandidateBond`], has session keys ([`SessionInterface::has_keys`]) and has no
//! equivocation slash on record ([`Slashes`]: a slashed node sits out until its record expires,
//! [`Config::BondingSessions`] after the offence). Candidates whose node is gone or leaving are
//! removed ([`RemovalReason::NodeLeft`]); the other ineligible ones stay candidates and are
//! merely skipped, so a node that misses one heartbeat period is not made to opt in again.
//!
//! The eligible candidates are ranked by reputation score ([`Config::Reputation`]), highest
//! first, then by bond, highest first, then by account id, lowest first (every tie is broken,
//! so every node computes the same set), and the first
//! [`ValidatorSetParameters::max_validators`] form the set. If fewer than
//! [`Config::MinValidators`] are eligible the pallet keeps the current set (it returns `None`
//! and emits [`Event::SelectionSkipped`]): a chain that shrank its set below what it can finalise
//! with would stall for good. The chosen set is kept in [`Queued`] until it becomes active.
//!
//! ## Liveness
//! When a session ends, each of its validators that the node registry sees offline loses its
//! candidacy ([`RemovalReason::Offline`]). A validator that authored no block in the session
//! accumulates its *expected* blocks in [`Silence`]: with BABE's secondary slots every slot has
//! an author, so a live validator's expected share is `SessionLength / set size` blocks per
//! session. Once a validator has gone silent for [`Config::MinExpectedBlocks`] expected blocks
//! over consecutive sessions, it loses its candidacy ([`RemovalReason::NoBlocks`]). Counting
//! expected blocks rather than sessions makes the rule fair for every set size: a live validator
//! authors none of `E` expected blocks with probability about `e^-E`, so with the runtime's 10 a
//! false drop has odds of about 1 in 22 000 whether the set has 3 validators or 32. One authored
//! block clears the count.
//!
//! ## Offences
//! Equivocations proven through `pallet_offences` (BABE and GRANDPA) reach
//! [`OnOffenceHandler`](sp_staking::offence::OnOffenceHandler): the pallet burns
//! [`ValidatorSetParameters::equivocation_slash`] of the offender's bond, removes its candidacy,
//! disables it for the rest of the session and again at the start of every session it still
//! validates while its slash is on record. The offence's own fraction (BABE's and GRANDPA's
//! `min((3k/n)², 1)`) is ignored: designed for stake-weighted sets of hundreds, it takes the whole
//! bond of a lone offender in a set of three. An offender is slashed once per incident: while a
//! slash is on record ([`Config::BondingSessions`]) its further offences cost nothing more.
//!
//! ## Bond lock
//! A node keeps its bond while it is a candidate, validates, is queued to validate, and for
//! [`Config::BondingSessions`] sessions after the last session it validated
//! ([`Pallet::keeps_bond`], which the runtime's node-registry obligations call): an equivocation
//! can be proven for as long as the key-ownership history of its session is kept, and the pallet
//! prunes that history at the same horizon. The runtime calls [`Pallet::on_node_left`] when a
//! node unregisters or is banned.
//!
//! ## Genesis
//! The genesis validators become candidates and are returned by `new_session_genesis`, so the
//! historical extension records a root from session 0. This pallet's genesis must be built
//! before `pallet_session`'s (it comes first in `construct_runtime!`); otherwise
//! `pallet_session` falls back to the validators of its own genesis keys.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use traits::*;
pub use types::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod bonding;
mod candidacy;
mod liveness;
#[cfg(test)]
mod mock;
mod offences;
mod selection;
mod session;
#[cfg(test)]
mod tests;
mod traits;
#[cfg(any(feature = "try-runtime", feature = "test-utils", test))]
mod try_state;
mod types;
pub mod weights;

/// Log target of this pallet.
pub const LOG_TARGET: &str = "runtime::validator-set";

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::pallet_prelude::*;
	use frame_system::pallet_prelude::*;
	use pallet_reputation::ReputationInspect;
	use sp_runtime::{traits::Zero, Perbill};
	use sp_staking::SessionIndex;

	/// Balance type of node bonds.
	pub type BalanceOf<T> =
		<<T as Config>::Nodes as CandidateNodes<<T as frame_system::Config>::AccountId>>::Balance;

	const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The node registry: standing and bond of nodes.
		type Nodes: CandidateNodes<Self::AccountId>;
		/// Reputation scores, the first ranking criterion.
		type Reputation: ReputationInspect<Self::AccountId>;
		/// The session machinery.
		type Session: SessionInterface<Self::AccountId>;
		/// Origin allowed to change [`Parameters`] (a governance track).
		type ParametersOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// Smallest bond with which a node may be a candidate and be chosen.
		#[pallet::constant]
		type MinCandidateBond: Get<BalanceOf<Self>>;
		/// Most candidates at once.
		#[pallet::constant]
		type MaxCandidates: Get<u32>;
		/// Most validators of a session (the consensus engines' `MaxAuthorities`); bounds
		/// [`Queued`] and `max_validators`.
		#[pallet::constant]
		type MaxValidators: Get<u32>;
		/// Fewest validators the pallet chooses (at least 1); with fewer eligible candidates it
		/// keeps the current set.
		#[pallet::constant]
		type MinValidators: Get<u32>;
		/// Blocks (slots) per session: the BABE epoch length.
		#[pallet::constant]
		type SessionLength: Get<u32>;
		/// Sessions after the last one it validated during which a node's bond stays locked and
		/// the key-ownership history of its sessions is kept.
		#[pallet::constant]
		type BondingSessions: Get<SessionIndex>;
		/// Expected blocks a validator may go without authoring before it loses its candidacy
		/// (non-zero; see the crate docs).
		#[pallet::constant]
		type MinExpectedBlocks: Get<u32>;
		/// Weights of this pallet's calls, from its benchmarks.
		type WeightInfo: WeightInfo;
	}

	/// The parameters governance sets; set at genesis.
	#[pallet::storage]
	pub type Parameters<T: Config> = StorageValue<_, ValidatorSetParameters, ValueQuery>;

	/// Validator candidates. At most [`Config::MaxCandidates`].
	#[pallet::storage]
	pub type Candidates<T: Config> =
		CountedStorageMap<_, Blake2_128Concat, T::AccountId, CandidateInfo>;

	/// The set last chosen for a session that has not started yet (empty when the next session
	/// keeps the current set). Genesis puts the genesis validators here.
	#[pallet::storage]
	pub type Queued<T: Config> =
		StorageValue<_, BoundedVec<T::AccountId, T::MaxValidators>, ValueQuery>;

	/// Blocks authored in the current session, by validators of the current session only
	/// (at most [`Config::MaxValidators`] entries); cleared when the session ends.
	#[pallet::storage]
	pub type AuthoredBlocks<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, u32, ValueQuery>;

	/// Expected blocks, in thousandths ([`SILENCE_SCALE`]), of the consecutive sessions in which
	/// a validator authored nothing. Only accounts with a [`LastActive`] entry have one.
	#[pallet::storage]
	pub type Silence<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, u32, ValueQuery>;

	/// The last session each account validated. Entries older than
	/// [`Config::BondingSessions`] are removed when a session is planned, so at most
	/// `MaxValidators × (BondingSessions + 2)` remain.
	#[pallet::storage]
	pub type LastActive<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, SessionIndex>;

	/// Amount burnt from each offender, by offender and session of the offence. Kept as long as
	/// the key-ownership history of the session (offences are proven against it, so offenders
	/// are validators of kept sessions: at most `MaxValidators × (BondingSessions + 2)`
	/// entries). It stops a concurrent report from slashing an offender twice and keeps the
	/// offender out of the set while it lasts.
	#[pallet::storage]
	pub type Slashes<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		Twox64Concat,
		SessionIndex,
		BalanceOf<T>,
	>;

	/// The genesis validators and parameters.
	#[pallet::genesis_config]
	pub struct GenesisConfig<T: Config> {
		/// Validators of sessions 0 and 1; they become candidates. Distinct, at most
		/// `MaxValidators`, and at least `MinValidators` unless empty (then `pallet_session`
		/// uses its own genesis keys).
		pub validators: Vec<T::AccountId>,
		/// [`ValidatorSetParameters::max_validators`].
		pub max_validators: u32,
		/// [`ValidatorSetParameters::equivocation_slash`].
		pub equivocation_slash: Perbill,
	}

	impl<T: Config> Default for GenesisConfig<T> {
		fn default() -> Self {
			Self {
				validators: Vec::new(),
				max_validators: T::MaxValidators::get(),
				equivocation_slash: DEFAULT_EQUIVOCATION_SLASH,
			}
		}
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			// A bad genesis is a broken chain spec: refusing to build it is the only option.
			let parameters = ValidatorSetParameters {
				max_validators: self.max_validators,
				equivocation_slash: self.equivocation_slash,
			};
			assert!(
				parameters.is_valid(T::MinValidators::get(), T::MaxValidators::get()),
				"invalid validator-set parameters"
			);
			Parameters::<T>::put(parameters);
			assert!(
				self.validators.is_empty()
					|| self.validators.len() >= T::MinValidators::get() as usize,
				"fewer genesis validators than MinValidators"
			);
			assert!(
				self.validators.len() <= T::MaxCandidates::get() as usize,
				"more genesis validators than MaxCandidates"
			);
			let queued: BoundedVec<T::AccountId, T::MaxValidators> = self
				.validators
				.clone()
				.try_into()
				.expect("more genesis validators than MaxValidators");
			for who in &queued {
				assert!(
					!Candidates::<T>::contains_key(who),
					"duplicate genesis validator"
				);
				Candidates::<T>::insert(who, CandidateInfo { since: 0 });
			}
			Queued::<T>::put(queued);
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A node became a validator candidate.
		CandidateAdded {
			/// The node's operator account.
			who: T::AccountId,
		},
		/// A node stopped being a candidate; it stays in any set already chosen until that set
		/// rotates out.
		CandidateRemoved {
			/// The node's operator account.
			who: T::AccountId,
			/// Why.
			reason: RemovalReason,
		},
		/// Governance replaced the parameters.
		ParametersSet {
			/// The new parameters.
			parameters: ValidatorSetParameters,
		},
		/// A set was chosen for `session`.
		NewSetQueued {
			/// The session it will validate.
			session: SessionIndex,
			/// The chosen validators, best ranked first.
			validators: Vec<T::AccountId>,
		},
		/// Too few candidates were eligible to choose a set for `session`: the current set stays.
		SelectionSkipped {
			/// The session that keeps the current set.
			session: SessionIndex,
			/// How many candidates were eligible (fewer than `MinValidators`).
			eligible: u32,
		},
		/// A validator of `session` was offline in the node registry at its end.
		ValidatorOffline {
			/// The validator.
			who: T::AccountId,
			/// The session that ended.
			session: SessionIndex,
		},
		/// A proven equivocation burnt part of a node's bond.
		Slashed {
			/// The offender.
			who: T::AccountId,
			/// The amount burnt.
			amount: BalanceOf<T>,
			/// The session of the offence.
			session: SessionIndex,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account runs no registered node.
		NotRegistered,
		/// The node was not seen alive in the last heartbeat period.
		NodeOffline,
		/// The node is unbonding.
		NodeLeaving,
		/// The node's bond is below `MinCandidateBond`.
		BondTooLow,
		/// The account has not set session keys (`session.setKeys`).
		NoSessionKeys,
		/// The account is already a candidate.
		AlreadyCandidate,
		/// There are `MaxCandidates` candidates already.
		TooManyCandidates,
		/// The account is not a candidate.
		NotCandidate,
		/// `max_validators` is zero, below `MinValidators` or above `MaxValidators`.
		InvalidParameters,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(_: BlockNumberFor<T>) -> Weight {
			// `pallet_authorship` calls `note_author` from its own `on_initialize` without
			// charging for it; the block pays for it here.
			liveness::note_author_weight::<T>()
		}

		fn integrity_test() {
			assert!(
				T::MinValidators::get() >= 1,
				"MinValidators must be at least 1"
			);
			assert!(
				T::MaxValidators::get() >= T::MinValidators::get(),
				"MaxValidators must be at least MinValidators"
			);
			assert!(
				T::MaxCandidates::get() >= T::MinValidators::get(),
				"MaxCandidates must be at least MinValidators"
			);
			assert!(
				T::SessionLength::get() > 0,
				"SessionLength must be non-zero"
			);
			assert!(
				T::MinExpectedBlocks::get() > 0,
				"MinExpectedBlocks must be non-zero"
			);
			assert!(
				!T::MinCandidateBond::get().is_zero(),
				"MinCandidateBond must be non-zero"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Make the caller's node a validator candidate. The node must be registered, online,
		/// not leaving, bonded with at least `MinCandidateBond`, and the caller must have set
		/// session keys. It is chosen from the next selection on if it ranks high enough.
		///
		/// Emits [`Event::CandidateAdded`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::opt_in())]
		pub fn opt_in(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_opt_in(who)
		}

		/// Stop being a candidate now. The node stays in any set already active or queued until
		/// that set rotates out, and its bond stays locked for `BondingSessions` sessions after
		/// the last one it validated.
		///
		/// Emits [`Event::CandidateRemoved`] with [`RemovalReason::OptedOut`].
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::opt_out())]
		pub fn opt_out(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(
				Self::remove_candidate(&who, RemovalReason::OptedOut),
				Error::<T>::NotCandidate
			);
			Ok(())
		}

		/// Replace the parameters. They apply from the next selection (and, for the slash, the
		/// next offence).
		///
		/// Origin: [`Config::ParametersOrigin`]. Emits [`Event::ParametersSet`].
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::set_parameters())]
		pub fn set_parameters(
			origin: OriginFor<T>,
			parameters: ValidatorSetParameters,
		) -> DispatchResult {
			T::ParametersOrigin::ensure_origin(origin)?;
			ensure!(
				parameters.is_valid(T::MinValidators::get(), T::MaxValidators::get()),
				Error::<T>::InvalidParameters
			);
			Parameters::<T>::put(parameters);
			Self::deposit_event(Event::ParametersSet { parameters });
			Ok(())
		}
	}
}
