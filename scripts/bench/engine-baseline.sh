# Sourced by scripts/bench-inference.sh and scripts/bench-openai.sh (after lib.sh): the settings
# both compare under, from their arguments `[RUNS] [MAX_TOKENS] [THREADS]` (defaults 5 128 2),
# and the in-process side, offchain-workers/engine/examples/bench_engine.rs, built as $BENCH.
RUNS="${1:-5}"
MAX_TOKENS="${2:-128}"
THREADS="${3:-2}"
MODEL="${BENCH_MODEL:-$(python3 "$REPO_ROOT/scripts/model-facts.py" smollm2 sha256)}"
STORE="${COGNITIVE_MODEL_STORE:-$HOME/.local/share/cognitive-internet/models}"
PROMPT="Explain what a blockchain validator does, and why it must be honest."

[ -x "$NODE_BIN" ] || { echo "node binary missing: run scripts/build.sh" >&2; exit 1; }
cargo build --release --locked -q -p inference-engine --example bench_engine
BENCH="$CARGO_TARGET_DIR/release/examples/bench_engine"
