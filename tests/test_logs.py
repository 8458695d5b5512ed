"""Logs people can live with: a traceback only for what the bot does not understand, once
per kind a minute; JSON lines that carry the delivery, the card and the trace."""

from __future__ import annotations

import contextvars
import json
import logging
import urllib.error
from collections.abc import Iterator

import pytest

from devexbot.logs.context import on_delivery
from devexbot.logs.fields import ContextFields
from devexbot.logs.json_lines import JsonLines
from devexbot.logs.tracebacks import Tracebacks
from tests.bot import TestBot
from tests.fakes.slack_api import FakeSlack
from tests.github_sender import load_fixture


class Lines(logging.Handler):
    """What a log handler writes, line by line."""

    def __init__(self, formatter: logging.Formatter) -> None:
        super().__init__()
        self.setFormatter(formatter)
        self.written: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.written.append(self.format(record))


class Minutes:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def minutes() -> Minutes:
    return Minutes()


@pytest.fixture
def written(minutes: Minutes) -> Iterator[Lines]:
    handler = Lines(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(Tracebacks(clock=minutes))
    log = logging.getLogger("test.tracebacks")
    log.addHandler(handler)
    log.propagate = False
    yield handler
    log.removeHandler(handler)
    log.propagate = True


def fail(error: Exception) -> None:
    try:
        raise error
    except Exception:
        logging.getLogger("test.tracebacks").exception("flushing the card failed")


def test_a_traceback_per_kind_of_unexpected_error_per_minute(written: Lines,
                                                             minutes: Minutes) -> None:
    fail(KeyError("ts"))
    fail(KeyError("ts"))
    fail(ValueError("bad"))  # another kind: its own traceback
    minutes.now += 59
    fail(KeyError("channel"))
    minutes.now += 1
    fail(KeyError("ts"))  # a minute after the first: its traceback again
    tracebacks = [line for line in written.written if "Traceback" in line]
    assert len(tracebacks) == 3
    assert [line.splitlines()[0] for line in written.written] == [
        "ERROR flushing the card failed",
        "ERROR flushing the card failed: KeyError: 'ts' (its traceback was written less than "
        "a minute ago)",
        "ERROR flushing the card failed",
        "ERROR flushing the card failed: KeyError: 'channel' (its traceback was written less "
        "than a minute ago)",
        "ERROR flushing the card failed",
    ]


@pytest.mark.parametrize("error", [
    urllib.error.URLError(ConnectionRefusedError(111, "Connection refused")),
    TimeoutError("timed out"),
    ConnectionResetError(104, "Connection reset by peer"),
])
def test_an_understood_failure_is_one_line_without_a_traceback(written: Lines,
                                                               error: Exception) -> None:
    fail(error)
    fail(error)
    assert len(written.written) == 2
    for line in written.written:
        assert "\n" not in line
        assert line.startswith(f"ERROR flushing the card failed: {type(error).__name__}: ")


# ---- JSON lines ----------------------------------------------------------------------------


@pytest.fixture
def json_lines() -> Iterator[Lines]:
    handler = Lines(JsonLines())
    handler.addFilter(ContextFields())
    handler.addFilter(Tracebacks())
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


def test_json_lines_carry_the_card_being_flushed(bot: TestBot, slack: FakeSlack,
                                                 json_lines: Lines) -> None:
    slack.refuse_token()
    bot.deliver("check_run", load_fixture("check_run.completed"))
    bot.clock.advance(2)
    bot.flush()
    parsed = [json.loads(line) for line in json_lines.written]  # every line is one object
    (refused,) = [p for p in parsed if p["logger"] == "devexbot.publish.outbox"]
    assert refused["level"] == "warning"
    assert refused["card"] == "octo-org/octo-app@6dcb09b"
    assert refused["message"].startswith("card octo-org/octo-app@6dcb09b: Slack refused it")
    assert set(refused) >= {"time", "level", "logger", "message"}
    assert "delivery_id" not in refused and "trace_id" not in refused  # none applies here


def test_json_lines_carry_the_delivery_and_the_trace(json_lines: Lines) -> None:
    trace = pytest.importorskip("opentelemetry.trace")
    span = trace.NonRecordingSpan(trace.SpanContext(
        trace_id=0x4BF92F3577B34DA6A3CE929D0E0E4736, span_id=0x00F067AA0BA902B7,
        is_remote=False, trace_flags=trace.TraceFlags(1)))

    def take_in() -> None:  # what a request handler's context holds
        on_delivery("72d3162e-cc78-11e3-81ab-4c9367dc0958")
        with trace.use_span(span):
            try:
                raise KeyError("ts")
            except KeyError:
                logging.getLogger("devexbot.test").exception("storing the delivery failed")

    contextvars.copy_context().run(take_in)
    (line,) = [json.loads(w) for w in json_lines.written]
    assert line["delivery_id"] == "72d3162e-cc78-11e3-81ab-4c9367dc0958"
    assert line["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert line["level"] == "error"
    assert line["traceback"].startswith("Traceback (most recent call last):")
