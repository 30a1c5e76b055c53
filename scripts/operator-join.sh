#!/usr/bin/env bash
# Follows docs/operator.md step by step on this machine and checks that each step works: a new
# operator brings up a node of their own next to the 3-validator local network, generates its
# keys over the node's RPC, registers it, sets its session keys, opts in, and the script waits
# until the account is in `session.validators` and has authored a block. With --leave it goes on
# with the guide's "Leaving" section: opt out, wait for the set to rotate, unregister, wait out
# the unbonding period and the bonding sessions, withdraw the bond and purge the session keys.
#
#   scripts/operator-join.sh [--reuse] [--chain-spec FILE] [--leave] [--keep]
#
#   --reuse           use the network already running on 127.0.0.1:9944 (scripts/local-testnet.sh)
#                     instead of starting one; its raw spec is FILE from --chain-spec, else the
#                     `local` spec of this node binary (the genesis hashes are compared);
#                     without --leave the account stays registered and in the set after the
#                     script stops its node, until the network drops it as offline
#   --leave           also run the "Leaving" steps (about 12 more minutes)
#   --keep            keep the working directory (chain data, logs, keystore backup)
#
# Environment: OPERATOR_SURI, the operator account (default //Ferdie, endowed by the dev presets;
# `fresh` generates a new account with `cognitive-node key generate` and funds it from //Alice);
# OPERATOR_RPC_PORT (9947), OPERATOR_P2P_PORT (30336). Every step prints how long it took, and a
# summary at the end; any failure stops the script with status 1 and names the step. Every
# process the script started is stopped on exit.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

reuse=0
leave=0
keep=0
spec_arg=""
while [ $# -gt 0 ]; do
	case "$1" in
	--reuse) reuse=1 ;;
	--leave) leave=1 ;;
	--keep) keep=1 ;;
	--chain-spec)
		spec_arg="${2:?--chain-spec needs a file}"
		shift
		;;
	-h | --help)
		sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "unknown argument: $1 (see --help)" >&2
		exit 2
		;;
	esac
	shift
done

OPERATOR_SURI="${OPERATOR_SURI:-//Ferdie}"
RPC_PORT="${OPERATOR_RPC_PORT:-9947}"
P2P_PORT="${OPERATOR_P2P_PORT:-30336}"
PROMETHEUS_PORT=$((RPC_PORT - 9947 + 9618))
INFERENCE_RPC_PORT=$((RPC_PORT - 9947 + 9958))
MODEL_P2P_PORT=$((P2P_PORT - 30336 + 30436))
NETWORK_RPC=9944
BOND=1000
HELPER=(node scripts/operator/operator.cjs)

work="$(mktemp -d -t operator-join-XXXXXX)"
base="$work/operator-node"
mkdir -p "$base"
node_log="$work/operator-node.log"
testnet_pid=""
node_pid=""
restore_pid=""
current=""
steps=()
times=()
t_start=$SECONDS

die() {
	echo "operator-join: $*" >&2
	exit 1
}

# stop_pid PID WHAT: SIGTERM, then SIGKILL after 30 s. (Not SIGINT: a background job of a
# non-interactive shell starts with SIGINT ignored, so local-testnet.sh could not trap it.)
stop_pid() {
	local pid="$1" what="$2"
	kill -0 "$pid" 2>/dev/null || return 0
	echo "stopping $what (pid $pid)"
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 60); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.5
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local rc=$?
	trap - EXIT
	set +e
	if [ "$rc" -ne 0 ] && [ -n "$current" ]; then
		echo
		echo "operator-join: FAILED in step \"$current\" (exit $rc)" >&2
		if [ -f "$node_log" ]; then
			echo "--- last lines of the operator node's log ($node_log) ---" >&2
			tail -n 25 "$node_log" >&2
		fi
	fi
	echo
	[ -n "$restore_pid" ] && stop_pid "$restore_pid" "the restore-check node"
	[ -n "$node_pid" ] && stop_pid "$node_pid" "the operator's node"
	# local-testnet.sh stops zombienet and its nodes on TERM; check that nothing is left.
	if [ -n "$testnet_pid" ]; then
		stop_pid "$testnet_pid" "the local network (scripts/local-testnet.sh)"
		local left
		left="$(pgrep -f -- "--dir $work/testnet/" || true)"
		if [ -n "$left" ]; then
			echo "local-testnet.sh left processes behind: $left; stopping them" >&2
			# shellcheck disable=SC2086 # one pid per word
			kill -KILL $left 2>/dev/null || true
			rc=1
		fi
	fi
	if [ "$keep" -eq 1 ] || [ "$rc" -ne 0 ]; then
		echo "working directory kept: $work"
	else
		rm -rf "$work"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
