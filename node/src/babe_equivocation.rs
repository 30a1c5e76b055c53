//! Reports BABE equivocations (two blocks in one slot by one authority) with headers the runtime
//! can verify.
//!
//! `sc-consensus-babe` of this polkadot-sdk release looks for equivocations during block import,
//! after its verifier has moved each header's seal into `post_digests`. The proofs it builds
//! therefore hold unsealed headers, and the runtime (`sp_consensus_babe::check_equivocation_proof`
//! checks the author's signature over each header) rejects every one of them at dispatch with
//! `babe.InvalidEquivocationProof`: a pure block equivocator was never punished.
//!
//! [`EquivocationReporter`] is a block import placed in front of BABE's. For every block that is
//! not part of the initial sync it puts the seal back on the header, remembers the sealed header
//! under its slot, and when a second, different header of the same slot and authority arrives it
//! reports both, sealed, with a key-ownership proof, as an unsigned
//! `babe.reportEquivocationUnsigned` through the transaction pool. Then it hands the block to
//! BABE unchanged. BABE's own (unusable) report for the same offence is refused by the pool:
//! the runtime tags both with the same (offender, slot), and the first one stays.
//!
//! The headers are kept in memory for the last [`SLOT_WINDOW`] slots: after a restart a node
//! misses an equivocation whose first block it imported before the restart; the other nodes
//! still see it.

use std::{
	collections::{BTreeMap, BTreeSet},
	marker::PhantomData,
	sync::Arc,
};

use parking_lot::Mutex;
use sc_consensus::{BlockCheckParams, BlockImport, BlockImportParams, ImportResult};
use sc_transaction_pool_api::OffchainTransactionPoolFactory;
use sp_api::{ApiExt, ProvideRuntimeApi};
use sp_blockchain::HeaderBackend;
use sp_consensus::BlockOrigin;
use sp_consensus_babe::{
	digests::CompatibleDigestItem, AuthorityId, BabeApi, EquivocationProof, Slot,
};
use sp_runtime::traits::{Block as BlockT, Header as HeaderT};

const LOG_TARGET: &str = "babe-equivocation";

/// How many slots back headers are remembered: an hour of 3 s slots. Two blocks of one slot
/// reach every node within seconds of each other; this leaves room for a node that was cut off.
pub const SLOT_WINDOW: u64 = 1_200;

/// Most headers remembered per slot. Only headers that passed BABE's verification (a valid
/// claim and seal) reach this import, so a flood needs an authority's key; beyond the bound
/// further headers of the slot are not remembered (the equivocation is already provable).
pub const HEADERS_PER_SLOT: usize = 16;

/// What [`SeenHeaders::note`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Seen<H> {
	/// The first header of this authority in this slot, or one already seen.
	Nothing,
	/// Another header of the same authority and slot: `first` is the one seen before. Returned
	/// once per (slot, authority).
	Equivocation { first: H },
}

/// Sealed headers by slot and authority index, for the last [`SLOT_WINDOW`] slots.
#[derive(Debug)]
pub struct SeenHeaders<H> {
	by_slot: BTreeMap<u64, Vec<(u32, H)>>,
	reported: BTreeSet<(u64, u32)>,
}

impl<H> Default for SeenHeaders<H> {
	fn default() -> Self {
		Self {
			by_slot: BTreeMap::new(),
			reported: BTreeSet::new(),
		}
	}
}

impl<H: HeaderT> SeenHeaders<H> {
	/// Remembers `header`, authored by authority `index` in `slot`, and says whether it proves
	/// an equivocation.
	pub fn note(&mut self, slot: u64, index: u32, header: H) -> Seen<H> {
		if let Some(newest) = self.by_slot.keys().next_back().copied() {
			if slot.saturating_add(SLOT_WINDOW) < newest {
				// Older than anything kept: its pair, if any, is forgotten too.
				return Seen::Nothing;
			}
		}
		let hash = header.hash();
		let headers = self.by_slot.entry(slot).or_default();
		let mut found = None;
		for (seen_index, seen) in headers.iter() {
			if *seen_index != index {
				continue;
			}
			if seen.hash() == hash {
				return Seen::Nothing;
			}
			found.get_or_insert_with(|| seen.clone());
		}
		if headers.len() < HEADERS_PER_SLOT {
			headers.push((index, header));
		}
		self.prune();
		match found {
			Some(first) if self.reported.insert((slot, index)) => Seen::Equivocation { first },
			_ => Seen::Nothing,
		}
	}

