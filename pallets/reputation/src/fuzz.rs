//! A property-test harness: random sequences of reports, departures, returns, block advances and
//! parameter changes; `try_state` (bounds, counters, the departed ring) after each step.
//! `FUZZ_CASES` (default 200) and `FUZZ_SEED` as in the proof-of-inference harness.

use crate::{mock::*, *};
use inference_primitives::fuzz::{Campaign, Rng};
use sp_runtime::Perbill;

#[test]
fn random_sequences_keep_every_invariant() {
	for seed in Campaign::from_env(200, 1).seeds() {
		new_test_ext().execute_with(|| {
			let mut rng = Rng::new(seed);
			let mut next = |n: u64| rng.below(n);
			for i in 0..80 {
				let who = next(12);
				match next(7) {
					0 | 1 => {
						let outcome = [
							Outcome::Success,
							Outcome::Wrong,
							Outcome::Missed,
							Outcome::Timeout,
							Outcome::Offline,
						][next(5) as usize];
						<Reputation as ReputationSink<u64>>::record(&who, outcome, next(300) as u32)
					},
					2 => <Reputation as ReputationSink<u64>>::departed(&who),
					3 => <Reputation as ReputationSink<u64>>::returned(&who),
					4 => System::set_block_number(System::block_number() + next(50)),
					5 => {
						let mut p = test_parameters();
						p.decay_factor = Perbill::from_percent(next(101) as u32);
						p.confidence_units = next(10) as u32;
						let origin = if next(2) == 0 {
							RuntimeOrigin::root()
						} else {
							RuntimeOrigin::signed(who)
						};
						let _ = Reputation::set_parameters(origin, p);
					},
					_ => {
						let _ = Reputation::top_nodes(next(20) as u32);
						let _ = <Reputation as ReputationInspect<u64>>::score(&who);
					},
				}
				if let Err(e) = Reputation::do_try_state() {
					panic!("seed {seed}, step {i}: invariant broken: {e:?}");
				}
			}
		});
	}
}
