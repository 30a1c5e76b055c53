//! Liveness and readiness: which nodes count as alive in a heartbeat period, and what a
//! heartbeat must say to be accepted.

use crate::{Config, Error, Event, NodeRecordOf, NodeStatus, Nodes, Pallet, PeriodIndex};
use frame_support::traits::FindAuthor;
use pallet_reputation::{Outcome, ReputationSink};

/// Whether a heartbeat with `ready` models for `period` tells the chain something new about
/// `record`: it is the node's first sign of life in the period, or its ready set grew.
///
/// Growth only (no shrinking within a period) bounds the heartbeats of one node to one per
/// period plus one per served model, although they pay no fee. A shrinking set waits for the
/// next period's heartbeat.
pub(crate) fn heartbeat_news<T: Config>(
	record: &NodeRecordOf<T>,
	ready: &[pallet_model_registry::ModelId],
	period: PeriodIndex,
) -> Result<(), Error<T>> {
	frame_support::ensure!(
		crate::pallet::all_distinct(ready)
			&& ready.iter().all(|m| record.served_models.contains(m)),
		Error::<T>::NotServed
	);
	if record.last_alive < period {
		return Ok(());
	}
	let grew = ready.len() > record.ready_models.len()
		&& record.ready_models.iter().all(|m| ready.contains(m));
	frame_support::ensure!(grew, Error::<T>::NothingNew);
	Ok(())
}

impl<T: Config> Pallet<T> {
	/// The block author is alive in `period`.
	pub(crate) fn note_author(period: PeriodIndex) {
		let digest = frame_system::Pallet::<T>::digest();
		let pre_runtime = digest.logs().iter().filter_map(|d| d.as_pre_runtime());
		let Some(author) = T::FindAuthor::find_author(pre_runtime) else {
			return;
		};
		Nodes::<T>::mutate(&author, |record| {
			if let Some(r) = record {
				if !r.status.is_leaving() && r.last_alive < period {
					r.last_alive = period;
					r.status = NodeStatus::Active;
				}
			}
		});
	}

	/// Marks every node not seen alive in `ended` offline and reports it.
	pub(crate) fn check_liveness(ended: PeriodIndex) {
		for (who, mut record) in Nodes::<T>::iter() {
			if record.status.is_leaving() || record.last_alive >= ended {
				continue;
			}
			if record.status == NodeStatus::Active {
				record.status = NodeStatus::Offline;
				Nodes::<T>::insert(&who, record);
			}
			T::Reputation::record(&who, Outcome::Offline, 0);
			Self::deposit_event(Event::NodeOffline {
				node: who,
				period: ended,
			});
		}
	}
}
