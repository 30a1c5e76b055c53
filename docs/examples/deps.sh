#!/usr/bin/env bash
# Installs what docs/examples/verify_job.py needs, idempotently and without root: the PyPI
# package substrate-interface (Polkadot's Python client, which reads the runtime's metadata to
# encode calls and decode answers) into ~/.cache/cognitive-internet/python/client, outside the
# clone and outside the system's Python (pip --target: nothing else on the machine changes).
# Prints the directory to put on PYTHONPATH.
set -euo pipefail

VERSION="${SUBSTRATE_INTERFACE_VERSION:-1.8.1}"
LIB="${CLIENT_PYTHON_LIB:-${COGNITIVE_CACHE:-$HOME/.cache/cognitive-internet}/python/client}"

if [ -f "$LIB/substrate_interface-$VERSION.dist-info/METADATA" ] &&
	PYTHONPATH="$LIB" python3 -c 'import substrateinterface' 2>/dev/null; then
	echo "$LIB"
	exit 0
fi
python3 -m pip --version >/dev/null 2>&1 || { echo "docs/examples/deps.sh: python3 with pip is needed (apt-get install python3-pip)" >&2; exit 1; }
rm -rf "$LIB"
mkdir -p "$LIB"
python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
	--target "$LIB" "substrate-interface==$VERSION" >&2
echo "docs/examples/deps.sh: substrate-interface $VERSION in $LIB" >&2
echo "$LIB"
