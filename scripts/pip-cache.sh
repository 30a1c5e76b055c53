#!/usr/bin/env bash
# Installs PyPI packages for a test or an example, idempotently and without root, into their own
# directory of the cache (pip --target: outside the clone and the system's Python, nothing else
# on the machine changes), and prints that directory, to put on PYTHONPATH.
#
#   scripts/pip-cache.sh NAME 'PYTHON_CHECK' PACKAGE==VERSION...
#
# The directory is $PIP_CACHE_LIB if set, else ~/.cache/cognitive-internet/python/NAME. Nothing is
# installed when every package is there at its version and PYTHON_CHECK (e.g. `import openai`)
# runs; otherwise the directory is made afresh.
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 NAME 'PYTHON_CHECK' PACKAGE==VERSION..." >&2; exit 2; }
name="$1"
check="$2"
shift 2
lib="${PIP_CACHE_LIB:-${COGNITIVE_CACHE:-$HOME/.cache/cognitive-internet}/python/$name}"

present() {
	local spec dist
	for spec in "$@"; do
		# pip names a package's metadata directory NAME-VERSION.dist-info, dashes as underscores.
		dist="$(tr '-' '_' <<<"${spec%%==*}")-${spec##*==}.dist-info"
		ls "$lib" 2>/dev/null | grep -qixF "$dist" || return 1
	done
	PYTHONPATH="$lib" python3 -c "$check" 2>/dev/null
}

if present "$@"; then
	echo "$lib"
	exit 0
fi
python3 -m pip --version >/dev/null 2>&1 || {
	echo "scripts/pip-cache.sh: python3 with pip is needed (apt-get install python3-pip)" >&2
	exit 1
}
rm -rf "$lib"
mkdir -p "$lib"
python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
	--target "$lib" "$@" >&2
echo "scripts/pip-cache.sh: $* in $lib" >&2
echo "$lib"
