#!/usr/bin/env bash
# What the node's metrics cost inference, in one run: two dev nodes on the same model, prompt,
# token budget and thread count, one with its Prometheus endpoint off (--no-prometheus, the
# baseline) and one with it on and scraped every second by a real Prometheus (Debian's
# package); `inference_generate` requests alternate between them (in a random order each
# round, so neither always goes first), and the script prints the median tokens/s of each,
# timed by the client (request sent → answer parsed: the metrics' work on the request path is
# inside it) and as the engine reports it, and the difference.
#
# Usage: scripts/bench-metrics.sh [ROUNDS] [MAX_TOKENS] [THREADS]   (defaults 15 64 1)
# Needs the node built (scripts/build.sh), the model installed (scripts/install-models.sh) and
# Prometheus (os/monitoring/deps.sh). On a shared 2-core VM run-to-run noise is a few percent:
# read the medians, and use more rounds to narrow them.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS="${1:-15}"
MAX_TOKENS="${2:-64}"
THREADS="${3:-1}"
MODEL="$(python3 "$REPO_ROOT/scripts/model-facts.py" smollm2 sha256)"
PROMPT="Explain what a blockchain validator does, and why it must be honest."

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
dir="$(mktemp -d -t cognitive-bench-metrics-XXXXXX)"
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT

off_rpc="$(free_port)"
on_rpc="$(free_port)"
on_metrics="$(free_port)"
prom_port="$(free_port)"
start_node() { # NAME RPC_PORT ARGS...
	local name="$1" port="$2"
	shift 2
	"$NODE_BIN" --dev --tmp --rpc-port "$port" --no-mdns --no-telemetry --no-inference-rpc \
		--listen-addr /ip4/127.0.0.1/tcp/0 --inference-threads "$THREADS" "$@" >"$dir/$name.log" 2>&1 &
	pids+=($!)
}
start_node off "$off_rpc" --no-prometheus
start_node on "$on_rpc" --prometheus-port "$on_metrics"
cat >"$dir/prometheus.yml" <<EOF
global: { scrape_interval: 1s, scrape_timeout: 1s }
rule_files: ["$REPO_ROOT/os/monitoring/rules/cognitive-alerts.yml"]
scrape_configs:
  - job_name: cognitive-node
    static_configs: [{ targets: ["127.0.0.1:$on_metrics"] }]
EOF
prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/prom" \
	--web.listen-address="127.0.0.1:$prom_port" >"$dir/prometheus.log" 2>&1 &
pids+=($!)

python3 - "$off_rpc" "$on_rpc" "$prom_port" "$MODEL" "$ROUNDS" "$MAX_TOKENS" "$PROMPT" <<'PY'
import json, random, statistics, sys, time, urllib.request
off, on, prom, model, rounds, max_tokens, prompt = sys.argv[1:8]
rounds, max_tokens = int(rounds), int(max_tokens)
def call(port, method, params):
    body = json.dumps({"id": 1, "jsonrpc": "2.0", "method": method, "params": params}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}", body, {"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.load(r)
for port in (off, on):  # RPC up and the model preloaded
    deadline = time.time() + 180
    while True:
        try:
            if any(m["sha256"].endswith(model) and m["loaded"] for m in call(port, "inference_models", [])["result"]):
                break
        except Exception:
            pass
        if time.time() > deadline:
            sys.exit(f"the node on port {port} did not come up with the model loaded")
        time.sleep(0.5)
params = {"model": model, "prompt": prompt, "maxTokens": max_tokens}
client = {off: [], on: []}
engine = {off: [], on: []}
for port in (off, on):
    call(port, "inference_generate", [params])  # unmeasured warm-up
for r in range(rounds):
    order = [off, on]
    random.shuffle(order)
    for port in order:
        t0 = time.perf_counter()
        out = call(port, "inference_generate", [params])
        elapsed = time.perf_counter() - t0
        if "error" in out:
            sys.exit(f"inference_generate failed: {out['error']}")
        res = out["result"]
        if res["completionTokens"] == 0:
            sys.exit("the model generated no tokens: choose another prompt")
        client[port].append(res["completionTokens"] / elapsed)
        engine[port].append(res["timings"]["generationTokensPerSecond"])
# The metrics were really on and scraped: the answered requests are in Prometheus.
q = "sum(cognitive_inference_requests_total{source=\"rpc\",outcome=\"ok\"})"
with urllib.request.urlopen(f"http://127.0.0.1:{prom}/api/v1/query?query={urllib.parse.quote(q)}") as r:
    found = json.load(r)["data"]["result"]
counted = int(float(found[0]["value"][1])) if found else 0
print(f"Prometheus counted {counted} answered RPC requests on the node with metrics "
      f"(sent {rounds + 1})")
if counted < rounds:
    sys.exit("the metrics node's requests are missing from Prometheus")
print(f"{'node':<34} {'client tok/s':>12} {'engine tok/s':>12}")
m = {}
for name, port in (("metrics off (--no-prometheus)", off), ("metrics on, scraped every 1 s", on)):
    m[port] = (statistics.median(client[port]), statistics.median(engine[port]))
    print(f"{name:<34} {m[port][0]:>12.2f} {m[port][1]:>12.2f}")
for i, what in enumerate(("client-timed", "engine-reported")):
    print(f"{what} difference, on vs off: {(m[on][i] / m[off][i] - 1) * 100:+.2f} % (medians of {rounds})")
PY
