"""Running the app under uvicorn: in the foreground (`serve`, `demo`) or in a thread (tests).

The workspace's live streams never end by themselves, so shutdown closes them first rather
than waiting for browsers to hang up; a grace period bounds whatever else is in flight.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
import threading
import time
from types import FrameType

import uvicorn
from fastapi import FastAPI

from devexbot.errors import DevexbotError
from devexbot.http.access_log import RedactQuerySecrets
from devexbot.http.connections import ConnectionLimits, guarded_protocol

GRACEFUL_SHUTDOWN = 5  # seconds for requests in flight before uvicorn cancels them


def server_config(app: FastAPI, *, host: str, port: int, log_level: str = "info",
                  limits: ConnectionLimits | None = None) -> uvicorn.Config:
    # proxy_headers off: who the client is behind a proxy is for DEVEXBOT_TRUSTED_PROXIES
    # to say (devexbot.web.access), not for a default that trusts 127.0.0.1. No WebSocket
    # route exists, so no upgrade is accepted. log_config None: uvicorn's lines go through
    # the bot's own log handler (text or JSON).
    return uvicorn.Config(app, host=host, port=port, log_level=log_level, proxy_headers=False,
                          timeout_graceful_shutdown=GRACEFUL_SHUTDOWN,
                          http=guarded_protocol(limits or ConnectionLimits()), ws="none",
                          log_config=None)


class BotServer(uvicorn.Server):
    """uvicorn that ends the workspace's live streams as soon as it is told to stop."""

    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self.app = app
        self._loop: asyncio.AbstractEventLoop | None = None

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._close_streams()
        super().handle_exit(sig, frame)

    def stop(self) -> None:
        self._close_streams()
        self.should_exit = True

    def _close_streams(self) -> None:
        workspace = getattr(self.app.state, "workspace", None)
        if workspace is not None and self._loop is not None:
            workspace.live.close_streams_threadsafe(self._loop)


def settle_memory() -> None:
    """Keep what import and start-up made (it lives as long as the process) out of the
    garbage collector's full passes: with it scanned, each full pass stalled every request
    for ~150 ms on a small VM (bench/ack_latency.py: a Slack click acked in 190 ms instead
    of 20). Call once, after the app is built and before serving."""
    gc.collect()
    gc.freeze()


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to `host:port` as uvicorn binds one (SO_REUSEADDR), taken before
    anything else starts: a port in use is one line (`DevexbotError`), not uvicorn's
    traceback after the whole start-up ran."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise DevexbotError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise DevexbotError(f"cannot listen on {host}:{port} ({exc.strerror}): give another "
                            "--port") from None
    return sock


def serve(app: FastAPI, *, sock: socket.socket, log_level: str = "info",
          limits: ConnectionLimits | None = None) -> None:
    """Serve on `sock` (see `listening_socket`) in the foreground until SIGINT or SIGTERM."""
    host, port = sock.getsockname()[:2]
    config = server_config(app, host=host, port=port, log_level=log_level,
                           limits=(limits or ConnectionLimits()).within_open_files())
    logging.getLogger("uvicorn.access").addFilter(RedactQuerySecrets())
    settle_memory()
    BotServer(config, app).run(sockets=[sock])


class ServerThread:
    """The app served on a loopback port in a background thread (port 0: any free one)."""

    def __init__(self, app: FastAPI, *, host: str = "127.0.0.1", port: int = 0,
                 log_level: str = "warning", limits: ConnectionLimits | None = None) -> None:
        self.server = BotServer(server_config(app, host=host, port=port, log_level=log_level,
                                              limits=limits), app)
        self.host = host
        self._thread = threading.Thread(target=self.server.run, name="devexbot-server",
                                        daemon=True)

    @property
    def port(self) -> int:
        port: int = self.server.servers[0].sockets[0].getsockname()[1]
        return port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the server stopped while starting")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the server did not start within {timeout:.0f} s")
            time.sleep(0.02)
        return self

    def stop(self, timeout: float = 15.0) -> None:
        self.server.stop()
        self._thread.join(timeout)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