	fn prune(&mut self) {
		let Some(newest) = self.by_slot.keys().next_back().copied() else {
			return;
		};
		let oldest = newest.saturating_sub(SLOT_WINDOW);
		self.by_slot = self.by_slot.split_off(&oldest);
		self.reported = self.reported.split_off(&(oldest, 0));
	}
}

/// A block import that reports BABE equivocations with sealed headers, then hands every block
/// to `inner` (BABE's import) unchanged. See the module documentation.
pub struct EquivocationReporter<B: BlockT, I, C> {
	inner: I,
	client: Arc<C>,
	pool: OffchainTransactionPoolFactory<B>,
	seen: Arc<Mutex<SeenHeaders<B::Header>>>,
	_block: PhantomData<B>,
}

impl<B: BlockT, I: Clone, C> Clone for EquivocationReporter<B, I, C> {
	fn clone(&self) -> Self {
		Self {
			inner: self.inner.clone(),
			client: self.client.clone(),
			pool: self.pool.clone(),
			seen: self.seen.clone(),
			_block: PhantomData,
		}
	}
}

impl<B, I, C> EquivocationReporter<B, I, C>
where
	B: BlockT,
	C: ProvideRuntimeApi<B> + HeaderBackend<B>,
	C::Api: BabeApi<B>,
{
	/// Wraps `inner`; reports go to the transaction pool of `pool`.
	pub fn new(inner: I, client: Arc<C>, pool: OffchainTransactionPoolFactory<B>) -> Self {
		Self {
			inner,
			client,
			pool,
			seen: Default::default(),
			_block: PhantomData,
		}
	}

	/// Notes `block`'s sealed header and reports an equivocation it proves.
	fn check(&self, block: &BlockImportParams<B>) -> Result<(), String> {
		let Ok(pre_digest) = sc_consensus_babe::find_pre_digest::<B>(&block.header) else {
			return Ok(()); // genesis, or not a BABE block: nothing to check
		};
		let Some(seal) = block
			.post_digests
			.last()
			.filter(|d| d.as_babe_seal().is_some())
		else {
			return Ok(()); // a header that still carries its seal was not verified by BABE
		};
		let mut sealed = block.header.clone();
		sealed.digest_mut().push(seal.clone());
		let slot = pre_digest.slot();
		let index = pre_digest.authority_index();
		let first = match self.seen.lock().note(*slot, index, sealed.clone()) {
			Seen::Nothing => return Ok(()),
			Seen::Equivocation { first } => first,
		};
		let parent = *block.header.parent_hash();
		let offender = self.authority(parent, slot, index)?;
		log::info!(
			target: LOG_TARGET,
			"authority {offender:?} equivocated in slot {slot}: blocks {:?} and {:?}",
			first.hash(),
			sealed.hash(),
		);
		let proof = EquivocationProof {
			offender: offender.clone(),
			slot,
			first_header: first,
			second_header: sealed,
		};
		self.report(parent, slot, offender, proof)
	}

	/// The BABE authority `index` of the epoch that `slot` belongs to, read at `parent`.
	fn authority(&self, parent: B::Hash, slot: Slot, index: u32) -> Result<AuthorityId, String> {
		let api = self.client.runtime_api();
		let current = api.current_epoch(parent).map_err(|e| e.to_string())?;
		let epoch = if slot < current.start_slot + current.duration {
			current
		} else {
			api.next_epoch(parent).map_err(|e| e.to_string())?
		};
		epoch
			.authorities
			.get(index as usize)
			.map(|(id, _)| id.clone())
			.ok_or_else(|| format!("no authority {index} in epoch {}", epoch.epoch_index))
	}

	/// Submits the report at the best block, with a key-ownership proof from the session of the
	/// equivocation (the parent's state) or, failing that, the best block's.
	fn report(
		&self,
		parent: B::Hash,
		slot: Slot,
		offender: AuthorityId,
		proof: EquivocationProof<B::Header>,
	) -> Result<(), String> {
		let best = self.client.info().best_hash;
		let api = self.client.runtime_api();
		let mut owner_proof = None;
		for at in [parent, best] {
			owner_proof = api
				.generate_key_ownership_proof(at, slot, offender.clone())
				.map_err(|e| e.to_string())?;
			if owner_proof.is_some() {
				break;
			}
		}
		let Some(owner_proof) = owner_proof else {
			log::debug!(target: LOG_TARGET, "{offender:?} is not in the session history");
			return Ok(());
		};
		let mut api = self.client.runtime_api();
		api.register_extension(self.pool.offchain_transaction_pool(best));
		match api
			.submit_report_equivocation_unsigned_extrinsic(best, proof, owner_proof)
			.map_err(|e| e.to_string())?
		{
			Some(()) => log::info!(target: LOG_TARGET, "reported {offender:?} for slot {slot}"),
			None => log::warn!(target: LOG_TARGET, "the pool refused the report for slot {slot}"),
		}
		Ok(())
	}
}

