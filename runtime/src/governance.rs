//! Referendum tracks: which origin a referendum asks for decides its track, and the track its
//! deposits, periods and pass thresholds.
//!
//! Periods are short because this is a prototype network with 6-second blocks whose tests run
//! whole referenda; a public network would lengthen them (days, not minutes) with a runtime
//! upgrade through the root track.

use crate::{Balance, BlockNumber, OriginCaller, RuntimeOrigin, UNIT};
use alloc::borrow::Cow;
use frame_support::traits::OriginTrait;
use pallet_referenda::{Curve, Track, TrackInfo};
use sp_runtime::{str_array as s, Perbill};

/// Track ids.
pub mod track {
	/// Runtime upgrades and anything else that needs root.
	pub const ROOT: u16 = 0;
	/// Whitelisting, deprecating and removing models.
	pub const MODEL_WHITELIST: u16 = 1;
	/// Network parameters.
	pub const NETWORK_PARAMETERS: u16 = 2;
	/// The reputation formula's parameters.
	pub const REPUTATION_FORMULA: u16 = 3;
	/// Banning misbehaving nodes.
	pub const EMERGENCY: u16 = 4;
}

const fn linear(ceil: u32, floor: u32) -> Curve {
	Curve::LinearDecreasing {
		length: Perbill::from_percent(100),
		floor: Perbill::from_percent(floor),
		ceil: Perbill::from_percent(ceil),
	}
}

#[allow(clippy::too_many_arguments)]
const fn track(
	id: u16,
	name: &str,
	max_deciding: u32,
	decision_deposit: Balance,
	(prepare, decision, confirm, enactment): (BlockNumber, BlockNumber, BlockNumber, BlockNumber),
	min_approval: Curve,
	min_support: Curve,
) -> Track<u16, Balance, BlockNumber> {
	Track {
		id,
		info: TrackInfo {
			name: s(name),
			max_deciding,
			decision_deposit,
			prepare_period: prepare,
			decision_period: decision,
			confirm_period: confirm,
			min_enactment_period: enactment,
			min_approval,
			min_support,
		},
	}
}

/// Approval (ayes / (ayes + nays)) and support (turnout of the electorate's maximum weight, see
/// `pallet_governance`) both fall linearly from the first to the second figure over the
/// decision period. Periods in blocks: (prepare, decision, confirm, minimum enactment).
static TRACKS: [Track<u16, Balance, BlockNumber>; 5] = [
	track(
		track::ROOT,
		"root",
		1,
		1_000 * UNIT,
		(2, 30, 5, 5),
		linear(100, 66),
		linear(50, 30),
	),
	track(
		track::MODEL_WHITELIST,
		"model_whitelist",
		10,
		100 * UNIT,
		(1, 15, 2, 1),
		linear(100, 50),
		linear(30, 20),
	),
	track(
		track::NETWORK_PARAMETERS,
		"network_parameters",
		10,
		100 * UNIT,
		(1, 20, 3, 2),
		linear(100, 60),
		linear(30, 20),
	),
	track(
		track::REPUTATION_FORMULA,
		"reputation_formula",
		10,
		100 * UNIT,
		(1, 20, 3, 2),
		linear(100, 60),
		linear(30, 20),
	),
	track(
		track::EMERGENCY,
		"emergency",
		10,
		500 * UNIT,
		(1, 10, 1, 1),
		linear(100, 66),
		linear(15, 10),
	),
];

/// The tracks of this runtime's referenda.
pub struct Tracks;
impl pallet_referenda::TracksInfo<Balance, BlockNumber> for Tracks {
	type Id = u16;
	type RuntimeOrigin = <RuntimeOrigin as OriginTrait>::PalletsOrigin;

	fn tracks() -> impl Iterator<Item = Cow<'static, Track<u16, Balance, BlockNumber>>> {
		TRACKS.iter().map(Cow::Borrowed)
	}

	fn track_for(origin: &Self::RuntimeOrigin) -> Result<u16, ()> {
		use pallet_governance::Origin;
		match origin {
			OriginCaller::system(frame_system::RawOrigin::Root) => Ok(track::ROOT),
			OriginCaller::Governance(Origin::ModelWhitelist) => Ok(track::MODEL_WHITELIST),
			OriginCaller::Governance(Origin::NetworkParameters) => Ok(track::NETWORK_PARAMETERS),
			OriginCaller::Governance(Origin::ReputationFormula) => Ok(track::REPUTATION_FORMULA),
			OriginCaller::Governance(Origin::Emergency) => Ok(track::EMERGENCY),
			_ => Err(()),
		}
	}
}
