#!/usr/bin/env bash
# Builds the node (and with it the WASM runtime) in release mode into the shared target dir.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"
cargo build --release --locked -p cognitive-node "$@"
echo "node binary: $NODE_BIN"
