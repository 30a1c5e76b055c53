#!/usr/bin/env python3
"""An OTLP/HTTP trace receiver for the tests, built on OpenTelemetry's own protocol classes.

Accepts `POST /v1/traces` with either encoding the OTLP specification defines: protobuf
(`application/x-protobuf`) or JSON (`application/json`, trace and span ids in hex). Every
request is decoded into `ExportTraceServiceRequest` from the `opentelemetry-proto` package,
strictly: an unknown field, a wrong type or a malformed id is answered 400 and kept out. Spans
received are served back as JSON by `GET /spans` (a list of
`{traceId, spanId, parentSpanId, name, startTimeUnixNano, endTimeUnixNano, service, instance,
attributes}`), for the test to assert on.

    PYTHONPATH="$(bash zombienet/lib/otlp/deps.sh)" python3 zombienet/lib/otlp/receiver.py --port 4318

No collector binary with an OTLP receiver can be installed here (docs/observability.md), so the
tests use this one.
"""

import argparse
import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

SPANS = []
LOCK = threading.Lock()
ID_FIELDS = ("traceId", "spanId", "parentSpanId")


def hex_ids_to_base64(value):
    """OTLP JSON carries ids as hex; protobuf's JSON mapping wants bytes as base64."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in ID_FIELDS and isinstance(item, str):
                out[key] = base64.b64encode(bytes.fromhex(item)).decode() if item else ""
            else:
                out[key] = hex_ids_to_base64(item)
        return out
    if isinstance(value, list):
        return [hex_ids_to_base64(item) for item in value]
    return value


def attribute_value(any_value):
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


def collect(request):
    for resource_spans in request.resource_spans:
        resource = {a.key: attribute_value(a.value) for a in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                if len(span.trace_id) != 16 or len(span.span_id) != 8:
                    raise ValueError(f"span {span.name!r}: ids of {len(span.trace_id)} and {len(span.span_id)} bytes")
                yield {
                    "traceId": span.trace_id.hex(),
                    "spanId": span.span_id.hex(),
                    "parentSpanId": span.parent_span_id.hex(),
                    "name": span.name,
                    "startTimeUnixNano": span.start_time_unix_nano,
                    "endTimeUnixNano": span.end_time_unix_nano,
                    "service": resource.get("service.name"),
                    "instance": resource.get("service.instance.id"),
                    "attributes": {a.key: attribute_value(a.value) for a in span.attributes},
                }


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *_):
        pass

    def answer(self, status, body, content_type="application/json"):
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        if self.path != "/v1/traces":
            return self.answer(404, b'{"error":"not found"}')
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        kind = (self.headers.get("content-type") or "").split(";")[0].strip()
        request = trace_service_pb2.ExportTraceServiceRequest()
        try:
            if kind == "application/x-protobuf":
                request.ParseFromString(body)
            elif kind == "application/json":
                json_format.ParseDict(hex_ids_to_base64(json.loads(body)), request)
            else:
                return self.answer(415, b'{"error":"unsupported content-type"}')
            spans = list(collect(request))
        except Exception as e:  # a malformed export is refused whole
            return self.answer(400, json.dumps({"error": str(e)}).encode())
        with LOCK:
            SPANS.extend(spans)
        response = trace_service_pb2.ExportTraceServiceResponse()
        if kind == "application/json":
            return self.answer(200, json_format.MessageToJson(response).encode())
        return self.answer(200, response.SerializeToString(), kind)

    def do_GET(self):
        if self.path != "/spans":
            return self.answer(404, b'{"error":"not found"}')
        with LOCK:
            body = json.dumps(SPANS).encode()
        return self.answer(200, body)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    print(f"OTLP receiver on http://{args.host}:{args.port}/v1/traces", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
