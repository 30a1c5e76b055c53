//! Configuration of each pallet in the runtime.

use frame_support::{
	derive_impl,
	dispatch::DispatchClass,
	parameter_types,
	traits::{
		fungible::HoldConsideration, AsEnsureOriginWithArg, ConstU128, ConstU32, ConstU64, ConstU8,
		EitherOfDiverse, EqualPrivilegeOnly, LinearStoragePrice, VariantCountOf,
	},
	weights::{
		constants::{ParityDbWeight, WEIGHT_REF_TIME_PER_SECOND},
		ConstantMultiplier, IdentityFee, Weight,
	},
};
use frame_system::{
	limits::{BlockLength, BlockWeights},
	EnsureRoot, EnsureSigned,
};
use pallet_governance::{
	EnsureEmergency, EnsureModelWhitelist, EnsureNetworkParameters, EnsureReputationFormula,
};
use pallet_transaction_payment::{ConstFeeMultiplier, FungibleAdapter, Multiplier};
use sp_runtime::{
	traits::{ConvertInto, One, OpaqueKeys},
	transaction_validity::TransactionPriority,
	Perbill,
};
use sp_staking::SessionIndex;
use sp_version::RuntimeVersion;

use super::{
	AccountId, Babe, Balance, Balances, Block, BlockNumber, Governance, Hash, Historical,
	ModelRegistry, NodeRegistry, Nonce, Offences, OriginCaller, PalletInfo, Preimage,
	ProofOfInference, Referenda, Reputation, Runtime, RuntimeCall, RuntimeEvent,
	RuntimeFreezeReason, RuntimeHoldReason, RuntimeOrigin, RuntimeTask, Scheduler, Session,
	SessionKeys, System, TxExtension, UncheckedExtrinsic, ValidatorSet, EPOCH_DURATION_IN_SLOTS,
	EXISTENTIAL_DEPOSIT, MICRO_UNIT, MILLI_SECS_PER_BLOCK, MINUTES, SLOT_DURATION, SS58_PREFIX,
	UNIT, VERSION,
};

/// Share of a block's weight and length that ordinary (non-operational) extrinsics may use.
const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);

/// Maximum number of BABE/GRANDPA authorities, and the most validators governance may ask
/// for. The prototype runs 3 or 4; this leaves room to grow while keeping every authority list
/// bounded.
pub type MaxAuthorities = ConstU32<32>;

parameter_types! {
	/// Number of recent block hashes kept in state (for mortal transactions).
	pub const BlockHashCount: BlockNumber = 2400;
	/// The runtime version, exposed to `frame_system`.
	pub const Version: RuntimeVersion = VERSION;
	/// A third of the slot as compute (one second of a 3-second slot): the author also needs
	/// time to propagate the block and every validator to import it before the next slot.
	pub RuntimeBlockWeights: BlockWeights = BlockWeights::with_sensible_defaults(
		Weight::from_parts(WEIGHT_REF_TIME_PER_SECOND * MILLI_SECS_PER_BLOCK / 3000, u64::MAX),
		NORMAL_DISPATCH_RATIO,
	);
	/// At most 5 MiB of extrinsics per block.
	pub RuntimeBlockLength: BlockLength = BlockLength::builder()
		.max_length(5 * 1024 * 1024)
		.modify_max_length_for_class(DispatchClass::Normal, |max| *max = NORMAL_DISPATCH_RATIO * *max)
		.build();
	/// SS58 prefix of addresses on this chain.
	pub const SS58Prefix: u16 = SS58_PREFIX;
}

#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
	type Block = Block;
	type BlockWeights = RuntimeBlockWeights;
	type BlockLength = RuntimeBlockLength;
	type AccountId = AccountId;
	type Nonce = Nonce;
	type Hash = Hash;
	type BlockHashCount = BlockHashCount;
	/// The node stores its state in ParityDB (RocksDB is not compiled in), so storage access is
	/// weighed with ParityDB's costs.
	type DbWeight = ParityDbWeight;
	type Version = Version;
	type AccountData = pallet_balances::AccountData<Balance>;
	type SS58Prefix = SS58Prefix;
	type MaxConsumers = ConstU32<16>;
}

