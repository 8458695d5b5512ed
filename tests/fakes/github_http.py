"""The local HTTP service FakeGitHub and FakeJenkins are built on: server, call log, faults.

A subclass answers one parsed `Request` with a `Reply` (`_answer`); this base runs a
`ThreadingHTTPServer` on 127.0.0.1 (port 0) in a daemon thread, logs every call with
timestamps, and applies scripted faults and delays around the answer.

Fault targets (`fail_next`, `slow_next`) are `"*"`, an HTTP verb (`"PUT"`), a path glob
(`"/repos/*/pulls/*/merge"`, `*` also matches `/`) or both (`"PUT /repos/*/pulls/*/merge"`).
"""

from __future__ import annotations

import copy
import fnmatch
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

VERBS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"})
ANY = "*"


@dataclass
class Request:
    """One HTTP request as a handler sees it; `path` is unquoted and has no service prefix."""

    method: str
    path: str
    raw_path: str  # as sent, with its prefix and query string
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    user: str | None = None  # who the service authenticated, set by the subclass

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def json(self) -> Any:
        """The body parsed as JSON (`None` when empty); raises ValueError when malformed."""
        return json.loads(self.body) if self.body.strip() else None


@dataclass
class Reply:
    """An answer: `body` is serialised as JSON unless it is `bytes` or `str`."""

    status: int
    body: Any = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


class HttpError(Exception):
    """Raised by handlers to answer an error `Reply`."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(f"{reply.status}: {reply.body!r}")
        self.reply = reply


@dataclass
class Call:
    """One request the fake received: what was asked, when, by whom, and what it answered."""

    method: str
    path: str  # unquoted, without the service prefix or query string
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    received_at: float  # wall clock
    monotonic: float  # time.monotonic() at receipt, for spacing checks
    user: str | None = None  # authenticated identity, when the service knew it
    status: int | None = None  # HTTP status answered; None while in flight or if dropped
    response: bytes | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    answered_at: float | None = None  # wall clock when answered (or dropped)
    fault: str | None = None  # "fail", "slow", "drop" when scripted

    def json(self) -> Any:
        """The request body parsed as JSON (None when empty)."""
        return json.loads(self.body) if self.body.strip() else None

    def response_json(self) -> Any:
        return json.loads(self.response) if self.response else None

    @property
    def duration(self) -> float | None:
        return None if self.answered_at is None else self.answered_at - self.received_at


@dataclass(frozen=True)
class Fault:
    """One scripted misbehaviour.

    kind "fail": answer `reply` and do nothing. kind "slow": do the call, then hold the
    answer `seconds`. kind "drop": hold `seconds`, do nothing, close without an answer.
    """

    kind: str
    reply: Reply | None = None
    seconds: float = 0.0


def parse_target(target: str) -> tuple[str, str]:
    """`"PUT /x/*"` -> ("PUT", "/x/*"); `"PUT"` -> ("PUT", "*"); `"/x"` -> ("*", "/x")."""
    verb, _, glob = target.strip().partition(" ")
    if verb.upper() in VERBS:
        return verb.upper(), glob.strip() or ANY
    if verb == ANY and glob:
        return ANY, glob.strip()
    return ANY, target.strip() or ANY


@dataclass
class _Pending:
    verb: str
    glob: str
    fault: Fault
    remaining: int


class FaultScript:
    """Thread-safe list of pending faults, each for a target and a number of calls."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[_Pending] = []

    def push(self, target: str, fault: Fault, times: int) -> None:
        if times < 1:
            raise ValueError("times must be at least 1")
        verb, glob = parse_target(target)
        with self._lock:
            self._pending.append(_Pending(verb, glob, fault, times))

    def take(self, method: str, path: str) -> Fault | None:
        """The first pending fault whose target matches this call (it is used up)."""
        with self._lock:
            for entry in self._pending:
                if entry.verb in (ANY, method) and fnmatch.fnmatchcase(path, entry.glob):
                    entry.remaining -= 1
                    if entry.remaining == 0:
                        self._pending.remove(entry)
                    return entry.fault
        return None

    def pending(self) -> int:
        with self._lock:
            return sum(entry.remaining for entry in self._pending)

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()


def matches(call: Call, method: str | None, path: str | None) -> bool:
    if method is not None and call.method != method.upper():
        return False
    return path is None or fnmatch.fnmatchcase(call.path, path)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in one segment, at once: with Nagle and a client's delayed
    # ACK, a keep-alive connection's second answer would otherwise wait 40-250 ms.
    disable_nagle_algorithm = True
    wbufsize = -1
    server: _Server

    def do_GET(self) -> None:
        self.server.fake._serve(self)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def reply(
        self, status: int, body: bytes, content_type: str, headers: Mapping[str, str]
    ) -> None:
        try:
            self.send_response(status)
            if status != 204:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True  # the client gave up (timed out) before the answer


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 drops connections of concurrent clients

    def __init__(self, fake: HttpFake) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client hanging up mid-answer is part of the tests, not an error


