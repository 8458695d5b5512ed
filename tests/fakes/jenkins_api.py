"""FakeJenkins: Jenkins's remote API as a real HTTP server on 127.0.0.1, for python-jenkins.

    with FakeJenkins() as ci:
        ci.add_job("deploy/app", parameters={"ENV": "staging", "SHA": ""})
        server = jenkins.Jenkins(ci.base_url, username=ci.user, password=ci.token)
        queue_id = server.build_job("deploy/app", {"ENV": "prod", "SHA": "abc"})
        assert ci.triggered("deploy/app")[0].parameters == {"ENV": "prod", "SHA": "abc"}

Requests are authenticated with HTTP basic auth (user + API token); POSTs need the CSRF
crumb from `GET /crumbIssuer/api/json` in the `Jenkins-Crumb` header, as python-jenkins
sends it. Jobs, queue and builds live in `JenkinsState`; this module adds HTTP, Jenkins's
URL scheme (`job/<folder>/job/<name>/<number>/...`), faults and the test-facing facade.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
import secrets
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import parse_qs

import jenkins
import pytest

from tests.fakes.github_http import HttpFake, Reply, Request
from tests.fakes.jenkins_models import (
    CRUMB_FIELD,
    DEFAULT_API_TOKEN,
    DEFAULT_USER,
    JENKINS_VERSION,
    Build,
    Checkout,
    Param,
    QueueItem,
    Trigger,
    Value,
)
from tests.fakes.jenkins_objects import build_json, folder_json, job_json, queue_item_json
from tests.fakes.jenkins_state import JenkinsError, JenkinsState

JSON = "application/json;charset=utf-8"
TEXT = "text/plain;charset=UTF-8"
HTML = "text/html;charset=utf-8"


def page(status: int, text: str) -> Reply:
    """An HTML page, as Jenkins answers errors and non-API URLs."""
    body = (
        f"<html><head><title>Jenkins</title></head><body><h2>{html.escape(text)}</h2></body></html>"
    )
    return Reply(status, body, HTML)


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        user, _, token = base64.b64decode(header[6:].strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, token


def split_job_path(segments: list[str]) -> tuple[str | None, list[str]]:
    """`job/a/job/b/7/api/json` -> ("a/b", ["7", "api", "json"])."""
    names = []
    while len(segments) >= 2 and segments[0] == "job":
        names.append(segments[1])
        segments = segments[2:]
    return ("/".join(names) if names else None), segments


class FakeJenkins(HttpFake):
    """A local Jenkins at `base_url` (`http://127.0.0.1:<port>/`, plus `path_prefix`).

    Context manager and pytest fixture (`fake_jenkins`). `user`/`token` (more in `users`)
    authenticate; `csrf=False` turns crumbs off (the crumb issuer then answers 404).
    Queued builds answer "waiting" to `quiet_polls` polls and for `queue_delay` seconds.
    """

    thread_name = "fake-jenkins"

    def __init__(
        self,
        *,
        user: str = DEFAULT_USER,
        token: str = DEFAULT_API_TOKEN,
        users: Mapping[str, str] | None = None,
        csrf: bool = True,
        queue_delay: float = 0.0,
        quiet_polls: int = 1,
        path_prefix: str = "",
        delay: float = 0.0,
    ) -> None:
        super().__init__(delay=delay)
        self.user, self.token, self.csrf = user, token, csrf
        self.path_prefix = path_prefix.rstrip("/")
        self.users = {user: token, **(users or {})}
        self.state = JenkinsState(queue_delay=queue_delay, quiet_polls=quiet_polls)
        self._crumb_key = secrets.token_bytes(16)
        self._session = secrets.token_hex(4)

    def start(self) -> FakeJenkins:
        super().start()
        self.state.url = self.base_url
        return self

    @property
    def base_url(self) -> str:
        """What `jenkins.Jenkins(url, ...)` and `JENKINS_URL` take (with a trailing slash)."""
        return f"{self.url}{self.path_prefix}/"

    def client(self, **kwargs: Any) -> jenkins.Jenkins:
        """A real python-jenkins client on this fake as `user` (kwargs: timeout, retries)."""
        kwargs.setdefault("timeout", 5)
        return jenkins.Jenkins(self.base_url, username=self.user, password=self.token, **kwargs)

    def crumb(self, user: str | None = None) -> str:
        """The crumb the issuer gives `user` (default: the configured user)."""
        digest = hmac.new(self._crumb_key, (user or self.user).encode(), hashlib.sha256)
        return digest.hexdigest()

    # ---- setup -----------------------------------------------------------------------

    def add_job(
        self,
        name: str,
        *,
        parameters: Iterable[Param] | Mapping[str, Value] | None = None,
        kind: str = "freestyle",
        description: str = "",
        next_build_number: int = 1,
        queue_delay: float | None = None,
        quiet_polls: int | None = None,
        auto_result: str | None = None,
        auto_log: str = "",
    ) -> None:
        """A job ("folder/name" makes folders); `parameters` {name: default} or `Param`s.

        kind: freestyle or pipeline. `auto_result` finishes each build as soon as it starts
        (after writing `auto_log`); otherwise builds run until `finish` or a stop.
        """
        self.state.add_job(
            name,
            parameters=parameters,
            kind=kind,
            description=description,
            next_build_number=next_build_number,
            queue_delay=queue_delay,
            quiet_polls=quiet_polls,
            auto_result=auto_result,
            auto_log=auto_log,
        )

    def add_folder(self, name: str) -> None:
        self.state.add_job(name, kind="folder")

    def add_user(self, user: str, token: str) -> None:
        self.users[user] = token

    def add_build(
        self,
        job: str,
        *,
        number: int | None = None,
        result: str | None = "SUCCESS",
        parameters: Mapping[str, Value] | None = None,
        log: str = "",
        changes: Iterable[Mapping[str, Any]] = (),
        user: str = "ana",
        duration_ms: int = 1000,
        checkouts: Iterable[Checkout] = (),
    ) -> int:
        """A past build (running if `result` is None); `changes` [{commitId, msg, author}];
        `checkouts` the git checkouts it made (its `BuildData`)."""
        return self.state.add_build(
            job,
            number=number,
            result=result,
            parameters=parameters,
            log=log,
            changes=changes,
            user=user,
            duration_ms=duration_ms,
            checkouts=checkouts,
        )

    def append_log(self, job: str, number: int, text: str) -> None:
        """Write `text` to a running build's console (include the newlines)."""
        self.state.append_log(job, number, text)

    def finish(
        self, job: str, number: int, result: str = "SUCCESS", duration_ms: int | None = None
    ) -> None:
        """End a running build with `result` (SUCCESS, UNSTABLE, FAILURE, NOT_BUILT, ABORTED)."""
        self.state.finish(job, number, result, duration_ms)

    def start_queued(self, queue_id: int) -> int:
        """Take a queued build out of the queue now; returns its build number."""
        return self.state.start_queued(queue_id)

    @property
    def queue_delay(self) -> float:
        return self.state.queue_delay

    @queue_delay.setter
    def queue_delay(self, seconds: float) -> None:
        self.state.queue_delay = seconds

    @property
    def quiet_polls(self) -> int:
        return self.state.quiet_polls

    @quiet_polls.setter
    def quiet_polls(self, polls: int) -> None:
        self.state.quiet_polls = polls

    # ---- faults ----------------------------------------------------------------------

    def fail_next(
        self, target: str = "*", *, status: int = 500, times: int = 1, text: str | None = None
    ) -> None:
        """The next `times` calls matching `target` answer `status` with an error page.

        target: "*", a verb ("POST"), a path glob ("/job/*/buildWithParameters") or both.
        """
        self._fail_next(target, page(status, text or f"HTTP ERROR {status}"), times)

    # ---- assertions ------------------------------------------------------------------

    def triggered(self, job: str | None = None) -> list[Trigger]:
        """Builds asked for (of `job`), oldest first, with the parameters sent and kept."""
        with self.state.lock:
            self.state.tick()
            items = sorted(self.state.queue.values(), key=lambda i: i.id)
            return [Trigger.of(i) for i in items if job is None or i.job == job.strip("/")]

    def wait_for_triggered(
        self, job: str | None = None, count: int = 1, timeout: float = 2.0
    ) -> list[Trigger]:
        """Block until `count` builds of `job` were asked for; fail the test after `timeout`."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.triggered(job)) >= count, timeout):
                raise AssertionError(
                    f"{count} trigger(s) of {job or 'any job'} expected within {timeout}s; "
                    f"saw {self.triggered()}"
                )
        return self.triggered(job)

    def build(self, job: str, number: int | str) -> Build:
        """The build as it stands (number, or a permalink such as "lastBuild")."""
        return self.state.snapshot(self.state.build(job, number))

    def builds(self, job: str) -> list[Build]:
        with self.state.lock:
            found = sorted(self.state.job(job).builds.values(), key=lambda b: b.number)
            return self.state.snapshot(found)

    def queue_item(self, queue_id: int) -> QueueItem:
        with self.state.lock:
            return self.state.snapshot(self.state.queue_item(queue_id))

    def reset(self) -> None:
        """Forget calls and scripted faults; keep jobs, queue and builds."""
        self.faults.clear()
        self._forget_calls()

    # ---- HTTP ------------------------------------------------------------------------

    def _extra_headers(self, request: Request, reply: Reply) -> dict[str, str]:
        return {
            "X-Jenkins": JENKINS_VERSION,
            "X-Hudson": "1.395",
            "X-Jenkins-Session": self._session,
            "X-Content-Type-Options": "nosniff",
        }

    def _answer(self, request: Request) -> Reply:
        self.state.tick()
        credentials = basic_credentials(request.headers.get("authorization"))
        if credentials is None:
            reply = page(403, "Authentication required")
            reply.headers["X-You-Are-Authenticated-As"] = "anonymous"
            return reply
        user, token = credentials
        if self.users.get(user) is None or not hmac.compare_digest(self.users[user], token):
            return page(401, f"Invalid password/token for user: {user}")
        request.user = user
        segments = [s for s in request.path.split("/") if s]
        if segments == ["crumbIssuer", "api", "json"]:
            if not self.csrf:
                return page(404, "Not Found")
            crumb = {
                "_class": "hudson.security.csrf.DefaultCrumbIssuer",
                "crumb": self.crumb(user),
                "crumbRequestField": CRUMB_FIELD,
            }
            return Reply(200, crumb, JSON)
        if request.method == "POST" and self.csrf and not self._crumb_ok(request, user):
            return page(403, "No valid crumb was included in the request")
        try:
            with self.state.lock:
                return self._route(request, segments)
        except JenkinsError as exc:
            return page(exc.status, exc.text)

    def _crumb_ok(self, request: Request, user: str) -> bool:
        sent = request.headers.get(CRUMB_FIELD.lower()) or self._form(request).get(CRUMB_FIELD)
        return sent is not None and hmac.compare_digest(sent, self.crumb(user))

    def _form(self, request: Request) -> dict[str, str]:
        sent = {k: v[-1] for k, v in request.query.items()}
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            body = parse_qs(request.body.decode(errors="replace"), keep_blank_values=True)
            sent.update({k: v[-1] for k, v in body.items()})
        return sent

    def _route(self, request: Request, segments: list[str]) -> Reply:
        verb, js = request.method, self.state
        if segments in ([], ["api", "json"]):
            if not segments:
                return page(200, "Dashboard")
            return Reply(200, folder_json(js, None, request.arg("tree")), JSON)
        if segments == ["me", "api", "json"]:
            me = {"_class": "hudson.model.User", "absoluteUrl": f"{js.url}user/{request.user}"}
            return Reply(200, {**me, "fullName": request.user, "id": request.user}, JSON)
        if segments[:1] == ["queue"]:
            return self._queue(request, segments[1:])
        name, rest = split_job_path(segments)
        if name is None:
            raise JenkinsError(404, "Not Found")
        job = js.job(name)
        if rest in ([], ["api", "json"]) and verb == "GET":
            if not rest:
                return page(200, job.full_name)
            return Reply(200, job_json(js, job, request.arg("tree")), JSON)
        if rest in (["build"], ["buildWithParameters"]) and verb == "POST":
            sent = self._form(request)
            item = js.enqueue(
                name, sent, user=request.user or "", with_parameters=rest == ["buildWithParameters"]
            )
            return Reply(201, b"", HTML, {"Location": f"{js.url}queue/item/{item.id}/"})
        if not rest:
            raise JenkinsError(404, "Not Found")
        build = js.build(name, rest[0])
        action = rest[1:]
        if action == [] and verb == "GET":
            return page(200, f"{job.full_name} #{build.number}")
        if action == ["api", "json"] and verb == "GET":
            return Reply(200, build_json(js, build), JSON)
        if action == ["consoleText"] and verb == "GET":
            return Reply(200, build.log, TEXT)
        if action == ["logText", "progressiveText"] and verb == "GET":
            return self._progressive(request, build)
        if action == ["stop"] and verb == "POST":
            stopped = js.stop(name, build.number, request.user or "")
            return Reply(302, b"", HTML, {"Location": f"{js.job_url(name)}{stopped.number}/"})
        raise JenkinsError(404, "Not Found")

    def _progressive(self, request: Request, build: Build) -> Reply:
        log = build.log.encode()
        try:
            start = max(int(request.arg("start") or 0), 0)
        except ValueError:
            start = 0
        headers = {"X-Text-Size": str(len(log))}
        if build.building:
            headers["X-More-Data"] = "true"
        return Reply(200, log[start:], TEXT, headers)

    def _queue(self, request: Request, segments: list[str]) -> Reply:
        js = self.state
        if segments == ["api", "json"] and request.method == "GET":
            waiting = [i for i in js.queue.values() if i.build_number is None and not i.cancelled]
            items = [queue_item_json(js, i) for i in waiting]
            body = {"_class": "hudson.model.Queue", "discoverableItems": [], "items": items}
            return Reply(200, body, JSON)
        if segments == ["cancelItem"] and request.method == "POST":
            js.cancel(int(request.arg("id") or 0))
            return Reply(204)
        if (
            len(segments) == 4
            and segments[0] == "item"
            and segments[2:] == ["api", "json"]
            and segments[1].isdigit()
            and request.method == "GET"
        ):
            item = js.queue_item(int(segments[1]), poll=True)
            return Reply(200, queue_item_json(js, item), JSON)
        raise JenkinsError(404, "Not Found")


@pytest.fixture
def fake_jenkins() -> Iterator[FakeJenkins]:
    """A running FakeJenkins (user `devexbot`, CSRF on), stopped after the test."""
    with FakeJenkins() as fake:
        yield fake