// ---- Consensus: BABE + GRANDPA, handed over by sessions; equivocations punished ----

parameter_types! {
	/// One BABE epoch is one session.
	pub const EpochDuration: u64 = EPOCH_DURATION_IN_SLOTS;
	pub const ExpectedBlockTime: u64 = MILLI_SECS_PER_BLOCK;
	/// Sessions after its last one in the set during which a validator's bond stays held and
	/// the key-ownership history needed to prove its equivocations is kept.
	pub const BondingSessions: SessionIndex = 10;
	/// An equivocation report stays valid (in the pool, and provable) for as long as the
	/// offender's bond is held.
	pub const ReportLongevity: u64 = BondingSessions::get() as u64 * EPOCH_DURATION_IN_SLOTS;
	/// Deposit held while an account's session keys are stored.
	pub const SessionKeyDeposit: Balance = UNIT;
}

impl pallet_babe::Config for Runtime {
	type EpochDuration = EpochDuration;
	type ExpectedBlockTime = ExpectedBlockTime;
	/// Epochs end when sessions do.
	type EpochChangeTrigger = pallet_babe::ExternalTrigger;
	/// Validators disabled by an offence may not author for the rest of the session.
	type DisabledValidators = Session;
	type WeightInfo = ();
	type MaxAuthorities = MaxAuthorities;
	type MaxNominators = ConstU32<0>;
	type KeyOwnerProof = sp_session::MembershipProof;
	type EquivocationReportSystem =
		pallet_babe::EquivocationReportSystem<Self, Offences, Historical, ReportLongevity>;
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = MaxAuthorities;
	type MaxNominators = ConstU32<0>;
	/// GRANDPA set ids are mapped to sessions for as long as reports are accepted.
	type MaxSetIdSessionEntries = ConstU64<{ BondingSessions::get() as u64 }>;
	type KeyOwnerProof = sp_session::MembershipProof;
	type EquivocationReportSystem =
		pallet_grandpa::EquivocationReportSystem<Self, Offences, Historical, ReportLongevity>;
}

impl pallet_authorship::Config for Runtime {
	type FindAuthor = pallet_session::FindAccountFromAuthorIndex<Self, Babe>;
	/// Counts each validator's blocks: a validator that authors none is offline.
	type EventHandler = ValidatorSet;
}

impl pallet_session::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	/// A validator is identified by its account (the node's operator account).
	type ValidatorId = AccountId;
	type ValidatorIdOf = ConvertInto;
	type ShouldEndSession = Babe;
	type NextSessionRotation = Babe;
	type SessionManager = pallet_session::historical::NoteHistoricalRoot<Self, ValidatorSet>;
	type SessionHandler = <SessionKeys as OpaqueKeys>::KeyTypeIdProviders;
	type Keys = SessionKeys;
	/// At most a third of the set (rounded down) may be disabled at once, so an offence
	/// wave cannot stall block production; offenders leave the set at the next session anyway.
	type DisablingStrategy = pallet_session::disabling::UpToLimitDisablingStrategy;
	type WeightInfo = pallet_session::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type KeyDeposit = SessionKeyDeposit;
}

/// Validators carry no extra identification in the historical tries: the account is enough,
/// since punishment goes through the node registry's bond.
pub struct NoIdentification;
impl sp_runtime::traits::Convert<AccountId, Option<()>> for NoIdentification {
	fn convert(_: AccountId) -> Option<()> {
		Some(())
	}
}

impl pallet_session::historical::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type FullIdentification = ();
	type FullIdentificationOf = NoIdentification;
}

impl pallet_offences::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type IdentificationTuple = pallet_session::historical::IdentificationTuple<Self>;
	type OnOffenceHandler = ValidatorSet;
}

