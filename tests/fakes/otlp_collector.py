"""FakeCollector: an OpenTelemetry collector's OTLP/HTTP trace receiver on 127.0.0.1.

    with FakeCollector() as collector:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url)
        ... the bot traces, and its tracer is closed (which sends what it buffered) ...
        assert collector.span_names() == [...]

`POST /v1/traces` takes an `ExportTraceServiceRequest` (protobuf, gzip or not) and answers
an empty `ExportTraceServiceResponse`, as the collector's receiver does.
"""

from __future__ import annotations

import gzip
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        if self.path != "/v1/traces":
            self.send_error(404)
            return
        self.server.fake.received(ExportTraceServiceRequest.FromString(body))
        answer = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeCollector) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


class FakeCollector:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: list[ExportTraceServiceRequest] = []
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def received(self, request: ExportTraceServiceRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def resources(self) -> list[dict[str, str]]:
        """Each exported batch's resource attributes (string values)."""
        with self._lock:
            return [{kv.key: kv.value.string_value for kv in spans.resource.attributes}
                    for request in self.requests for spans in request.resource_spans]

    def span_names(self) -> list[str]:
        with self._lock:
            return [span.name for request in self.requests
                    for spans in request.resource_spans
                    for scope in spans.scope_spans for span in scope.spans]

    def __enter__(self) -> FakeCollector:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
