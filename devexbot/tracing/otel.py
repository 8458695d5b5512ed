"""The `Tracer` over the OpenTelemetry API (`opentelemetry-api`, part of the `otel` extra).

Trace context crosses threads and replicas as the W3C `traceparent` string: a delivery
stores its own in the database, and the flush that publishes the card continues from it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, SpanContext, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from devexbot import __version__
from devexbot.tracing.spans import AttributeValue, Span, SpanKind

_PROPAGATOR = TraceContextTextMapPropagator()
_KINDS = {"internal": trace.SpanKind.INTERNAL, "server": trace.SpanKind.SERVER,
          "client": trace.SpanKind.CLIENT}
TRACER_NAME = "devexbot"


class OtelTracer:
    """Spans of one OpenTelemetry tracer; `on_close` flushes its provider (if it owns it)."""

    enabled = True

    def __init__(self, tracer: trace.Tracer, *, on_close: Callable[[], object] = lambda: None
                 ) -> None:
        self._tracer = tracer
        self._on_close = on_close

    @classmethod
    def of(cls, provider: trace.TracerProvider, *, owned: bool = False) -> OtelTracer:
        """The bot's tracer from `provider`; `owned`: closing the tracer shuts it down."""
        shutdown = getattr(provider, "shutdown", None) if owned else None
        return cls(provider.get_tracer(TRACER_NAME, __version__),
                   on_close=shutdown or (lambda: None))

    def span(self, name: str, *, attributes: Mapping[str, AttributeValue] | None = None,
             parent: str | None = None, links: Sequence[str] = (),
             kind: SpanKind = "internal") -> AbstractContextManager[Span]:
        return self._span(name, attributes, parent, links, kind)

    @contextmanager
    def _span(self, name: str, attributes: Mapping[str, AttributeValue] | None,
              parent: str | None, links: Sequence[str], kind: SpanKind) -> Iterator[Span]:
        linked = [Link(found) for found in map(span_context, links) if found is not None]
        with self._tracer.start_as_current_span(
                name, context=_context(parent) if parent else None, kind=_KINDS[kind],
                attributes=attributes, links=linked,
                # The failure is said below, without the exception's text or traceback:
                # those can hold what a span must not (a payload, a message's text).
                record_exception=False, set_status_on_exception=False) as span:
            try:
                yield span
            except Exception as exc:
                span.set_attribute("error.type", type(exc).__qualname__)
                span.set_status(Status(StatusCode.ERROR, _reason(exc)))
                raise

    def traceparent(self) -> str | None:
        carrier: dict[str, str] = {}
        _PROPAGATOR.inject(carrier)
        return carrier.get("traceparent")

    def close(self) -> None:
        self._on_close()


def span_context(traceparent: str) -> SpanContext | None:
    """The span a `traceparent` names (None if it names none)."""
    found = trace.get_current_span(_context(traceparent)).get_span_context()
    return found if found.is_valid else None


def _context(traceparent: str) -> Context:
    return _PROPAGATOR.extract({"traceparent": traceparent})


def _reason(exc: Exception) -> str:
    """Our own errors' one-line message (written for the sender); else the error's type."""
    message = getattr(exc, "message", None)
    return message if isinstance(message, str) else type(exc).__qualname__