trap 'exit 129' HUP

# step NAME FUNCTION: runs FUNCTION (set -e applies inside), prints and records its time.
step() {
	local name="$1" t0=$SECONDS
	shift
	current="$name"
	echo
	echo "==> [$(date +%T)] $name"
	"$@"
	echo "<== $name: $((SECONDS - t0)) s"
	steps+=("$name")
	times+=("$((SECONDS - t0))")
	current=""
}

# rpc PORT METHOD PARAMS_JSON: the JSON-RPC `result`, or fail with the error.
rpc() {
	local answer
	answer="$(curl -sS -m 60 -H 'content-type: application/json' \
		-d "{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"$2\",\"params\":$3}" "http://127.0.0.1:$1")" ||
		die "$2 on port $1: no answer"
	# shellcheck disable=SC2016 # JavaScript, not shell
	node -e '
		const a = JSON.parse(process.argv[1]);
		if (a.error) { console.error(`${process.argv[2]} failed: ${JSON.stringify(a.error)}`); process.exit(1); }
		console.log(typeof a.result === "string" ? a.result : JSON.stringify(a.result));
	' "$answer" "$2"
}

# jget JSON PATH: a field (dot path) of a JSON text; strings bare, everything else as JSON.
jget() {
	# shellcheck disable=SC2016 # JavaScript, not shell
	node -e '
		const v = process.argv[2].split(".").filter(Boolean).reduce((o, k) => (o == null ? o : o[k]), JSON.parse(process.argv[1]));
		if (v === undefined) { console.error(`no ${process.argv[2]} in ${process.argv[1]}`); process.exit(1); }
		console.log(typeof v === "string" ? v : JSON.stringify(v));
	' "$1" "$2"
}

port_free() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

answers() {
	curl -sf -m 2 -H 'content-type: application/json' \
		-d '{"id":1,"jsonrpc":"2.0","method":"system_health","params":[]}' \
		"http://127.0.0.1:$1" >/dev/null
}

helper() {
	"${HELPER[@]}" "$@" --ws "ws://127.0.0.1:$RPC_PORT"
}

# ---- steps ------------------------------------------------------------------------------------

prerequisites() {
	[ -x "$NODE_BIN" ] || bash scripts/build.sh
	"$NODE_BIN" --version
	if [ ! -d zombienet/node_modules/@polkadot/api ]; then
		npm --prefix zombienet ci --no-audit --no-fund
	fi
	bash scripts/install-models.sh
	for port in "$RPC_PORT" "$P2P_PORT" "$PROMETHEUS_PORT" "$INFERENCE_RPC_PORT" "$MODEL_P2P_PORT"; do
		port_free "$port" || die "port $port on 127.0.0.1 is in use; set OPERATOR_RPC_PORT/OPERATOR_P2P_PORT"
	done
}

