"""Generic deploy events, signed as DESIGN.md says: HMAC-SHA256 of the raw body."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures" / "deploy"


def load_deploy(name: str) -> dict[str, Any]:
    """A deploy event, e.g. `test.success`."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


def deploy_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class DeploySender:
    """Posts deploy events to a bot through any httpx-style client."""

    def __init__(self, client: Any, secret: str, path: str = "/webhooks/deploy") -> None:
        self.client, self.secret, self.path = client, secret, path

    def send(self, payload: dict[str, Any] | bytes, *, secret: str | None = None,
             as_token: bool = False) -> Any:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        secret = self.secret if secret is None else secret
        headers = {"Content-Type": "application/json"}
        if as_token:
            headers["X-Devexbot-Token"] = secret
        else:
            headers["X-Devexbot-Signature-256"] = deploy_signature(secret, body)
        return self.client.post(self.path, content=body, headers=headers)