/// The node registry as the validator set sees it.
pub struct RegistryCandidates;
impl pallet_validator_set::CandidateNodes<AccountId> for RegistryCandidates {
	type Balance = Balance;
	fn standing(who: &AccountId) -> Option<pallet_validator_set::NodeStanding<Balance>> {
		let record = pallet_node_registry::Nodes::<Runtime>::get(who)?;
		Some(pallet_validator_set::NodeStanding {
			bond: record.bond,
			online: record.status == pallet_node_registry::NodeStatus::Active,
			leaving: record.status.is_leaving(),
		})
	}
	fn slash(who: &AccountId, fraction: Perbill) -> Balance {
		NodeRegistry::slash_bond(who, fraction)
	}
	#[cfg(feature = "runtime-benchmarks")]
	fn make_node(who: &AccountId) {
		<NodeElectorate as pallet_governance::Electorate<AccountId, BlockNumber>>::make_voter(
			who, 1,
		);
	}
}

/// `pallet_session` (and its history) as the validator set sees it.
pub struct SessionInterface;
impl pallet_validator_set::SessionInterface<AccountId> for SessionInterface {
	fn has_keys(who: &AccountId) -> bool {
		pallet_session::NextKeys::<Runtime>::contains_key(who)
	}
	fn validators() -> alloc::vec::Vec<AccountId> {
		pallet_session::Validators::<Runtime>::get()
	}
	fn current_index() -> SessionIndex {
		Session::current_index()
	}
	fn disable(who: &AccountId) {
		Session::report_offence(who.clone(), sp_staking::offence::OffenceSeverity::default())
	}
	fn prune_history(up_to: SessionIndex) {
		pallet_session::historical::Pallet::<Runtime>::prune_up_to(up_to)
	}
	#[cfg(feature = "runtime-benchmarks")]
	fn set_keys(who: &AccountId) {
		use sp_runtime::RuntimeAppPublic;
		let keys = SessionKeys {
			babe: sp_consensus_babe::AuthorityId::generate_pair(None),
			grandpa: sp_consensus_grandpa::AuthorityId::generate_pair(None),
			inference: pallet_node_registry::InferenceKey::generate_pair(None),
		};
		let _ = <Session as pallet_session::SessionInterface>::set_keys(who, keys);
	}
}

impl pallet_validator_set::Config for Runtime {
	type Nodes = RegistryCandidates;
	type Reputation = Reputation;
	type Session = SessionInterface;
	/// The validator count and the equivocation slash change through the network-parameters
	/// track (or root).
	type ParametersOrigin = EitherOfDiverse<EnsureRoot<AccountId>, EnsureNetworkParameters>;
	/// A validator bonds at least what any node does; the registry holds the bond.
	type MinCandidateBond = NodeBond;
	type MaxCandidates = MaxNodes;
	type MaxValidators = MaxAuthorities;
	type MinValidators = ConstU32<1>;
	type SessionLength = ConstU32<{ EPOCH_DURATION_IN_SLOTS as u32 }>;
	type BondingSessions = BondingSessions;
	type MinExpectedBlocks = ConstU32<10>;
	type WeightInfo = pallet_validator_set::weights::SubstrateWeight<Runtime>;
}

impl pallet_timestamp::Config for Runtime {
	/// Milliseconds since the Unix epoch.
	type Moment = u64;
	type OnTimestampSet = Babe;
	type MinimumPeriod = ConstU64<{ SLOT_DURATION / 2 }>;
	type WeightInfo = ();
}

impl pallet_balances::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type WeightInfo = pallet_balances::weights::SubstrateWeight<Runtime>;
	type Balance = Balance;
	type DustRemoval = ();
	type ExistentialDeposit = ConstU128<EXISTENTIAL_DEPOSIT>;
	type AccountStore = System;
	type ReserveIdentifier = [u8; 8];
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxLocks = ConstU32<50>;
	type MaxReserves = ConstU32<0>;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
	type DoneSlashHandler = ();
}

parameter_types! {
	/// Fees do not follow congestion yet: the multiplier is fixed at one.
	pub FeeMultiplier: Multiplier = Multiplier::one();
}

