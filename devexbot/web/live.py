"""Live cards: changes of any replica reach every open workspace within about a second.

Each process polls the database for cards whose `changed_at` moved (an indexed query, only
while someone watches; ingest in this process wakes it at once), renders each changed card
once, and fans it out to its open streams, each with its own filter. A stream is a
server-sent event stream: `card` events carry a card's HTML, `drop` events name a card
that no longer matches the stream's filter. Streams are bounded in number and queue, send
keep-alives, and end when the process shuts down.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from devexbot.http.metrics import Metrics
from devexbot.store import Card, Database
from devexbot.store.models import utcnow
from devexbot.web.filters import CardFilter
from devexbot.web.view import CardView

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LivePolicy:
    poll: float = 0.5  # seconds between polls while someone watches
    window: float = 10.0  # how far back each poll looks: commits land after their changed_at
    keepalive: float = 15.0
    max_streams: int = 100  # per process
    queue: int = 256  # changes a slow stream may lag behind before it is closed
    replay: int = 200  # changes a (re)connecting stream is sent from its `since`


@dataclass(frozen=True)
class Change:
    """One card's news, rendered once for every stream."""

    view: CardView
    html: str
    changed_at: datetime


@dataclass(eq=False)
class Stream:
    filter: CardFilter
    card_key: str | None = None  # a card page follows one card
    queue: asyncio.Queue[Change | None] = field(default_factory=asyncio.Queue)

    def wants(self, view: CardView) -> bool | None:
        """True: send the card; False: tell the page to drop it; None: say nothing."""
        if self.card_key is not None:
            return True if view.key == self.card_key else None
        return self.filter.matches(view)


class TooManyStreams(Exception):
    pass


