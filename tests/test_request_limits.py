"""Bad input never costs memory, time or a 500: bodies over their size are refused before
they are read, JSON nested deeper than any sender nests is a 400 with one line, and a
signed Slack interaction that names no action is a 400 too."""

from __future__ import annotations

import json
import re
import resource
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.routing import APIRoute

from devexbot.app import create_app
from devexbot.http.bodies import MAX_BODY_BYTES, MAX_FORM_BYTES, MAX_JSON_DEPTH
from devexbot.http.connections import MAX_HEAD_BYTES, SPARE_FILES, ConnectionLimits
from devexbot.http.serving import ServerThread
from devexbot.wiring import Services
from handlers.slack.events import MAX_SLACK_BODY
from tests.bot import TestBot
from tests.deploy_sender import load_deploy
from tests.e2e.serve_process import process_env
from tests.github_sender import load_fixture
from tests.jenkins_sender import load_jenkins
from tests.slack_signing import block_actions_payload

ROOT = Path(__file__).resolve().parent.parent
TOO_DEEP = f"the body nests deeper than {MAX_JSON_DEPTH} levels"


def nested(levels: int) -> str:
    """A JSON array `levels` deep: `[[[]]]` is three."""
    return "[" * levels + "]" * levels


def with_extra(payload: dict[str, Any], levels: int) -> bytes:
    """`payload` with one more field whose value nests `levels` deep (so the whole body
    nests `levels + 1` deep)."""
    text = json.dumps(payload)
    return (text[:-1] + f', "extra": {nested(levels)}}}').encode()


def send(bot: TestBot, route: str, body: bytes) -> Any:
    if route == "github":
        return bot.deliver("push", body)
    if route == "jenkins":
        return bot.jenkins.notify(body)
    if route == "deploy":
        return bot.deploy.send(body)
    if route == "slack event":
        return bot.slack_sender.send(body, content_type="application/json")
    return bot.slack_sender.send(urlencode({"payload": body.decode()}).encode())


def real_payload(route: str) -> dict[str, Any]:
    return {"github": lambda: load_fixture("push"),
            "jenkins": lambda: load_jenkins("started"),
            "deploy": lambda: load_deploy("test.success"),
            "slack event": lambda: {"type": "event_callback", "event": {"type": "app_mention"}},
            "slack interaction": lambda: block_actions_payload("card.merge")}[route]()


ROUTES = ["github", "jenkins", "deploy", "slack event", "slack interaction"]


@pytest.mark.sqlite_only
@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("levels", [MAX_JSON_DEPTH, 990, 100_000])
def test_json_nested_too_deep_is_a_400_with_one_line(bot: TestBot, route: str,
                                                     levels: int) -> None:
    response = send(bot, route, with_extra(real_payload(route), levels))
    assert (response.status_code, response.json()) == (400, {"detail": TOO_DEEP})


@pytest.mark.sqlite_only
@pytest.mark.parametrize("route", ROUTES)
def test_a_body_over_its_receivers_limit_is_a_413(bot: TestBot, route: str) -> None:
    limit = MAX_SLACK_BODY if route.startswith("slack") else MAX_BODY_BYTES
    payload = real_payload(route)
    payload["padding"] = "x" * limit
    body = json.dumps(payload).encode()
    response = send(bot, route, body)
    assert response.status_code == 413, response.text
    assert response.json()["detail"].endswith(f"bytes is over the {limit}-byte limit")


@pytest.mark.sqlite_only
def test_json_as_deep_as_allowed_is_taken(bot: TestBot) -> None:
    response = bot.deliver("push", with_extra(load_fixture("push"), MAX_JSON_DEPTH - 1))
    assert response.status_code == 202, response.text


@pytest.mark.sqlite_only
@pytest.mark.parametrize("actions", [[], {}, "card.merge", [1], [{"value": "x"}]],
                         ids=["empty", "object", "text", "number", "no action_id"])
def test_an_interaction_that_names_no_action_is_a_400(bot: TestBot, actions: Any) -> None:
    payload = block_actions_payload("card.merge")
    payload["actions"] = actions
    response = bot.slack_sender.interaction(payload)
    assert response.status_code == 400, response.text
    assert response.json()["detail"].startswith("the interaction")


