#!/usr/bin/env bash
# Regenerates the prototype network's chain spec from its machines:
# chain-specs/prototype-machines.json → chain-specs/prototype.json (readable genesis) and
# chain-specs/prototype-raw.json (what the machines run, and what `--chain prototype` loads).
# Run it after changing the machines file or the runtime (before the network launches: a
# running network changes its runtime by governance, never its genesis), then rebuild the node,
# which embeds the raw spec. See docs/operator.md, "The prototype network".
#
#   scripts/gen-prototype-spec.sh [--machines FILE] [--out-dir DIR]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
machines="$REPO_ROOT/chain-specs/prototype-machines.json"
out_dir="$REPO_ROOT/chain-specs"
while [ $# -gt 0 ]; do
	case "$1" in
	--machines) machines="${2:?--machines needs a file}" && shift ;;
	--out-dir) out_dir="${2:?--out-dir needs a directory}" && shift ;;
	*)
		echo "usage: $0 [--machines FILE] [--out-dir DIR]" >&2
		exit 2
		;;
	esac
	shift
done
NODE="${COGNITIVE_NODE:-$NODE_BIN}"
[ -x "$NODE" ] || bash "$REPO_ROOT/scripts/build.sh"
node "$REPO_ROOT/scripts/prototype/gen-spec.cjs" --machines "$machines" --out-dir "$out_dir" --node "$NODE"
