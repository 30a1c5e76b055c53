#!/usr/bin/env bash
# Installs what zombienet/tests/openai/client.py needs, idempotently and without root: the
# official `openai` Python package and PyNaCl (libsodium's ed25519, to check receipts with an
# implementation independent of the node's) into ~/.cache/cognitive-internet/python/openai
# (scripts/pip-cache.sh). Prints the directory to put on PYTHONPATH.
set -euo pipefail
PIP_CACHE_LIB="${OPENAI_PYTHON_LIB:-}" exec bash "$(dirname "${BASH_SOURCE[0]}")/../../../scripts/pip-cache.sh" openai \
	'import openai, nacl.signing' \
	"openai==${OPENAI_PY_VERSION:-3.60.0}" "pynacl==${PYNACL_VERSION:-1.6.2}"
