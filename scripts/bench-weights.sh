#!/usr/bin/env bash
# Measures the benchmarks of this project's pallets in the real WASM runtime and writes each
# pallet's weights.rs. Builds the node with `--features runtime-benchmarks` (adds the
# `benchmark pallet` subcommand; see docs/benchmarks.md for the build's cost), then runs
#   cognitive-node benchmark pallet --chain dev --pallet <pallet> --extrinsic '*' ...
# for every pallet given (default: all six).
#
#   scripts/bench-weights.sh [reputation model-registry node-registry governance proof-of-inference validator-set]
#
# STEPS and REPEAT (env) trade precision for time; defaults 20 and 10.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

pallets=("$@")
[ ${#pallets[@]} -gt 0 ] || pallets=(reputation model-registry node-registry governance proof-of-inference validator-set)

phase "build-bench-node" cargo build --release --locked -p cognitive-node --features runtime-benchmarks
# Keep the benchmark binary apart: the next default build overwrites cognitive-node.
cp "$NODE_BIN" "$CARGO_TARGET_DIR/release/cognitive-node-bench"

for p in "${pallets[@]}"; do
	phase "bench-$p" "$CARGO_TARGET_DIR/release/cognitive-node-bench" benchmark pallet \
		--chain dev \
		--pallet "pallet_${p//-/_}" \
		--extrinsic '*' \
		--steps "${STEPS:-20}" \
		--repeat "${REPEAT:-10}" \
		--wasm-execution compiled \
		--heap-pages 4096 \
		--template scripts/bench/weights.hbs \
		--output "pallets/$p/src/weights.rs"
done
echo "weights written; rebuild the default node with scripts/build.sh"
