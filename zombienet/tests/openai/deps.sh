#!/usr/bin/env bash
# Installs what zombienet/tests/openai/client.py needs, idempotently and without root: the
# official `openai` Python package and PyNaCl (libsodium's ed25519, to check receipts with an
# implementation independent of the node's) into ~/.cache/cognitive-internet/python/openai,
# outside the clone and the system's Python. Prints the directory to put on PYTHONPATH.
set -euo pipefail

OPENAI_VERSION="${OPENAI_PY_VERSION:-3.60.0}"
PYNACL_VERSION="${PYNACL_VERSION:-1.6.2}"
LIB="${OPENAI_PYTHON_LIB:-${COGNITIVE_CACHE:-$HOME/.cache/cognitive-internet}/python/openai}"

if [ -f "$LIB/openai-$OPENAI_VERSION.dist-info/METADATA" ] &&
	[ -f "$LIB/pynacl-$PYNACL_VERSION.dist-info/METADATA" ] &&
	PYTHONPATH="$LIB" python3 -c 'import openai, nacl.signing' 2>/dev/null; then
	echo "$LIB"
	exit 0
fi
python3 -m pip --version >/dev/null 2>&1 || { echo "zombienet/tests/openai/deps.sh: python3 with pip is needed" >&2; exit 1; }
rm -rf "$LIB"
mkdir -p "$LIB"
python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
	--target "$LIB" "openai==$OPENAI_VERSION" "pynacl==$PYNACL_VERSION" >&2
echo "zombienet/tests/openai/deps.sh: openai $OPENAI_VERSION, pynacl $PYNACL_VERSION in $LIB" >&2
echo "$LIB"
