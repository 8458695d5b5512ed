"""Live updates: a card's change reaches an open stream within about a second, from this
process or another replica, filtered per stream; streams end when the server stops."""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi.testclient import TestClient

from devexbot.app import create_app
from devexbot.http.serving import ServerThread
from devexbot.wiring import Services, build_services
from tests.conftest import GITHUB_SECRET
from tests.github_sender import GitHubSender, load_fixture
from tests.scenario import HEAD, REPO


class EventReader:
    """Reads a text/event-stream in a thread; `wait_for` returns the first matching event."""

    def __init__(self, url: str) -> None:
        self.events: list[tuple[str, dict]] = []
        self.connected, self.closed = threading.Event(), threading.Event()
        self._changed = threading.Condition()
        self._client = httpx.Client(timeout=httpx.Timeout(30, connect=5))
        self._thread = threading.Thread(target=self._read, args=(url,), daemon=True)
        self._thread.start()

    def _read(self, url: str) -> None:
        try:
            with self._client.stream("GET", url) as response:
                assert response.status_code == 200, response.status_code
                assert response.headers["content-type"].startswith("text/event-stream")
                self.connected.set()  # the server answered: the stream is open
                name = None
                for line in response.iter_lines():
                    if line.startswith("event: "):
                        name = line.removeprefix("event: ")
                    elif line.startswith("data: ") and name:
                        with self._changed:
                            self.events.append((name, json.loads(line.removeprefix("data: "))))
                            self._changed.notify_all()
                        name = None
        except httpx.HTTPError:
            pass
        finally:
            self.closed.set()
            with self._changed:
                self._changed.notify_all()

    def wait_connected(self) -> EventReader:
        assert self.connected.wait(10), "the stream did not open"
        return self

    def wait_until(self, found: Callable[[list[tuple[str, dict]]], Any],
                   timeout: float = 10.0) -> Any:
        """`found(events)` once it is truthy, looking again at each event that arrives."""
        with self._changed:
            value = self._changed.wait_for(lambda: found(self.events), timeout)
            if not value:
                raise AssertionError(f"not seen within {timeout} s: {self.events}")
            return value

    def wait_for(self, name: str, key: str, timeout: float = 10.0) -> dict:
        def first(events: list[tuple[str, dict]]) -> dict | None:
            return next((data for event, data in events
                         if event == name and data["key"] == key), None)

        try:
            result: dict = self.wait_until(first, timeout)
        except AssertionError:
            raise AssertionError(f"no {name} event for {key} within {timeout} s: "
                                 f"{self.events}") from None
        return result

    def close(self) -> None:
        self._client.close()


@pytest.fixture
def server(services: Services) -> Iterator[ServerThread]:
    with ServerThread(create_app(services.settings, services=services)) as running:
        yield running


def _check_run(conclusion: str, at: str) -> dict:
    payload = copy.deepcopy(load_fixture("check_run.completed"))
    payload["check_run"].update(conclusion=conclusion, completed_at=at)
    return payload


@pytest.mark.sqlite_only
def test_a_change_reaches_an_open_stream(server: ServerThread) -> None:
    reader = EventReader(f"{server.url}/api/stream").wait_connected()
    try:
        with httpx.Client(base_url=server.url) as client:
            sender = GitHubSender(client, GITHUB_SECRET)
            sender.deliver("check_run", _check_run("success", "2026-11-20T10:03:00Z"))
            first = reader.wait_for("card", f"{REPO}@{HEAD}")
            assert first["overall"] == "success" and 'class="card status-success' in first["html"]
            sender.deliver("check_run", _check_run("failure", "2026-11-20T10:05:00Z"))

            def failed(events: list[tuple[str, dict]]) -> dict | None:
                cards = [d for e, d in events if e == "card"]
                return cards[-1] if cards and cards[-1]["overall"] == "failure" else None

            last = reader.wait_until(failed)
            assert last["version"] > first["version"]
    finally:
        reader.close()


def test_another_replica_s_change_is_seen_by_polling(server: ServerThread,
                                                     services: Services) -> None:
    reader = EventReader(f"{server.url}/api/stream?status=failure").wait_connected()
    try:
        # A second replica on the same database: its ingest cannot wake this process.
        other = build_services(services.settings)
        with TestClient(create_app(services.settings, services=other)) as replica:
            sender = GitHubSender(replica, GITHUB_SECRET)
            sender.deliver("check_run", _check_run("failure", "2026-11-20T10:03:00Z"))
            assert reader.wait_for("card", f"{REPO}@{HEAD}")["overall"] == "failure"
            sender.deliver("check_run", _check_run("success", "2026-11-20T10:09:00Z"))
            reader.wait_for("drop", f"{REPO}@{HEAD}")  # no longer matches status=failure
        other.db.dispose()
    finally:
        reader.close()