impl pallet_transaction_payment::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	// Fees are burned for now; the economics issue routes them to validators.
	type OnChargeTransaction = FungibleAdapter<Balances, ()>;
	type WeightToFee = IdentityFee<Balance>;
	/// One micro-COG per byte, so that large extrinsics cost more than small ones.
	type LengthToFee = ConstantMultiplier<Balance, ConstU128<MICRO_UNIT>>;
	type FeeMultiplierUpdate = ConstFeeMultiplier<FeeMultiplier>;
	type OperationalFeeMultiplier = ConstU8<5>;
	type WeightInfo = pallet_transaction_payment::weights::SubstrateWeight<Runtime>;
}

// ---- Governance: referenda on tracks, reputation-weighted votes, no sudo ----

parameter_types! {
	/// Deposit per preimage plus per byte, held while the preimage is stored.
	pub const PreimageBaseDeposit: Balance = UNIT;
	pub const PreimageByteDeposit: Balance = MICRO_UNIT;
	pub const PreimageHoldReason: RuntimeHoldReason =
		RuntimeHoldReason::Preimage(pallet_preimage::HoldReason::Preimage);
	/// Scheduled calls (enactments) may use 80% of a block.
	pub MaximumSchedulerWeight: Weight = Perbill::from_percent(80) *
		RuntimeBlockWeights::get().max_block;
}

impl pallet_preimage::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = pallet_preimage::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type ManagerOrigin = EnsureRoot<AccountId>;
	type Consideration = HoldConsideration<
		AccountId,
		Balances,
		PreimageHoldReason,
		LinearStoragePrice<PreimageBaseDeposit, PreimageByteDeposit, Balance>,
	>;
}

impl pallet_scheduler::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeOrigin = RuntimeOrigin;
	type PalletsOrigin = OriginCaller;
	type RuntimeCall = RuntimeCall;
	type MaximumWeight = MaximumSchedulerWeight;
	// Only referenda schedule calls; no origin may schedule directly but root.
	type ScheduleOrigin = EnsureRoot<AccountId>;
	type OriginPrivilegeCmp = EqualPrivilegeOnly;
	type MaxScheduledPerBlock = ConstU32<50>;
	type WeightInfo = pallet_scheduler::weights::SubstrateWeight<Runtime>;
	type Preimages = Preimage;
	type BlockNumberProvider = System;
}

impl pallet_referenda::Config for Runtime {
	type RuntimeCall = RuntimeCall;
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = pallet_referenda::weights::SubstrateWeight<Runtime>;
	type Scheduler = Scheduler;
	type Currency = Balances;
	/// Anyone with the deposit may propose; only node operators' votes count.
	type SubmitOrigin = AsEnsureOriginWithArg<EnsureSigned<AccountId>>;
	type CancelOrigin = EitherOfDiverse<EnsureRoot<AccountId>, EnsureEmergency>;
	type KillOrigin = EnsureRoot<AccountId>;
	type Slash = ();
	type Votes = pallet_governance::Votes;
	type Tally = pallet_governance::Tally<Runtime>;
	/// The chain-spec setting stored by the governance pallet.
	type SubmissionDeposit = SubmissionDeposit;
	type MaxQueued = ConstU32<20>;
	type UndecidingTimeout = ConstU32<{ 30 * MINUTES }>;
	type AlarmInterval = ConstU32<1>;
	type Tracks = crate::governance::Tracks;
	type Preimages = Preimage;
	type BlockNumberProvider = System;
}

parameter_types! {
	/// Deposit to submit a referendum: a chain-spec setting of the governance pallet.
	pub SubmissionDeposit: Balance = pallet_governance::Rules::<Runtime>::get().submission_deposit;
}

