"""A small Jenkins: the remote API python-jenkins uses to run a parameterised job, served
over real HTTP on 127.0.0.1.

    with FakeJenkins() as jenkins:
        jenkins.add_job("ops/cleanup", script=[(0.0, "starting\\n"), (0.5, "done\\n")])
        # JENKINS_URL=jenkins.url, JENKINS_USER=jenkins.user, JENKINS_API_TOKEN=jenkins.token

What it speaks, as Jenkins does:
- `GET crumbIssuer/api/json` gives a crumb; every POST must carry it (`Jenkins-Crumb`),
  and every request HTTP basic auth (user and API token), else 403 / 401.
- `POST job/<a>/job/<b>/buildWithParameters?k=v` answers 201 with `Location:
  <url>queue/item/<n>/`; `job/<name>/build` without parameters.
- `GET queue/item/<n>/api/json`: a WaitingItem with `why` for `queue_wait` seconds, then a
  LeftItem whose `executable` names the build; `POST queue/cancelItem?id=<n>` cancels it.
- `GET job/<name>/<n>/api/json`: `building`, `result` (null while building), `url`.
- `GET job/<name>/<n>/logText/progressiveText?start=<bytes>`: the console from `start`,
  with `X-Text-Size` (where to start next) and `X-More-Data: true` while it may grow.
- `POST job/<name>/<n>/stop`: aborts the build.

A build's console is a script of `(seconds after start, text)`; it ends `Finished: RESULT`.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

CRUMB_FIELD = "Jenkins-Crumb"


@dataclass
class JobSpec:
    name: str
    script: list[tuple[float, str]]
    result: str
    queue_wait: float


@dataclass
class Build:
    job: str
    number: int
    params: dict[str, str]
    script: list[tuple[float, str]]
    result: str
    started: float
    stopped_at: float | None = None

    def _elapsed(self) -> float:
        end = self.stopped_at if self.stopped_at is not None else time.monotonic()
        return end - self.started

    @property
    def done_after(self) -> float:
        return max((at for at, _ in self.script), default=0.0)

    def building(self) -> bool:
        return self.stopped_at is None and self._elapsed() < self.done_after

    def final_result(self) -> str | None:
        if self.stopped_at is not None:
            return "ABORTED"
        return None if self.building() else self.result

    def log(self) -> bytes:
        elapsed = self._elapsed()
        text = "".join(t for at, t in self.script if at <= elapsed)
        if self.stopped_at is not None:
            text += "Aborted by devexbot\nFinished: ABORTED\n"
        elif not self.building():
            text += f"Finished: {self.result}\n"
        return text.encode()


@dataclass
class QueueItem:
    id: int
    job: JobSpec
    params: dict[str, str]
    queued: float
    build: Build | None = None
    cancelled: bool = False


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        self.server.fake._serve(self, "GET")

    def do_POST(self) -> None:
        self.server.fake._serve(self, "POST")

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def reply(self, status: int, body: bytes = b"", content_type: str = "text/plain",
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeJenkins) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _Handler)


class FakeJenkins:
    def __init__(self, *, user: str = "devexbot", token: str = "jenkins-api-token") -> None:
        self.user, self.token = user, token
        self.crumb = "c0ffee" * 4
        self.jobs: dict[str, JobSpec] = {}
        self.queue: dict[int, QueueItem] = {}
        self.builds: list[Build] = []
        self.requests: list[Request] = []
        self._ids = itertools.count(101)
        self._numbers: dict[str, itertools.count[int]] = {}
        self._lock = threading.Lock()
        self._server: _Server | None = None

    # ---- set-up and assertions -------------------------------------------------------

    def add_job(self, name: str, *, script: Sequence[tuple[float, str]] = ((0.0, "ok\n"),),
                result: str = "SUCCESS", queue_wait: float = 0.2) -> None:
        self.jobs[name] = JobSpec(name, list(script), result, queue_wait)
        self._numbers[name] = itertools.count(1)

    def calls(self, fragment: str = "") -> list[Request]:
        with self._lock:
            return [r for r in self.requests if fragment in r.path]

    @property
    def url(self) -> str:
        assert self._server is not None, "FakeJenkins is not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def __enter__(self) -> FakeJenkins:
        self._server = _Server(self)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True, name="fake-jenkins").start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # ---- HTTP ------------------------------------------------------------------------

    def _serve(self, request: _Handler, method: str) -> None:
        parts = urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        if length:
            request.rfile.read(length)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        with self._lock:
            self.requests.append(Request(method, parts.path, query, dict(request.headers)))
        if not self._authorised(request.headers.get("Authorization")):
            request.reply(401, b"Unauthorized", headers={"WWW-Authenticate": 'Basic realm="J"'})
            return
        if method == "POST" and request.headers.get(CRUMB_FIELD) != self.crumb:
            request.reply(403, b"No valid crumb was included in the request")
            return
        path = parts.path
        with self._lock:
            status, body, headers = self._route(method, path, query)
        content_type = "application/json" if body[:1] in (b"{", b"[") else "text/plain"
        request.reply(status, body, content_type, headers)

    def _authorised(self, header: str | None) -> bool:
        expected = base64.b64encode(f"{self.user}:{self.token}".encode()).decode()
        return header == f"Basic {expected}"

    def _route(self, method: str, path: str, query: dict[str, str]
               ) -> tuple[int, bytes, dict[str, str]]:
        if path == "/crumbIssuer/api/json":
            return _json({"_class": "hudson.security.csrf.DefaultCrumbIssuer",
                          "crumb": self.crumb, "crumbRequestField": CRUMB_FIELD})
        if path.startswith("/queue/item/") and path.endswith("/api/json"):
            return self._queue_item(int(path.split("/")[3]))
        if path == "/queue/cancelItem" and method == "POST":
            item = self.queue.get(int(query.get("id", "0")))
            if item is None:
                return 404, b"Not found", {}
            if item.build is None:
                item.cancelled = True
            return 204, b"", {}
        job, rest = _job_of(path)
        if job is None or job not in self.jobs:
            return 404, b"Not found", {}
        if rest in ("buildWithParameters", "build") and method == "POST":
            return self._trigger(self.jobs[job], query)
        number, _, tail = rest.partition("/")
        build = next((b for b in self.builds if b.job == job and str(b.number) == number), None)
        if build is None:
            return 404, b"Not found", {}
        if tail == "api/json":
            return _json({
                "_class": "hudson.model.FreeStyleBuild", "number": build.number,
                "building": build.building(), "result": build.final_result(),
                "url": f"{self.url}{_job_path(job)}{build.number}/",
                "fullDisplayName": f"{job} #{build.number}",
                "actions": [{"_class": "hudson.model.ParametersAction", "parameters": [
                    {"name": k, "value": v} for k, v in build.params.items()]}],
            })
        if tail == "logText/progressiveText":
            log = build.log()
            start = int(query.get("start", "0") or 0)
            headers = {"X-Text-Size": str(len(log))}
            if build.building():
                headers["X-More-Data"] = "true"
            return 200, log[start:], headers
        if tail == "stop" and method == "POST":
            if build.building():
                build.stopped_at = time.monotonic()
            return 200, b"", {}
        return 404, b"Not found", {}

    def _trigger(self, job: JobSpec, params: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        item = QueueItem(next(self._ids), job, dict(params), time.monotonic())
        self.queue[item.id] = item
        return 201, b"", {"Location": f"{self.url}queue/item/{item.id}/"}

    def _queue_item(self, item_id: int) -> tuple[int, bytes, dict[str, str]]:
        item = self.queue.get(item_id)
        if item is None:
            return 404, b"Not found", {}
        task = {"name": item.job.name, "url": f"{self.url}{_job_path(item.job.name)}"}
        if item.cancelled:
            return _json({"_class": "hudson.model.Queue$LeftItem", "id": item.id,
                          "cancelled": True, "executable": None, "task": task})
        if item.build is None and time.monotonic() - item.queued < item.job.queue_wait:
            return _json({"_class": "hudson.model.Queue$WaitingItem", "id": item.id,
                          "blocked": False, "buildable": True, "stuck": False,
                          "why": "Waiting for next available executor", "task": task})
        if item.build is None:
            item.build = Build(item.job.name, next(self._numbers[item.job.name]), item.params,
                               item.job.script, item.job.result, time.monotonic())
            self.builds.append(item.build)
        return _json({"_class": "hudson.model.Queue$LeftItem", "id": item.id,
                      "cancelled": False, "task": task,
                      "executable": {"_class": "hudson.model.FreeStyleBuild",
                                     "number": item.build.number,
                                     "url": f"{self.url}{_job_path(item.job.name)}"
                                            f"{item.build.number}/"}})


def _json(value: Any) -> tuple[int, bytes, dict[str, str]]:
    return 200, json.dumps(value).encode(), {}


def _job_path(name: str) -> str:
    return "".join(f"job/{part}/" for part in name.split("/"))


def _job_of(path: str) -> tuple[str | None, str]:
    """`/job/a/job/b/7/api/json` is job `a/b` and the rest `7/api/json`."""
    parts = [unquote(p) for p in path.strip("/").split("/")]
    names = []
    while len(parts) >= 2 and parts[0] == "job":
        names.append(parts[1])
        parts = parts[2:]
    return ("/".join(names) if names else None), "/".join(parts)


@pytest.fixture
def fake_jenkins() -> Iterator[FakeJenkins]:
    with FakeJenkins() as fake:
        yield fake
