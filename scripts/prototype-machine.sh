#!/usr/bin/env bash
# Prepares one machine of the prototype network and prints its public facts, the JSON entry that
# chain-specs/prototype-machines.json lists for it (docs/operator.md, "The prototype network").
# Run it on each of the three machines (or for each, into the base path that will be installed
# on it); then collect the entries and run scripts/gen-prototype-spec.sh.
#
#   scripts/prototype-machine.sh --name NAME --address MULTIADDR [--base-path DIR]
#
#   --name       the machine's name in the spec (proto-1, ...)
#   --address    where the other machines reach its p2p port, without /p2p: e.g.
#                /dns4/proto-1.cognitive.lan/tcp/30333 or /ip4/192.0.2.10/tcp/30333
#   --base-path  the node's base path (default /var/lib/cognitive-node, the service's)
#
# It creates what is missing and keeps what exists, so running it again prints the same entry:
#   - the node key (libp2p identity, hence the peer id in the bootnode address),
#   - the session keys in the node's keystore: BABE (sr25519, `babe`), GRANDPA (ed25519, `gran`)
#     and the inference key (ed25519, `infr`),
#   - the operator account (sr25519), whose secret phrase goes to BASE/secrets/operator.json
#     (mode 0600). The node never needs it: move it off the machine once the entry is printed.
# Secrets never appear on a command line (`key insert` reads them from a 0600 file).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

name=""
address=""
base="/var/lib/cognitive-node"
while [ $# -gt 0 ]; do
	case "$1" in
	--name) name="${2:?--name needs a value}" && shift ;;
	--address) address="${2:?--address needs a multiaddr}" && shift ;;
	--base-path) base="${2:?--base-path needs a directory}" && shift ;;
	-h | --help)
		sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "unknown argument: $1 (see --help)" >&2
		exit 2
		;;
	esac
	shift
done
[ -n "$name" ] || { echo "--name is required" >&2 && exit 2; }
[[ "$name" =~ ^[a-z0-9][a-z0-9-]{0,31}$ ]] || { echo "--name: lower-case letters, digits and '-'" >&2 && exit 2; }
[[ "$address" =~ ^/(ip4|ip6|dns|dns4|dns6)/[^/]+/tcp/[0-9]+$ ]] ||
	{ echo "--address: a multiaddr like /dns4/HOST/tcp/30333 (no /p2p part)" >&2 && exit 2; }
NODE="${COGNITIVE_NODE:-$NODE_BIN}"
[ -x "$NODE" ] || { echo "node binary not found at $NODE; build it with scripts/build.sh" >&2 && exit 1; }

# The prototype's chain id decides where the keystore and network key live under the base path.
CHAIN_ID=cognitive_prototype
chain_dir="$base/chains/$CHAIN_ID"
keystore="$chain_dir/keystore"
node_key="$chain_dir/network/secret_ed25519"
mkdir -p "$keystore" "$chain_dir/network" "$base/secrets"
chmod 700 "$base/secrets" "$keystore"

if [ ! -s "$node_key" ]; then
	"$NODE" key generate-node-key --file "$node_key" 2>/dev/null
	chmod 600 "$node_key"
fi
peer_id="$("$NODE" key inspect-node-key --file "$node_key")"

# json_field FILE FIELD: one string field of `key generate --output-type json`.
json_field() {
	node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); process.stdout.write(j[process.argv[2]]);' "$1" "$2"
}

# ss58_of_file TYPE SCHEME: the SS58 form of the key of TYPE in the keystore (generating and
# inserting one when there is none). The keystore names each key file hex(type) ++ hex(public).
ss58_of_key() {
	local type="$1" scheme="$2" prefix file
	prefix="$(printf '%s' "$type" | od -An -tx1 | tr -d ' \n')"
	file="$(find "$keystore" -maxdepth 1 -name "${prefix}*" | sort | head -n 1)"
	if [ -z "$file" ]; then
		local secret
		secret="$(mktemp "$base/secrets/.new-XXXXXX")"
		"$NODE" key generate --scheme "$scheme" --output-type json >"$secret.json"
		json_field "$secret.json" secretPhrase >"$secret"
		"$NODE" key insert --keystore-path "$keystore" --key-type "$type" --scheme "$scheme" --suri "$secret"
		rm -f "$secret" "$secret.json"
		file="$(find "$keystore" -maxdepth 1 -name "${prefix}*" | sort | head -n 1)"
	fi
	local public="0x${file##*/"$prefix"}"
	"$NODE" key inspect --public --scheme "$scheme" --output-type json "$public" >"$base/secrets/.inspect.json"
	json_field "$base/secrets/.inspect.json" ss58Address
	rm -f "$base/secrets/.inspect.json"
}

babe="$(ss58_of_key babe sr25519)"
grandpa="$(ss58_of_key gran ed25519)"
inference="$(ss58_of_key infr ed25519)"

operator="$base/secrets/operator.json"
if [ ! -s "$operator" ]; then
	(umask 077 && "$NODE" key generate --scheme sr25519 --output-type json >"$operator")
fi
account="$(json_field "$operator" ss58Address)"

# The capabilities the node measures on this machine (the same figures `operator.cjs register`
# takes from the running node), not typed ones.
caps="$("$NODE" hardware capabilities --json)"

node -e '
const [name, address, peerId, account, babe, grandpa, inference, caps] = process.argv.slice(1);
const { cpuCores, ramMib } = JSON.parse(caps).capabilities;
const entry = { name, address, peerId, account, sessionKeys: { babe, grandpa, inference },
  cpuCores, ramMib };
console.log(JSON.stringify(entry, null, 2));
' "$name" "$address" "$peer_id" "$account" "$babe" "$grandpa" "$inference" "$caps"
echo "operator account secret: $operator (move it off this machine)" >&2
