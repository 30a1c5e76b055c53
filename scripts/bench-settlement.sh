#!/usr/bin/env bash
# Benchmark: median time from job submission to settlement on the 3-validator network with the
# real SmolLM2 model (R = 3, 64 tokens, jobs one after another), printed beside a baseline
# measured in the same run: the same requests answered directly by one node's
# `inference_generate`. docs/prototype.md records the figures.
#
#   scripts/bench-settlement.sh [JOBS]      # default 10
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"
[ -x "$NODE_BIN" ] || bash scripts/build.sh
export SETTLEMENT_JOBS="${1:-10}"
export SUITE_TIMEOUT=1500
log="$(mktemp)"
status=0
# run-suites.sh takes suite paths relative to zombienet/.
bash zombienet/run-suites.sh bench/settlement.zndsl 2>&1 | tee "$log" || status=$?
echo
grep '^SETTLEMENT' "$log" || echo "no figures: the benchmark failed (exit $status)"
rm -f "$log"
exit "$status"
