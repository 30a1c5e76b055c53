#!/usr/bin/env bash
# Model-transfer throughput on loopback, side by side, in one run, on one generated file:
#   1. a plain file copy (`cp`, page cache warm): the ceiling;
#   2. `cognitive-node model fetch` from one provider (`cognitive-node model serve`);
#   3. the same from two providers (wants spread over both);
#   4. Helia to Helia (IPFS in JavaScript, bitswap, the same CID).
# Every transfer ends with the file's sha256 checked (the node checks it before storing; the
# Helia copy is hashed here). Rates are MiB of the file per second of wall time, the fetch
# command's own start-up included. Serving is unthrottled (--rate-mib 0).
#
# Both ends share this machine's cores, so the one-provider fetch also reports the CPU time
# both processes spent (user + system) and the rate that CPU time allows on this machine's
# cores if they were kept busy all the time: the ceiling of any fetch here.
#
# Usage: scripts/bench-model-transfer.sh [SIZE_MIB]   (default 1024)
# Needs the node built (scripts/build.sh) and the interop packages (scripts/setup.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SIZE_MIB="${1:-1024}"
INTEROP="$REPO_ROOT/zombienet/interop"
[ -x "$NODE_BIN" ] || { echo "node binary missing: run scripts/build.sh" >&2; exit 1; }
[ -d "$INTEROP/node_modules/helia" ] || { echo "Helia missing: run scripts/setup.sh" >&2; exit 1; }

work="$(mktemp -d)"
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# now_s: wall clock in seconds with nanoseconds.
now_s() { date +%s.%N; }
rate() { python3 -c "import sys; print(f'{$SIZE_MIB / (float(sys.argv[2]) - float(sys.argv[1])):.1f}')" "$1" "$2"; }

echo "== generating a ${SIZE_MIB} MiB file (GGUF magic + random bytes)"
file="$work/model.gguf"
{ printf 'GGUF'; head -c $((SIZE_MIB * 1024 * 1024 - 4)) /dev/urandom; } >"$file"
sha="$(sha256sum "$file" | cut -d' ' -f1)"

echo "== 1. cp"
cat "$file" >/dev/null
t0="$(now_s)"; cp "$file" "$work/copy.gguf"; sync "$work/copy.gguf"; t1="$(now_s)"
cp_rate="$(rate "$t0" "$t1")"; rm -f "$work/copy.gguf"

echo "== importing into two provider stores"
cid=""
for p in a b; do
	out="$("$NODE_BIN" model import "$file" --name bench --model-store "$work/store-$p")"
	cid="$(sed -n 's/.*cid \([^[:space:]]*\).*/\1/p' <<<"$out")"
done
echo "cid $cid"
# Every measurement starts from a quiet disk: the imports above leave 2 GiB of dirty pages whose
# write-back would otherwise compete with the fetches' own syncs.
sync

# start_server STORE: runs `model serve` on STORE in this shell (so that the clean-up knows its
# pid); sets server_addr (its multiaddr) and server_pid.
start_server() {
	local log="$work/serve-$(basename "$1").log"
	"$NODE_BIN" model serve --listen /ip4/127.0.0.1/tcp/0 --rate-mib 0 --model-store "$1" >"$log" 2>&1 &
	server_pid=$!
	pids+=("$server_pid")
	for _ in $(seq 100); do
		grep -q '^listening on ' "$log" && break
		sleep 0.1
	done
	server_addr="$(sed -n 's/^listening on //p' "$log" | head -n1)"
	[ -n "$server_addr" ] || { echo "model serve did not start: $(cat "$log")" >&2; exit 1; }
}
start_server "$work/store-a"
addr_a="$server_addr"
serve_pid_a="$server_pid"
start_server "$work/store-b"
addr_b="$server_addr"

# cpu_s PID: CPU seconds (user + system) the process has used so far.
cpu_s() { python3 -c 'import os,sys; f=open(f"/proc/{sys.argv[1]}/stat").read().rsplit(")",1)[1].split(); print((int(f[11])+int(f[12]))/os.sysconf("SC_CLK_TCK"))' "$1"; }

fetch() { # fetch NAME PROVIDER... -> prints MiB/s
	local name="$1"; shift
	local from=()
	for a in "$@"; do from+=(--from "$a"); done
	local t0 t1
	t0="$(now_s)"
	/usr/bin/time -f '%U %S' -o "$work/time-$name" \
		"$NODE_BIN" model fetch --cid "$cid" --sha256 "$sha" --quiet --model-store "$work/fetch-$name" "${from[@]}" >&2
	t1="$(now_s)"
	rm -rf "$work/fetch-$name"
	sync
	rate "$t0" "$t1"
}
echo "== 2. node fetch, one provider"
server_cpu0="$(cpu_s "$serve_pid_a")"
one_rate="$(fetch one "$addr_a")"
server_cpu="$(python3 -c 'import sys; print(float(sys.argv[2]) - float(sys.argv[1]))' "$server_cpu0" "$(cpu_s "$serve_pid_a")")"
fetch_cpu="$(awk '{print $1 + $2}' "$work/time-one")"
echo "== 3. node fetch, two providers"
two_rate="$(fetch two "$addr_a" "$addr_b")"

echo "== 4. Helia to Helia"
helia_log="$work/helia-serve.log"
node --max-old-space-size=8192 --import "$INTEROP/polyfill.mjs" "$INTEROP/helia-peer.mjs" serve "$file" >"$helia_log" 2>&1 &
pids+=($!)
for _ in $(seq 1200); do
	grep -q '^{' "$helia_log" && break
	sleep 0.25
done
helia_cid="$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["cid"])' "$helia_log")"
helia_addr="$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["addrs"][0])' "$helia_log")"
[ "$helia_cid" = "$cid" ] || { echo "Helia's CID $helia_cid differs from the node's $cid" >&2; exit 1; }
t0="$(now_s)"
node --max-old-space-size=8192 --import "$INTEROP/polyfill.mjs" "$INTEROP/helia-peer.mjs" fetch "$cid" "$helia_addr" "$work/helia.out" >&2
t1="$(now_s)"
helia_rate="$(rate "$t0" "$t1")"
[ "$(sha256sum "$work/helia.out" | cut -d' ' -f1)" = "$sha" ] || { echo "Helia's copy has the wrong sha256" >&2; exit 1; }

python3 - "$SIZE_MIB" "$cp_rate" "$one_rate" "$two_rate" "$helia_rate" "$fetch_cpu" "$server_cpu" "$(nproc)" <<'PY'
import sys
size, cp, one, two, helia, fetch_cpu, server_cpu, cores = sys.argv[1], *map(float, sys.argv[2:])
print(f"\n== {size} MiB on loopback, MiB/s of wall time (sha256 checked at the end of each)")
print(f"{'transfer':<36}{'MiB/s':>10}{'vs cp':>9}{'vs Helia':>10}")
for name, r in [("cp (page cache warm)", cp), ("node fetch, 1 provider", one),
                ("node fetch, 2 providers", two), ("Helia -> Helia", helia)]:
    print(f"{name:<36}{r:>10.1f}{r / cp:>8.0%} {r / helia:>9.1f}x")
gib = float(size) / 1024
print(f"\nCPU per GiB, one provider: fetcher {fetch_cpu / gib:.2f} s, server {server_cpu / gib:.2f} s "
      f"(user + system); on {cores:.0f} shared cores that allows at most "
      f"{float(size) / ((fetch_cpu + server_cpu) / cores):.0f} MiB/s")
PY
