#!/usr/bin/env bash
# What exporting job traces costs on-chain jobs, in one run: two dev nodes on SmolLM2, one with
# --otlp-endpoint (an OTLP receiver built on OpenTelemetry's protocol classes), one without;
# the same greedy jobs (R = 1, 64 tokens) alternate between them, one generation at a time, the
# engines' worker threads of both on one CPU and everything else on the other
# (zombienet/bench/trace-cost.mjs has the details), and each job's generation speed as its
# engine measured it is collected.
#
# Job i of the traced node runs right after (or before) job i of the other, so each pair shares
# the machine's state of that moment; the figure is the median of the pairs' ratios, with a 95 %
# bootstrap interval, over PASSES passes of fresh nodes alternating which node starts first
# (the start order has moved single passes by as much as the noise). A single job's speed
# scatters by several percent on a shared VM: use enough jobs for the interval you need.
#
# Usage: scripts/bench-traces.sh [JOBS] [PASSES]   (defaults 40 jobs per node and pass, 4 passes)
# Needs the node built (scripts/build.sh), the model installed (scripts/install-models.sh) and
# the npm and receiver packages (scripts/setup.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[ -x "$NODE_BIN" ] || { echo "node binary missing: run scripts/build.sh" >&2; exit 1; }
jobs="${1:-40}"
passes="${2:-4}"
results="$(mktemp -t cognitive-bench-traces-XXXXXX)"
trap 'rm -f "$results"' EXIT
for ((pass = 0; pass < passes; pass++)); do
	on_first=$((pass % 2))
	echo "== pass $((pass + 1)) of $passes: the $([ "$on_first" = 1 ] && echo traced || echo untraced) node starts first"
	out="$(TRACE_BENCH_ON_FIRST=$on_first COGNITIVE_NODE="$NODE_BIN" \
		node "$REPO_ROOT/zombienet/bench/trace-cost.mjs" "$jobs" 2>&1)" || { echo "$out" >&2; exit 1; }
	grep -E '^(placement|receiver|node|traces|generation speed)' <<<"$out"
	sed -n 's/^pass //p' <<<"$out" >>"$results"
done
python3 - "$results" <<'PY'
import json, random, statistics, sys
passes = [json.loads(line) for line in open(sys.argv[1])]
ratios = [on / off - 1 for p in passes for off, on in zip(p["off"], p["on"])]
pct = lambda x: f"{x * 100:+.2f} %"
# Bootstrap over the pairs: the spread of the median if the jobs were drawn again.
rng = random.Random(1)
medians = sorted(statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(2000))
low, high = medians[int(0.025 * len(medians))], medians[int(0.975 * len(medians)) - 1]
off = [s for p in passes for s in p["off"]]
on = [s for p in passes for s in p["on"]]
print(f"jobs: {len(ratios)} pairs over {len(passes)} passes; median tok/s: traces off {statistics.median(off):.2f}, on {statistics.median(on):.2f}")
for i, p in enumerate(passes, 1):
    r = [b / a - 1 for a, b in zip(p["off"], p["on"])]
    print(f"pass {i} ({'traced' if p['onFirst'] else 'untraced'} node first): median of pairs {pct(statistics.median(r))}")
print(f"traces on vs off, median of {len(ratios)} pairs: {pct(statistics.median(ratios))} (95 % bootstrap interval {pct(low)} .. {pct(high)})")
PY
