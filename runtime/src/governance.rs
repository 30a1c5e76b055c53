//! Referendum tracks: which origin a referendum asks for decides its track, and the track its
//! deposits, periods and pass thresholds.
//!
//! The tracks are chain-spec settings, stored by the governance pallet
//! (`pallet_governance::TrackSpecs`) and read here for `pallet_referenda`. Two sets exist:
//!
//! - [`test_tracks`] (presets `development` and `local_testnet`): periods of minutes, so tests
//!   run whole referenda; also the fallback of a chain without settings;
//! - [`prototype_tracks`] (preset `prototype`): day-scale periods on root and emergency, for a
//!   network that holds value.

use crate::{Balance, BlockNumber, OriginCaller, RuntimeOrigin, DAYS, HOURS, UNIT};
use alloc::{borrow::Cow, vec::Vec};
use frame_support::traits::OriginTrait;
use pallet_governance::{CurveSpec, TrackSpec};
use pallet_referenda::Track;
use sp_runtime::Perbill;

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

/// A threshold falling linearly from `ceil` to `floor` (percent) over the decision period.
fn linear(ceil: u32, floor: u32) -> CurveSpec {
	CurveSpec {
		ceil: Perbill::from_percent(ceil),
		floor: Perbill::from_percent(floor),
	}
}

/// A fixed threshold (percent).
fn flat(percent: u32) -> CurveSpec {
	linear(percent, percent)
}

fn spec(
	id: u16,
	name: &str,
	max_deciding: u32,
	decision_deposit: Balance,
	(prepare, decision, confirm, enactment): (BlockNumber, BlockNumber, BlockNumber, BlockNumber),
	min_approval: CurveSpec,
	min_support: CurveSpec,
) -> TrackSpec<Balance, BlockNumber> {
	TrackSpec {
		id,
		name: name.as_bytes().to_vec().try_into().unwrap_or_default(),
		max_deciding,
		decision_deposit,
		prepare_period: prepare,
		decision_period: decision,
		confirm_period: confirm,
		min_enactment_period: enactment,
		min_approval,
		min_support,
	}
}

/// Tracks with periods of minutes (6-second blocks), for development and test networks whose
/// tests run whole referenda. Periods in blocks: (prepare, decision, confirm, minimum
/// enactment). Root needs a fixed 50% support.
pub fn test_tracks() -> Vec<TrackSpec<Balance, BlockNumber>> {
	use track::*;
	alloc::vec![
		spec(
			ROOT,
			"root",
			1,
			1_000 * UNIT,
			(2, 30, 5, 5),
			linear(100, 66),
			flat(50)
		),
		spec(
			MODEL_WHITELIST,
			"model_whitelist",
			10,
			100 * UNIT,
			(1, 15, 2, 1),
			linear(100, 50),
			linear(30, 20)
		),
		spec(
			NETWORK_PARAMETERS,
			"network_parameters",
			10,
			100 * UNIT,
			(1, 20, 3, 2),
			linear(100, 60),
			linear(30, 20)
		),
		spec(
			REPUTATION_FORMULA,
			"reputation_formula",
			10,
			100 * UNIT,
			(1, 20, 3, 2),
			linear(100, 60),
			linear(30, 20)
		),
		spec(
			EMERGENCY,
			"emergency",
			10,
			500 * UNIT,
			(1, 10, 1, 1),
			linear(100, 66),
			linear(30, 20)
		),
	]
}

/// Tracks for a network that holds value: root waits a day before deciding, decides over a
/// week with a fixed 50% support, confirms for a day and enacts a day later; emergency decides
/// over two days and confirms for a day; the others decide over days too.
pub fn prototype_tracks() -> Vec<TrackSpec<Balance, BlockNumber>> {
	use track::*;
	alloc::vec![
		spec(
			ROOT,
			"root",
			1,
			10_000 * UNIT,
			(DAYS, 7 * DAYS, DAYS, DAYS),
			linear(100, 75),
			flat(50)
		),
		spec(
			MODEL_WHITELIST,
			"model_whitelist",
			10,
			1_000 * UNIT,
			(2 * HOURS, 3 * DAYS, 12 * HOURS, HOURS),
			linear(100, 60),
			linear(40, 25)
		),
		spec(
			NETWORK_PARAMETERS,
			"network_parameters",
			10,
			1_000 * UNIT,
			(2 * HOURS, 3 * DAYS, 12 * HOURS, HOURS),
			linear(100, 66),
			linear(40, 25)
		),
		spec(
			REPUTATION_FORMULA,
			"reputation_formula",
			10,
			1_000 * UNIT,
			(2 * HOURS, 3 * DAYS, 12 * HOURS, HOURS),
			linear(100, 66),
			linear(40, 25)
		),
		spec(
			EMERGENCY,
			"emergency",
			10,
			5_000 * UNIT,
			(HOURS, 2 * DAYS, DAYS, HOURS),
			linear(100, 75),
			linear(50, 33)
		),
	]
}

/// The tracks of this runtime's referenda: the chain-spec settings stored by the governance
/// pallet ([`test_tracks`] on a chain without settings).
pub struct Tracks;
impl pallet_referenda::TracksInfo<Balance, BlockNumber> for Tracks {
	type Id = u16;
	type RuntimeOrigin = <RuntimeOrigin as OriginTrait>::PalletsOrigin;

	fn tracks() -> impl Iterator<Item = Cow<'static, Track<u16, Balance, BlockNumber>>> {
		crate::Governance::tracks_or(test_tracks)
			.into_iter()
			.map(|spec| Cow::Owned(spec.to_track()))
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