class HttpFake:
    """Base of a fake service: lifecycle, call log, faults. Subclasses implement `_answer`.

    `delay` (seconds, settable at any time) holds every answer that long after the call
    took effect, e.g. "GitHub takes 5 s per call" while another fake answers at once.
    `hold_answers()` holds every answer until `release_answers()` (or `stop()`).
    """

    thread_name = "fake-http"
    path_prefix = ""  # e.g. "/api/v3": requests outside it are 404, inside it are stripped

    def __init__(self, *, delay: float = 0.0) -> None:
        self.delay = delay
        self.faults = FaultScript()
        self._calls: list[Call] = []
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._released = threading.Event()
        self._released.set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle -------------------------------------------------------------------

    def start(self) -> Any:
        if self._server is None:
            self._stopping.clear()
            self._server = _Server(self)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=self.thread_name,
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # wakes handlers held by slow_next or delay
        self._released.set()  # and by hold_answers
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>` (no trailing slash, no prefix)."""
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # ---- faults ----------------------------------------------------------------------

    def hold_answers(self) -> None:
        """Answer nothing (calls are still taken and logged) until `release_answers`."""
        self._released.clear()

    def release_answers(self) -> None:
        self._released.set()

    def _fail_next(self, target: str, reply: Reply, times: int) -> None:
        self.faults.push(target, Fault("fail", reply=reply), times)

    def slow_next(
        self, target: str, seconds: float, times: int = 1, *, effective: bool = True
    ) -> None:
        """Hold the answer to the next `times` calls matching `target` for `seconds`.

        effective=True: the call takes effect at once, only the answer is late (a client
        that times out does not know it worked). effective=False: nothing happens and the
        connection is closed without an answer after `seconds`.
        """
        self.faults.push(target, Fault("slow" if effective else "drop", seconds=seconds), times)

    # ---- call log --------------------------------------------------------------------

    def calls(self, method: str | None = None, path: str | None = None) -> list[Call]:
        """Every call received (of `method`, whose path matches the glob `path`), in order."""
        with self._changed:
            return copy.deepcopy([c for c in self._calls if matches(c, method, path)])

    def wait_for_calls(
        self,
        method: str | None = None,
        path: str | None = None,
        count: int = 1,
        timeout: float = 2.0,
    ) -> list[Call]:
        """Block until `count` matching calls were answered; fail the test after `timeout`."""

        def answered() -> list[Call]:
            return [c for c in self._calls if matches(c, method, path) and c.answered_at]

        with self._changed:
            if not self._changed.wait_for(lambda: len(answered()) >= count, timeout=timeout):
                seen = [f"{c.method} {c.path}" for c in self._calls]
                raise AssertionError(
                    f"{count} answered {method or '*'} {path or '*'} call(s) expected "
                    f"within {timeout}s; saw {seen}"
                )
            return copy.deepcopy(answered())

    def wait_for_received(self, count: int = 1, timeout: float = 10.0) -> list[Call]:
        """Block until `count` calls arrived, answered or not (see `hold_answers`)."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._calls) >= count, timeout=timeout):
                raise AssertionError(f"{count} call(s) expected within {timeout}s; "
                                     f"saw {len(self._calls)}")
            return copy.deepcopy(self._calls)

    def _forget_calls(self) -> None:
        with self._changed:
            self._calls.clear()

    # ---- HTTP ------------------------------------------------------------------------

    def _answer(self, request: Request) -> Reply:
        raise NotImplementedError

    def _unprefixed(self, path: str) -> str | None:
        """The route a path outside the service prefix is served as (None: not served)."""
        return None

    def _extra_headers(self, request: Request, reply: Reply) -> dict[str, str]:
        """Headers every answer of the service carries (request ids, rate limits…)."""
        return {}

    def _serve(self, handler: _Handler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        path = unquote(parts.path)
        prefix = self.path_prefix
        outside = bool(prefix) and not (path == prefix or path.startswith(prefix + "/"))
        if prefix and not outside:
            path = path[len(prefix) :] or "/"
        elif outside and self._unprefixed(path) is not None:
            path, outside = self._unprefixed(path) or path, False
        headers = {name.lower(): value for name, value in handler.headers.items()}
        query = parse_qs(parts.query, keep_blank_values=True)
        request = Request(handler.command, path, handler.path, query, headers, body)
        call = Call(request.method, path, query, headers, body, time.time(), time.monotonic())
        with self._changed:
            self._calls.append(call)
            self._changed.notify_all()
        fault = self.faults.take(request.method, path)
        if fault is not None and fault.kind == "drop":
            self._stopping.wait(fault.seconds)
            handler.close_connection = True
            self._answered(call, None, None, {}, fault.kind, None)
            return
        if outside:  # a client configured without the prefix must not work by accident
            reply = Reply(404, b"Not Found", "text/plain; charset=utf-8")
        elif fault is not None and fault.kind == "fail" and fault.reply is not None:
            reply = fault.reply
        else:
            try:
                reply = self._answer(request)
            except HttpError as exc:
                reply = exc.reply
        hold = self.delay + (fault.seconds if fault is not None else 0.0)
        if hold > 0:
            self._stopping.wait(hold)
        self._released.wait()
        encoded = reply.encoded()
        headers_out = {**self._extra_headers(request, reply), **reply.headers}
        # Record before replying, so a client holding its answer finds the call logged.
        label = fault.kind if fault is not None else None
        self._answered(call, reply.status, encoded, headers_out, label, request.user)
        handler.reply(reply.status, encoded, reply.content_type, headers_out)

    def _answered(
        self,
        call: Call,
        status: int | None,
        body: bytes | None,
        headers: dict[str, str],
        fault: str | None,
        user: str | None,
    ) -> None:
        with self._changed:
            call.status, call.response, call.response_headers = status, body, headers
            call.answered_at, call.fault, call.user = time.time(), fault, user
            self._changed.notify_all()