/// The node registry as governance's electorate.
pub struct NodeElectorate;
impl pallet_governance::Electorate<AccountId, BlockNumber> for NodeElectorate {
	fn voter(who: &AccountId) -> Option<pallet_governance::Voter<BlockNumber>> {
		NodeRegistry::voter(who).map(|(units, registered_at)| pallet_governance::Voter {
			units,
			registered_at,
		})
	}
	fn voters() -> alloc::vec::Vec<(AccountId, pallet_governance::Voter<BlockNumber>)> {
		NodeRegistry::voters()
			.into_iter()
			.map(|(who, units, registered_at)| {
				(
					who,
					pallet_governance::Voter {
						units,
						registered_at,
					},
				)
			})
			.collect()
	}
	fn max_voters() -> u32 {
		<MaxNodes as frame_support::traits::Get<u32>>::get()
	}
	#[cfg(feature = "runtime-benchmarks")]
	fn make_voter(who: &AccountId, units: u32) {
		use frame_support::traits::fungible::Mutate;
		use sp_runtime::RuntimeAppPublic;
		let bond = NodeBond::get().saturating_mul(units.max(1) as Balance);
		let _ = Balances::set_balance(who, bond.saturating_mul(2));
		let key = pallet_node_registry::InferenceKey::generate_pair(None);
		let payload = pallet_node_registry::key_ownership_payload(
			&pallet_node_registry::genesis_hash::<Runtime>(),
			who,
		);
		let Some(proof) = key.sign(&payload) else {
			return;
		};
		let class = crate::genesis_config_presets::genesis_models()
			.first()
			.map(|m| m.profile.class());
		let Some(class) = class else { return };
		let _ = NodeRegistry::register(
			RuntimeOrigin::signed(who.clone()),
			pallet_node_registry::Capabilities {
				cpu_cores: 1,
				ram_mib: 1,
				gpu_memory_mib: 0,
				accelerators: Default::default(),
				model_formats: Default::default(),
				class,
			},
			Default::default(),
			Default::default(),
			key,
			proof,
			bond,
		);
		// A vote needs verified work: give the voter a record of it.
		<Reputation as pallet_reputation::ReputationSink<AccountId>>::record(
			who,
			pallet_reputation::Outcome::Success,
			100,
		);
	}
}

impl pallet_governance::Config for Runtime {
	type Polls = Referenda;
	type Electorate = NodeElectorate;
	type Reputation = Reputation;
	type Balance = Balance;
	/// Tracks and voting rules change only through a root referendum.
	type AdminOrigin = EnsureRoot<AccountId>;
	type MaxVotes = ConstU32<32>;
	type MaxTracks = ConstU32<16>;
	type WeightInfo = pallet_governance::weights::SubstrateWeight<Runtime>;
}

// ---- The AI pallets ----

/// Most registered nodes (and reputation records).
pub type MaxNodes = ConstU32<256>;

impl pallet_reputation::Config for Runtime {
	type ParametersOrigin = EitherOfDiverse<EnsureRoot<AccountId>, EnsureReputationFormula>;
	type MaxNodes = MaxNodes;
	/// Records kept for nodes that left: a node cannot wash its record by leaving.
	type MaxDeparted = ConstU32<1024>;
	type WeightInfo = pallet_reputation::weights::SubstrateWeight<Runtime>;
}

impl pallet_model_registry::Config for Runtime {
	type GovernanceOrigin = EitherOfDiverse<EnsureRoot<AccountId>, EnsureModelWhitelist>;
	type ModelUsage = NodeRegistry;
	type MaxModels = ConstU32<64>;
	type WeightInfo = pallet_model_registry::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// Smallest node bond: 1 000 COG.
	pub const NodeBond: Balance = 1_000 * UNIT;
	/// A ban burns 10% of the bond.
	pub const BanPenalty: Perbill = Perbill::from_percent(10);
}

/// A node's unsettled jobs and its validator duty both keep its bond held.
pub struct NodeDuties;
impl pallet_node_registry::NodeObligations<AccountId> for NodeDuties {
	fn has_pending(who: &AccountId) -> bool {
		<ProofOfInference as pallet_node_registry::NodeObligations<AccountId>>::has_pending(who)
			|| ValidatorSet::keeps_bond(who)
	}
}

/// When a node leaves, its votes leave every running poll and its validator candidacy ends.
pub struct OnNodeLeave;
impl pallet_node_registry::OnNodeLeave<AccountId> for OnNodeLeave {
	fn on_leave(who: &AccountId) {
		Governance::remove_votes_of(who);
		ValidatorSet::on_node_left(who);
	}
	fn weight() -> Weight {
		Governance::remove_votes_weight().saturating_add(ValidatorSet::on_node_left_weight())
	}
}

