"""What one connection may take from the server before its request is in: how long its
request head and its body may take, how large its head may grow, and how many connections
may be open at once.

uvicorn (with httptools) bounds none of these: a client that sends half a request line and
waits holds its connection, and the file behind it, for ever, and ~1,000 of them use up the
usual open-file limit, after which nobody's request is accepted. Here a connection whose
head or body is late is answered 408 and closed, a head over MAX_HEAD_BYTES is answered 431,
and when every place is taken, the connection that has waited longest for its request to
arrive gives its place to the new one: a staller cannot keep out a client that sends its
request at once (a webhook, a health check). A connection whose request is in (the app is
working on it, or streaming the live page) is never given up for another.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from dataclasses import dataclass
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from devexbot.settings import Settings

log = logging.getLogger(__name__)

MAX_HEAD_BYTES = 64 * 1024  # request line and headers; browsers send a few KiB at most
SPARE_FILES = 64  # open files kept for the database, logs and outgoing calls


@dataclass(frozen=True)
class ConnectionLimits:
    max_connections: int = 1000
    head_timeout: float = 10.0  # seconds from connecting (or a request's first byte) to its head
    body_timeout: float = 30.0  # seconds from a request's head to the end of its body

    @classmethod
    def of(cls, settings: Settings) -> ConnectionLimits:
        return cls(max_connections=settings.devexbot_max_connections,
                   head_timeout=settings.devexbot_header_timeout,
                   body_timeout=settings.devexbot_body_timeout)

    def within_open_files(self) -> ConnectionLimits:
        """These limits with `max_connections` lowered to what the process may open, after
        raising its soft open-file limit as far as the hard one allows."""
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or hard > soft):
            try:
                resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
                soft = hard
            except (ValueError, OSError):
                pass
        room = self.max_connections if soft == resource.RLIM_INFINITY \
            else max(1, soft - SPARE_FILES)
        if room >= self.max_connections:
            return self
        log.warning("DEVEXBOT_MAX_CONNECTIONS=%d is more than this process may open (%d "
                    "files, %d kept for the database and logs): at most %d connections",
                    self.max_connections, soft, SPARE_FILES, room)
        return ConnectionLimits(room, self.head_timeout, self.body_timeout)


def guarded_protocol(limits: ConnectionLimits) -> type[asyncio.Protocol]:
    """uvicorn's `http` protocol class, keeping `limits`."""
    return type("GuardedHttp", (GuardedHttp,), {"limits": limits})


# Where a connection is: waiting for a request (IDLE), reading its head (HEAD) or its body
# (BODY), or the request is in and the app has it (APP).
IDLE, HEAD, BODY, APP = "idle", "head", "body", "app"
_WAITING = (IDLE, HEAD, BODY)


class GuardedHttp(HttpToolsProtocol):
    """uvicorn's httptools protocol with deadlines on a request's head and body, a cap on
    its head's size, and a cap on open connections."""

    limits: ClassVar[ConnectionLimits] = ConnectionLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._phase = IDLE
        self._since = self.loop.time()
        self._head_bytes = 0
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if not self._make_room():
            self.transport = transport  # for connection_lost
            _answer(transport, 503, "too many connections: try again shortly")
            return
        super().connection_made(transport)
        self._enter(IDLE, self.limits.head_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._phase in (IDLE, HEAD):
            self._head_bytes += len(data)
        super().data_received(data)
        if self._phase == HEAD and self._head_bytes > MAX_HEAD_BYTES:
            self._refuse(431, f"the request head is over {MAX_HEAD_BYTES} bytes")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._enter(HEAD, self.limits.head_timeout)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._enter(BODY, self.limits.body_timeout)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        if self.cycle is not None and self.cycle.response_complete:
            # Answered before the body was in: uvicorn's keep-alive timer, armed then, was
            # stopped by the body's bytes.
            self._enter(IDLE, self.limits.head_timeout)
        else:
            self._enter(APP, None)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._phase == APP:
            self._enter(IDLE, self.limits.head_timeout)  # uvicorn's keep-alive comes first

    def _enter(self, phase: str, timeout: float | None) -> None:
        """Move to `phase`; close the connection if it is still there `timeout` s from now."""
        self._phase, self._since = phase, self.loop.time()
        if phase in (IDLE, BODY):
            self._head_bytes = 0
        self._cancel_deadline()
        if timeout is not None:
            self._deadline = self.loop.call_later(timeout, self._late, phase)

    def _late(self, phase: str) -> None:
        self._deadline = None
        if self._phase != phase or self.transport.is_closing():
            return
        if phase == BODY:
            self._refuse(408, f"the request body did not arrive within "
                              f"{self.limits.body_timeout:g} s")
        else:
            self._refuse(408, f"the request head did not arrive within "
                              f"{self.limits.head_timeout:g} s")

    def _refuse(self, status: int, reason: str) -> None:
        """Close this connection, answering `reason` if a request is waiting for an answer:
        in HEAD, once the previous one is answered; in BODY, unless the app has begun one."""
        if self.transport.is_closing():
            return
        log.debug("%s from %s: %s", status, self.client, reason)
        cycle = self.cycle
        if self._phase == HEAD:
            waiting = cycle is None or cycle.response_complete
        else:
            waiting = self._phase == BODY and (cycle is None or not cycle.response_started)
        if waiting:
            _answer(self.transport, status, reason)
        else:
            self.transport.close()

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _make_room(self) -> bool:
        """True when this connection may be served: there is a free place, or the connection
        that has waited longest for its request gave up its place."""
        if len(self.connections) < self.limits.max_connections:
            return True
        open_ones = [c for c in self.connections if not c.transport.is_closing()]
        if len(open_ones) < self.limits.max_connections:
            return True
        waiting = [c for c in open_ones if isinstance(c, GuardedHttp) and c._phase in _WAITING]
        if not waiting:
            log.warning("%d connections open, each with a request in progress: refusing "
                        "another (DEVEXBOT_MAX_CONNECTIONS)", len(open_ones))
            return False
        oldest = min(waiting, key=lambda c: c._since)
        oldest._refuse(503, "too many connections: this one waited longest for its request")
        return True


def _answer(transport: asyncio.Transport, status: int, reason: str) -> None:
    """A one-line plain-text answer written straight to the connection, which then closes."""
    phrase = {408: "Request Timeout", 431: "Request Header Fields Too Large",
              503: "Service Unavailable"}[status]
    body = reason.encode() + b"\n"
    transport.write(b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\n"
                    b"content-length: %d\r\nconnection: close\r\n\r\n%s"
                    % (status, phrase.encode(), len(body), body))
    transport.close()