@pytest.mark.sqlite_only
def test_a_reconnecting_stream_is_sent_what_it_missed(server: ServerThread) -> None:
    since = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 1))
    with httpx.Client(base_url=server.url) as client:
        GitHubSender(client, GITHUB_SECRET).deliver(
            "check_run", _check_run("success", "2026-11-20T10:03:00Z"))
    reader = EventReader(f"{server.url}/api/stream?" + urlencode({"since": since}))
    try:
        reader.wait_for("card", f"{REPO}@{HEAD}")
    finally:
        reader.close()


@pytest.mark.sqlite_only
def test_stopping_the_server_ends_open_streams(services: Services) -> None:
    running = ServerThread(create_app(services.settings, services=services)).start()
    readers = [EventReader(f"{running.url}/api/stream").wait_connected() for _ in range(3)]
    started = time.monotonic()
    running.stop()
    assert time.monotonic() - started < 4
    for reader in readers:
        assert reader.closed.wait(5)
        reader.close()


@pytest.mark.sqlite_only
def test_two_apps_of_one_bot_keep_their_own_streams(services: Services) -> None:
    # A test bot serves several apps on one set of parts, each on an event loop of its own:
    # a change reaches the streams of both, and stopping one ends its own streams only.
    with ServerThread(create_app(services.settings, services=services)) as first:
        reader = EventReader(f"{first.url}/api/stream").wait_connected()
        try:
            second = ServerThread(create_app(services.settings, services=services)).start()
            going = EventReader(f"{second.url}/api/stream").wait_connected()
            with httpx.Client(base_url=second.url) as client:
                GitHubSender(client, GITHUB_SECRET).deliver(
                    "check_run", _check_run("failure", "2026-11-20T10:03:00Z"))
            assert reader.wait_for("card", f"{REPO}@{HEAD}")["overall"] == "failure"
            assert going.wait_for("card", f"{REPO}@{HEAD}")["overall"] == "failure"
            second.stop()
            assert going.closed.wait(5)
            going.close()
            assert not reader.closed.is_set()
            with httpx.Client(base_url=first.url) as client:
                GitHubSender(client, GITHUB_SECRET).deliver(
                    "check_run", _check_run("success", "2026-11-20T10:05:00Z"))
            assert reader.wait_for("card", f"{REPO}@{HEAD}")  # the first's feed polls on
            reader.wait_until(lambda events: events[-1][1]["overall"] == "success")
        finally:
            reader.close()


@pytest.mark.sqlite_only
def test_streams_are_bounded(services: Services) -> None:
    app = create_app(services.settings, services=services)
    app.state.workspace.live.policy = type(app.state.workspace.live.policy)(max_streams=1)
    with ServerThread(app) as running:
        reader = EventReader(f"{running.url}/api/stream").wait_connected()
        try:
            refused = httpx.get(f"{running.url}/api/stream", timeout=5)
            assert refused.status_code == 503 and refused.headers["retry-after"] == "5"
        finally:
            reader.close()


@pytest.mark.sqlite_only
def test_the_poller_stops_even_when_its_cancel_is_swallowed(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Python 3.11's `asyncio.wait_for` can lose a cancel that arrives as the wake-up lands;
    # the server's shutdown then waited forever for the poller. Lose every cancel on purpose.
    import asyncio

    from devexbot.web import live as live_module

    wait_for = asyncio.wait_for
    polling = asyncio.Event()  # bound to the loop that first waits on it

    async def deaf_wait_for(awaitable: object, timeout: float) -> object:
        polling.set()
        try:
            return await wait_for(awaitable, timeout)  # type: ignore[arg-type]
        except asyncio.CancelledError:
            asyncio.current_task().uncancel()  # type: ignore[union-attr]
            return None

    monkeypatch.setattr(live_module.asyncio, "wait_for", deaf_wait_for)
    app = create_app(services=services)

    async def start_and_stop() -> None:
        await app.state.workspace.live.start()
        await polling.wait()  # the poller waits for news: cancel it there
        await app.state.workspace.live.stop()

    # In a thread of its own: before the fix this never returned, and must not hang the run.
    runner = threading.Thread(target=asyncio.run, args=(start_and_stop(),), daemon=True)
    runner.start()
    runner.join(10)
    assert not runner.is_alive(), "the live poller did not stop"
