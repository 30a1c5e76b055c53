#!/usr/bin/env bash
# How many of the worst jobs the runtime accepts one node finishes within a commit period: the
# measurement the runtime's `MaxPendingPerNode` follows from (docs/security.md). Prints the
# worst-case job time (a 1 536-byte prompt of one token per byte, 256 generated tokens, SmolLM2)
# beside a typical job measured in the same run, and the jobs per commit period.
#
# Usage: scripts/bench-job-capacity.sh [THREADS] [RUNS] [COMMIT_SECONDS]   (defaults 1 3 60)
# One thread: a validator's engine shares the machine with block production and GRANDPA.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

THREADS="${1:-1}"
RUNS="${2:-3}"
COMMIT_SECONDS="${3:-60}"
STORE="${COGNITIVE_MODEL_STORE:-$HOME/.local/share/cognitive-internet/models}"
MODEL="$(python3 "$REPO_ROOT/scripts/model-facts.py" smollm2 sha256)"
# The runtime's bounds (runtime/src/lib.rs: MAX_PROMPT_BYTES, MAX_JOB_TOKENS).
MAX_PROMPT_BYTES="$(sed -n 's/^pub const MAX_PROMPT_BYTES: u32 = \([0-9_]*\);/\1/p' "$REPO_ROOT/runtime/src/lib.rs" | tr -d _)"
MAX_TOKENS="$(sed -n 's/^pub const MAX_JOB_TOKENS: u32 = \([0-9_]*\);/\1/p' "$REPO_ROOT/runtime/src/lib.rs" | tr -d _)"

cd "$REPO_ROOT"
cargo build --release --locked -q -p inference-engine --example bench_job_capacity
"$CARGO_TARGET_DIR/release/examples/bench_job_capacity" "$STORE" "$MODEL" "$THREADS" \
	"$MAX_PROMPT_BYTES" "$MAX_TOKENS" "$COMMIT_SECONDS" "$RUNS"