impl pallet_node_registry::Config for Runtime {
	type RuntimeHoldReason = RuntimeHoldReason;
	type Currency = Balances;
	type Models = ModelRegistry;
	type Reputation = Reputation;
	type Obligations = NodeDuties;
	type OnLeave = OnNodeLeave;
	type FindAuthor = pallet_session::FindAccountFromAuthorIndex<Self, Babe>;
	type BanOrigin = EitherOfDiverse<EnsureRoot<AccountId>, EnsureEmergency>;
	type MinBond = NodeBond;
	type BanPenalty = BanPenalty;
	/// Ten minutes between leaving and getting the bond back.
	type UnbondingPeriod = ConstU32<{ 10 * MINUTES }>;
	/// One-minute heartbeat periods.
	type HeartbeatPeriod = ConstU32<MINUTES>;
	type MaxNodes = MaxNodes;
	/// Voting weight comes only from verified work: a bond above the minimum buys no weight.
	type MaxVotingUnits = ConstU32<1>;
	type HeartbeatPriority = ConstU64<{ TransactionPriority::MAX / 2 }>;
	type WeightInfo = pallet_node_registry::weights::SubstrateWeight<Runtime>;
}

/// Randomness of job assignment: the VRF output of the parent block's BABE author, hashed with
/// the subject (`pallet_babe::ParentBlockRandomness`). Unlike a block hash, which its author can
/// grind by reordering transactions, a VRF output is fixed by the author's key, the slot and the
/// epoch randomness: the author's only choice is to withhold its block, losing the slot.
/// Every slot allowed by this chain (`PrimaryAndSecondaryVRFSlots`) carries a VRF output; the
/// previous epoch's randomness stands in for the one block without a parent output (block 1).
/// See `docs/consensus.md`.
pub struct BabeVrfRandomness;
impl frame_support::traits::Randomness<Hash, BlockNumber> for BabeVrfRandomness {
	fn random(subject: &[u8]) -> (Hash, BlockNumber) {
		match pallet_babe::ParentBlockRandomness::<Runtime>::random(subject) {
			(Some(random), known_since) => (random, known_since),
			(None, _) => pallet_babe::RandomnessFromOneEpochAgo::<Runtime>::random(subject),
		}
	}
}

parameter_types! {
	/// Work units of a generated token relative to a prompt byte: measured, a generated token
	/// took 2.8 times as long as a prompt token (one thread, SmolLM2; docs/security.md).
	pub const TokenWork: u32 = 3;
	/// Most unsettled work per node, from measured throughput (`scripts/bench-job-capacity.sh`,
	/// docs/security.md "Sizing the pending limit"): the worst job the runtime accepts, 1 536
	/// prompt bytes + 3 × 256 tokens = 2 304 units, took 19.5 s on one engine thread of a 2-core
	/// x86-64-v3 machine, 118 units/s; a node finishes 60 s × 118 = 7 080 units within the
	/// genesis commit period of one minute.
	pub const MaxPendingWork: u32 = 7_000;
	/// The storage bound of a node's pending index: at most this many small jobs at once.
	pub const MaxPendingPerNode: u32 = 64;
}

