#!/usr/bin/env bash
# Installs what zombienet/lib/otlp/receiver.py needs, idempotently and without root: the
# OpenTelemetry protocol's Python classes (`opentelemetry-proto`) and `protobuf`, into
# ~/.cache/cognitive-internet/python/otlp (scripts/pip-cache.sh). Prints the directory to put on
# PYTHONPATH.
set -euo pipefail
PIP_CACHE_LIB="${OTLP_PYTHON_LIB:-}" exec bash "$(dirname "${BASH_SOURCE[0]}")/../../../scripts/pip-cache.sh" otlp \
	'from opentelemetry.proto.collector.trace.v1 import trace_service_pb2' \
	"opentelemetry-proto==${OTLP_PROTO_VERSION:-1.45.2}" "protobuf==${PROTOBUF_VERSION:-7.36.2}"
