"""FakeJira: Jira Cloud's REST API (v2, and v3's document-format comments) as a real HTTP
server on 127.0.0.1.

    with FakeJira() as jira:
        jira.add_issue("ABC-123", "Login page", status="To Do")
        ... the bot comments and transitions ...
        assert jira.comments("ABC-123") == ["Deployed to test in 6dcb09b — try it: ..."]
        assert jira.status("ABC-123") == "In QA"

Endpoints: `GET /rest/api/{2,3}/issue/{key}` (`fields=summary,status`),
`GET|POST /rest/api/{2,3}/issue/{key}/comment`, `GET|POST /rest/api/{2,3}/issue/{key}/transitions`
and `GET /rest/api/{2,3}/myself`, with basic auth (user + API token) or a bearer personal
access token. Error bodies are Jira's (`{"errorMessages": [...], "errors": {...}}`). Faults
come from `HttpFake` (`fail_next`, `slow_next`, `delay`).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import itertools
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.fakes.github_http import HttpFake, Reply, Request

DEFAULT_USER = "devexbot@example.com"
DEFAULT_TOKEN = "jira-api-token"
DEFAULT_PAT = "jira-personal-access-token"
STATUSES = ("To Do", "In Progress", "In QA", "Done")
# Simplified workflows name a transition after where it goes; these do not, so a client
# that only compares names with statuses is caught.
TRANSITION_NAMES = {"To Do": "Reopen", "In Progress": "Start progress",
                    "In QA": "Ready for QA", "Done": "Close"}
STATUS_IDS = {name: str(10000 + i) for i, name in enumerate(STATUSES)}
CATEGORIES = {"To Do": "new", "In Progress": "indeterminate", "In QA": "indeterminate",
              "Done": "done"}
_ROUTE = re.compile(r"^/rest/api/(?P<version>[23])/(?P<rest>.+?)/?$")
_ISSUE = re.compile(r"^issue/(?P<key>[^/]+)(?:/(?P<what>comment|transitions))?$")


@dataclass
class Comment:
    id: str
    body: str
    author: str
    created: str


@dataclass
class Issue:
    key: str
    id: str
    summary: str
    status: str
    comments: list[Comment] = field(default_factory=list)
    history: list[tuple[str, str]] = field(default_factory=list)  # (from, to) transitions
    # Statuses reachable from each status; a status missing here reaches all the others.
    workflow: dict[str, list[str]] = field(default_factory=dict)

    def reachable(self) -> list[str]:
        targets = self.workflow.get(self.status)
        return list(targets) if targets is not None else [s for s in STATUSES
                                                            if s != self.status]


def jira_error(status: int, *messages: str, **errors: str) -> Reply:
    return Reply(status, {"errorMessages": list(messages), "errors": errors})


def adf(text: str) -> dict[str, Any]:
    """Plain text as an Atlassian Document Format document (v3's comment bodies)."""
    paragraphs = [{"type": "paragraph", "content": [{"type": "text", "text": line}]}
                  for line in text.split("\n") if line]
    return {"type": "doc", "version": 1, "content": paragraphs}


def adf_text(doc: Any) -> str:
    if isinstance(doc, str):
        return doc
    if not isinstance(doc, dict):
        return ""
    if doc.get("type") == "text":
        return str(doc.get("text") or "")
    parts = [adf_text(child) for child in doc.get("content") or ()]
    return ("\n" if doc.get("type") == "doc" else "").join(parts)


class FakeJira(HttpFake):
    """A local Jira site at `base_url`; `user` + `token` (basic) or `pat` (bearer) get in."""

    thread_name = "fake-jira"

    def __init__(self, *, user: str = DEFAULT_USER, token: str = DEFAULT_TOKEN,
                 pat: str = DEFAULT_PAT, delay: float = 0.0) -> None:
        super().__init__(delay=delay)
        self.user, self.token, self.pat = user, token, pat
        self.lock = threading.RLock()
        self.issues: dict[str, Issue] = {}
        self._ids = itertools.count(10001)

    @property
    def base_url(self) -> str:
        """What JIRA_URL takes."""
        return self.url

    # ---- setup -----------------------------------------------------------------------

    def add_issue(self, key: str, summary: str = "A ticket", *, status: str = "To Do",
                  workflow: dict[str, Iterable[str]] | None = None) -> None:
        """An issue; `workflow` {status: statuses reachable from it} limits transitions."""
        with self.lock:
            self.issues[key] = Issue(key, str(next(self._ids)), summary, status,
                                     workflow={k: list(v) for k, v in (workflow or {}).items()})

    def set_status(self, key: str, status: str) -> None:
        """Someone moved the issue in Jira's own UI."""
        with self.lock:
            self.issues[key].status = status

    def fail_next(self, target: str = "*", *, status: int = 503, times: int = 1,
                  message: str | None = None) -> None:
        """The next `times` calls matching `target` answer `status` with Jira's error body.

        target: "*", a verb ("POST"), a path glob ("/rest/api/2/issue/*/transitions") or both.
        """
        reply = jira_error(status, message or f"Error {status}")
        if status == 429:
            reply.headers["Retry-After"] = "1"
        self._fail_next(target, reply, times)

    # ---- assertions ------------------------------------------------------------------

    def comments(self, key: str) -> list[str]:
        """The issue's comment bodies, oldest first."""
        with self.lock:
            return [c.body for c in self.issues[key].comments]

    def status(self, key: str) -> str:
        with self.lock:
            return self.issues[key].status

    def transitions_made(self, key: str) -> list[tuple[str, str]]:
        """(from, to) for every transition, oldest first."""
        with self.lock:
            return list(self.issues[key].history)

    # ---- HTTP ------------------------------------------------------------------------

    def _answer(self, request: Request) -> Reply:
        user = self._authenticate(request.headers.get("authorization"))
        if user is None:
            return Reply(401, {"errorMessages": ["You are not authenticated. Authentication "
                                                 "required to perform this operation."]},
                         headers={"WWW-Authenticate": 'Basic realm="protected-area"'})
        request.user = user
        route = _ROUTE.match(request.path)
        if route is None:
            return jira_error(404, "Not found")
        version, rest = int(route["version"]), route["rest"]
        if rest == "myself" and request.method == "GET":
            return Reply(200, {"accountId": "5b10ac8d82e05b22cc7d4ef5", "emailAddress": user,
                               "displayName": "devexbot", "active": True})
        match = _ISSUE.match(rest)
        if match is None:
            return jira_error(404, "Not found")
        with self.lock:
            issue = self.issues.get(match["key"].upper())
            if issue is None:
                return jira_error(404, "Issue does not exist or you do not have permission to "
                                       "see it.")
            what = match["what"]
            if what is None and request.method == "GET":
                return Reply(200, self._issue_json(issue, request))
            if what == "comment":
                return self._comment(issue, request, version, user)
            if what == "transitions":
                return self._transitions(issue, request)
        return Reply(405, b"", "text/plain")

    def _authenticate(self, header: str | None) -> str | None:
        if not header:
            return None
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            return "pat-user" if hmac.compare_digest(value.strip(), self.pat) else None
        if scheme.lower() != "basic":
            return None
        try:
            user, _, token = base64.b64decode(value.strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        ok = user == self.user and hmac.compare_digest(token, self.token)
        return user if ok else None

    def _issue_json(self, issue: Issue, request: Request) -> dict[str, Any]:
        wanted = set((request.arg("fields") or "summary,status").split(","))
        fields: dict[str, Any] = {}
        if "summary" in wanted or "*all" in wanted:
            fields["summary"] = issue.summary
        if "status" in wanted or "*all" in wanted:
            fields["status"] = self._status_json(issue.status)
        return {"id": issue.id, "key": issue.key, "self": f"{self.url}/rest/api/2/issue/{issue.id}",
                "fields": fields}

    def _status_json(self, name: str) -> dict[str, Any]:
        return {"name": name, "id": STATUS_IDS.get(name, "1"),
                "self": f"{self.url}/rest/api/2/status/{STATUS_IDS.get(name, '1')}",
                "statusCategory": {"key": CATEGORIES.get(name, "indeterminate")}}

    def _comment(self, issue: Issue, request: Request, version: int, user: str) -> Reply:
        if request.method == "GET":
            comments = sorted(issue.comments, key=lambda c: int(c.id),
                              reverse=request.arg("orderBy") == "-created")
            limit = int(request.arg("maxResults") or 50)
            shown = [self._comment_json(c, version) for c in comments[:limit]]
            return Reply(200, {"startAt": 0, "maxResults": limit, "total": len(comments),
                               "comments": shown})
        if request.method != "POST":
            return Reply(405, b"", "text/plain")
        try:
            body = request.json() or {}
        except ValueError:
            return jira_error(400, "Unexpected character in the request body")
        text = adf_text(body.get("body")) if version == 3 else body.get("body")
        if not isinstance(text, str) or not text.strip():
            return jira_error(400, comment="Comment body can not be empty!")
        comment = Comment(str(next(self._ids)), text, user,
                          datetime.now(UTC).isoformat(timespec="milliseconds"))
        issue.comments.append(comment)
        return Reply(201, self._comment_json(comment, version))

    def _comment_json(self, comment: Comment, version: int) -> dict[str, Any]:
        return {"id": comment.id, "body": adf(comment.body) if version == 3 else comment.body,
                "author": {"emailAddress": comment.author, "displayName": comment.author},
                "created": comment.created, "updated": comment.created}

    def _transitions(self, issue: Issue, request: Request) -> Reply:
        available = {STATUS_IDS[s]: s for s in issue.reachable() if s in STATUS_IDS}
        if request.method == "GET":
            return Reply(200, {"expand": "transitions", "transitions": [
                {"id": tid, "name": TRANSITION_NAMES.get(to, to), "hasScreen": False,
                 "isGlobal": False, "isInitial": False, "isConditional": False,
                 "to": self._status_json(to)}
                for tid, to in available.items()
            ]})
        if request.method != "POST":
            return Reply(405, b"", "text/plain")
        try:
            body = request.json() or {}
        except ValueError:
            return jira_error(400, "Unexpected character in the request body")
        tid = str((body.get("transition") or {}).get("id") or "")
        if tid not in available:
            return jira_error(400, f"Transition id '{tid}' is not valid for this issue.")
        issue.history.append((issue.status, available[tid]))
        issue.status = available[tid]
        return Reply(204, b"", "text/plain")


@pytest.fixture
def fake_jira() -> Iterator[FakeJira]:
    """A running FakeJira, stopped after the test."""
    with FakeJira() as fake:
        yield fake
