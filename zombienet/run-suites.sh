#!/usr/bin/env bash
# Runs the zombienet suites (zombienet/suites/*.zndsl, or the ones named as arguments) one after
# another, each on a fresh 3-validator network of real `cognitive-node` processes (native
# provider), and prints a summary. Exits non-zero if any suite fails.
#
#   zombienet/run-suites.sh                       # all suites
#   zombienet/run-suites.sh suites/0001-smoke-faults.zndsl
#
# Node binary: $COGNITIVE_NODE, else the release build in the shared target dir. Each suite runs
# in its own process group under a time limit (SUITE_TIMEOUT, seconds); afterwards the whole
# group is killed, so no node outlives its suite, even when zombienet itself times out or
# crashes. Logs of a failed suite are kept under $ZOMBIENET_LOGS (default: a temp dir).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$(dirname "${BASH_SOURCE[0]}")"

export COGNITIVE_NODE="${COGNITIVE_NODE:-$NODE_BIN}"
if [ ! -x "$COGNITIVE_NODE" ]; then
	echo "node binary not found at $COGNITIVE_NODE; build it with scripts/build.sh" >&2
	exit 1
fi
SUITE_TIMEOUT="${SUITE_TIMEOUT:-900}"
logs_root="${ZOMBIENET_LOGS:-$(mktemp -d -t cognitive-zombienet-XXXXXX)}"
mkdir -p "$logs_root"

if [ $# -gt 0 ]; then
	suites=("$@")
else
	suites=(suites/*.zndsl)
fi

# The networks run the `local` chain from a raw spec made by this very binary (zombienet cannot
# customise a raw spec, so the genesis validators stay the ones the `local` preset names).
export ZOMBIE_CHAIN_SPEC="$logs_root/local-raw.json"
# Where network/local.toml's nodes send their job traces (--otlp-endpoint): the smoke suite
# runs an OTLP receiver there (scripts/observability.cjs); elsewhere nobody listens, which costs
# each node one warning.
COGNITIVE_OTLP_PORT="${COGNITIVE_OTLP_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}"
export COGNITIVE_OTLP_PORT
"$COGNITIVE_NODE" build-spec --chain local --raw --disable-default-bootnode >"$ZOMBIE_CHAIN_SPEC" 2>/dev/null

passed=0
failed=()
current_pgid=""
cleanup() {
	if [ -n "$current_pgid" ]; then
		kill -KILL -- "-$current_pgid" 2>/dev/null || true
	fi
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

for suite in "${suites[@]}"; do
	name="$(basename "$suite" .zndsl)"
	dir="$logs_root/$name"
	rm -rf "$dir"
	start=$SECONDS
	echo "==> zombienet suite $name"
	# A network that gives each node its own model store names them as {{ZOMBIE_STORE_<NODE>}}:
	# fresh ones per suite, so what one suite fetches or deletes no other suite sees.
	network="$(sed -n 's/^Network: *//p' "$suite")"
	stores="$logs_root/$name.stores"
	rm -rf "$stores"
	if grep -q 'ZOMBIE_STORE_' "$(dirname "$suite")/$network"; then
		store_vars="$(node lib/stores.cjs "$stores")"
		while IFS='=' read -r key value; do export "$key=$value"; done <<<"$store_vars"
	fi
	# setsid: zombienet and every node it spawns share one new process group, killed below.
	setsid timeout --kill-after=10 "$SUITE_TIMEOUT" \
		npx --no-install zombienet --provider native --logType text --dir "$dir" test "$suite" &
	current_pgid=$!
	status=0
	wait "$current_pgid" || status=$?
	kill -KILL -- "-$current_pgid" 2>/dev/null || true
	current_pgid=""
	if [ "$status" -eq 0 ]; then
		passed=$((passed + 1))
		echo "==> $name passed in $((SECONDS - start)) s"
		rm -rf "$dir" "$stores"
	else
		failed+=("$name")
		echo "==> $name FAILED (exit $status) after $((SECONDS - start)) s; node logs in $dir"
	fi
done

# Every node ran with a path under $logs_root on its command line: none may be left.
if leftover="$(pgrep -af -- "$logs_root" | grep -v pgrep)"; then
	echo "processes left behind by the suites:" >&2
	echo "$leftover" >&2
	pkill -KILL -f -- "$logs_root" || true
	failed+=("leftover-processes")
fi

echo "zombienet suites: ${passed} passed, ${#failed[@]} failed${failed:+ (${failed[*]})}"
[ "${#failed[@]}" -eq 0 ]
