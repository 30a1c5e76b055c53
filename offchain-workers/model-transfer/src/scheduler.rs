//! Which block to ask which provider for, and what to do when it does not come.
//!
//! A pure state machine (no I/O, no clock of its own), so every rule is unit-tested:
//!
//! - every provider has a *window* of wants in flight; wants are handed out one at a time in
//!   turn, so every provider with room gets work and a fast one gets more as it answers;
//! - interior nodes jump the queue: they reveal the next blocks to ask for;
//! - a want unanswered after the timeout, refused (`DONT_HAVE`), or lost with its provider's
//!   connection goes back to the front of the queue for another provider; a provider that
//!   fails `max_failures` times in a row is dropped;
//! - a provider that sends a block nobody asked it for — which is what a corrupt block looks
//!   like once its bytes are hashed — is dropped at once and its wants go to the others;
//! - *endgame*: once nothing is left to hand out, wants still in flight are asked of a second
//!   provider, so one slow provider cannot hold up the last blocks;
//! - a block every live provider has refused is asked again (providers that are fetching the
//!   model themselves get blocks as they go), but after `max_failures` such rounds it is
//!   *unavailable* and the fetch stops instead of asking forever.

use crate::tree::Span;
use model_dag::Cid;
use std::{
	collections::{HashMap, HashSet, VecDeque},
	fmt::Debug,
	hash::Hash,
	time::{Duration, Instant},
};

/// Tuning of a fetch.
#[derive(Clone, Debug)]
pub struct FetchLimits {
	/// Wants in flight per provider.
	pub window: usize,
	/// How long a want may go unanswered before it is asked of someone else.
	pub timeout: Duration,
	/// Failures in a row after which a provider is no longer asked.
	pub max_failures: u32,
	/// How many providers may be asked for the same block at the end of the fetch.
	pub endgame_copies: usize,
	/// The largest file accepted.
	pub max_file_bytes: u64,
}

impl Default for FetchLimits {
	fn default() -> Self {
		Self {
			window: 32,
			timeout: Duration::from_secs(20),
			max_failures: 3,
			endgame_copies: 2,
			max_file_bytes: 256 << 30,
		}
	}
}

/// What an arriving block is to this fetch.
#[derive(Debug, PartialEq, Eq)]
pub enum Arrival {
	/// A wanted block: where it belongs (a leaf may sit at several offsets when chunks repeat).
	Wanted(Vec<Span>),
	/// A block already received (the slower copy of an endgame want).
	Duplicate,
	/// A block this provider was never asked for.
	Unsolicited,
}

struct Want<P> {
	spans: Vec<Span>,
	asked: Vec<(P, Instant)>,
	refused_by: HashSet<P>,
	/// Times every live provider refused it.
	refusal_rounds: u32,
	queued: bool,
}

struct Provider<P> {
	id: P,
	in_flight: usize,
	failures: u32,
	dropped: bool,
}

/// The want schedule of one fetch.
pub struct Scheduler<P> {
	limits: FetchLimits,
	wants: HashMap<Cid, Want<P>>,
	queue: VecDeque<Cid>,
	providers: Vec<Provider<P>>,
	received: HashSet<Cid>,
	next_provider: usize,
	unavailable: Option<Cid>,
}

impl<P: Copy + Eq + Hash + Debug> Scheduler<P> {
	/// A schedule that starts by asking for `root`.
	pub fn new(root: Cid, providers: impl IntoIterator<Item = P>, limits: FetchLimits) -> Self {
		let mut scheduler = Self {
			limits,
			wants: HashMap::new(),
			queue: VecDeque::new(),
			providers: Vec::new(),
			received: HashSet::new(),
			next_provider: 0,
			unavailable: None,
		};
		for id in providers {
			scheduler.add_provider(id);
		}
		scheduler.add(vec![Span {
			cid: root,
			offset: 0,
			len: 0,
		}]);
		scheduler
	}

	/// Adds a provider (ignored if already known; a dropped one stays dropped).
	pub fn add_provider(&mut self, id: P) {
		if !self.providers.iter().any(|p| p.id == id) {
			self.providers.push(Provider {
				id,
				in_flight: 0,
				failures: 0,
				dropped: false,
			});
		}
	}

