#!/usr/bin/env bash
# Installs what docs/examples/verify_job.py needs, idempotently and without root: the PyPI
# package substrate-interface (Polkadot's Python client, which reads the runtime's metadata to
# encode calls and decode answers) into ~/.cache/cognitive-internet/python/client, outside the
# clone and outside the system's Python (scripts/pip-cache.sh: pip --target, nothing else on the
# machine changes). Prints the directory to put on PYTHONPATH.
set -euo pipefail
PIP_CACHE_LIB="${CLIENT_PYTHON_LIB:-}" exec bash "$(dirname "${BASH_SOURCE[0]}")/../../scripts/pip-cache.sh" client \
	'import substrateinterface' \
	"substrate-interface==${SUBSTRATE_INTERFACE_VERSION:-1.8.1}"
