//! Benchmarks of the governance pallet (`frame_benchmarking` v2), against the runtime's polls.

use super::*;
use alloc::vec::Vec;
use frame_benchmarking::v2::*;
use frame_support::traits::{EnsureOrigin, Get, Polling};
use frame_system::RawOrigin;

/// `n` voters (at least one) old enough for the polls created after them; returns the first.
fn voters<T: Config>(n: u32) -> T::AccountId {
	for i in 0..n.max(1) {
		T::Electorate::make_voter(&account("voter", i, 0), 1);
	}
	let now = frame_system::Pallet::<T>::block_number();
	let old_enough = now + Rules::<T>::get().min_voting_age + 1u32.into();
	frame_system::Pallet::<T>::set_block_number(old_enough);
	account("voter", 0, 0)
}

fn voter<T: Config>() -> T::AccountId {
	voters::<T>(1)
}

/// Fills `who`'s vote list with `v` ongoing polls; returns one more ongoing poll.
fn polls<T: Config>(who: &T::AccountId, v: u32) -> Result<PollIndexOf<T>, BenchmarkError> {
	let class = T::Polls::classes()
		.into_iter()
		.next()
		.ok_or(BenchmarkError::Weightless)?;
	for _ in 0..v {
		let p = T::Polls::create_ongoing(class.clone()).map_err(|_| BenchmarkError::Weightless)?;
		Pallet::<T>::vote(RawOrigin::Signed(who.clone()).into(), p, Vote::Aye)?;
	}
	T::Polls::create_ongoing(class).map_err(|_| BenchmarkError::Weightless)
}

/// The tracks in force, or `n` copies of a valid track.
fn tracks<T: Config>(n: u32) -> Vec<TrackSpecOf<T>> {
	let stored = TrackSpecs::<T>::get().into_inner();
	if !stored.is_empty() {
		return stored;
	}
	let curve = |p| CurveSpec {
		ceil: sp_runtime::Perbill::from_percent(p),
		floor: sp_runtime::Perbill::from_percent(p),
	};
	(0..n.min(T::MaxTracks::get()))
		.map(|i| TrackSpec {
			id: i as u16,
			name: b"benchmark".to_vec().try_into().unwrap_or_default(),
			max_deciding: 1,
			decision_deposit: 1u32.into(),
			prepare_period: 1u32.into(),
			decision_period: 1u32.into(),
			confirm_period: 1u32.into(),
			min_enactment_period: 1u32.into(),
			min_approval: curve(60),
			min_support: curve(10),
		})
		.collect()
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// The first vote of a poll (it fixes the electorate over `n` voters), into a list of `v`
	/// existing votes (the insertion shifts them).
	#[benchmark]
	fn vote(
		v: Linear<0, { T::MaxVotes::get().saturating_sub(1) }>,
		n: Linear<1, { T::Electorate::max_voters() }>,
	) -> Result<(), BenchmarkError> {
		let who = voters::<T>(n);
		let poll = polls::<T>(&who, v)?;
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), poll, Vote::Aye);
		assert_eq!(VotingFor::<T>::get(&who).len() as u32, v + 1);
		Ok(())
	}

	#[benchmark]
	fn remove_vote(v: Linear<1, { T::MaxVotes::get() }>) -> Result<(), BenchmarkError> {
		let who = voter::<T>();
		let poll = polls::<T>(&who, v - 1)?;
		Pallet::<T>::vote(RawOrigin::Signed(who.clone()).into(), poll, Vote::Aye)?;
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), poll);
		assert_eq!(VotingFor::<T>::get(&who).len() as u32, v - 1);
		Ok(())
	}

	/// A node that voted in `v` running polls leaves.
	#[benchmark]
	fn remove_votes_of(v: Linear<1, { T::MaxVotes::get() }>) -> Result<(), BenchmarkError> {
		let who = voter::<T>();
		let poll = polls::<T>(&who, v - 1)?;
		Pallet::<T>::vote(RawOrigin::Signed(who.clone()).into(), poll, Vote::Aye)?;
		#[block]
		{
			Pallet::<T>::remove_votes_of(&who);
		}
		assert!(!VotingFor::<T>::contains_key(&who));
		Ok(())
	}

	#[benchmark]
	fn set_tracks(n: Linear<1, { T::MaxTracks::get() }>) -> Result<(), BenchmarkError> {
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let tracks = tracks::<T>(n);
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, tracks);
		Ok(())
	}

	#[benchmark]
	fn set_rules() -> Result<(), BenchmarkError> {
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let rules = VotingRules {
			min_voting_age: 10u32.into(),
			submission_deposit: 5u32.into(),
		};
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, rules.clone());
		assert_eq!(Rules::<T>::get(), rules);
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
