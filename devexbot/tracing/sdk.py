"""The OpenTelemetry SDK's tracer provider, with the exporters `OTEL_*` asks for."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)

from devexbot import __version__
from devexbot.tracing.otel import OtelTracer

log = logging.getLogger(__name__)

DEFAULT_SERVICE_NAME = "devexbot"


def sdk_tracer(exporters: Sequence[str], environ: Mapping[str, str]) -> OtelTracer:
    """A tracer whose spans go out in batches, off the requests' and flushes' threads.

    The provider is the bot's own, not the process-wide default: only the bot's spans go
    through it (a library that traces with the global provider stays quiet)."""
    provider = TracerProvider(resource=resource())
    for name in exporters:
        provider.add_span_processor(BatchSpanProcessor(_exporter(name, environ)))
    log.info("tracing on: spans go to %s", ", ".join(exporters))
    return OtelTracer.of(provider, owned=True)


def resource() -> Resource:
    """`OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`, else the name `devexbot`."""
    found = Resource.create({SERVICE_VERSION: __version__})
    if str(found.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        found = found.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE_NAME}))
    return found


def _exporter(name: str, environ: Mapping[str, str]) -> SpanExporter:
    if name == "console":
        return ConsoleSpanExporter()
    protocol = (environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
                or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL") or "http/protobuf")
    if protocol.strip() != "http/protobuf":
        log.warning("OTEL_EXPORTER_OTLP_PROTOCOL=%s: the bot sends OTLP over HTTP "
                    "(http/protobuf) only; point the endpoint at the collector's HTTP port "
                    "(4318)", protocol)
    return OTLPSpanExporter()  # endpoint, headers, timeout: from OTEL_EXPORTER_OTLP_*
