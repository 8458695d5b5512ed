"""Helpers for the web workspace's tests: a loopback TestClient, a served bot in a thread."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from devexbot.app import create_app
from devexbot.http.serving import ServerThread
from devexbot.web.access import SESSION_COOKIE
from devexbot.wiring import Services

LOCAL = ("127.0.0.1", 50123)
LOCAL_URL = "http://127.0.0.1:8000"
OUTSIDE = ("203.0.113.7", 50123)


def local_client(app: FastAPI, **kwargs: Any) -> TestClient:
    """A TestClient on the bot's own machine: it reads the API without signing in, as
    `curl localhost` does."""
    return TestClient(app, client=LOCAL, base_url=LOCAL_URL, **kwargs)


@contextmanager
def web_client(services: Services, *, client: tuple[str, int] = LOCAL,
               base_url: str = LOCAL_URL, background: bool = True,
               **kwargs: Any) -> Iterator[TestClient]:
    """A TestClient whose requests come from `client` (loopback by default); `background`
    as `create_app` takes it."""
    app = create_app(services.settings, services=services, background=background)
    with TestClient(app, client=client, base_url=base_url, **kwargs) as test_client:
        yield test_client


@contextmanager
def served(services: Services) -> Iterator[ServerThread]:
    """The app under uvicorn on a free loopback port."""
    with ServerThread(create_app(services.settings, services=services)) as server:
        yield server


def sign_in_with_slack(web: TestClient, user_id: str, name: str) -> None:
    """Give `web` the session of someone who signed in with Slack as `user_id`."""
    sessions = web.app.state.workspace.sessions  # type: ignore[attr-defined]
    web.cookies.set(SESSION_COOKIE, sessions.sign({"via": "slack", "name": name,
                                                    "sub": user_id,
                                                    "exp": time.time() + 600}))
