"""Tracebacks people can live with: none for the failures the bot understands (a service
unreachable, a refusal, the database away: their one line says it all), and for the
others the first of each kind per minute; later ones of that kind are one line."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import jenkins
from github import GithubException
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import OperationalError

from devexbot.errors import DevexbotError, one_line

UNDERSTOOD: tuple[type[BaseException], ...] = (
    OSError,  # unreachable, timed out, connection reset (urllib's and requests' errors too)
    SlackApiError, GithubException, jenkins.JenkinsException,
    OperationalError,  # the database is away
    DevexbotError,
)
WINDOW = 60.0  # seconds: one traceback per kind of error in this long


def understood(exc: BaseException) -> bool:
    """A failure the bot expects, said fully by its one line."""
    return isinstance(exc, UNDERSTOOD)


class Tracebacks(logging.Filter):
    """On the log's handler: turns a record's exception into one line on the record
    unless it is the first of its kind in `window` seconds and not understood. `clock`
    is monotonic seconds (a test steps it)."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic,
                 window: float = WINDOW) -> None:
        super().__init__()
        self.clock, self.window = clock, window
        self._shown: dict[type[BaseException], float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None:
            return True
        kind = type(exc)
        if understood(exc):
            note = ""
        else:
            now = self.clock()
            shown = self._shown.get(kind)
            if shown is None or now - shown >= self.window:
                self._shown[kind] = now
                return True  # the first of its kind this minute: its traceback is written
            note = " (its traceback was written less than a minute ago)"
        record.msg, record.args = f"{record.getMessage()}: {one_line(exc)}{note}", None
        record.exc_info, record.exc_text = None, None
        return True
