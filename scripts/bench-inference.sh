#!/usr/bin/env bash
# Throughput of inference in-process versus over JSON-RPC, side by side, in one run, on the same
# model, prompt, token budget and thread count:
#   1. the engine called in-process (offchain-workers/engine/examples/bench_engine.rs);
#   2. `inference_generate` on a dev node started with the same --inference-threads, timed by
#      the client (request sent → answer parsed), as a user sees it;
# and prints tokens/s of each and the overhead ratio (in-process / JSON-RPC).
# Greedy decoding makes both produce exactly the same tokens, so the token counts match. Each
# side does one unmeasured warm-up run. On a shared 2-core VM run-to-run noise is about ±10 %,
# larger than the RPC overhead itself; use more runs to narrow it.
#
# Usage: scripts/bench-inference.sh [RUNS] [MAX_TOKENS] [THREADS]   (defaults 5 128 2)
# Needs the node built (scripts/build.sh) and the model installed (scripts/install-models.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

source "$REPO_ROOT/scripts/bench/engine-baseline.sh"

echo "== model $MODEL, $RUNS runs, max_tokens $MAX_TOKENS, $THREADS threads, prompt: $PROMPT"
echo "== 1. in-process"
inproc="$("$BENCH" "$STORE" "$MODEL" "$THREADS" "$RUNS" "$MAX_TOKENS" "$PROMPT" | tee /dev/stderr | tail -n1)"

echo "== 2. JSON-RPC inference_generate on a dev node (--inference-threads $THREADS)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
log="$(mktemp)"
"$NODE_BIN" --dev --tmp --rpc-port "$port" --no-mdns --no-telemetry --no-prometheus \
	--listen-addr /ip4/127.0.0.1/tcp/0 --inference-threads "$THREADS" >"$log" 2>&1 &
node_pid=$!
trap 'kill $node_pid 2>/dev/null; wait $node_pid 2>/dev/null; rm -f "$log"' EXIT
rpc="$(python3 - "$port" "$MODEL" "$RUNS" "$MAX_TOKENS" "$PROMPT" <<'PY'
import json, sys, time, urllib.request
port, model, runs, max_tokens, prompt = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
url = f"http://127.0.0.1:{port}"
def call(method, params):
    body = json.dumps({"id": 1, "jsonrpc": "2.0", "method": method, "params": params}).encode()
    req = urllib.request.Request(url, body, {"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.load(r)
deadline = time.time() + 120
while True:  # wait for RPC and for the model to be loaded (preloading runs at start)
    try:
        models = call("inference_models", [])["result"]
        if any(m["sha256"].endswith(model) and m["loaded"] for m in models):
            break
    except Exception:
        pass
    if time.time() > deadline:
        sys.exit("node did not come up with the model loaded")
    time.sleep(0.5)
params = {"model": model, "prompt": prompt, "maxTokens": max_tokens}
call("inference_generate", [params])  # unmeasured warm-up, as in-process
tokens, ms = 0, 0.0
for run in range(runs):
    t0 = time.perf_counter()
    out = call("inference_generate", [params])
    elapsed = (time.perf_counter() - t0) * 1e3
    if "error" in out:
        sys.exit(f"inference_generate failed: {out['error']}")
    res = out["result"]
    print(f"run {run}: {res['completionTokens']} tokens in {elapsed:.0f} ms "
          f"(engine-reported generation {res['timings']['generationTokensPerSecond']:.1f} tok/s)", file=sys.stderr)
    tokens += res["completionTokens"]
    ms += elapsed
print(f"json-rpc: {tokens} tokens in {ms:.0f} ms = {tokens * 1e3 / ms:.1f} tok/s")
PY
)"
echo "$rpc"

a="$(sed -E 's/.*= ([0-9.]+) tok\/s/\1/' <<<"$inproc")"
b="$(sed -E 's/.*= ([0-9.]+) tok\/s/\1/' <<<"$rpc")"
echo
printf '%-28s %10s\n' "path" "tokens/s"
printf '%-28s %10s\n' "engine in-process" "$a"
printf '%-28s %10s\n' "inference_generate (RPC)" "$b"
python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print(f'overhead ratio (in-process / RPC): {a/b:.3f}  ({(a/b-1)*100:+.1f} %)')" "$a" "$b"
