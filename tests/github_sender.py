"""Deliveries built exactly as GitHub builds them: JSON body, HMAC-SHA256 of the raw bytes."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures" / "github"


def load_fixture(name: str) -> dict[str, Any]:
    """A recorded-shape payload, e.g. `check_run.completed`."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


def github_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def github_headers(
    event: str, body: bytes, *, secret: str, delivery_id: str | None = None
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/7d3f0c1",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
        "X-GitHub-Hook-ID": "447512369",
        "X-GitHub-Hook-Installation-Target-Type": "repository",
        "X-GitHub-Hook-Installation-Target-ID": "1296269",
        "X-Hub-Signature": "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest(),
        "X-Hub-Signature-256": github_signature(secret, body),
    }


class GitHubSender:
    """Posts signed deliveries to a bot through any httpx-style client."""

    def __init__(self, client: Any, secret: str, path: str = "/webhooks/github") -> None:
        self.client, self.secret, self.path = client, secret, path

    def deliver(
        self, event: str, payload: dict[str, Any] | bytes, *, delivery_id: str | None = None
    ) -> Any:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = github_headers(event, body, secret=self.secret, delivery_id=delivery_id)
        return self.client.post(self.path, content=body, headers=headers)
