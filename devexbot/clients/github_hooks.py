"""GitHub's webhook delivery logs through PyGithub's requester (PyGithub has no calls for
them): list a hook's deliveries a page at a time, and ask for one to be redelivered.

- a repository's hook: `GET /repos/{owner}/{repo}/hooks/{id}/deliveries`,
  `POST …/deliveries/{delivery_id}/attempts`;
- an organisation's: `/orgs/{org}/hooks/{id}/deliveries…`;
- the GitHub App's own: `/app/hook/deliveries…`, authenticated as the App (its JWT).

Clients here never retry and never wait: a rate limit comes back as a `HookLogError` with
GitHub's headers, and catch-up decides when to call again, on its own clock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Literal

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from github import Auth, Github, GithubException, GithubIntegration
from github.Requester import Requester

from correlation.catchup import LoggedDelivery, next_link, read_logged_delivery
from devexbot.clients.github import TIMEOUT, GitHubNotConfigured
from devexbot.errors import DevexbotError
from devexbot.settings import Settings

PER_PAGE = 100  # GitHub's maximum for delivery lists


@dataclass(frozen=True)
class HookRef:
    """A hook whose delivery log the bot reads."""

    kind: Literal["repo", "org", "app"]
    owner: str = ""  # owner/name for a repository, the organisation's login for an org
    id: int = 0

    @property
    def key(self) -> str:
        """How the catch-up tables name it."""
        return "app" if self.kind == "app" else f"{self.kind}:{self.owner.lower()}:{self.id}"

    @property
    def path(self) -> str:
        if self.kind == "app":
            return "/app/hook"
        base = "/repos" if self.kind == "repo" else "/orgs"
        return f"{base}/{self.owner}/hooks/{self.id}"

    def __str__(self) -> str:
        return "the App's hook" if self.kind == "app" else f"{self.owner} hook {self.id}"


class HookLogError(DevexbotError):
    """GitHub refused a call: its status and headers (a rate limit's among them)."""

    def __init__(self, status: int, headers: dict[str, str], message: str) -> None:
        super().__init__(f"GitHub answered {status}: {message}")
        self.status, self.headers = status, headers


class HookLog:
    """The delivery logs of the hooks, as the bot's GitHub credentials may read them."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._base_url = settings.github_api_url.rstrip("/")
        self._lock = threading.Lock()
        self._requesters: dict[str, Requester] = {}

    @property
    def is_app(self) -> bool:
        s = self._settings
        return (s.github_token is None and s.github_app_id is not None
                and s.github_app_private_key is not None)

    @property
    def configured(self) -> bool:
        return self._settings.github_token is not None or self.is_app

    def first_page(self, hook: HookRef) -> str:
        return f"{hook.path}/deliveries?per_page={PER_PAGE}"

    def page(self, hook: HookRef, url: str) -> tuple[list[LoggedDelivery], str | None]:
        """One page of the log (newest first) and the next page's URL, if any."""
        headers, data = self._call(hook, "GET", url)
        entries = [found for raw in (data if isinstance(data, list) else [])
                   if (found := read_logged_delivery(raw)) is not None]
        link = next((v for k, v in headers.items() if k.lower() == "link"), None)
        return entries, next_link(link)

    def repo_hooks(self, full_name: str) -> object:
        """GitHub's list of a repository's hooks (the first 100)."""
        _, data = self._call(HookRef("repo", full_name), "GET",
                             f"/repos/{full_name}/hooks?per_page={PER_PAGE}")
        return data

    def redeliver(self, hook: HookRef, logged_id: int) -> None:
        """Ask GitHub to send that delivery again (it answers 202 and sends it soon)."""
        self._call(hook, "POST", f"{hook.path}/deliveries/{logged_id}/attempts")

    def _call(self, hook: HookRef, verb: str, url: str) -> tuple[dict[str, Any], Any]:
        try:
            headers, data = self._requester(hook).requestJsonAndCheck(verb, url)
        except GithubException as exc:
            message = exc.data.get("message") if isinstance(exc.data, dict) else None
            raise HookLogError(exc.status, dict(exc.headers or {}),
                               str(message or exc.message or "error")) from exc
        return dict(headers or {}), data

    def _requester(self, hook: HookRef) -> Requester:
        key = "app" if hook.kind == "app" else ("" if not self.is_app
                                                else hook.owner.split("/")[0].lower())
        with self._lock:
            found = self._requesters.get(key)
        if found is None:
            found = self._build(hook)
            with self._lock:
                found = self._requesters.setdefault(key, found)
        return found

    def _build(self, hook: HookRef) -> Requester:
        s = self._settings
        # Catch-up paces its own asks on its clock: PyGithub's sleeps would be hidden ones.
        options: dict[str, Any] = {"base_url": self._base_url, "timeout": TIMEOUT,
                                   "retry": None, "seconds_between_requests": None,
                                   "seconds_between_writes": None}
        if s.github_token is not None:
            if hook.kind == "app":
                raise DevexbotError("the App's hook needs the bot to run as the App "
                                    "(GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY, no token)")
            return Github(auth=Auth.Token(s.github_token.get_secret_value()),
                          **options).requester
        if s.github_app_id is None or s.github_app_private_key is None:
            raise GitHubNotConfigured()
        app = _app_auth(s.github_app_id, s.github_app_private_key.get_secret_value())
        integration = GithubIntegration(auth=app, **options)
        if hook.kind == "app":
            return integration.requester
        owner, _, name = hook.owner.partition("/")
        installation = integration.get_repo_installation(owner, name) if name else \
            integration.get_org_installation(owner)
        return Github(auth=app.get_installation_auth(installation.id), **options).requester


def _app_auth(app_id: int | str, private_key: str) -> Auth.AppAuth:
    """The App's JWTs, signed with the key read once (PyGithub reads the PEM for every
    JWT, and the App's hook takes a JWT per call)."""
    key = load_pem_private_key(private_key.encode(), password=None)

    def sign(payload: dict[str, Any]) -> str:
        return jwt.encode(payload, key, algorithm="RS256")  # type: ignore[arg-type]

    return Auth.AppAuth(app_id, sign_func=sign)
