//! Who may compute right now: a bound on generations doing llama.cpp's matrix work at once, with
//! on-chain jobs ahead of public requests.
//!
//! Every generation runs `threads` compute threads, and llama.cpp's threads meet at a spinning
//! barrier after each operation of the graph. When more compute threads are runnable than the
//! machine has cores, a barrier waits until the scheduler gets round to the thread it needs, so
//! two generations side by side on a machine with room for one are each many times slower than
//! one after the other. A chain job (a validator misses its commit and is slashed when it is
//! late) would then be slowed down by any public request, which is what audit H-5 rules out.
//!
//! So there are `slots` = cores / threads (at least one) compute slots:
//!
//! - a chain job takes a slot before its prompt and keeps it to its last token, and waits only
//!   for a slot to free, never behind public work that has not started a step;
//! - a public request takes a slot for each decoding step (a prompt chunk or one token) and
//!   gives it back after it, and does not take one while a chain job waits, so a public
//!   generation pauses between two tokens when a chain job needs its slot and resumes after.

use crate::types::{CancelToken, EngineError, Lane};
use parking_lot::{Condvar, Mutex};
use std::time::Duration;

/// How often a waiter looks at its cancel token (a cancelled request stops waiting).
const CANCEL_CHECK: Duration = Duration::from_millis(50);

/// The compute slots of an engine (see the module documentation).
pub(crate) struct ComputeGate {
	slots: usize,
	state: Mutex<State>,
	freed: Condvar,
}

#[derive(Default)]
struct State {
	/// Slots held.
	busy: usize,
	/// Chain jobs waiting for a slot; public requests take none while there is one.
	chain_waiting: usize,
}

/// A held compute slot; dropping it frees the slot.
pub(crate) struct Slot<'a> {
	gate: &'a ComputeGate,
}

impl Drop for Slot<'_> {
	fn drop(&mut self) {
		self.gate.state.lock().busy -= 1;
		self.gate.freed.notify_all();
	}
}

impl ComputeGate {
	/// A gate with `slots` (at least one) compute slots.
	pub(crate) fn new(slots: usize) -> Self {
		Self {
			slots: slots.max(1),
			state: Mutex::new(State::default()),
			freed: Condvar::new(),
		}
	}

	/// How many generations of `threads` threads each fit on a machine with `cores` cores.
	pub(crate) fn slots_for(cores: usize, threads: i32) -> usize {
		(cores / threads.max(1) as usize).max(1)
	}

	/// Waits for a slot for work of `lane`, or until `cancel` fires.
	pub(crate) fn acquire(
		&self,
		lane: Lane,
		cancel: &CancelToken,
	) -> Result<Slot<'_>, EngineError> {
		let mut state = self.state.lock();
		let chain = lane == Lane::Chain;
		if chain {
			state.chain_waiting += 1;
		}
		loop {
			let free = state.busy < self.slots;
			if free && (chain || state.chain_waiting == 0) {
				if chain {
					state.chain_waiting -= 1;
				}
				state.busy += 1;
				return Ok(Slot { gate: self });
			}
			if cancel.is_cancelled() {
				if chain {
					state.chain_waiting -= 1;
					// A public waiter may have been held back only by this chain job.
					self.freed.notify_all();
				}
				return Err(EngineError::Cancelled);
			}
			self.freed.wait_for(&mut state, CANCEL_CHECK);
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use std::{
		sync::{
			atomic::{AtomicBool, Ordering},
			mpsc, Arc,
		},
		thread,
	};

	#[test]
	fn slots_follow_cores_and_threads() {
		assert_eq!(ComputeGate::slots_for(2, 2), 1);
		assert_eq!(ComputeGate::slots_for(1, 2), 1);
		assert_eq!(ComputeGate::slots_for(64, 8), 8);
		assert_eq!(ComputeGate::slots_for(16, 0), 16);
	}

	/// Spawns a thread that takes a slot for `lane`, reports it, and holds it until `release`.
	fn taker(
		gate: Arc<ComputeGate>,
		lane: Lane,
		cancel: CancelToken,
		release: Arc<AtomicBool>,
	) -> (
		mpsc::Receiver<Result<(), EngineError>>,
		thread::JoinHandle<()>,
	) {
		let (tx, rx) = mpsc::channel();
		let handle = thread::spawn(move || match gate.acquire(lane, &cancel) {
			Ok(_slot) => {
				let _ = tx.send(Ok(()));
				while !release.load(Ordering::SeqCst) {
					thread::sleep(Duration::from_millis(5));
				}
			},
			Err(e) => {
				let _ = tx.send(Err(e));
			},
		});
		(rx, handle)
	}

	#[test]
	fn a_waiting_chain_job_goes_before_public_work_and_public_work_resumes_after_it() {
		let gate = Arc::new(ComputeGate::new(1));
		// A public step holds the only slot.
		let public_step = gate.acquire(Lane::Public, &CancelToken::new()).unwrap();
		// A chain job waits for it ...
		let chain_release = Arc::new(AtomicBool::new(false));
		let (chain_rx, chain) = taker(
			gate.clone(),
			Lane::Chain,
			CancelToken::new(),
			chain_release.clone(),
		);
		while gate.state.lock().chain_waiting == 0 {
			thread::sleep(Duration::from_millis(1));
		}
		// ... and a public request that comes later waits behind the chain job.
		let public_release = Arc::new(AtomicBool::new(true));
		let (public_rx, public) = taker(
			gate.clone(),
			Lane::Public,
			CancelToken::new(),
			public_release,
		);
		assert!(chain_rx.try_recv().is_err(), "the slot is still held");
		drop(public_step);
		chain_rx.recv().unwrap().unwrap();
		// While the chain job holds the slot, the public request has none.
		assert!(public_rx.recv_timeout(Duration::from_millis(200)).is_err());
		assert_eq!(gate.state.lock().busy, 1);
		chain_release.store(true, Ordering::SeqCst);
		chain.join().unwrap();
		public_rx.recv().unwrap().unwrap();
		public.join().unwrap();
		assert_eq!(gate.state.lock().busy, 0);
	}

	#[test]
	fn a_cancelled_waiter_stops_waiting_and_unblocks_public_work() {
		let gate = Arc::new(ComputeGate::new(1));
		let held = gate.acquire(Lane::Public, &CancelToken::new()).unwrap();
		let cancel = CancelToken::new();
		let (chain_rx, chain) = taker(
			gate.clone(),
			Lane::Chain,
			cancel.clone(),
			Arc::new(AtomicBool::new(true)),
		);
		while gate.state.lock().chain_waiting == 0 {
			thread::sleep(Duration::from_millis(1));
		}
		cancel.cancel();
		assert!(matches!(
			chain_rx.recv().unwrap(),
			Err(EngineError::Cancelled)
		));
		chain.join().unwrap();
		assert_eq!(gate.state.lock().chain_waiting, 0);
		drop(held);
		// Nothing waits for the slot any more: public work takes it at once.
		let _again = gate.acquire(Lane::Public, &CancelToken::new()).unwrap();
	}

	#[test]
	fn work_runs_side_by_side_up_to_the_slots() {
		let gate = ComputeGate::new(2);
		let a = gate.acquire(Lane::Chain, &CancelToken::new()).unwrap();
		let b = gate.acquire(Lane::Public, &CancelToken::new()).unwrap();
		assert_eq!(gate.state.lock().busy, 2);
		drop((a, b));
		assert_eq!(gate.state.lock().busy, 0);
	}
}
