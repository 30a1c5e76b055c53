#!/usr/bin/env bash
# The whole test suite: formatting, the Rust tests (the pallets' unit tests, the node's
# command-line and chain-spec tests, the inference engine's tests on a generated tiny model and
# the determinism test on the real SmolLM2 model), the pallets' benchmark tests, the end-to-end
# tests that drive a real dev node with Polkadot.js (and the prototype network's spec on three
# local nodes), the IPFS interop tests (the node's model
# transfer with Helia over bitswap), and the zombienet suites that run the
# 3-validator network (smoke with an R = 3 job and a real Prometheus checking the nodes' metrics,
# model distribution with governance, byzantine, faults, and the open validator set with a fourth
# node), the monitoring configuration (alert rules' unit tests, dashboard queries), and the
# platform: the OS image booted
# under qemu, the 3-validator network in containers of that image, and its Kubernetes manifests
# validated offline.
# Prints the time of every phase. Builds into the shared target dir, so a warm run is quick.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"
total_start=$SECONDS

phase setup bash scripts/setup.sh
phase fmt cargo fmt --all -- --check
# The monitoring configuration with promtool: alert rules and their unit tests, every dashboard
# panel's query, the dashboards as generated, every metric they use documented.
phase monitoring bash os/monitoring/check.sh
phase build-node bash scripts/build.sh
# The pallets: their tests run once, in the benchmark-tests phase below.
PALLETS=(pallet-governance pallet-model-registry pallet-node-registry pallet-reputation
	pallet-proof-of-inference pallet-validator-set)
# `--release` shares every artifact with the node build above; a debug test build would compile
# polkadot-sdk a second time.
phase rust-tests cargo test --release --locked --workspace "${PALLETS[@]/#/--exclude=}"
# The pallets' unit tests with their benchmarks, run once each as tests against their mock
# runtimes (no WASM needed): the feature adds the benchmark tests and takes none away, so the
# pallets are compiled and tested once, here.
phase benchmark-tests env SKIP_WASM_BUILD=1 cargo test --release --locked \
	"${PALLETS[@]/#/--package=}" --features runtime-benchmarks
phase e2e-polkadot-js env COGNITIVE_NODE="$NODE_BIN" npm --prefix zombienet test
# The model-transfer endpoint against Helia (IPFS in JavaScript), both directions.
phase ipfs-interop env COGNITIVE_NODE="$NODE_BIN" npm --prefix zombienet/interop test
phase e2e-zombienet env COGNITIVE_NODE="$NODE_BIN" bash zombienet/run-suites.sh
# The Kubernetes manifests, offline: strict schemas of the oldest and newest supported versions,
# the manifests against each other (peer ids derived by this node), and broken copies rejected.
phase os-k8s python3 os/k8s/validate.py --node "$NODE_BIN" --self-test
# The platform: the OS image with this node (built by os/build.sh, or reused from its cache
# outside the clone when its inputs are unchanged), booted twice under qemu with a fresh data
# disk; then the same image's root file system as three containers on their own network.
phase os-image bash os/build.sh --node "$NODE_BIN"
phase os-boot env GEN_TINY_GGUF="$CARGO_TARGET_DIR/release/gen-tiny-gguf" bash os/test-boot.sh \
	"$(bash os/build.sh --node "$NODE_BIN" | tail -n1)"
phase os-containers bash os/compose/test-compose.sh \
	"$(dirname "$(bash os/build.sh --node "$NODE_BIN" | tail -n1)")/rootfs.tar.gz"

echo "all tests passed in $((SECONDS - total_start)) s"