#[async_trait::async_trait]
impl<B, I, C> BlockImport<B> for EquivocationReporter<B, I, C>
where
	B: BlockT,
	I: BlockImport<B> + Send + Sync,
	C: ProvideRuntimeApi<B> + HeaderBackend<B> + Send + Sync,
	C::Api: BabeApi<B>,
{
	type Error = I::Error;

	async fn check_block(&self, block: BlockCheckParams<B>) -> Result<ImportResult, Self::Error> {
		self.inner.check_block(block).await
	}

	async fn import_block(&self, block: BlockImportParams<B>) -> Result<ImportResult, Self::Error> {
		// Like BABE: blocks of the initial sync are old, their equivocations long reported.
		if block.origin != BlockOrigin::NetworkInitialSync {
			if let Err(e) = self.check(&block) {
				log::warn!(target: LOG_TARGET, "checking block for an equivocation: {e}");
			}
		}
		self.inner.import_block(block).await
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use sp_runtime::{generic::Header as GenericHeader, traits::BlakeTwo256};

	type Header = GenericHeader<u32, BlakeTwo256>;

	fn header(number: u32, state: u8) -> Header {
		Header::new(
			number,
			Default::default(),
			[state; 32].into(),
			Default::default(),
			Default::default(),
		)
	}

	#[test]
	fn a_second_header_of_one_authority_in_one_slot_is_an_equivocation_reported_once() {
		let mut seen = SeenHeaders::default();
		assert_eq!(seen.note(10, 1, header(5, 1)), Seen::Nothing);
		// The same header again (re-import, or from another peer) proves nothing.
		assert_eq!(seen.note(10, 1, header(5, 1)), Seen::Nothing);
		// Another authority in the same slot (a secondary claim beside a primary) is allowed.
		assert_eq!(seen.note(10, 2, header(5, 2)), Seen::Nothing);
		assert_eq!(
			seen.note(10, 1, header(5, 3)),
			Seen::Equivocation {
				first: header(5, 1)
			}
		);
		// One report per slot and authority, however many more headers arrive.
		assert_eq!(seen.note(10, 1, header(5, 4)), Seen::Nothing);
		// The next slot is a new incident.
		assert_eq!(seen.note(11, 1, header(6, 1)), Seen::Nothing);
		assert_eq!(
			seen.note(11, 1, header(6, 2)),
			Seen::Equivocation {
				first: header(6, 1)
			}
		);
	}

	#[test]
	fn slots_older_than_the_window_are_forgotten_and_memory_stays_bounded() {
		let mut seen = SeenHeaders::default();
		assert_eq!(seen.note(1, 0, header(1, 1)), Seen::Nothing);
		assert_eq!(
			seen.note(1 + SLOT_WINDOW + 1, 0, header(2, 1)),
			Seen::Nothing
		);
		assert!(!seen.by_slot.contains_key(&1), "slot 1 left the window");
		// A late header of a forgotten slot is ignored, not reported against nothing.
		assert_eq!(seen.note(1, 0, header(1, 2)), Seen::Nothing);
		for slot in 0..3 * SLOT_WINDOW {
			seen.note(slot + 2 * SLOT_WINDOW, 0, header(3, (slot % 200) as u8));
		}
		assert!(seen.by_slot.len() as u64 <= SLOT_WINDOW + 1);
		// Per slot, at most HEADERS_PER_SLOT are kept.
		for state in 0..=255u8 {
			seen.note(10 * SLOT_WINDOW, 3, header(9, state));
		}
		assert_eq!(seen.by_slot[&(10 * SLOT_WINDOW)].len(), HEADERS_PER_SLOT);
	}
}
