#!/usr/bin/env bash
# One command from a fresh clone to a running dev chain: installs prerequisites, builds the node
# and starts a single-validator development chain that produces and finalizes blocks, with
# JSON-RPC on ws://127.0.0.1:9944 and Prometheus on 127.0.0.1:9615. Extra arguments go to the
# node. The chain is kept in a temporary directory and vanishes when the node stops (Ctrl-C).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
phase setup bash "$REPO_ROOT/scripts/setup.sh"
phase build bash "$REPO_ROOT/scripts/build.sh"
echo "starting the dev chain: RPC ws://127.0.0.1:9944"
echo "Polkadot.js Apps: https://polkadot.js.org/apps/?rpc=ws%3A%2F%2F127.0.0.1%3A9944"
exec "$NODE_BIN" --dev --tmp --rpc-port 9944 --no-mdns --no-telemetry \
	--listen-addr /ip4/127.0.0.1/tcp/30333 "$@"