@pytest.mark.sqlite_only
def test_a_sign_in_form_over_its_size_is_refused_unread(bot: TestBot) -> None:
    body = b"token=" + b"x" * MAX_FORM_BYTES
    response = bot.client.post("/login", content=body,
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413
    assert response.json() == {"detail": f"body of {len(body)} bytes is over the "
                                         f"{MAX_FORM_BYTES}-byte limit"}


@pytest.mark.sqlite_only
def test_a_huge_sign_in_body_is_answered_before_it_is_sent(services: Services) -> None:
    """A client that says it will send 300 MB is answered 413 at once, not after the server
    has taken the 300 MB in."""
    with ServerThread(create_app(services.settings, services=services,
                                 background=False)) as server, \
            socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"POST /login HTTP/1.1\r\nHost: bot\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\n"
                     b"Content-Length: 300000000\r\n\r\ntoken=")
        answer = sock.recv(4096)  # the socket's timeout bounds the wait
    assert answer.startswith(b"HTTP/1.1 413 "), answer


@pytest.mark.sqlite_only
def test_a_streamed_sign_in_body_is_cut_off_at_the_limit(services: Services) -> None:
    """Without a Content-Length, the body is counted as it arrives and refused once over."""
    with ServerThread(create_app(services.settings, services=services,
                                 background=False)) as server, \
            socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"POST /login HTTP/1.1\r\nHost: bot\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        chunk = b"%x\r\n%s\r\n" % (4096, b"x" * 4096)
        for _ in range(2 * MAX_FORM_BYTES // 4096):
            sock.sendall(chunk)
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413 "), answer


# Who reads a body: only the capped reader (devexbot.http.bodies.read_body).
READS_A_BODY = re.compile(r"\brequest\.(?:body|form|json|stream)\(")


def test_every_body_is_read_through_the_capped_reader() -> None:
    readers = [str(path.relative_to(ROOT))
               for folder in ("devexbot", "handlers") for path in (ROOT / folder).rglob("*.py")
               if READS_A_BODY.search(path.read_text())]
    assert readers == ["devexbot/http/bodies.py"]


@pytest.mark.sqlite_only
def test_no_route_has_fastapi_read_its_body(services: Services) -> None:
    """A route with a body parameter (a model, Form, File, Body) has FastAPI read the whole
    body before the route runs, past any cap."""
    app = create_app(services.settings, services=services, background=False)
    parsed = [f"{sorted(route.methods)} {route.path}" for route in app.routes
              if isinstance(route, APIRoute) and route.body_field is not None]
    assert parsed == []


@pytest.mark.sqlite_only
def test_a_request_head_over_its_size_is_refused(services: Services) -> None:
    """Headers that never end are refused once over MAX_HEAD_BYTES, not held in memory."""
    head = b"GET /healthz HTTP/1.1\r\nHost: bot\r\n" + b"X-Padding: " + b"a" * MAX_HEAD_BYTES
    with ServerThread(create_app(services.settings, services=services,
                                 background=False)) as server, \
            socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head)
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 431 "), answer
    assert answer.endswith(f"the request head is over {MAX_HEAD_BYTES} bytes\n".encode())


@pytest.mark.sqlite_only
def test_a_connection_that_sends_nothing_is_closed(services: Services) -> None:
    limits = ConnectionLimits(head_timeout=0.5)
    with ServerThread(create_app(services.settings, services=services, background=False),
                      limits=limits) as server, \
            socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        assert sock.recv(4096) == b""  # closed by the server; the socket's timeout bounds it


def test_connections_are_kept_below_the_open_file_limit() -> None:
    """A process that may open 200 files serves at most 200 - SPARE_FILES connections, and
    says so, whatever DEVEXBOT_MAX_CONNECTIONS asks for."""
    code = ("import logging; logging.basicConfig(); from devexbot.http.connections import "
            "ConnectionLimits; print(ConnectionLimits().within_open_files().max_connections)")
    result = subprocess.run(
        [sys.executable, "-c", code], env=process_env(), capture_output=True, text=True,
        timeout=60, preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (200, 200)))
    assert result.stdout.strip() == str(200 - SPARE_FILES), result.stderr
    assert "DEVEXBOT_MAX_CONNECTIONS=1000 is more than this process may open" in result.stderr
