//! Benchmarks of the governance pallet (`frame_benchmarking` v2), against the runtime's polls.

use super::*;
use frame_benchmarking::v2::*;
use frame_support::traits::{Get, Polling};
use frame_system::RawOrigin;

fn voter<T: Config>() -> T::AccountId {
	let who: T::AccountId = account("voter", 0, 0);
	T::Electorate::make_voter(&who, 1);
	who
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

#[benchmarks]
mod benchmarks {
	use super::*;

	/// A new vote into a list of `v` existing ones (the insertion shifts them).
	#[benchmark]
	fn vote(v: Linear<0, { T::MaxVotes::get().saturating_sub(1) }>) -> Result<(), BenchmarkError> {
		let who = voter::<T>();
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

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