	/// Blocks to fetch, learned from an interior node. Interior nodes go first.
	pub fn add(&mut self, spans: Vec<Span>) {
		for span in spans {
			if self.received.contains(&span.cid) {
				continue;
			}
			let cid = span.cid;
			let leaf = span.is_leaf();
			match self.wants.get_mut(&cid) {
				Some(want) => want.spans.push(span),
				None => {
					self.wants.insert(
						cid,
						Want {
							spans: vec![span],
							asked: Vec::new(),
							refused_by: HashSet::new(),
							refusal_rounds: 0,
							queued: true,
						},
					);
					if leaf {
						self.queue.push_back(cid);
					} else {
						self.queue.push_front(cid);
					}
				},
			}
		}
	}

	/// Records a leaf that is already on disk (a resumed fetch, or a chunk that repeats) as
	/// received. Returns the places still waiting for it, which the caller fills locally.
	pub fn already_have(&mut self, cid: Cid) -> Vec<Span> {
		self.received.insert(cid);
		match self.wants.remove(&cid) {
			Some(want) => {
				for (peer, _) in want.asked {
					self.release(peer);
				}
				if want.queued {
					self.queue.retain(|queued| *queued != cid);
				}
				want.spans
			},
			None => Vec::new(),
		}
	}

	/// Hands out wants to providers with room in their window.
	pub fn next_requests(&mut self, now: Instant) -> Vec<(P, Vec<Cid>)> {
		let mut out: Vec<(P, Vec<Cid>)> = Vec::new();
		let n = self.providers.len();
		// Round-robin, one want per provider per turn, until no provider can take one.
		let mut idle_turns = 0;
		while idle_turns < n && n > 0 {
			let index = self.next_provider % n;
			self.next_provider = self.next_provider.wrapping_add(1);
			let provider = &self.providers[index];
			if provider.dropped || provider.in_flight >= self.limits.window {
				idle_turns += 1;
				continue;
			}
			let peer = provider.id;
			let Some(cid) = self.pick_for(peer) else {
				idle_turns += 1;
				continue;
			};
			idle_turns = 0;
			if let Some(want) = self.wants.get_mut(&cid) {
				want.asked.push((peer, now));
			}
			self.providers[index].in_flight += 1;
			match out.iter_mut().find(|(p, _)| *p == peer) {
				Some((_, cids)) => cids.push(cid),
				None => out.push((peer, vec![cid])),
			}
		}
		out
	}

	/// The next want `peer` should be asked for: from the queue, or in the endgame a want in
	/// flight elsewhere.
	fn pick_for(&mut self, peer: P) -> Option<Cid> {
		let live = self.live_providers();
		for position in 0..self.queue.len() {
			let cid = self.queue[position];
			let Some(want) = self.wants.get(&cid) else {
				self.queue.remove(position);
				return self.pick_for(peer);
			};
			// A provider that said it lacks the block is asked again only when every live
			// provider has said so (it may have got it since: providers fetch too).
			let everyone_refused = live.iter().all(|p| want.refused_by.contains(p));
			if want.refused_by.contains(&peer) && !everyone_refused {
				continue;
			}
			if everyone_refused {
				let max = self.limits.max_failures;
				if let Some(want) = self.wants.get_mut(&cid) {
					want.refused_by.clear();
					want.refusal_rounds += 1;
					if want.refusal_rounds > max {
						self.unavailable.get_or_insert(cid);
						continue;
					}
				}
			}
			self.queue.remove(position);
			if let Some(want) = self.wants.get_mut(&cid) {
				want.queued = false;
			}
			return Some(cid);
		}
		if !self.queue.is_empty() {
			return None;
		}
		// Endgame.
		let copies = self.limits.endgame_copies;
		self.wants
			.iter()
			.filter(|(_, w)| {
				!w.queued
					&& !w.asked.is_empty()
					&& w.asked.len() < copies
					&& !w.refused_by.contains(&peer)
					&& !w.asked.iter().any(|(p, _)| *p == peer)
			})
			.map(|(cid, _)| *cid)
			.min_by_key(|cid| self.wants[cid].asked.first().map(|(_, at)| *at))
	}

