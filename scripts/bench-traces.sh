#!/usr/bin/env bash
# What exporting job traces costs on-chain jobs, in one run: two dev nodes on SmolLM2, one with
# --otlp-endpoint (an OTLP receiver built on OpenTelemetry's protocol classes), one without;
# the same greedy jobs (R = 1, 64 tokens) alternate between them, one generation at a time, and
# each engine's mean generation speed on its chain jobs is compared
# (zombienet/bench/trace-cost.mjs has the details). Which node starts first has moved single
# runs here by as much as the noise (±3 % with 20 jobs), so the comparison runs twice, once in
# each start order, and the mean of the two differences is the figure.
#
# Usage: scripts/bench-traces.sh [JOBS]   (default 20 per node and pass)
# Needs the node built (scripts/build.sh), the model installed (scripts/install-models.sh) and
# the npm and receiver packages (scripts/setup.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[ -x "$NODE_BIN" ] || { echo "node binary missing: run scripts/build.sh" >&2; exit 1; }
jobs="${1:-20}"
diffs=()
for on_first in 0 1; do
	echo "== pass $((on_first + 1)): the $([ "$on_first" = 1 ] && echo traced || echo untraced) node starts first"
	out="$(TRACE_BENCH_ON_FIRST=$on_first COGNITIVE_NODE="$NODE_BIN" \
		node "$REPO_ROOT/zombienet/bench/trace-cost.mjs" "$jobs" 2>&1)" || { echo "$out" >&2; exit 1; }
	grep -E '^(receiver|node|traces|generation speed)' <<<"$out"
	diffs+=("$(sed -nE 's/^generation speed, traces on vs off: ([-+0-9.]+) %.*/\1/p' <<<"$out")")
done
python3 -c "import sys; d=[float(x) for x in sys.argv[1:]]; print(f'traces on vs off, mean of both start orders: {sum(d)/len(d):+.2f} % (passes: {d[0]:+.2f} %, {d[1]:+.2f} %)')" "${diffs[@]}"
