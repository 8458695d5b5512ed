"""Clients that send half a request and wait cannot take the bot down: a few hundred of them,
more than the bot's connections and nearly as many as the files it may open, and a real
GitHub delivery is still answered, and /healthz too; then the server closes every one of
them once its head or body is late. A real `devexbot serve` on loopback.

Bounded: 300 sockets to 127.0.0.1, every wait has a timeout.
"""

from __future__ import annotations

import resource
import selectors
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import GITHUB_SECRET
from tests.e2e.serve_process import start_serve
from tests.github_sender import GitHubSender, load_fixture

STALLED_HEADS, STALLED_BODIES = 290, 10
MAX_CONNECTIONS = 100
LATE = 5  # seconds the bot gives a request's head, and its body, in this test
SERVER_FILES = 256  # below what the stalled sockets alone would use


@pytest.fixture
def room_for_sockets() -> None:
    """This process may open the stalled sockets (CI's default limit is often 1024)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = STALLED_HEADS + STALLED_BODIES + 200
    if soft != resource.RLIM_INFINITY and soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            pytest.skip(f"this process may open only {hard} files")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


@pytest.fixture
def bot(tmp_path: Path, room_for_sockets: None) -> Iterator[str]:
    proc, base = start_serve(tmp_path, {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'devexbot.db'}",
        "GITHUB_WEBHOOK_SECRET": GITHUB_SECRET,
        "DEVEXBOT_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
        "DEVEXBOT_HEADER_TIMEOUT": str(LATE), "DEVEXBOT_BODY_TIMEOUT": str(LATE),
    }, open_files=SERVER_FILES)
    try:
        yield base
    finally:
        proc.kill()
        proc.wait(timeout=10)


def stall(base: str, sent: bytes) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.sendall(sent)
    return sock


HALF_A_HEAD = b"POST /webhooks/github HTTP/1.1\r\nHost: bot\r\nX-GitHub-Event: pu"
HALF_A_BODY = (b"POST /webhooks/github HTTP/1.1\r\nHost: bot\r\nX-GitHub-Event: push\r\n"
               b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"ref\": ")


def still_open(sock: socket.socket) -> bool:
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
    except BlockingIOError:
        return True  # nothing to read, and not closed
    except ConnectionError:
        return False


def answers_once_closed(socks: list[socket.socket], *, within: float) -> list[bytes]:
    """What the server wrote on each socket before closing it; fails if one is still open
    after `within` seconds."""
    selector = selectors.DefaultSelector()
    for sock in socks:
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ, bytearray())
    answers: list[bytes] = []
    while selector.get_map():
        ready = selector.select(timeout=within)
        assert ready, f"{len(selector.get_map())} stalled connections still open after {within} s"
        for key, _ in ready:
            try:
                data = key.fileobj.recv(4096)  # type: ignore[union-attr]
            except ConnectionError:
                data = b""
            if data:
                key.data.extend(data)
            else:
                selector.unregister(key.fileobj)
                answers.append(bytes(key.data))
    selector.close()
    return answers


def test_stalled_connections_do_not_keep_a_delivery_out_and_are_closed_when_late(
        bot: str) -> None:
    stalled = [stall(bot, HALF_A_HEAD) for _ in range(STALLED_HEADS)]
    stalled += [stall(bot, HALF_A_BODY) for _ in range(STALLED_BODIES)]
    try:
        with httpx.Client(base_url=bot, timeout=LATE) as client:
            delivered = GitHubSender(client, GITHUB_SECRET).deliver("push", load_fixture("push"))
            assert delivered.status_code == 202, delivered.text
            assert client.get("/healthz").status_code == 200
        # The delivery took the place of a staller, not of one that timed out.
        assert sum(still_open(s) for s in stalled) >= MAX_CONNECTIONS // 2

        answers = answers_once_closed(stalled, within=6 * LATE)
        firsts = {answer.split(b"\r\n", 1)[0] for answer in answers}
        assert firsts == {b"HTTP/1.1 503 Service Unavailable", b"HTTP/1.1 408 Request Timeout"}
        reasons = {answer.rsplit(b"\r\n\r\n", 1)[-1].decode() for answer in answers}
        assert reasons == {
            "too many connections: this one waited longest for its request\n",
            f"the request head did not arrive within {LATE} s\n",
            f"the request body did not arrive within {LATE} s\n"}
    finally:
        for sock in stalled:
            sock.close()
