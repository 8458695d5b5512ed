"""The fields every log record gets: the delivery and card of `devexbot.logs.context`,
and the OpenTelemetry trace it belongs to when OpenTelemetry is installed and a span is
current."""

from __future__ import annotations

import logging

from devexbot.logs.context import card_key, delivery_id

try:
    from opentelemetry import trace as _otel_trace
except ImportError:  # tracing is an optional extra
    _otel_trace = None  # type: ignore[assignment]


def current_trace_id() -> str | None:
    """The current span's trace id, as 32 hex digits (None: no span, or no OpenTelemetry)."""
    if _otel_trace is None:
        return None
    context = _otel_trace.get_current_span().get_span_context()
    return f"{context.trace_id:032x}" if context.is_valid else None


class ContextFields(logging.Filter):
    """Puts `delivery_id`, `card` and `trace_id` on each record (None where they do not
    apply), for the formatter to write."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.delivery_id = delivery_id.get()
        record.card = card_key.get()
        record.trace_id = current_trace_id()
        return True