start_network() {
	if [ "$reuse" -eq 1 ]; then
		answers "$NETWORK_RPC" || die "--reuse: nothing answers on 127.0.0.1:$NETWORK_RPC (start scripts/local-testnet.sh)"
		echo "reusing the network on 127.0.0.1:$NETWORK_RPC"
	else
		port_free "$NETWORK_RPC" || die "port $NETWORK_RPC is in use: stop that network, or pass --reuse"
		LOCAL_TESTNET_DIR="$work/testnet" bash scripts/local-testnet.sh >"$work/local-testnet.log" 2>&1 &
		testnet_pid=$!
		echo "scripts/local-testnet.sh started (pid $testnet_pid, log $work/local-testnet.log)"
		local deadline=$((SECONDS + 420))
		until grep -q 'local testnet is up' "$work/local-testnet.log" 2>/dev/null; do
			kill -0 "$testnet_pid" 2>/dev/null || { tail -n 30 "$work/local-testnet.log" >&2; die "local-testnet.sh exited"; }
			[ "$SECONDS" -lt "$deadline" ] || die "the local network did not come up in 420 s ($work/local-testnet.log)"
			sleep 2
		done
	fi
	local deadline=$((SECONDS + 120)) fin=0
	while [ "$fin" -lt 1 ]; do
		[ "$SECONDS" -lt "$deadline" ] || die "the network finalized nothing in 120 s"
		sleep 3
		fin=$(($(jget "$(rpc "$NETWORK_RPC" chain_getHeader "[\"$(rpc "$NETWORK_RPC" chain_getFinalizedHead '[]')\"]")" number)))
	done
	local alice_state
	alice_state="$("${HELPER[@]}" status --address 5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY --ws "ws://127.0.0.1:$NETWORK_RPC")"
	echo "network finalizing (finalized #$fin), session $(jget "$alice_state" session), validators $(jget "$alice_state" validators)"
}

chain_spec() {
	if [ -n "$spec_arg" ]; then
		spec="$spec_arg"
	elif [ "$reuse" -eq 0 ]; then
		# The raw spec local-testnet.sh generated and the network runs: what a network's creator
		# publishes and every operator starts from.
		spec="$work/testnet/local-raw.json"
	else
		spec="$work/local-raw.json"
		"$NODE_BIN" build-spec --chain local --raw --disable-default-bootnode >"$spec" 2>"$work/build-spec.log"
	fi
	[ -s "$spec" ] || die "no raw chain spec at $spec"
	echo "raw chain spec: $spec ($(stat -c %s "$spec") bytes, id $(node -e 'console.log(require(process.argv[1]).id)' "$spec"))"
}

operator_account() {
	if [ "$OPERATOR_SURI" = fresh ]; then
		local generated
		generated="$("$NODE_BIN" key generate --scheme sr25519 --output-type json)"
		OPERATOR_SURI="$(jget "$generated" secretPhrase)"
		echo "generated a new operator account (its 12 words stay in this process)"
	fi
	export OPERATOR_SURI
	account="$(jget "$("$NODE_BIN" key inspect --scheme sr25519 --output-type json "$OPERATOR_SURI")" ss58Address)"
	# The guide's way to the account id (hex) that author_rotateKeysWithOwner takes: inspect
	# the public address, no secret needed.
	account_hex="$(jget "$("$NODE_BIN" key inspect --output-type json "$account")" accountId)"
	echo "operator account $account (account id $account_hex)"
	local state free
	state="$("${HELPER[@]}" status --ws "ws://127.0.0.1:$NETWORK_RPC")"
	[ "$(jget "$state" node)" = null ] || die "$account already runs a registered node on this chain; use another OPERATOR_SURI"
	free="$(jget "$state" free)"
	echo "free balance: $free"
	# The bond (1 000 COG), the session-key deposit (1 COG) and fees: fund the account from
	# //Alice when it has less than 1 010 COG.
	if node -e 'process.exit(parseFloat(process.argv[1]) < 1010 ? 0 : 1)' "$free"; then
		OPERATOR_SURI=//Alice "${HELPER[@]}" transfer --to "$account" --amount 1010 --ws "ws://127.0.0.1:$NETWORK_RPC"
	fi
}

node_key() {
	mkdir -p "$base"
	"$NODE_BIN" key generate-node-key --file "$base/node-key" 2>"$work/peer-id"
	chmod 600 "$base/node-key"
	peer_id="$(tail -n 1 "$work/peer-id")"
	echo "node key in $base/node-key, peer id $peer_id"
}

bootnode() {
	local addrs
	addrs="$(rpc "$NETWORK_RPC" system_localListenAddresses '[]')"
	boot="$(node -e 'console.log(JSON.parse(process.argv[1]).find((a) => a.startsWith("/ip4/127.0.0.1/tcp/") && !a.includes("/ws")) || "")' "$addrs")"
	[ -n "$boot" ] || die "alice reports no /ip4/127.0.0.1/tcp address: $addrs"
	echo "bootnode (alice): $boot"
}

start_node() {
	local args=(
		--chain "$spec"
		--base-path "$base/data"
		--name operator-ferdie
		--validator
		--node-key-file "$base/node-key"
		--bootnodes "$boot"
		--listen-addr "/ip4/127.0.0.1/tcp/$P2P_PORT"
		--rpc-port "$RPC_PORT"
		--prometheus-port "$PROMETHEUS_PORT"
		--inference-rpc-port "$INFERENCE_RPC_PORT"
		--model-p2p-port "$MODEL_P2P_PORT"
		--model-p2p-listen 127.0.0.1
		--inference-threads 1
	)
	echo "$NODE_BIN ${args[*]}"
	"$NODE_BIN" "${args[@]}" >"$node_log" 2>&1 &
	node_pid=$!
	local deadline=$((SECONDS + 120))
	until answers "$RPC_PORT"; do
		kill -0 "$node_pid" 2>/dev/null || die "the node exited"
		[ "$SECONDS" -lt "$deadline" ] || die "the node's RPC did not answer in 120 s"
		sleep 1
	done
	local genesis ours
	genesis="$(rpc "$NETWORK_RPC" chain_getBlockHash '[0]')"
	ours="$(rpc "$RPC_PORT" chain_getBlockHash '[0]')"
	[ "$genesis" = "$ours" ] || die "the node's genesis $ours is not the network's $genesis: wrong chain spec"
	echo "same genesis as the network: $genesis"
	deadline=$((SECONDS + 180))
	while :; do
		local health best net
		health="$(rpc "$RPC_PORT" system_health '[]')"
		best=$(($(jget "$(rpc "$RPC_PORT" chain_getHeader '[]')" number)))
		net=$(($(jget "$(rpc "$NETWORK_RPC" chain_getHeader '[]')" number)))
		if [ "$(jget "$health" peers)" -ge 1 ] && [ "$(jget "$health" isSyncing)" = false ] && [ $((net - best)) -le 2 ]; then
			echo "synced: best #$best (network #$net), $(jget "$health" peers) peers"
			break
		fi
		[ "$SECONDS" -lt "$deadline" ] || die "the node did not sync in 180 s (health $health, best #$best, network #$net)"
		sleep 2
	done
}

session_keys() {
	local out
	out="$(rpc "$RPC_PORT" author_rotateKeysWithOwner "[\"$account_hex\"]")"
	keys="$(jget "$out" keys)"
	keys_proof="$(jget "$out" proof)"
	[ "${#keys}" -eq 194 ] || die "author_rotateKeysWithOwner returned ${#keys} hex characters, expected 0x + 192"
	echo "session keys: $keys"
	echo "  babe      0x${keys:2:64}"
	echo "  grandpa   0x${keys:66:64}"
	echo "  inference 0x${keys:130:64}"
	echo "ownership proof: ${#keys_proof} hex characters"
	[ "$(rpc "$RPC_PORT" author_hasSessionKeys "[\"$keys\"]")" = true ] || die "the node does not hold the keys it just made"
}

inference_proof() {
	local out
	out="$(rpc "$RPC_PORT" inference_keyOwnershipProof "[\"$account\"]")"
	echo "$out"
	[ "$(jget "$out" publicKey)" = "0x${keys:130:64}" ] ||
		die "the node signs with inference key $(jget "$out" publicKey), not the one in the session keys"
	local info
	info="$(rpc "$RPC_PORT" inference_nodeInfo '[]')"
	engine_class="$(jget "$info" engineClass)"
	model_endpoint="$(node -e 'console.log((JSON.parse(process.argv[1]).modelEndpoints || [])[0] || "")' "$info")"
	echo "engine class $engine_class; model endpoint ${model_endpoint:-none}"
}

backup_keystore() {
	local keystore
	keystore="$(find "$base/data" -type d -name keystore | head -n 1)"
	[ -n "$keystore" ] || die "no keystore under $base/data"
	mkdir -p "$work/backup"
	tar -C "$(dirname "$keystore")" -czf "$work/backup/keystore.tar.gz" keystore
	local n
	n="$(find "$keystore" -type f | wc -l)"
	[ "$n" -eq 3 ] || die "expected 3 keys in $keystore, found $n"
	echo "keystore $keystore: $n keys, backed up to $work/backup/keystore.tar.gz"
	# The guide's restore: every key file holds its secret as a JSON string; author_insertKey
	# with it on a node with an empty keystore gives that node the same keys. Checked on a
	# throwaway node (temporary base path, no peers, no engine), which must then hold the
	# session keys and sign the same inference key proof.
	local port=$((RPC_PORT + 10)) f name type proof
	"$NODE_BIN" --chain "$spec" --tmp --name restore-check --rpc-port "$port" \
		--listen-addr "/ip4/127.0.0.1/tcp/$((P2P_PORT + 10))" --no-mdns --no-prometheus \
		--no-inference --no-inference-rpc --no-model-p2p >"$work/restore-check.log" 2>&1 &
	restore_pid=$!
	local deadline=$((SECONDS + 60))
	until answers "$port"; do
		kill -0 "$restore_pid" 2>/dev/null || die "the restore-check node exited: $(tail -n 3 "$work/restore-check.log")"
		[ "$SECONDS" -lt "$deadline" ] || die "the restore-check node did not answer in 60 s"
		sleep 1
	done
	[ "$(rpc "$port" author_hasSessionKeys "[\"$keys\"]")" = false ] || die "a fresh node already has the keys?"
	mkdir -p "$work/restore"
	tar -C "$work/restore" -xzf "$work/backup/keystore.tar.gz"
	for f in "$work/restore"/keystore/*; do
		name="$(basename "$f")"
		type="$(node -e 'console.log(Buffer.from(process.argv[1], "hex").toString())' "${name:0:8}")"
		rpc "$port" author_insertKey "[\"$type\", $(cat "$f"), \"0x${name:8}\"]" >/dev/null
		echo "  author_insertKey $type 0x${name:8}"
	done
	[ "$(rpc "$port" author_hasSessionKeys "[\"$keys\"]")" = true ] || die "the restored keystore lacks the session keys"
	proof="$(rpc "$port" inference_keyOwnershipProof "[\"$account\"]")"
	[ "$(jget "$proof" signature)" = "$(jget "$(rpc "$RPC_PORT" inference_keyOwnershipProof "[\"$account\"]")" signature)" ] ||
		die "the restored inference key signs differently"
	echo "restored on a fresh node: author_hasSessionKeys true, same inference key proof"
	stop_pid "$restore_pid" "the restore-check node"
	restore_pid=""
}

register() {
	local endpoint_args=()
	[ -n "$model_endpoint" ] && endpoint_args=(--endpoint "$model_endpoint")
	helper register --bond "$BOND" --models 0 "${endpoint_args[@]}"
}

set_keys() {
	helper set-keys --keys "$keys" --proof "$keys_proof"
}

opt_in() {
	helper opt-in
}

heartbeat() {
	local deadline=$((SECONDS + 180)) state
	while :; do
		state="$(helper status)"
		if [ "$(jget "$state" node.readyModels)" = "[0]" ]; then
			echo "heartbeat landed: node $(jget "$state" node.status), ready for model 0"
			break
		fi
		[ "$SECONDS" -lt "$deadline" ] || die "no heartbeat reporting model 0 ready within 180 s: $(jget "$state" node)"
		sleep 3
	done
}

in_validators() {
	helper wait-validator --sessions 3
}

authored() {
	helper wait-authored --timeout-s 240
	local state
	state="$(helper status)"
	echo "account: free $(jget "$state" free), reserved $(jget "$state" reserved) (bond and session-key deposit)"
	echo "node memory: $(ps -o rss= -p "$node_pid" | awk '{printf "%d MiB resident", $1 / 1024}'); database $(du -sh "$base/data" | cut -f1)"
}

opt_out() {
	helper opt-out
}

out_of_set() {
	helper wait-out --sessions 3
}

unregister() {
	helper unregister
}

withdraw() {
	helper wait-withdrawable --timeout-s 1200
	local state
	state="$(helper status)"
	[ "$(jget "$state" node)" = null ] || die "the node is still registered after withdrawUnbonded"
	echo "node removed; free $(jget "$state" free), reserved $(jget "$state" reserved)"
}

purge_keys() {
	helper purge-keys
	local state
	state="$(helper status)"
	[ "$(jget "$state" sessionKeys)" = null ] || die "session keys still set after session.purgeKeys"
	[ "$(jget "$state" reserved)" = "0 COG" ] || die "still $(jget "$state" reserved) held after session.purgeKeys"
	echo "keys purged; free $(jget "$state" free), nothing held"
}

step "prerequisites (binary, npm packages, model store)" prerequisites
step "local network (alice, bob, charlie)" start_network
step "chain spec" chain_spec
step "operator account" operator_account
step "node key (key generate-node-key)" node_key
step "bootnode address (system_localListenAddresses)" bootnode
step "start the operator's node and sync" start_node
step "session keys (author_rotateKeysWithOwner)" session_keys
step "inference key proof (inference_keyOwnershipProof)" inference_proof
step "back up the keystore, restore it with author_insertKey" backup_keystore
step "register (nodeRegistry.register, bond $BOND COG)" register
step "set session keys (session.setKeys)" set_keys
step "opt in (validatorSet.optIn)" opt_in
step "first heartbeat (engine ready for model 0)" heartbeat
step "in session.validators" in_validators
step "authored a block" authored
if [ "$leave" -eq 1 ]; then
	step "opt out (validatorSet.optOut)" opt_out
	step "out of the validator set" out_of_set
	step "unregister (nodeRegistry.unregister)" unregister
	step "withdraw the bond (unbonding period and bonding sessions)" withdraw
	step "purge the session keys (session.purgeKeys)" purge_keys
fi

echo
echo "operator-join: OK in $((SECONDS - t_start)) s"
for i in "${!steps[@]}"; do
	printf '  %5s s  %s\n' "${times[$i]}" "${steps[$i]}"
done