impl pallet_proof_of_inference::Config for Runtime {
	type RuntimeHoldReason = RuntimeHoldReason;
	type Currency = Balances;
	type Nodes = NodeRegistry;
	type Models = ModelRegistry;
	type Reputation = Reputation;
	type Randomness = BabeVrfRandomness;
	/// Fees and deadlines change through the network-parameters track (or root).
	type ParametersOrigin = EitherOfDiverse<EnsureRoot<AccountId>, EnsureNetworkParameters>;
	type MaxPromptBytes = ConstU32<{ crate::MAX_PROMPT_BYTES }>;
	type MaxTokens = ConstU32<{ crate::MAX_JOB_TOKENS }>;
	type MaxReplication = ConstU32<5>;
	type MaxJobsPerBlock = ConstU32<32>;
	type MaxPendingPerNode = MaxPendingPerNode;
	type MaxPendingWork = MaxPendingWork;
	type TokenWork = TokenWork;
	/// `MaxPendingWork` is sized for a one-minute commit period; governance cannot go below it.
	type MinCommitPeriod = ConstU32<MINUTES>;
	/// Settled jobs stay readable (runtime API, Polkadot.js) for an hour.
	type RetentionPeriod = ConstU32<{ 60 * MINUTES }>;
	type BlockTimeMs = ConstU64<MILLI_SECS_PER_BLOCK>;
	/// Bounds on what governance may set: 1 000 COG base fee, 10 COG per unit of work.
	type MaxBaseFee = ConstU128<{ 1_000 * UNIT }>;
	type MaxPricePerToken = ConstU128<{ 10 * UNIT }>;
	type MaxChallengeDeposit = ConstU128<{ 10_000 * UNIT }>;
	type UnsignedPriority = ConstU64<{ TransactionPriority::MAX / 2 }>;
	type WeightInfo = pallet_proof_of_inference::weights::SubstrateWeight<Runtime>;
}

// Equivocation reports are unsigned ("bare") transactions: the proof is their authority.
impl<C> frame_system::offchain::CreateBare<C> for Runtime
where
	RuntimeCall: From<C>,
{
	fn create_bare(call: RuntimeCall) -> UncheckedExtrinsic {
		UncheckedExtrinsic::new_bare(call)
	}
}

// Off-chain workers build heartbeats as general transactions authorised by `AuthorizeCall`.
impl<C> frame_system::offchain::CreateTransactionBase<C> for Runtime
where
	RuntimeCall: From<C>,
{
	type Extrinsic = UncheckedExtrinsic;
	type RuntimeCall = RuntimeCall;
}

impl<C> frame_system::offchain::CreateTransaction<C> for Runtime
where
	RuntimeCall: From<C>,
{
	type Extension = TxExtension;
	fn create_transaction(call: RuntimeCall, extension: TxExtension) -> UncheckedExtrinsic {
		UncheckedExtrinsic::new_transaction(call, extension)
	}
}

/// Blocks an off-chain worker's authorized transaction stays valid for (its mortal era's
/// period): longer than any commit or reveal window, short enough that a stale copy leaves the
/// pool within minutes.
pub const AUTHORIZED_TX_PERIOD: u64 = 64;

impl<C> frame_system::offchain::CreateAuthorizedTransaction<C> for Runtime
where
	RuntimeCall: From<C>,
{
	/// The extensions of an off-chain worker's commit, reveal or heartbeat. The era is mortal,
	/// born at the block the worker runs on: an authorized call carries no nonce or signature of
	/// the extrinsic, so with an immortal era every attempt to send the same call would be the
	/// same bytes. After a reorganization retracted the block that included it, the pool can keep
	/// such a transaction as known ("already imported") without it ever becoming ready on the new
	/// fork, and every resubmission would be refused as a duplicate until the job's deadline
	/// passed. Born at another block, a resubmission is another transaction.
	fn create_extension() -> TxExtension {
		let now = u64::from(frame_system::Pallet::<Runtime>::block_number());
		(
			frame_system::AuthorizeCall::<Runtime>::new(),
			frame_system::CheckNonZeroSender::<Runtime>::new(),
			frame_system::CheckSpecVersion::<Runtime>::new(),
			frame_system::CheckTxVersion::<Runtime>::new(),
			frame_system::CheckGenesis::<Runtime>::new(),
			frame_system::CheckEra::<Runtime>::from(sp_runtime::generic::Era::mortal(
				AUTHORIZED_TX_PERIOD,
				now,
			)),
			frame_system::CheckNonce::<Runtime>::from(0),
			frame_system::CheckWeight::<Runtime>::new(),
			pallet_transaction_payment::ChargeTransactionPayment::<Runtime>::from(0),
			frame_metadata_hash_extension::CheckMetadataHash::<Runtime>::new(false),
			frame_system::WeightReclaim::<Runtime>::new(),
		)
	}
}
