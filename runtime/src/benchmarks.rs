//! The pallets whose benchmarks the runtime exposes to `frame-benchmarking-cli`.

frame_benchmarking::define_benchmarks!(
	[frame_system, SystemBench::<Runtime>]
	[pallet_balances, Balances]
	[pallet_timestamp, Timestamp]
);
