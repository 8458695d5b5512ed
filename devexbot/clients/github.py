"""GitHub's REST API through PyGithub: a personal token or a GitHub App's installation
tokens, at `GITHUB_API_URL`.

PyGithub refreshes an installation token shortly before the `expires_at` GitHub gave it.
GitHub may still refuse a token earlier (revoked, or our clock behind GitHub's): then the
owner's cached client is dropped, a new token is fetched, and the lookup is tried once
more, so a dead token is never kept.
"""

from __future__ import annotations

import threading

from github import Auth, BadCredentialsException, Github, GithubIntegration, GithubRetry
from github.Repository import Repository

from devexbot.errors import DevexbotError
from devexbot.settings import Settings

TIMEOUT = 15  # seconds for one call; actions run after Slack's ack, so this is no hurry
CHECK_TIMEOUT = 5  # seconds for the readiness check
PER_PAGE = 100  # GitHub's maximum: collaborator and label lists in as few calls as can be


class GitHubNotConfigured(DevexbotError):
    def __init__(self) -> None:
        super().__init__("the bot has no GitHub credentials (GITHUB_TOKEN or a GitHub App)")


class GitHubApi:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._base_url = settings.github_api_url.rstrip("/")
        self._lock = threading.Lock()
        self._clients: dict[str, Github] = {}  # per owner for App installations

    @property
    def configured(self) -> bool:
        s = self._settings
        return s.github_token is not None or self._is_app

    @property
    def _is_app(self) -> bool:
        s = self._settings
        return (s.github_token is None and s.github_app_id is not None
                and s.github_app_private_key is not None)

    def check(self) -> None:
        """A call any working credentials may make, once, without retries: `GET /rate_limit`
        (which costs nothing of the rate limit), or `GET /app` for a GitHub App."""
        s = self._settings
        if s.github_token is not None:
            Github(auth=Auth.Token(s.github_token.get_secret_value()), base_url=self._base_url,
                   timeout=CHECK_TIMEOUT, retry=None).get_rate_limit()
        elif s.github_app_id is not None and s.github_app_private_key is not None:
            app = Auth.AppAuth(s.github_app_id, s.github_app_private_key.get_secret_value())
            GithubIntegration(auth=app, base_url=self._base_url, timeout=CHECK_TIMEOUT,
                              retry=None).get_app()
        else:
            raise GitHubNotConfigured()

    def repo(self, full_name: str) -> Repository:
        """The repository, with a client authorised for it."""
        owner, name = full_name.split("/", 1)
        client = self._client(owner, name)
        try:
            return client.get_repo(full_name)
        except BadCredentialsException:
            if not self._is_app:
                raise
        self._forget(owner, client)  # GitHub refused the installation token: get a new one
        return self._client(owner, name).get_repo(full_name)

    def _forget(self, owner: str, client: Github) -> None:
        with self._lock:
            if self._clients.get(owner.lower()) is client:
                del self._clients[owner.lower()]

    def client_for(self, full_name: str) -> Github:
        """A client authorised for the repository's owner (its org's teams, say)."""
        owner, name = full_name.split("/", 1)
        return self._client(owner, name)

    def client_for_org(self, org: str) -> Github:
        """A client authorised for an organisation (its teams), with no repository to go by."""
        return self._client(org, None)

    def _client(self, owner: str, name: str | None) -> Github:
        s = self._settings
        retry = GithubRetry(total=2, max_rate_limit_wait=60)
        if s.github_token is not None:
            key = ""
            auth: Auth.Auth = Auth.Token(s.github_token.get_secret_value())
        elif s.github_app_id is not None and s.github_app_private_key is not None:
            key = owner.lower()
            with self._lock:
                if key in self._clients:
                    return self._clients[key]
            app = Auth.AppAuth(s.github_app_id, s.github_app_private_key.get_secret_value())
            integration = GithubIntegration(auth=app, base_url=self._base_url, timeout=TIMEOUT)
            installation = integration.get_repo_installation(owner, name) if name else \
                integration.get_org_installation(owner)
            auth = app.get_installation_auth(installation.id)
        else:
            raise GitHubNotConfigured()
        with self._lock:
            if key not in self._clients:
                # A click makes a handful of calls and one write: no client-side throttle.
                self._clients[key] = Github(auth=auth, base_url=self._base_url,
                                            timeout=TIMEOUT, retry=retry, per_page=PER_PAGE,
                                            seconds_between_requests=None,
                                            seconds_between_writes=None)
            return self._clients[key]
