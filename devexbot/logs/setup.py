"""The process's log, set up once by the command line: every line (uvicorn's too) goes to
stderr through one handler, as text or as JSON lines."""

from __future__ import annotations

import logging
import sys
from typing import Literal

from devexbot.logs.fields import ContextFields
from devexbot.logs.json_lines import JsonLines
from devexbot.logs.tracebacks import Tracebacks

TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LogFormat = Literal["text", "json"]


def configure_logging(level: str, log_format: LogFormat = "text") -> logging.Handler:
    """Route the root logger to stderr in `log_format`; its one handler, returned."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextFields())
    handler.addFilter(Tracebacks())
    handler.setFormatter(JsonLines() if log_format == "json" else logging.Formatter(TEXT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.captureWarnings(True)
    return handler
