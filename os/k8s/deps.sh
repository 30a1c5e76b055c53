#!/usr/bin/env bash
# Installs what os/k8s/validate.py needs, idempotently and without root: the PyPI package
# kubernetes-validate (the Kubernetes JSON schemas of v1.25 to v1.37, plain and strict, with
# jsonschema and PyYAML) into ~/.cache/cognitive-internet/python/k8s, outside the clone and
# outside the system's Python (pip --target: nothing else on the machine changes).
set -euo pipefail

VERSION="${KUBERNETES_VALIDATE_VERSION:-1.37.0}"
LIB="${K8S_VALIDATE_LIB:-${COGNITIVE_CACHE:-$HOME/.cache/cognitive-internet}/python/k8s}"

if [ -f "$LIB/kubernetes_validate-$VERSION.dist-info/METADATA" ] &&
	PYTHONPATH="$LIB" python3 -c 'import kubernetes_validate, yaml' 2>/dev/null; then
	exit 0
fi
python3 -m pip --version >/dev/null 2>&1 || { echo "os/k8s/deps.sh: python3 with pip is needed (apt-get install python3-pip)" >&2; exit 1; }
rm -rf "$LIB"
mkdir -p "$LIB"
python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
	--target "$LIB" "kubernetes-validate==$VERSION"
echo "os/k8s/deps.sh: kubernetes-validate $VERSION in $LIB"
