#!/usr/bin/env bash
# Regenerates chain-specs/ from the built node. Run it after every change to the runtime or its
# genesis presets; the test `node/tests/chain_specs.rs` fails while the files are stale. The
# prototype network's spec comes from its machines (scripts/gen-prototype-spec.sh); the node
# embeds it, so the node is rebuilt afterwards.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[ -x "$NODE_BIN" ] || bash "$REPO_ROOT/scripts/build.sh"
for chain in dev local prototype-template; do
	"$NODE_BIN" build-spec --chain "$chain" --disable-default-bootnode >"$REPO_ROOT/chain-specs/$chain.json" 2>/dev/null
	"$NODE_BIN" build-spec --chain "$chain" --disable-default-bootnode --raw >"$REPO_ROOT/chain-specs/$chain-raw.json" 2>/dev/null
	echo "chain-specs/$chain.json, chain-specs/$chain-raw.json"
done
bash "$REPO_ROOT/scripts/gen-prototype-spec.sh"
bash "$REPO_ROOT/scripts/build.sh"
