"""Traces from a webhook delivery to the Slack update it caused, over OpenTelemetry.

Off unless the `otel` extra is installed and the standard `OTEL_*` variables ask for
traces (`tracer_from_environment`); off, every span here is a shared object that does
nothing. The rest of the bot uses only this package, never `opentelemetry` itself.
"""

from devexbot.tracing.setup import tracer_from_environment, wanted_exporters
from devexbot.tracing.spans import NULL_TRACER, AttributeValue, NullTracer, Span, Tracer

__all__ = ["NULL_TRACER", "AttributeValue", "NullTracer", "Span", "Tracer",
           "tracer_from_environment", "wanted_exporters"]
