"""Jira's REST API v2, spoken directly with `requests`.

Four endpoints are all the bot needs (an issue's summary and status, its comments, add a
comment, list and make transitions). The `jira` package would bring Pillow and
requests-toolbelt, call the server when constructed, and retry with sleeps inside calls;
here each call fails fast with an error that says whether trying again can help, and the
caller keeps the retries in the database. v2 takes plain-text comments on Jira Cloud and
Data Center alike (v3 wants Atlassian Document Format, which Data Center does not speak).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from devexbot.errors import DevexbotError
from devexbot.health.readiness import Readiness
from devexbot.health.reasons import failure_reason
from devexbot.settings import Settings

TIMEOUT = 10  # seconds for one call
MAX_ERROR = 300


class JiraError(DevexbotError):
    """A call that did not work. `permanent`: asking again will not help (a 400 or 404:
    no such issue, no such transition); otherwise Jira was unreachable or refused for now."""

    def __init__(self, message: str, *, status: int | None = None,
                 permanent: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.permanent = permanent


@dataclass(frozen=True)
class Issue:
    key: str
    title: str | None
    status: str | None


@dataclass(frozen=True)
class Transition:
    id: str
    name: str
    to: str | None  # the status it leads to


class JiraClient:
    """One Jira site; basic auth with a user and API token (Cloud), or a bearer personal
    access token when there is no user (Data Center)."""

    def __init__(self, url: str, *, user: str | None, token: str,
                 timeout: float = TIMEOUT, readiness: Readiness | None = None) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.readiness = readiness  # told whether Jira takes the calls
        self._session = requests.Session()
        if user:
            self._session.auth = (user, token)
        else:
            self._session.headers["Authorization"] = f"Bearer {token}"
        self._session.headers["Accept"] = "application/json"

    @classmethod
    def from_settings(cls, settings: Settings, readiness: Readiness | None = None
                      ) -> JiraClient | None:
        """The client, or None when JIRA_URL or JIRA_API_TOKEN is unset."""
        if not settings.jira_url or settings.jira_api_token is None:
            return None
        return cls(settings.jira_url, user=settings.jira_user,
                   token=settings.jira_api_token.get_secret_value(), readiness=readiness)

    def myself(self) -> None:
        """Who the credentials are (`GET myself`): a call any working credentials may make."""
        self._call("GET", "myself", timeout=min(self.timeout, 5))

    def issue(self, key: str, *, timeout: float | None = None) -> Issue | None:
        """The issue's summary and status; None if there is no such issue."""
        try:
            body = self._call("GET", f"issue/{quote(key)}", params={"fields": "summary,status"},
                              timeout=timeout or self.timeout)
        except JiraError as exc:
            if exc.status == 404:
                return None
            raise
        fields = body.get("fields") or {}
        status = fields.get("status") or {}
        return Issue(key=str(body.get("key") or key), title=fields.get("summary"),
                     status=status.get("name") if isinstance(status, dict) else None)

    def comment_bodies(self, key: str) -> list[str]:
        """The text of the issue's comments (first page: Jira's newest 50 by default)."""
        body = self._call("GET", f"issue/{quote(key)}/comment",
                          params={"orderBy": "-created", "maxResults": 100})
        return [str(c.get("body")) for c in body.get("comments") or () if c.get("body")]

    def add_comment(self, key: str, text: str) -> None:
        self._call("POST", f"issue/{quote(key)}/comment", json={"body": text})

    def transitions(self, key: str) -> list[Transition]:
        body = self._call("GET", f"issue/{quote(key)}/transitions")
        return [
            Transition(id=str(t.get("id")), name=str(t.get("name")),
                       to=(t.get("to") or {}).get("name"))
            for t in body.get("transitions") or ()
        ]

    def transition(self, key: str, transition_id: str) -> None:
        self._call("POST", f"issue/{quote(key)}/transitions",
                   json={"transition": {"id": transition_id}})

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        url = f"{self.url}/rest/api/2/{path}"
        kwargs.setdefault("timeout", self.timeout)
        try:
            response = self._session.request(method, url, **kwargs)
        except requests.RequestException as exc:
            self._saw(failure_reason(exc))
            raise JiraError(f"Jira is unreachable: {type(exc).__name__}") from exc
        status = response.status_code
        self._saw(f"JIRA_USER / JIRA_API_TOKEN are refused (HTTP {status})" if status == 401
                  else f"it answers HTTP {status}" if status >= 500 else None)
        if response.status_code >= 400:
            raise JiraError(
                f"Jira answered {response.status_code}: {_reason(response)}",
                status=response.status_code,
                permanent=response.status_code in (400, 404),
            )
        if response.status_code == 204 or not response.content:
            return {}
        try:
            return response.json()
        except ValueError as exc:
            raise JiraError("Jira answered something that is not JSON") from exc


    def _saw(self, unusable: str | None) -> None:
        if self.readiness is not None:
            if unusable is None:
                self.readiness.up("jira")
            else:
                self.readiness.down("jira", unusable)


def _reason(response: requests.Response) -> str:
    """Jira's own words: `errorMessages` and `errors`, else the start of the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:MAX_ERROR].strip() or response.reason
    if isinstance(body, dict):
        messages = [str(m) for m in body.get("errorMessages") or ()]
        messages += [f"{k}: {v}" for k, v in (body.get("errors") or {}).items()]
        if messages:
            return "; ".join(messages)[:MAX_ERROR]
    return response.reason
