//! A property-test harness: random sequences of every governance call (votes, vote removal,
//! nodes leaving, tracks and rules changes) against real referenda in the mock runtime, with
//! random origins and parameters and random block advances; `try_state` is checked after each
//! step. `FUZZ_CASES` (default 200) and `FUZZ_SEED` as in the proof-of-inference harness.

use crate::{mock::*, *};
use frame_support::traits::StorePreimage;
use inference_primitives::fuzz::{Campaign, Rng};
use sp_runtime::Perbill;

fn origin(rng: &mut Rng) -> RuntimeOrigin {
	match rng.below(8) {
		0 => RuntimeOrigin::root(),
		1 => RuntimeOrigin::none(),
		_ => RuntimeOrigin::signed(rng.below(10)),
	}
}

fn step(rng: &mut Rng) -> sp_runtime::DispatchResult {
	let vote = [Vote::Aye, Vote::Nay, Vote::Abstain][rng.below(3) as usize];
	let poll = rng.below(pallet_referenda::ReferendumCount::<Test>::get() as u64 + 2) as u32;
	match rng.below(9) {
		0..=2 => Governance::vote(origin(rng), poll, vote)
			.map(|_| ())
			.map_err(|e| e.error),
		3 => Governance::remove_vote(origin(rng), poll),
		4 => {
			let who = rng.below(10);
			UNITS.with(|u| u.borrow_mut().remove(&who));
			Governance::remove_votes_of(&who);
			Ok(())
		},
		5 => {
			let mut tracks = test_tracks();
			let i = rng.below(2) as usize;
			tracks[i].decision_period = rng.below(20);
			tracks[i].min_support.floor = Perbill::from_percent(rng.below(40) as u32);
			Governance::set_tracks(origin(rng), tracks)
		},
		6 => Governance::set_rules(
			origin(rng),
			VotingRules {
				min_voting_age: rng.below(12),
				submission_deposit: rng.below(3) as u128,
			},
		),
		7 => {
			let who = rng.below(10);
			SCORES.with(|s| {
				s.borrow_mut()
					.insert(who, Perbill::from_percent(rng.below(101) as u32))
			});
			if rng.below(3) == 0 {
				let now = System::block_number();
				UNITS.with(|u| u.borrow_mut().insert(who, (1 + rng.below(5) as u32, now)));
			}
			Ok(())
		},
		_ => {
			let call = RuntimeCall::System(frame_system::Call::remark { remark: vec![1] });
			let track = if rng.below(2) == 0 {
				OriginCaller::system(frame_system::RawOrigin::Root)
			} else {
				OriginCaller::Governance(Origin::ModelWhitelist)
			};
			let who = rng.below(10);
			let index = pallet_referenda::ReferendumCount::<Test>::get();
			pallet_referenda::Pallet::<Test>::submit(
				RuntimeOrigin::signed(who),
				Box::new(track),
				Preimage::bound(call).map_err(|_| sp_runtime::DispatchError::Other("bound"))?,
				frame_support::traits::schedule::DispatchTime::After(0),
			)?;
			pallet_referenda::Pallet::<Test>::place_decision_deposit(
				RuntimeOrigin::signed(who),
				index,
			)
			.map(|_| ())
			.map_err(|e| e.error)
		},
	}
}

#[test]
fn random_call_sequences_keep_every_invariant() {
	let campaign = Campaign::from_env(200, 1);
	let mut accepted = 0u64;
	for seed in campaign.seeds() {
		new_test_ext().execute_with(|| {
			let mut rng = Rng::new(seed);
			for i in 0..60 {
				if step(&mut rng).is_ok() {
					accepted += 1;
				}
				if rng.below(4) == 0 {
					run_to(System::block_number() + 1 + rng.below(6));
				}
				if let Err(e) = Governance::do_try_state() {
					panic!("seed {seed}, step {i}: invariant broken: {e:?}");
				}
			}
		});
	}
	eprintln!(
		"fuzz: {} sequences from seed {}: {accepted} calls accepted",
		campaign.cases, campaign.first_seed
	);
	assert!(accepted > campaign.cases, "only {accepted} calls succeeded");
}