	fn live_providers(&self) -> Vec<P> {
		self.providers
			.iter()
			.filter(|p| !p.dropped)
			.map(|p| p.id)
			.collect()
	}

	fn provider_mut(&mut self, peer: P) -> Option<&mut Provider<P>> {
		self.providers.iter_mut().find(|p| p.id == peer)
	}

	fn release(&mut self, peer: P) {
		if let Some(p) = self.provider_mut(peer) {
			p.in_flight = p.in_flight.saturating_sub(1);
		}
	}

	/// A block with `cid` arrived from `peer` (its bytes already hashed to that CID).
	///
	/// A wanted block is taken from whoever sends it — the bytes are what the CID names — so
	/// an answer that comes after its want timed out is not wasted. A block that is not wanted
	/// and was never received is [`Arrival::Unsolicited`].
	pub fn on_block(&mut self, peer: P, cid: Cid) -> Arrival {
		match self.wants.remove(&cid) {
			Some(want) => {
				for (asked, _) in &want.asked {
					self.release(*asked);
				}
				if let Some(p) = self.provider_mut(peer) {
					p.failures = 0;
				}
				self.received.insert(cid);
				if want.queued {
					self.queue.retain(|queued| *queued != cid);
				}
				Arrival::Wanted(want.spans)
			},
			None if self.received.contains(&cid) => Arrival::Duplicate,
			None => Arrival::Unsolicited,
		}
	}

	/// A block taken with [`Self::on_block`] turned out unusable (it failed a check after
	/// arrival): it is wanted again, and `peer` is dropped.
	pub fn reject(&mut self, peer: P, cid: Cid, spans: Vec<Span>) {
		self.received.remove(&cid);
		self.add(spans);
		self.drop_provider(peer);
	}

	/// `peer` sent something it should not have (a block it was not asked for: a corrupt
	/// block hashes to a CID nobody asked for). It is not asked again; its wants move on.
	pub fn drop_provider(&mut self, peer: P) {
		let Some(provider) = self.provider_mut(peer) else {
			return;
		};
		provider.dropped = true;
		provider.in_flight = 0;
		self.withdraw_asks(peer);
	}

	/// Forgets every want in flight at `peer`; those no one else was asked for go back to the
	/// front of the queue.
	fn withdraw_asks(&mut self, peer: P) {
		let mut requeue = Vec::new();
		for (cid, want) in self.wants.iter_mut() {
			let before = want.asked.len();
			want.asked.retain(|(p, _)| *p != peer);
			if before != want.asked.len() && want.asked.is_empty() && !want.queued {
				want.queued = true;
				requeue.push(*cid);
			}
		}
		for cid in requeue {
			self.queue.push_front(cid);
		}
	}

	/// `peer` says it does not have `cid`.
	pub fn on_dont_have(&mut self, peer: P, cid: Cid) {
		let Some(want) = self.wants.get_mut(&cid) else {
			return;
		};
		let before = want.asked.len();
		want.asked.retain(|(p, _)| *p != peer);
		if before == want.asked.len() {
			return;
		}
		want.refused_by.insert(peer);
		if want.asked.is_empty() && !want.queued {
			want.queued = true;
			self.queue.push_front(cid);
		}
		self.release(peer);
	}

	/// The connection to `peer` closed or could not be opened: its wants go back in the
	/// queue and it counts as one failure.
	pub fn on_disconnect(&mut self, peer: P) {
		// An idle connection closing is not a failure.
		if self.provider_mut(peer).is_none_or(|p| p.in_flight == 0) {
			return;
		}
		self.withdraw_asks(peer);
		let max = self.limits.max_failures;
		if let Some(p) = self.provider_mut(peer) {
			p.in_flight = 0;
			p.failures += 1;
			if p.failures >= max {
				p.dropped = true;
			}
		}
	}

