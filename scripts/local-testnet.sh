#!/usr/bin/env bash
# Starts the 3-validator prototype network on this machine: alice, bob and charlie author and
# finalize the `local` chain, each running the default model in its off-chain worker. Prints the
# RPC endpoints and Polkadot.js Apps links once all three answer; Ctrl-C stops every node.
#
#   ./scripts/local-testnet.sh
#
# Ports (127.0.0.1 only): RPC 9944 (alice), 9945 (bob), 9946 (charlie); p2p 30333-30335;
# Prometheus metrics 9615-9617 (scripts/monitoring.sh scrapes them).
# Chain data, keystores and logs live in a temporary directory that is removed on exit (set
# LOCAL_TESTNET_DIR to keep them somewhere else; that directory is then left in place).
# The network definition is zombienet/network/local-testnet.toml. Builds the node, installs the
# npm packages and the model (scripts/install-models.sh) first where they are missing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

[ -x "$NODE_BIN" ] || bash scripts/build.sh
if [ ! -x zombienet/node_modules/.bin/zombienet ]; then
	npm --prefix zombienet ci --no-audit --no-fund
fi
# The model every validator loads at start (SmolLM2, the genesis model), into the store the nodes
# read ($COGNITIVE_MODEL_STORE, else the node's default); a no-op when it is already there.
bash scripts/install-models.sh
export COGNITIVE_NODE="$NODE_BIN"

rpc_ports=(9944 9945 9946)
names=(alice bob charlie)
for port in "${rpc_ports[@]}" 30333 30334 30335 9615 9616 9617; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		echo "port $port on 127.0.0.1 is in use (another node or network running?); stop it first" >&2
		exit 1
	fi
done

if [ -n "${LOCAL_TESTNET_DIR:-}" ]; then
	mkdir -p "$LOCAL_TESTNET_DIR"
	base="$LOCAL_TESTNET_DIR"
	keep=1
else
	base="$(mktemp -d -t cognitive-testnet-XXXXXX)"
	keep=0
fi
dir="$base/network-$(date +%s)"

# The nodes run the `local` chain from a raw spec made by this very binary, as in
# zombienet/run-suites.sh (the network definition names it as {{ZOMBIE_CHAIN_SPEC}}).
export ZOMBIE_CHAIN_SPEC="$base/local-raw.json"
if ! "$NODE_BIN" build-spec --chain local --raw --disable-default-bootnode \
	>"$ZOMBIE_CHAIN_SPEC" 2>"$base/build-spec.log"; then
	echo "$NODE_BIN build-spec --chain local failed:" >&2
	cat "$base/build-spec.log" >&2
	[ "$keep" -eq 1 ] || rm -rf "$base"
	exit 1
fi

# zombienet and the nodes it spawns run in their own process group, so stopping is one signal to
# zombienet (it kills its nodes) with a hard kill of the group as a backstop.
setsid zombienet/node_modules/.bin/zombienet --provider native --logType text \
	--dir "$dir" spawn zombienet/network/local-testnet.toml >"$base/zombienet.log" 2>&1 &
pgid=$!

stopped=0
stop() {
	[ "$stopped" -eq 1 ] && return
	stopped=1
	echo
	echo "stopping the network..."
	kill -INT "$pgid" 2>/dev/null || true
	for _ in $(seq 1 30); do
		kill -0 "$pgid" 2>/dev/null || break
		sleep 0.5
	done
	kill -KILL -- "-$pgid" 2>/dev/null || true
	wait "$pgid" 2>/dev/null || true
	if [ "$keep" -eq 0 ]; then
		rm -rf "$base"
	else
		echo "chain data and logs kept in $dir"
	fi
	echo "stopped"
}
trap stop EXIT
trap 'exit 130' INT TERM
trap 'exit 129' HUP

echo "starting alice, bob and charlie (zombienet log: $base/zombienet.log)..."
deadline=$((SECONDS + 300))
for port in "${rpc_ports[@]}"; do
	until curl -sf -m 2 -H 'content-type: application/json' \
		-d '{"id":1,"jsonrpc":"2.0","method":"system_health","params":[]}' \
		"http://127.0.0.1:$port" >/dev/null; do
		if ! kill -0 "$pgid" 2>/dev/null; then
			echo "zombienet exited; its log:" >&2
			tail -n 40 "$base/zombienet.log" >&2
			exit 1
		fi
		if [ "$SECONDS" -gt "$deadline" ]; then
			echo "the network did not come up within 300 s; see $base/zombienet.log" >&2
			exit 1
		fi
		sleep 1
	done
done

echo
echo "Cognitive Internet local testnet is up (chain: local, 3 validators)"
for i in 0 1 2; do
	port=${rpc_ports[$i]}
	printf '  %-8s ws://127.0.0.1:%s   https://polkadot.js.org/apps/?rpc=ws%%3A%%2F%%2F127.0.0.1%%3A%s#/explorer\n' \
		"${names[$i]}" "$port" "$port"
done
echo "  node logs: $dir/<name>.log"
echo "Press Ctrl-C to stop."
wait "$pgid"
