"""GitHub's webhooks as the fake keeps them (sans-IO but for the sending): repository,
organisation and App hooks, each with its delivery log.

`send()` posts a delivery to the hook's URL signed as GitHub signs it (X-Hub-Signature-256
of the body with the hook's secret, X-GitHub-Event, X-GitHub-Delivery = its GUID) and logs
the answer: the status code, or 502 "failed to connect" when the URL refused the
connection. `redeliver()` queues a new attempt of a logged delivery (GitHub answers 202
and sends it soon after); `send_queued()` is "soon after": the same body, the same GUID,
signed again, logged as a new entry with `redelivery: true`. Entry ids grow with time and
are as large as GitHub's (over 2^31).

Where a delivery goes is the `transport`: real HTTP by default; `Receivers` routes a URL to
a test bot's in-process client instead, and refuses the connection while no bot is
attached there (the bot is down).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from tests.github_sender import github_headers

Transport = Callable[[str, dict[str, str], bytes], int]
"""(url, headers, body) -> the HTTP status answered; raises OSError when unreachable."""

FIRST_ID = 12_077_215_967
TARGET_TYPES = {"repo": "repository", "org": "organization", "app": "integration"}


def http_transport(url: str, headers: dict[str, str], body: bytes) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except urllib.error.URLError as exc:
        raise OSError(str(exc.reason)) from exc


class Receivers:
    """A transport to test bots' in-process clients, by URL; refused where none is attached."""

    def __init__(self) -> None:
        self._clients: dict[str, Any] = {}

    def attach(self, url: str, client: Any) -> None:
        self._clients[url] = client

    def detach(self, url: str) -> None:
        self._clients.pop(url, None)

    def __call__(self, url: str, headers: dict[str, str], body: bytes) -> int:
        client = self._clients.get(url)
        if client is None:
            raise ConnectionRefusedError(f"{url}: connection refused")
        path = urlsplit(url).path or "/"
        return int(client.post(path, content=body, headers=headers).status_code)


@dataclass
class LoggedAttempt:
    """One entry of a hook's delivery log."""

    id: int
    guid: str
    event: str
    action: str | None
    body: bytes
    delivered_at: float
    status_code: int
    status: str
    duration: float
    redelivery: bool
    installation_id: int | None
    repository_id: int | None

    def json(self) -> dict[str, Any]:
        at = datetime.fromtimestamp(self.delivered_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {"id": self.id, "guid": self.guid, "delivered_at": at,
                "redelivery": self.redelivery, "duration": self.duration,
                "status": self.status, "status_code": self.status_code, "event": self.event,
                "action": self.action, "installation_id": self.installation_id,
                "repository_id": self.repository_id, "throttled_at": None}

    @property
    def succeeded(self) -> bool:
        return 200 <= self.status_code < 300


@dataclass
class Hook:
    kind: str  # repo, org, app
    owner: str  # owner/name, org login, or the app id
    id: int
    url: str
    secret: str
    log: list[LoggedAttempt] = field(default_factory=list)  # oldest first

    @property
    def key(self) -> tuple[str, str, int]:
        return hook_key(self.kind, self.owner, self.id)


def hook_key(kind: str, owner: str, ident: int) -> tuple[str, str, int]:
    return kind, owner.lower(), ident


class HookLog:
    """Every hook of the fake GitHub and its deliveries. `clock` stamps deliveries (epoch
    seconds; a test's stepped clock), `transport` carries them."""

    def __init__(self, *, clock: Callable[[], float] = time.time,
                 transport: Transport = http_transport) -> None:
        self.clock, self.transport = clock, transport
        self.hooks: dict[tuple[str, str, int], Hook] = {}
        self.queued: list[tuple[Hook, LoggedAttempt]] = []
        self._ids = itertools.count(FIRST_ID)
        self._lock = threading.RLock()

    def add(self, kind: str, owner: str, ident: int, *, url: str, secret: str) -> Hook:
        with self._lock:
            hook = Hook(kind, owner, ident, url, secret)
            self.hooks[hook.key] = hook
            return hook

    def hook(self, kind: str, owner: str, ident: int) -> Hook | None:
        with self._lock:
            return self.hooks.get(hook_key(kind, owner, ident))

    def send(self, hook: Hook, event: str, payload: dict[str, Any] | bytes, *,
             guid: str | None = None) -> LoggedAttempt:
        """A new delivery of `event` to the hook's URL, logged with its answer."""
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return self._attempt(hook, event, body, guid or str(uuid.uuid4()), redelivery=False)

    def entries(self, hook: Hook) -> list[LoggedAttempt]:
        """The hook's log, newest first (as GitHub lists it)."""
        with self._lock:
            return sorted(hook.log, key=lambda e: e.id, reverse=True)

    def redeliver(self, hook: Hook, delivery_id: int) -> bool:
        """Queue a new attempt of a logged delivery; False when the hook has no such entry."""
        with self._lock:
            found = next((e for e in hook.log if e.id == delivery_id), None)
            if found is None:
                return False
            self.queued.append((hook, found))
            return True

    def send_queued(self) -> list[LoggedAttempt]:
        """Carry out the redeliveries asked for so far, in the order asked."""
        with self._lock:
            queued, self.queued = self.queued, []
        return [self._attempt(hook, e.event, e.body, e.guid, redelivery=True)
                for hook, e in queued]

    def _attempt(self, hook: Hook, event: str, body: bytes, guid: str, *,
                 redelivery: bool) -> LoggedAttempt:
        headers = github_headers(event, body, secret=hook.secret, delivery_id=guid)
        headers.update({"X-GitHub-Hook-ID": str(hook.id),
                        "X-GitHub-Hook-Installation-Target-Type": TARGET_TYPES[hook.kind]})
        started = time.monotonic()
        try:
            code = self.transport(hook.url, headers, body)
            status = "OK" if 200 <= code < 300 else f"Invalid HTTP Response: {code}"
        except OSError:
            code, status = 502, "failed to connect to host"
        payload = _json_object(body)
        action = payload.get("action")
        repository = payload.get("repository")
        installation = payload.get("installation")
        entry = LoggedAttempt(
            id=next(self._ids), guid=guid, event=event,
            action=action if isinstance(action, str) else None, body=body,
            delivered_at=self.clock(), status_code=code, status=status,
            duration=round(time.monotonic() - started, 3), redelivery=redelivery,
            installation_id=installation.get("id") if isinstance(installation, dict) else None,
            repository_id=repository.get("id") if isinstance(repository, dict) else None)
        with self._lock:
            hook.log.append(entry)
        return entry


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        found = json.loads(body)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