	/// Wants unanswered for longer than the timeout are given up on that provider; returns
	/// the providers that timed out.
	pub fn on_tick(&mut self, now: Instant) -> Vec<P> {
		let timeout = self.limits.timeout;
		let mut late: Vec<P> = Vec::new();
		let mut requeue = Vec::new();
		for (cid, want) in self.wants.iter_mut() {
			want.asked.retain(|(peer, at)| {
				if now.saturating_duration_since(*at) >= timeout {
					late.push(*peer);
					false
				} else {
					true
				}
			});
			if want.asked.is_empty() && !want.queued {
				want.queued = true;
				requeue.push(*cid);
			}
		}
		for cid in requeue {
			self.queue.push_front(cid);
		}
		let max = self.limits.max_failures;
		let mut timed_out = Vec::new();
		for peer in late {
			if let Some(p) = self.provider_mut(peer) {
				p.in_flight = p.in_flight.saturating_sub(1);
				p.failures += 1;
				if p.failures >= max {
					p.dropped = true;
					p.in_flight = 0;
				}
			}
			if !timed_out.contains(&peer) {
				timed_out.push(peer);
			}
		}
		timed_out
	}

	/// A block every live provider refused more than `max_failures` times: the fetch cannot
	/// finish with these providers.
	pub fn unavailable(&self) -> Option<Cid> {
		self.unavailable
	}

	/// Every wanted block has arrived.
	pub fn is_complete(&self) -> bool {
		self.wants.is_empty()
	}

	/// Blocks still wanted.
	pub fn outstanding(&self) -> usize {
		self.wants.len()
	}

	/// Providers still being asked.
	pub fn live_provider_count(&self) -> usize {
		self.providers.iter().filter(|p| !p.dropped).count()
	}