class LiveCards:
    """The process's poller and fan-out of card changes, one per event loop that serves the
    app (a process serves one app; a test may serve several apps of one bot at a time)."""

    def __init__(
        self,
        db: Database,
        render: Callable[[Sequence[Card]], list[Change]],
        *,
        metrics: Metrics,
        policy: LivePolicy = LivePolicy(),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db, self.render, self.metrics, self.policy, self.clock = (
            db, render, metrics, policy, clock)
        self._feeds: dict[asyncio.AbstractEventLoop, _Feed] = {}

    async def start(self) -> None:
        """Poll for the streams this event loop serves, until `stop`."""
        feed = _Feed(self, asyncio.get_running_loop())
        self._feeds[feed.loop] = feed
        await feed.start()

    async def stop(self) -> None:
        feed = self._feeds.pop(asyncio.get_running_loop(), None)
        if feed is not None:
            await feed.stop()

    def close_streams_threadsafe(self, loop: asyncio.AbstractEventLoop) -> None:
        """End the streams `loop` serves (on shutdown: a browser never closes one itself)."""
        feed = self._feeds.get(loop)
        if feed is not None:
            feed.close_streams_threadsafe()

    def wake(self) -> None:
        """Poll now (called by ingest, from any thread)."""
        for feed in list(self._feeds.values()):
            feed.wake()

    def open(self, card_filter: CardFilter, *, card_key: str | None = None) -> Stream:
        """A stream of this event loop's changes; TooManyStreams past the policy's bound."""
        feed = self._feeds.get(asyncio.get_running_loop())
        if feed is None:
            raise TooManyStreams("not serving")
        if self.streams() >= self.policy.max_streams:
            raise TooManyStreams(f"{self.streams()} streams are open")
        return feed.open(card_filter, card_key)

    def streams(self) -> int:
        return sum(len(feed.streams) for feed in list(self._feeds.values()))

    def events(self, stream: Stream, *, since: datetime | None) -> AsyncIterator[str]:
        """The stream's text/event-stream body; it closes the stream when it ends."""
        return self._feeds[asyncio.get_running_loop()].events(stream, since=since)


class _Feed:
    """One event loop's poller and streams."""

    def __init__(self, live: LiveCards, loop: asyncio.AbstractEventLoop) -> None:
        self.live, self.loop = live, loop
        self.streams: set[Stream] = set()
        self._seen: dict[int, tuple[int, datetime]] = {}  # card id -> (version, changed_at)
        self._cursor: datetime | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    @property
    def policy(self) -> LivePolicy:
        return self.live.policy

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="devexbot-live-cards")

    async def stop(self) -> None:
        self.close_streams()  # also ends `_run` at its next turn, should the cancel be lost
        if self._task is not None:
            self._wake.set()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def close_streams(self) -> None:
        self._closing = True
        for stream in list(self.streams):
            with contextlib.suppress(asyncio.QueueFull):
                stream.queue.put_nowait(None)

    def close_streams_threadsafe(self) -> None:
        if not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.close_streams)

    def wake(self) -> None:
        if not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._wake.set)

    # --- streams ------------------------------------------------------------------------

    def open(self, card_filter: CardFilter, card_key: str | None) -> Stream:
        if self._closing:
            raise TooManyStreams("shutting down")
        stream = Stream(card_filter, card_key, asyncio.Queue(self.policy.queue))
        self.streams.add(stream)
        self.live.metrics.web_streams.set(self.live.streams())
        self._wake.set()
        return stream

    def close(self, stream: Stream) -> None:
        self.streams.discard(stream)
        self.live.metrics.web_streams.set(self.live.streams())

    async def events(self, stream: Stream, *, since: datetime | None) -> AsyncIterator[str]:
        try:
            yield "retry: 2000\n\n"
            if since is not None:
                for change in await asyncio.to_thread(self._changed_since, since):
                    if (text := _event(stream, change)) is not None:
                        yield text
            while True:
                try:
                    item: Change | None = await asyncio.wait_for(stream.queue.get(),
                                                                 self.policy.keepalive)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if item is None:
                    return
                if (text := _event(stream, item)) is not None:
                    yield text
        finally:
            self.close(stream)

    # --- polling ------------------------------------------------------------------------

    async def _run(self) -> None:
        # Not `while True`: on Python 3.11 `wait_for` can swallow the cancel that `stop`
        # sends when the wake-up lands at the same moment, and shutdown would wait forever.
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.policy.poll)
            self._wake.clear()
            if not self.streams:
                self._cursor = None  # nobody watches: no queries
                continue
            try:
                changes = await asyncio.to_thread(self._poll)
            except Exception:
                log.exception("polling for changed cards failed; retrying")
                await asyncio.sleep(self.policy.poll)
                continue
            for change in changes:
                self._fan_out(change)

    def _fan_out(self, change: Change) -> None:
        for stream in list(self.streams):
            if stream.wants(change.view) is None:
                continue
            try:
                stream.queue.put_nowait(change)
            except asyncio.QueueFull:
                # Too far behind: end it; the browser reconnects and is sent what it missed.
                log.info("closing a live stream that fell %d changes behind", self.policy.queue)
                self.close(stream)
                with contextlib.suppress(asyncio.QueueEmpty):
                    stream.queue.get_nowait()
                stream.queue.put_nowait(None)

    def _poll(self) -> list[Change]:
        window = timedelta(seconds=self.policy.window)
        first = self._cursor is None
        if self._cursor is None:
            self._cursor = self.live.clock()
        with self.live.db.read() as session:
            rows = session.execute(
                select(Card.id, Card.version, Card.changed_at)
                .where(Card.changed_at > self._cursor - window)
                .order_by(Card.changed_at)
                .limit(5000)
            ).all()
            news = []
            for card_id, version, changed_at in rows:
                seen = self._seen.get(card_id)
                if seen is None or seen[0] < version:
                    news.append(card_id)
                self._seen[card_id] = (version, changed_at)
                self._cursor = max(self._cursor, changed_at)
            horizon = self._cursor - window
            self._seen = {k: v for k, v in self._seen.items() if v[1] > horizon}
            if first or not news:
                return []  # the first poll learns what is there; pages already show it
            cards = session.scalars(select(Card).where(Card.id.in_(news))).all()
            return self.live.render(sorted(cards, key=lambda c: c.changed_at))

    def _changed_since(self, since: datetime) -> list[Change]:
        with self.live.db.read() as session:
            cards = session.scalars(
                select(Card).where(Card.changed_at > since)
                .order_by(Card.changed_at.desc()).limit(self.policy.replay)
            ).all()
            return self.live.render(sorted(cards, key=lambda c: c.changed_at))


def _event(stream: Stream, change: Change) -> str | None:
    wanted = stream.wants(change.view)
    if wanted is None:
        return None
    view = change.view
    if not wanted:
        return f"event: drop\ndata: {json.dumps({'key': view.key})}\n\n"
    data = {"key": view.key, "version": view.version, "overall": view.overall,
            "updated": view.updated_at.isoformat() if view.updated_at else None,
            "html": change.html}
    stamp = change.changed_at.isoformat()
    return f"event: card\nid: {stamp}\ndata: {json.dumps(data)}\n\n"
