//! Invariants of the registry, checked by `try_state` and after every unit test.

use crate::{
	Config, HoldReason, ModelServers, NodeByKey, Nodes, Pallet, Ratings, TotalVotingUnits,
};
use alloc::collections::BTreeMap;
use frame_support::{
	ensure,
	traits::{fungible::InspectHold, Get},
};
use pallet_model_registry::{ModelId, ModelInspect};

impl<T: Config> Pallet<T> {
	/// Invariants: each node's hold equals its recorded bond, the key index and the model
	/// counters match the records, every served model exists, ready models are served, the
	/// voting total matches, ratings belong to serving nodes and rate each served model once.
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let reason = HoldReason::NodeBond.into();
		let mut count = 0u32;
		let mut units = 0u32;
		let mut servers = BTreeMap::<ModelId, u32>::new();
		for (who, record) in Nodes::<T>::iter() {
			count += 1;
			ensure!(
				T::Currency::balance_on_hold(&reason, &who) == record.bond,
				"hold differs from recorded bond"
			);
			ensure!(
				NodeByKey::<T>::get(&record.inference_key).as_ref() == Some(&who),
				"key index misses a node"
			);
			for model in &record.served_models {
				ensure!(
					T::Models::exists(*model),
					"node serves a model not in the registry"
				);
				*servers.entry(*model).or_default() += 1;
			}
			ensure!(
				record
					.ready_models
					.iter()
					.all(|m| record.served_models.contains(m)),
				"ready model not served"
			);
			if !record.status.is_leaving() {
				units += Self::units_of(&record);
			}
		}
		for (who, published) in Ratings::<T>::iter() {
			let record = Nodes::<T>::get(&who).ok_or("ratings of an unregistered node")?;
			ensure!(!record.status.is_leaving(), "ratings of a leaving node");
			ensure!(!published.ratings.is_empty(), "an empty ratings entry");
			for (i, rating) in published.ratings.iter().enumerate() {
				ensure!(
					record.served_models.contains(&rating.model),
					"rating of a model not served"
				);
				ensure!(
					!published.ratings[..i]
						.iter()
						.any(|r| r.model == rating.model),
					"model rated twice"
				);
			}
		}
		ensure!(count == Nodes::<T>::count(), "node counter out of sync");
		ensure!(count <= T::MaxNodes::get(), "more nodes than MaxNodes");
		ensure!(
			NodeByKey::<T>::iter().count() as u32 == count,
			"dangling key index"
		);
		ensure!(
			ModelServers::<T>::iter().collect::<BTreeMap<_, _>>() == servers,
			"model server counts out of sync"
		);
		ensure!(
			TotalVotingUnits::<T>::get() == units,
			"voting unit total out of sync"
		);
		Ok(())
	}
}
