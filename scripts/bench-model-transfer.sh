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

serve() { # serve STORE -> prints the endpoint's multiaddr
	local log="$work/serve-$(basename "$1").log"
	"$NODE_BIN" model serve --listen /ip4/127.0.0.1/tcp/0 --rate-mib 0 --model-store "$1" >"$log" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do
		grep -q '^listening on ' "$log" && break
		sleep 0.1
	done
	sed -n 's/^listening on //p' "$log" | head -n1
}
addr_a="$(serve "$work/store-a")"
addr_b="$(serve "$work/store-b")"

fetch() { # fetch NAME PROVIDER... -> prints MiB/s
	local name="$1"; shift
	local from=()
	for a in "$@"; do from+=(--from "$a"); done
	local t0 t1
	t0="$(now_s)"
	"$NODE_BIN" model fetch --cid "$cid" --sha256 "$sha" --quiet --model-store "$work/fetch-$name" "${from[@]}" >&2
	t1="$(now_s)"
	rm -rf "$work/fetch-$name"
	rate "$t0" "$t1"
}
echo "== 2. node fetch, one provider"
one_rate="$(fetch one "$addr_a")"
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

python3 - "$SIZE_MIB" "$cp_rate" "$one_rate" "$two_rate" "$helia_rate" <<'PY'
import sys
size, cp, one, two, helia = sys.argv[1], *map(float, sys.argv[2:])
print(f"\n== {size} MiB on loopback, MiB/s of wall time (sha256 checked at the end of each)")
print(f"{'transfer':<36}{'MiB/s':>10}{'vs cp':>9}{'vs Helia':>10}")
for name, r in [("cp (page cache warm)", cp), ("node fetch, 1 provider", one),
                ("node fetch, 2 providers", two), ("Helia -> Helia", helia)]:
    print(f"{name:<36}{r:>10.1f}{r / cp:>8.0%} {r / helia:>9.1f}x")
PY