	/// Providers that were dropped.
	pub fn dropped_providers(&self) -> Vec<P> {
		self.providers
			.iter()
			.filter(|p| p.dropped)
			.map(|p| p.id)
			.collect()
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use model_dag::{cid_of, DAG_PB, RAW};

	fn leaf(i: u64) -> Span {
		Span {
			cid: cid_of(RAW, &i.to_le_bytes()),
			offset: i * 8,
			len: 8,
		}
	}

	fn node(i: u64) -> Span {
		Span {
			cid: cid_of(DAG_PB, &i.to_le_bytes()),
			offset: 0,
			len: 0,
		}
	}

	fn limits(window: usize) -> FetchLimits {
		FetchLimits {
			window,
			timeout: Duration::from_secs(10),
			max_failures: 2,
			endgame_copies: 2,
			max_file_bytes: 1 << 30,
		}
	}

	/// A scheduler whose root arrived from peer 1 and revealed `leaves` leaves.
	fn started(peers: &[u8], leaves: u64, window: usize) -> (Scheduler<u8>, Instant) {
		let root = node(0);
		let mut s = Scheduler::new(root.cid, peers.iter().copied(), limits(window));
		let now = Instant::now();
		let asks = s.next_requests(now);
		// Only the root is known at first (and, as the last block wanted, asked twice).
		assert!(asks.iter().all(|(_, cids)| *cids == vec![root.cid]));
		assert_eq!(asks.len(), peers.len().min(2));
		let peer = asks[0].0;
		assert!(matches!(s.on_block(peer, root.cid), Arrival::Wanted(_)));
		s.add((0..leaves).map(leaf).collect());
		(s, now)
	}

	fn count(asks: &[(u8, Vec<Cid>)], peer: u8) -> usize {
		asks.iter()
			.filter(|(p, _)| *p == peer)
			.map(|(_, c)| c.len())
			.sum()
	}

	#[test]
	fn wants_are_spread_over_providers_within_their_windows() {
		let (mut s, now) = started(&[1, 2, 3], 100, 4);
		let asks = s.next_requests(now);
		for peer in [1, 2, 3] {
			assert_eq!(count(&asks, peer), 4);
		}
		// Full windows: nothing more until something arrives.
		assert!(s.next_requests(now).is_empty());
		let first = asks.iter().find(|(p, _)| *p == 2).unwrap().1[0];
		assert!(matches!(s.on_block(2, first), Arrival::Wanted(_)));
		let asks = s.next_requests(now);
		assert_eq!(count(&asks, 2), 1);
		assert_eq!(count(&asks, 1) + count(&asks, 3), 0);
	}

	#[test]
	fn interior_nodes_jump_the_queue() {
		let (mut s, now) = started(&[1], 10, 1);
		s.add(vec![node(7)]);
		let asks = s.next_requests(now);
		assert_eq!(asks[0].1, vec![node(7).cid]);
	}

	#[test]
	fn a_block_nobody_wanted_is_unsolicited_and_its_sender_is_dropped() {
		let (mut s, now) = started(&[1, 2], 4, 1);
		let asks = s.next_requests(now);
		let (asked_of_1, asked_of_2) = (asks[0].1[0], asks[1].1[0]);
		assert_eq!(asks[0].0, 1);
		// A corrupt block hashes to a CID that is in no want.
		assert_eq!(s.on_block(2, cid_of(RAW, b"garbage")), Arrival::Unsolicited);
		s.drop_provider(2);
		assert_eq!(s.live_provider_count(), 1);
		// Peer 2's want is back at the front and goes to peer 1 once it has room.
		assert!(matches!(s.on_block(1, asked_of_1), Arrival::Wanted(_)));
		let asks = s.next_requests(now);
		assert_eq!(asks, vec![(1, vec![asked_of_2])]);
	}

	#[test]
	fn a_late_answer_is_still_taken() {
		let (mut s, now) = started(&[1, 2], 1, 1);
		let asks = s.next_requests(now);
		let (slow, cid) = (asks[0].0, asks[0].1[0]);
		s.on_tick(now + Duration::from_secs(11));
		assert!(matches!(s.on_block(slow, cid), Arrival::Wanted(_)));
		assert!(s.is_complete());
		assert!(s.next_requests(now).is_empty());
	}

	#[test]
	fn a_rejected_block_is_asked_of_another_provider() {
		let (mut s, now) = started(&[1, 2], 1, 1);
		let asks = s.next_requests(now);
		let (peer, cid) = (asks[0].0, asks[0].1[0]);
		let Arrival::Wanted(spans) = s.on_block(peer, cid) else {
			panic!()
		};
		s.reject(peer, cid, spans);
		let asks = s.next_requests(now);
		assert_eq!(asks.len(), 1);
		assert_ne!(asks[0].0, peer);
		assert_eq!(asks[0].1, vec![cid]);
	}

	#[test]
	fn timeouts_move_wants_and_repeated_failures_drop_the_provider() {
		let (mut s, now) = started(&[1, 2], 2, 1);
		let asks = s.next_requests(now);
		assert_eq!(asks.len(), 2);
		let later = now + Duration::from_secs(11);
		let late = s.on_tick(later);
		assert_eq!(late.len(), 2);
		let asks = s.next_requests(later);
		assert_eq!(asks.len(), 2, "both wants handed out again");
		let again = s.on_tick(later + Duration::from_secs(11));
		assert_eq!(again.len(), 2);
		assert_eq!(
			s.live_provider_count(),
			0,
			"two failures in a row drop a provider"
		);
		assert!(s.next_requests(later).is_empty());
	}

	#[test]
	fn an_answer_resets_the_failure_count() {
		let (mut s, now) = started(&[1], 3, 1);
		s.next_requests(now);
		let t1 = now + Duration::from_secs(11);
		s.on_tick(t1);
		let asks = s.next_requests(t1);
		assert!(matches!(s.on_block(1, asks[0].1[0]), Arrival::Wanted(_)));
		let asks = s.next_requests(t1);
		s.on_tick(t1 + Duration::from_secs(11));
		assert_eq!(
			s.live_provider_count(),
			1,
			"one failure since the last answer"
		);
		assert_eq!(s.next_requests(t1), asks);
	}

	#[test]
	fn dont_have_sends_the_want_elsewhere_and_everyone_refusing_retries() {
		let (mut s, now) = started(&[1, 2], 2, 1);
		let asks = s.next_requests(now);
		assert_eq!(asks.len(), 2);
		let (first, second) = (asks[0].1[0], asks[1].1[0]);
		s.on_dont_have(1, first);
		// Peer 1 is free but said no; peer 2 is busy.
		assert!(s.next_requests(now).is_empty());
		assert!(matches!(s.on_block(2, second), Arrival::Wanted(_)));
		assert_eq!(s.next_requests(now), vec![(2, vec![first])]);
		s.on_dont_have(2, first);
		// Everyone refused: asked again (providers fetch too, and may have it by now).
		let asks = s.next_requests(now);
		assert!(!asks.is_empty() && asks.iter().all(|(_, c)| *c == vec![first]));
	}

	#[test]
	fn a_block_every_provider_keeps_refusing_is_unavailable() {
		// Two providers that are fetching the model themselves and never get this block.
		let (mut s, now) = started(&[1, 2], 1, 1);
		let max = limits(1).max_failures;
		let mut rounds = 0;
		while s.unavailable().is_none() {
			let asks = s.next_requests(now);
			if asks.is_empty() {
				break;
			}
			for (peer, cids) in asks {
				for cid in cids {
					s.on_dont_have(peer, cid);
				}
			}
			rounds += 1;
			assert!(rounds < 100, "refused forever without giving up");
		}
		assert_eq!(s.unavailable(), Some(leaf(0).cid));
		assert_eq!(
			s.live_provider_count(),
			2,
			"refusing is not a failure of the provider"
		);
		assert!(
			rounds as u32 > max,
			"asked again {max} times first (rounds {rounds})"
		);
	}

	#[test]
	fn the_last_blocks_are_asked_of_a_second_provider() {
		let (mut s, now) = started(&[1, 2], 2, 4);
		let asks = s.next_requests(now);
		// Two wants, one per provider; then the endgame doubles both.
		assert_eq!(asks.iter().map(|(_, c)| c.len()).sum::<usize>(), 4);
		for (peer, cids) in &asks {
			let mut unique = cids.clone();
			unique.dedup();
			assert_eq!(
				unique.len(),
				cids.len(),
				"peer {peer} asked twice for a block"
			);
		}
		let cid = asks[0].1[0];
		assert!(matches!(s.on_block(1, cid), Arrival::Wanted(_)));
		assert_eq!(s.on_block(2, cid), Arrival::Duplicate);
		assert_eq!(s.outstanding(), 1);
		// The other want is already asked of both: never a third copy.
		assert!(s.next_requests(now).is_empty());
	}

	#[test]
	fn a_disconnect_requeues_and_counts_as_a_failure() {
		let (mut s, now) = started(&[1, 2], 4, 2);
		s.next_requests(now);
		s.on_disconnect(1);
		let asks = s.next_requests(now);
		// Peer 2's window is full; peer 1 is still live and takes its wants back.
		assert_eq!(count(&asks, 1), 2);
		s.on_disconnect(1);
		assert_eq!(s.live_provider_count(), 1);
		// An idle provider's connection closing costs it nothing.
		let (mut idle, _) = started(&[1, 2], 0, 2);
		idle.on_disconnect(2);
		idle.on_disconnect(2);
		assert_eq!(idle.live_provider_count(), 2);
	}

	#[test]
	fn repeated_chunks_are_one_want_with_several_places() {
		let root = node(0);
		let mut s = Scheduler::new(root.cid, [1u8], limits(8));
		let now = Instant::now();
		s.next_requests(now);
		s.on_block(1, root.cid);
		let same = cid_of(RAW, &[0; 8]);
		s.add(vec![
			Span {
				cid: same,
				offset: 0,
				len: 8,
			},
			Span {
				cid: same,
				offset: 8,
				len: 8,
			},
		]);
		let asks = s.next_requests(now);
		assert_eq!(asks, vec![(1, vec![same])]);
		let Arrival::Wanted(spans) = s.on_block(1, same) else {
			panic!()
		};
		assert_eq!(spans.len(), 2);
		assert!(s.is_complete());
	}

	#[test]
	fn leaves_already_on_disk_are_not_asked_for() {
		let (mut s, now) = started(&[1], 0, 8);
		assert!(s.already_have(leaf(0).cid).is_empty());
		s.add(vec![leaf(0), leaf(1)]);
		let asks = s.next_requests(now);
		assert_eq!(asks, vec![(1, vec![leaf(1).cid])]);
	}
}
