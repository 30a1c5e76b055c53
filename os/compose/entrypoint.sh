#!/bin/sh
# Entrypoint of one validator of the compose network (os/compose/docker-compose.yml). It is
# bind-mounted into the image read-only, so the image itself (os/build.sh's rootfs.tar.gz, or any
# root file system with /usr/local/bin/cognitive-node) needs no changes.
#
#   entrypoint.sh          insert the node's dev keys into its keystore, then exec the node
#   entrypoint.sh health   the container healthcheck: GET /health on the node's RPC port answers 200
#
# Environment (set per service in docker-compose.yml):
#   NODE_NAME      alice | bob | charlie (network name of the node)
#   NODE_SEED      //Alice | //Bob | //Charlie: the dev seed of its babe, gran and infr keys
#   NODE_KEY       64 hex digits: the libp2p secret key (TEST ONLY: fixed so that peer ids are
#                  known in advance and the nodes can name each other as bootnodes)
#   BOOTNODES      space-separated multiaddrs of the other validators
#   CHAIN_SPEC     the raw chain spec (default /spec/local-raw.json)
#   INFERENCE_THREADS, INFERENCE_MEMORY_MIB   engine limits (default 1 thread, 1024 MiB)
#   NODE_EXTRA_ARGS   more flags for cognitive-node (split at white space)
#
# Chain data and keystore live in /data (a named volume). The node runs as the image's system
# user `cognitive` when it exists (os/build.sh creates it), else as uid/gid 10001, never as root.
set -eu

NODE=/usr/local/bin/cognitive-node
DATA=/data
RPC_PORT=9944
PROM_PORT=9615

if [ "${1:-}" = health ]; then
	# No curl in the image: plain HTTP over bash's /dev/tcp. Substrate's RPC server answers
	# GET /health with 200 while the node is not major-syncing and has the peers it should have.
	exec /bin/bash -c '
		exec 3<>/dev/tcp/127.0.0.1/'"$RPC_PORT"' || exit 1
		printf "GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n" >&3
		IFS= read -r status <&3 || exit 1
		case "$status" in *" 200 "*) exit 0 ;; *) echo "$status"; exit 1 ;; esac'
fi

: "${NODE_NAME:?NODE_NAME is not set}"
: "${NODE_SEED:?NODE_SEED is not set}"
: "${NODE_KEY:?NODE_KEY is not set}"
CHAIN_SPEC="${CHAIN_SPEC:-/spec/local-raw.json}"
[ -x "$NODE" ] || { echo "entrypoint: $NODE missing in the image" >&2; exit 1; }
[ -r "$CHAIN_SPEC" ] || { echo "entrypoint: chain spec $CHAIN_SPEC not mounted" >&2; exit 1; }

if id cognitive >/dev/null 2>&1; then
	uid="$(id -u cognitive)"
	gid="$(id -g cognitive)"
else
	echo "entrypoint: no user 'cognitive' in the image; running the node as uid/gid 10001" >&2
	uid=10001
	gid=10001
fi
# A fresh named volume is owned by root: hand it to the node's user (once; later starts keep it).
if [ "$(stat -c %u "$DATA")" != "$uid" ]; then
	chown -R "$uid:$gid" "$DATA"
fi
as_node() {
	setpriv --reuid="$uid" --regid="$gid" --clear-groups -- env HOME="$DATA" "$@"
}

# The dev keys of the `local` chain's genesis validators (key types as zombienet inserts them):
# BABE (sr25519), GRANDPA (ed25519) and the inference key (ed25519, `infr`). Inserting is
# idempotent: the keystore file is named after the public key.
for k in babe:sr25519 gran:ed25519 infr:ed25519; do
	as_node "$NODE" key insert --base-path "$DATA" --chain "$CHAIN_SPEC" \
		--key-type "${k%%:*}" --scheme "${k#*:}" --suri "$NODE_SEED" 2>/dev/null
done

set --
for b in ${BOOTNODES:-}; do
	set -- "$@" --bootnodes "$b"
done
# shellcheck disable=SC2086 # NODE_EXTRA_ARGS is split at white space on purpose
exec setpriv --reuid="$uid" --regid="$gid" --clear-groups -- env HOME="$DATA" \
	"$NODE" \
	--chain "$CHAIN_SPEC" \
	--base-path "$DATA" \
	--validator \
	--name "$NODE_NAME" \
	--node-key "$NODE_KEY" \
	--listen-addr /ip4/0.0.0.0/tcp/30333 \
	--allow-private-ip \
	--no-mdns \
	--no-telemetry \
	--rpc-port "$RPC_PORT" \
	--unsafe-rpc-external \
	--rpc-methods "${RPC_METHODS:-safe}" \
	--rpc-cors all \
	--prometheus-external \
	--prometheus-port "$PROM_PORT" \
	--model-store /models \
	--inference-threads "${INFERENCE_THREADS:-1}" \
	--inference-memory-mib "${INFERENCE_MEMORY_MIB:-1024}" \
	--no-inference-rpc \
	"$@" ${NODE_EXTRA_ARGS:-}
