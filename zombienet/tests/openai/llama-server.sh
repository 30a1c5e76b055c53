#!/usr/bin/env bash
# Builds llama.cpp's own OpenAI-compatible server, `llama-server`, the remote back end of the
# OpenAI API's e2e test, and prints the path of the binary. The source is the llama.cpp that the
# PyPI package llama-cpp-python vendors (its sdist, from the package registry: llama.cpp itself
# cannot be cloned here); only the server target is built, CPU only, without libcurl. The
# result is cached outside the clone by version, so this is instant once built. No root.
set -euo pipefail

VERSION="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
CACHE="${COGNITIVE_CACHE:-$HOME/.cache/cognitive-internet}/llama-server/$VERSION"
BIN="$CACHE/bin/llama-server"

if [ -x "$BIN" ] && "$BIN" --version >/dev/null 2>&1; then
	echo "$BIN"
	exit 0
fi
command -v cmake >/dev/null && command -v c++ >/dev/null ||
	{ echo "llama-server.sh: cmake and a C++ compiler are needed (scripts/setup.sh installs them)" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "llama-server.sh: building llama-server from llama-cpp-python $VERSION's llama.cpp (about 10 minutes on 2 cores)" >&2
python3 -m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
	--dest "$work" "llama-cpp-python==$VERSION" >&2
tar -xzf "$work/llama_cpp_python-$VERSION.tar.gz" -C "$work"
src="$work/llama_cpp_python-$VERSION/vendor/llama.cpp"
cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
	-DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
	-DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TOOLS=ON -DGGML_NATIVE=ON >&2
cmake --build "$work/build" --target llama-server -j "$(nproc)" >&2
mkdir -p "$CACHE/bin"
install -m 0755 "$work/build/bin/llama-server" "$BIN.tmp"
mv "$BIN.tmp" "$BIN"
echo "llama-server.sh: $("$BIN" --version 2>&1 | head -n1) in $BIN" >&2
echo "$BIN"
