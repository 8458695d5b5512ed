"""Whether the standard `OTEL_*` variables turn tracing on, and the tracer they ask for.

On when the `otel` extra is installed, `OTEL_SDK_DISABLED` is not `true`, and either an
OTLP endpoint is set (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`)
or `OTEL_TRACES_EXPORTER` names `otlp` or `console`. The rest of `OTEL_*` (service name,
resource attributes, sampler, headers, timeouts) is read by the SDK as usual.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from devexbot.tracing.spans import NULL_TRACER, Tracer

log = logging.getLogger(__name__)

EXPORTERS = ("otlp", "console")  # what the bot can send traces to
ENDPOINTS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


def wanted_exporters(environ: Mapping[str, str]) -> tuple[str, ...]:
    """The exporters the environment asks for, of those the bot has (none: tracing off)."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return ()
    named = [name.strip().lower() for name in environ.get("OTEL_TRACES_EXPORTER", "").split(",")
             if name.strip()]
    if not named:  # unset: the SDKs' default is OTLP, so an endpoint is what turns it on
        return ("otlp",) if any(environ.get(variable, "").strip() for variable in ENDPOINTS) \
            else ()
    if "none" in named:
        return ()
    unknown = [name for name in named if name not in EXPORTERS]
    if unknown:
        log.warning("OTEL_TRACES_EXPORTER names %s: the bot sends traces only to %s",
                    ", ".join(unknown), " or ".join(EXPORTERS))
    return tuple(dict.fromkeys(name for name in named if name in EXPORTERS))


def tracer_from_environment(environ: Mapping[str, str] | None = None) -> Tracer:
    """The tracer `OTEL_*` asks for (read from the process's environment, as every
    OpenTelemetry SDK reads it), or the null tracer."""
    environ = os.environ if environ is None else environ
    exporters = wanted_exporters(environ)
    if not exporters:
        return NULL_TRACER
    try:
        # The optional extra: imported only when asked for, so that without it (or with
        # tracing off) the bot neither needs nor loads the SDK.
        from devexbot.tracing.sdk import sdk_tracer
    except ImportError as exc:
        log.warning("OTEL_* asks for traces, but the OpenTelemetry SDK is not installed "
                    "(%s; pip install 'devexbot[otel]'): tracing is off", exc)
        return NULL_TRACER
    return sdk_tracer(exporters, environ)
