//! The pallets whose benchmarks the runtime exposes to `frame-benchmarking-cli`.

frame_benchmarking::define_benchmarks!(
	[frame_system, SystemBench::<Runtime>]
	[pallet_balances, Balances]
	[pallet_timestamp, Timestamp]
	[pallet_governance, Governance]
	[pallet_model_registry, ModelRegistry]
	[pallet_node_registry, NodeRegistry]
	[pallet_proof_of_inference, ProofOfInference]
	[pallet_reputation, Reputation]
	[pallet_validator_set, ValidatorSet]
);
