#!/usr/bin/env bash
# Throughput and time to first token through the OpenAI-compatible API, beside the engine
# in-process, in one run, on the same model, chat, token budget and thread count:
#   1. the engine called in-process (offchain-workers/engine/examples/bench_engine.rs --chat):
#      one user message rendered with the model's template, tokens streamed;
#   2. `POST /v1/chat/completions` with `stream: true` on a dev node started with the same
#      --inference-threads and --openai-port, timed by the client (request sent → `[DONE]`), with
#      the time to the first chunk that carries text;
# and prints tokens/s and time to first token of each, and the overhead (in-process / HTTP).
# `temperature: 0` is greedy decoding on both sides, so both produce exactly the same tokens
# (checked). Each side does one unmeasured warm-up run. The runs are interleaved (in-process,
# HTTP, HTTP, in-process, …) with both processes alive throughout, so that slow drifts of a
# shared machine fall on both sides alike; the median ratio of adjacent pairs is printed beside
# the ratio of the totals.
#
# Usage: scripts/bench-openai.sh [RUNS] [MAX_TOKENS] [THREADS]   (defaults 5 128 2)
# Needs the node built (scripts/build.sh) and the model installed (scripts/install-models.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

source "$REPO_ROOT/scripts/bench/engine-baseline.sh"

echo "== model $MODEL, $RUNS runs per path, max_tokens $MAX_TOKENS, $THREADS threads, chat: $PROMPT"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rpc_port="$(free_port)"
http_port="$(free_port)"
log="$(mktemp)"
"$NODE_BIN" --dev --tmp --rpc-port "$rpc_port" --openai-port "$http_port" --no-mdns --no-telemetry \
	--no-prometheus --listen-addr /ip4/127.0.0.1/tcp/0 --inference-threads "$THREADS" >"$log" 2>&1 &
node_pid=$!
trap 'kill $node_pid 2>/dev/null; wait $node_pid 2>/dev/null; rm -f "$log"' EXIT
python3 - "$http_port" "$MODEL" "$RUNS" "$MAX_TOKENS" "$PROMPT" "$BENCH" "$STORE" "$THREADS" <<'PY'
import http.client, json, statistics, subprocess, sys, time
port, model, runs, max_tokens, prompt, bench, store, threads = sys.argv[1:]
port, runs = int(port), int(runs)

def get(path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", path)
    r = c.getresponse()
    return r.status, r.read()

deadline = time.time() + 120
while True:  # wait for the port and the model (the node preloads it at start)
    try:
        status, body = get("/v1/models")
        if status == 200 and json.loads(body)["data"]:
            break
    except OSError:
        pass
    if time.time() > deadline:
        sys.exit("the node's OpenAI port did not come up")
    time.sleep(0.5)

# The model by sha256, which the node's store resolves as the in-process side does.
body = json.dumps({"model": model, "temperature": 0, "max_tokens": int(max_tokens), "stream": True,
                   "stream_options": {"include_usage": True},
                   "messages": [{"role": "user", "content": prompt}]}).encode()

def over_http():
    """(tokens, wall ms, ms to the first chunk with text) of one streamed chat completion."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    t0 = time.perf_counter()
    conn.request("POST", "/v1/chat/completions", body, {"content-type": "application/json"})
    r = conn.getresponse()
    if r.status != 200:
        sys.exit(f"HTTP {r.status}: {r.read()[:300]!r}")
    first, tokens = None, None
    while True:
        line = r.fp.readline()
        if not line:
            sys.exit("the stream ended without [DONE]")
        if not line.startswith(b"data: "):
            continue
        data = line[6:].strip()
        if data == b"[DONE]":
            break
        chunk = json.loads(data)
        if "error" in chunk:
            sys.exit(f"error event: {chunk['error']}")
        if first is None and any(c["delta"].get("content") for c in chunk["choices"]):
            first = (time.perf_counter() - t0) * 1e3
        if chunk.get("usage"):
            tokens = chunk["usage"]["completion_tokens"]
    elapsed = (time.perf_counter() - t0) * 1e3
    conn.close()
    return tokens, elapsed, first if first is not None else elapsed

# The engine in-process, in a process of its own that runs one generation per line we send.
engine = subprocess.Popen([bench, store, model, threads, "0", max_tokens, prompt, "--chat", "--stdin"],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
if engine.stdout.readline().strip() != "ready":  # after its own unmeasured warm-up
    sys.exit("bench_engine did not start")

def in_process():
    engine.stdin.write("run\n")
    engine.stdin.flush()
    n, elapsed, first = engine.stdout.readline().split()
    return int(n), float(elapsed), float(first)

over_http()  # unmeasured warm-up, as in-process
results = {"in-process": [], "http": []}
for run in range(runs):
    # Alternate which side goes first, so that neither always follows the other.
    order = [("in-process", in_process), ("http", over_http)]
    for name, measure in order if run % 2 == 0 else reversed(order):
        n, elapsed, first = measure()
        results[name].append((n, elapsed, first))
        print(f"run {run} {name:>10}: {n} tokens in {elapsed:.0f} ms, first token after {first:.1f} ms",
              file=sys.stderr)
engine.stdin.close()
engine.wait()

def summary(rows):
    tokens, ms = sum(r[0] for r in rows), sum(r[1] for r in rows)
    return tokens * 1e3 / ms, statistics.mean(r[2] for r in rows)
(a, ta), (b, tb) = summary(results["in-process"]), summary(results["http"])
if [r[0] for r in results["in-process"]] != [r[0] for r in results["http"]]:
    sys.exit("the two paths generated different token counts: not the same greedy request")
pairs = [(p[0] / p[1]) / (h[0] / h[1]) for p, h in zip(results["in-process"], results["http"])]
print()
print(f"{'path':<34} {'tokens/s':>10} {'first token ms':>16}")
print(f"{'engine in-process (streamed)':<34} {a:>10.1f} {ta:>16.1f}")
print(f"{'/v1/chat/completions (SSE)':<34} {b:>10.1f} {tb:>16.1f}")
print(f"throughput overhead (in-process / HTTP): {a / b:.3f} ({(a / b - 1) * 100:+.1f} %), "
      f"median of the {runs} adjacent pairs {statistics.median(pairs):.3f} "
      f"({(statistics.median(pairs) - 1) * 100:+.1f} %)")
print(f"first token: {tb - ta:+.1f} ms ({(tb / ta - 1) * 100:+.1f} %)")
PY
