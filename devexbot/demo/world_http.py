"""The demo's GitHub and Jenkins over HTTP, on 127.0.0.1: GitHub's REST API at the root and
Jenkins under `/jenkins/`, just the calls the bot's buttons and card lookups make. Only the
bot knows the credentials (a throw-away token and Jenkins password), as with the real ones.
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import secrets
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from devexbot.demo.delivery import DemoSecrets
from devexbot.demo.world import NOT_FOUND, Answer, DemoWorld

JENKINS_USER = "devexbot"
_REPO = r"^/repos/(?P<repo>[^/]+/[^/]+)"
_SHA = r"(?P<sha>[0-9a-f]{40})"

Route = tuple[str, re.Pattern[str], Callable[..., Answer]]


def _github_routes(world: DemoWorld) -> list[Route]:
    routes: list[tuple[str, str, Callable[..., Answer]]] = [
        ("GET", r"^/rate_limit$", lambda **_: _RATE_LIMIT),  # the readiness check's
        ("GET", _REPO + "$", lambda repo, **_: world.repo(repo)),
        ("GET", _REPO + r"/pulls/(?P<n>\d+)$", lambda repo, n, **_: world.pull(repo, int(n))),
        # No rulesets in the demo: its pull requests merge directly, not through a queue.
        ("GET", _REPO + r"/rules/branches/.+$", lambda **_: Answer(200, [])),
        ("PUT", _REPO + r"/pulls/(?P<n>\d+)/merge$",
         lambda repo, n, body: world.merge(repo, int(n), body)),
        ("GET", _REPO + f"/commits/{_SHA}$", lambda repo, sha, **_: world.commit(repo, sha)),
        ("GET", _REPO + f"/commits/{_SHA}/status$",
         lambda repo, sha, **_: world.statuses(repo, sha)),
        ("GET", _REPO + f"/commits/{_SHA}/check-runs$",
         lambda repo, sha, **_: world.check_runs(repo, sha)),
        ("GET", _REPO + r"/actions/runs/(?P<n>\d+)$",
         lambda repo, n, **_: world.run(repo, int(n))),
        ("POST", _REPO + r"/actions/runs/(?P<n>\d+)/rerun-failed-jobs$",
         lambda repo, n, **_: world.rerun_failed_jobs(repo, int(n))),
        ("GET", _REPO + r"/actions/runs/(?P<n>\d+)/pending_deployments$",
         lambda repo, n, **_: world.pending_deployments(repo, int(n))),
        ("POST", _REPO + r"/actions/runs/(?P<n>\d+)/pending_deployments$",
         lambda repo, n, body: world.review_deployments(repo, int(n), body)),
        ("GET", _REPO + r"/actions/jobs/(?P<n>\d+)$",
         lambda repo, n, **_: world.job(repo, int(n))),
        ("GET", _REPO + r"/actions/jobs/(?P<n>\d+)/logs$",
         lambda repo, n, **_: world.job_log_link(repo, int(n))),
    ]
    return [(verb, re.compile(pattern), handler) for verb, pattern, handler in routes]


# GitHub's `GET /rate_limit` (it costs nothing of the limit; the demo never runs out).
_WINDOW = {"limit": 5000, "used": 0, "remaining": 5000, "reset": 4102444800}
_RATE_LIMIT = Answer(200, {"resources": {name: dict(_WINDOW) for name in ("core", "search",
                                                                          "graphql")},
                           "rate": dict(_WINDOW)})

_JENKINS_BUILD = re.compile(r"^(?P<job>(?:job/[^/]+/)+)(?P<n>\d+)/(?P<what>api/json|consoleText)$")
_JENKINS_START = re.compile(r"^(?P<job>(?:job/[^/]+/)+)(?:build|buildWithParameters)$")
_LOG = re.compile(r"^/logs/(?P<n>\d+)\.txt$")


def _job_name(path: str) -> str:
    parts = path.strip("/").split("/")
    return "/".join(unquote(parts[i]) for i in range(1, len(parts), 2))


class DemoServices:
    """The demo's GitHub and Jenkins, listening on 127.0.0.1 (a free port) until closed."""

    def __init__(self, *, bot_url: str, keys: DemoSecrets, speed: float = 1.0) -> None:
        self.github_token = secrets.token_hex(20)
        self.jenkins_token = secrets.token_hex(16)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.services = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.world = DemoWorld(api=self.url, jenkins=f"{self.url}/jenkins/", bot_url=bot_url,
                               keys=keys, speed=speed)
        self._routes = _github_routes(self.world)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="demo-github-jenkins")

    @property
    def jenkins_url(self) -> str:
        return self.world.jenkins

    def __enter__(self) -> DemoServices:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.world.stopped.set()
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def answer(self, verb: str, target: str, headers: Any, body: bytes) -> Answer:
        path = urlsplit(target).path
        if verb == "GET" and (found := _LOG.match(path)):
            return self.world.job_log(int(found["n"]))  # a download link: no credentials
        if path.startswith("/jenkins/"):
            if not self._jenkins_caller(headers.get("Authorization", "")):
                return Answer(401, "Unauthorized")
            return self._jenkins(verb, path.removeprefix("/jenkins/"))
        scheme, _, token = headers.get("Authorization", "").partition(" ")
        if scheme.lower() not in ("token", "bearer") or not hmac.compare_digest(
                token.encode(), self.github_token.encode()):
            return Answer(401, {"message": "Bad credentials"})
        for route_verb, pattern, handler in self._routes:
            if route_verb == verb and (found := pattern.match(path)):
                try:
                    sent = json.loads(body) if body else {}
                except ValueError:
                    return Answer(400, {"message": "Problems parsing JSON"})
                return handler(**found.groupdict(), body=sent if isinstance(sent, dict) else {})
        return NOT_FOUND

    def _jenkins_caller(self, authorization: str) -> bool:
        scheme, _, value = authorization.partition(" ")
        expected = base64.b64encode(f"{JENKINS_USER}:{self.jenkins_token}".encode()).decode()
        return scheme.lower() == "basic" and hmac.compare_digest(value.encode(),
                                                                  expected.encode())

    def _jenkins(self, verb: str, path: str) -> Answer:
        if verb == "GET" and path == "me/api/json":  # who the bot is: the readiness check
            return Answer(200, {"_class": "hudson.model.User", "id": JENKINS_USER,
                                "fullName": JENKINS_USER, "description": None})
        if verb == "GET" and (found := _JENKINS_BUILD.match(path)):
            job, number = _job_name(found["job"]), int(found["n"])
            if found["what"] == "consoleText":
                return self.world.console(job, number)
            return self.world.build(job, number)
        if verb == "POST" and (found := _JENKINS_START.match(path)):
            return self.world.build_job(_job_name(found["job"]))
        return Answer(404, "Not Found")  # the crumb issuer too: CSRF protection is off


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        services: DemoServices = self.server.services  # type: ignore[attr-defined]
        answer = services.answer(self.command, self.path, self.headers, body)
        if isinstance(answer.body, str):
            raw, kind = answer.body.encode(), "text/plain; charset=utf-8"
        else:
            raw = b"" if answer.body is None else json.dumps(answer.body).encode()
            kind = "application/json; charset=utf-8"
        self.send_response(answer.status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(raw)))
        for name, value in answer.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass
