"""FakeSlack: Slack's Web API as a real HTTP server on 127.0.0.1, for the real slack_sdk client.

    with FakeSlack() as slack:
        client = WebClient(token=slack.token, base_url=slack.base_url)
        client.chat_postMessage(channel="#deploys", text="hi")
        assert slack.messages("#deploys")[0].text == "hi"

Requests are read as slack_sdk's WebClient sends them (JSON bodies for `chat.postMessage`,
`chat.update`, `chat.postEphemeral`, `views.*`; form bodies for the rest; everything is a
POST, GET is accepted too), authenticated by `Authorization: Bearer <token>` (or a `token`
form field, which Slack also accepts). State and answers live in `SlackWorkspace`; this
module adds HTTP, the call log, scripted faults and `response_url`s.
"""

from __future__ import annotations

import copy
import itertools
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pytest
from slack_sdk import WebClient

from tests.fakes.slack_faults import ANY_METHOD, Fault, FaultScript, failure
from tests.fakes.slack_models import USER_ID, Call, Ephemeral, Json, Message, RateViolation
from tests.fakes.slack_params import SlackError, bearer_token, parse_params
from tests.fakes.slack_workspace import SlackWorkspace

T = TypeVar("T")

DEFAULT_TOKEN = "xoxb-1700000000-devexbot-test"
OAUTH_SCOPES = (
    "chat:write,chat:write.public,commands,channels:read,channels:join,channels:history,"
    "groups:read,users:read,users:read.email,usergroups:read"
)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_POST(self) -> None:
        self.server.fake._serve(self)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def reply(
        self, status: int, body: bytes, content_type: str, headers: Mapping[str, str]
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            self.close_connection = True  # the client gave up (timed out) before the answer


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 drops connections of concurrent clients (1 s stalls)

    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client hanging up mid-answer is part of the tests, not an error


class FakeSlack:
    """A local Slack Web API at `base_url` (`http://127.0.0.1:<port>/api/`).

    Context manager and pytest fixture (`fake_slack`). Reads return snapshots (copies).
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        channels: Mapping[str, str] | Iterable[str] | None = None,
        users: Iterable[Json] | None = None,
        enforce_post_interval: float | None = None,
        clock: Callable[[], float] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        **workspace: Any,
    ) -> None:
        """`clock` (epoch seconds) stamps messages' `ts` (default: 1700000000.0001 onwards),
        `monotonic` times the calls' arrivals (a test stepping time passes its own)."""
        self.token = token
        self._time = clock or time.time
        self._monotonic = monotonic
        self.workspace = SlackWorkspace(
            token=token,
            channels=channels,
            users=users,
            enforce_post_interval=enforce_post_interval,
            clock=clock,
            **workspace,
        )
        self.faults = FaultScript()
        self._calls: list[Call] = []
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._url_ids = itertools.count(1)

    # ---- lifecycle -------------------------------------------------------------------

    def start(self) -> FakeSlack:
        if self._server is None:
            self._stopping.clear()
            self._server = _Server(self)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="fake-slack",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # wakes handlers held by hang_next
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    @property
    def base_url(self) -> str:
        """What `WebClient(base_url=...)` and `SLACK_API_URL` take."""
        return self.url + "api/"

    def client(self, **kwargs: Any) -> WebClient:
        """A real `slack_sdk.WebClient` pointed at this fake (kwargs: timeout, retry_handlers…)."""
        return WebClient(**{"token": self.token, "base_url": self.base_url, **kwargs})

    # ---- scripted faults -------------------------------------------------------------

    def fail_next(
        self,
        method: str = ANY_METHOD,
        times: int = 1,
        status: int = 429,
        retry_after: int | None = None,
        error: str | None = None,
    ) -> None:
        """The next `times` calls of `method` (`*`: any) fail with `status` and do nothing.

        429 carries `Retry-After` (default 1) and `{"ok": false, "error": "ratelimited"}`.
        """
        self.faults.push(method, failure(status, retry_after, error), times)

    def hang_next(
        self, method: str, seconds: float, times: int = 1, *, effective: bool = True
    ) -> None:
        """Hold the answer to the next `times` calls of `method` for `seconds`.

        effective=True: the call takes effect at once, only the answer is late (a client
        that times out does not know its message was posted). effective=False: nothing
        happens and the connection is closed without an answer after `seconds`.
        """
        self.faults.push(method, Fault("hang" if effective else "drop", seconds=seconds), times)

    def fail_rate(
        self,
        fraction: float,
        status: int = 429,
        retry_after: int | None = None,
        seed: int | None = None,
        methods: Iterable[str] | None = None,
    ) -> None:
        """From now on, fail each call (of `methods`, default all) with probability `fraction`."""
        self.faults.set_rate(
            fraction, failure(status, retry_after, None, label="rate"), seed, methods
        )

    def fail_mix(
        self,
        fraction: float,
        faults: Iterable[Fault],
        seed: int | None = None,
        methods: Iterable[str] | None = None,
    ) -> None:
        """Like `fail_rate`, each failing call taking one of `faults` at random (build them
        with `failure(...)`, or `Fault("hang"|"drop", seconds=...)` for timeouts)."""
        self.faults.set_rate(fraction, faults, seed, methods)

    def refuse_token(self, refused: bool = True) -> None:
        """Slack stops taking the bot's token (revoked, or the app uninstalled): every call
        that needs one answers `invalid_auth`, as Slack does; `refused=False` takes it again."""
        with self.workspace.lock:
            self.workspace.token = f"revoked-{secrets.token_hex(4)}" if refused else self.token

    def outage(self, seconds: float, status: int = 503) -> None:
        """For the next `seconds` (of the `monotonic` clock), answer every call `status`
        and do nothing: Slack down for a while."""
        self.faults.set_outage(self._monotonic() + seconds, failure(status, None, None,
                                                                    label="outage"))

    # ---- directory -------------------------------------------------------------------

    def add_channel(self, name: str, channel_id: str | None = None, **flags: bool) -> str:
        """Make a channel known (flags: private, member, archived); returns its ID."""
        return self.workspace.add_channel(name, channel_id, **flags).id

    def remove_bot(self, channel: str) -> None:
        """The bot is no longer a member of `channel` (removed by someone, or it posted
        there with `chat:write.public` and never joined): it may not read the channel."""
        self.workspace.set_member(channel, False)

    def add_user(self, user_id: str, name: str, **fields: Any) -> Json:
        """Add a user (fields: email, real_name, is_bot, is_admin, deleted, tz)."""
        return self.workspace.add_user(user_id, name, **fields)

    def add_usergroup(
        self, usergroup_id: str, handle: str, users: Iterable[str], **flags: bool
    ) -> None:
        self.workspace.add_usergroup(usergroup_id, handle, users, **flags)

    def add_message(self, channel: str, text: str, *, user: str, **fields: Any) -> Message:
        """Seed a message a human wrote (the bot can read and thread on it, not edit it)."""
        return self.workspace.add_message(channel, text, user=user, **fields)

    def channel_id(self, channel: str) -> str:
        """The ID of a known channel given as ID, `#name` or name."""
        found = self.workspace.find_channel(channel)
        if found is None:
            raise KeyError(channel)
        return found.id

    # ---- response_url ----------------------------------------------------------------

    def new_response_url(
        self,
        channel: str,
        *,
        user: str = USER_ID,
        message_ts: str | None = None,
        thread_ts: str | None = None,
        kind: str = "commands",
    ) -> str:
        """A `response_url` on this fake, as Slack puts in slash commands and interactions.

        Posts to it act like Slack's: ephemeral to `user` by default, `in_channel` posts,
        `replace_original` / `delete_original` edit the message at `message_ts`.
        """
        unique = f"{next(self._url_ids)}/{secrets.token_hex(12)}"
        url = f"{self.url}{kind}/{self.workspace.team_id}/{unique}"
        self.workspace.issue_response_url(url, channel, user, message_ts, thread_ts)
        return url

    def response_url_posts(self, url: str) -> list[Json]:
        return self.workspace.response_url_posts(url)

    def wait_for_response_url_posts(self, url: str, count: int = 1,
                                    timeout: float = 10.0) -> list[Json]:
        """Block until `url` had `count` posts (the bot answers a click or command there
        from a worker thread); fail the test after `timeout`."""
        with self._changed:
            if not self._changed.wait_for(
                    lambda: len(self.workspace.response_url_posts(url)) >= count, timeout):
                raise AssertionError(f"{count} post(s) to {url} expected within {timeout}s; "
                                     f"saw {self.workspace.response_url_posts(url)}")
        return self.workspace.response_url_posts(url)

    # ---- assertions ------------------------------------------------------------------

    def messages(
        self, channel: str, *, include_replies: bool = False, include_deleted: bool = False
    ) -> list[Message]:
        """Messages in `channel` (ID or `#name`), oldest first; top level unless asked."""
        return self.workspace.messages(
            channel, include_replies=include_replies, include_deleted=include_deleted
        )

    def thread(self, channel: str, ts: str) -> list[Message]:
        """The thread under `ts`: the parent, then its replies, oldest first."""
        every = self.messages(channel, include_replies=True)
        return [m for m in every if m.ts == ts or (m.is_reply and m.thread_ts == ts)]

    def message_json(self, channel: str, ts: str) -> Json:
        """The message at `ts` as Slack's API returns it (and embeds it in interactions)."""
        return self.workspace.message_json(channel, ts)

    def final_message(self, channel: str, ts: str) -> Message:
        """The message at `ts` as it stands after every update (`.history` has all versions)."""
        return self.workspace.message(channel, ts)

    def ephemerals(self, channel: str | None = None, user: str | None = None) -> list[Ephemeral]:
        return self.workspace.ephemerals(channel, user)

    def views(self) -> list[Json]:
        """Open modals as `views.open` / `views.update` returned them, oldest first."""
        return self.workspace.views()

    def home_view(self, user: str) -> Json | None:
        """What `user`'s Home tab shows (the last `views.publish` for them), if anything."""
        with self.workspace.lock:
            found = self.workspace.home_views.get(user)
            return copy.deepcopy(found) if found is not None else None

    def calls(self, method: str | None = None) -> list[Call]:
        """Every call received (of `method`), in arrival order."""
        with self._changed:
            return copy.deepcopy([c for c in self._calls if method is None or c.method == method])

    def wait_for_calls(self, method: str, count: int = 1, timeout: float = 2.0) -> list[Call]:
        """Block until `count` calls of `method` were answered; fail the test after `timeout`."""

        def answered() -> list[Call]:
            return [c for c in self._calls if c.method == method and c.answered_at is not None]

        with self._changed:
            if not self._changed.wait_for(lambda: len(answered()) >= count, timeout=timeout):
                seen = [c.method for c in self._calls]
                raise AssertionError(
                    f"{count} answered {method} call(s) expected within {timeout}s; saw {seen}"
                )
            return copy.deepcopy(answered())

    def wait_until(self, condition: Callable[[], T], timeout: float = 10.0,
                   what: str = "") -> T:
        """Block until `condition()` (of what this fake shows) is truthy, looking again at
        each call and `response_url` post, and every 20 ms for a condition on what the bot
        writes after its last call; its value. Fails the test after `timeout`."""
        with self._changed:
            value = condition()
            deadline = time.monotonic() + timeout
            while not value:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out after {timeout}s waiting for "
                                         f"{what or condition}")
                self._changed.wait(min(left, 0.02))
                value = condition()
            return value

    def post_rate_violations(self, min_interval: float = 1.0) -> list[RateViolation]:
        """Accepted `chat.postMessage`s to one channel less than `min_interval` s apart."""
        return self.workspace.rate_violations(min_interval)

    def reset(self) -> None:
        """Forget messages, views, calls and scripted faults; keep channels, users, groups."""
        self.workspace.reset()
        self.faults.clear()
        with self._changed:
            self._calls.clear()

    # ---- HTTP ------------------------------------------------------------------------

    def _serve(self, request: _Handler) -> None:
        parts = urlsplit(request.path)
        raw = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        if parts.path.startswith("/api/"):
            self._serve_api(request, parts.path[len("/api/") :], parts.query, raw)
        elif self.workspace.is_response_url(parts.path):
            self._serve_response_url(request, parts.path, raw)
        else:
            request.reply(404, b"404 page not found", "text/plain", {})

    def _serve_api(self, request: _Handler, method: str, query: str, raw: bytes) -> None:
        content_type = request.headers.get("Content-Type", "")
        arrived_at, arrived = self._time(), self._monotonic()
        try:
            params, body_token = parse_params(query, content_type, raw)
            unreadable = None
        except SlackError as exc:
            params, body_token, unreadable = {}, None, exc
        call = Call(method, params, arrived_at, arrived, request.command, content_type)
        with self._changed:
            self._calls.append(call)
        fault = self.faults.take(method, arrived) if self.workspace.knows(method) else None
        if fault is not None and fault.kind == "drop":
            self._stopping.wait(fault.seconds)
            request.close_connection = True
            self._answered(call, None, None, fault.kind)
            return
        label = (fault.label or fault.kind) if fault is not None else None
        headers: dict[str, str] = {}
        if fault is not None and fault.kind == "fail":
            status, body, headers = fault.status, fault.body, fault.headers
        else:
            token = bearer_token(request.headers.get("Authorization")) or body_token
            try:
                if unreadable is not None:
                    raise unreadable
                status, body = 200, self.workspace.call(method, params, token, arrived=arrived)
            except SlackError as exc:
                status, body, headers = exc.status, exc.body, exc.headers
                label = "ratelimit" if exc.status == 429 else label
        if fault is not None and fault.kind == "hang":
            self._stopping.wait(fault.seconds)
        answer = json.dumps(body).encode()
        extra = {"X-Slack-Req-Id": secrets.token_hex(16), "X-OAuth-Scopes": OAUTH_SCOPES, **headers}
        # Record before replying, so a client holding its answer finds the call logged.
        self._answered(call, status, body, label)
        request.reply(status, answer, "application/json; charset=utf-8", extra)

    def _answered(
        self, call: Call, status: int | None, body: Json | None, fault: str | None
    ) -> None:
        with self._changed:
            call.status, call.response, call.answered_at = status, body, self._time()
            call.fault = fault
            self._changed.notify_all()

    def _serve_response_url(self, request: _Handler, path: str, raw: bytes) -> None:
        try:
            params, _ = parse_params("", request.headers.get("Content-Type", ""), raw)
            body = json.loads(params["payload"]) if "payload" in params else params
        except (SlackError, ValueError):
            request.reply(400, b"invalid_payload", "text/html", {})
            return
        status, text = self.workspace.post_to_response_url(path, body)
        with self._changed:
            self._changed.notify_all()
        request.reply(status, text.encode(), "text/html", {})


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A running FakeSlack (token `DEFAULT_TOKEN`, any channel accepted), stopped after the test."""
    with FakeSlack() as fake:
        yield fake
