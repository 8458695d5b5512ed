"""Flux notification-controller's `generic-hmac` and `generic` providers, as they post.

From notification-controller internal/notifier/forwarder.go: the body is the Event's JSON,
`Content-Type: application/json`, `Gotk-Component: <reportingController>`, the Secret's
`headers`, and for `generic-hmac` `X-Signature: sha256=<hex HMAC-SHA256 of the body>` keyed
with the Secret's `token`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures" / "flux"


def flux_body(name: str) -> bytes:
    """A recorded Flux event's exact bytes, e.g. `kustomization.succeeded`."""
    return (FIXTURES / f"{name}.json").read_bytes()


def go_json(event: dict[str, Any]) -> bytes:
    """An edited event re-encoded the way Go's json.Marshal writes it (compact)."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()


class FluxSender:
    """Posts Flux events to a bot through any httpx-style client."""

    def __init__(self, client: Any, secret: str, path: str = "/webhooks/flux") -> None:
        self.client, self.secret, self.path = client, secret, path

    def send(self, event: str | bytes, *, provider: str = "generic-hmac",
             secret: str | None = None, headers: dict[str, str] | None = None) -> Any:
        body = flux_body(event) if isinstance(event, str) else event
        key = (self.secret if secret is None else secret).encode()
        sent = {"Content-Type": "application/json", "User-Agent": "Go-http-client/1.1",
                "Gotk-Component": _controller(body)}
        sent.update(headers or {})
        if provider == "generic-hmac":
            sent["X-Signature"] = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
        return self.client.post(self.path, content=body, headers=sent)


def _controller(body: bytes) -> str:
    """The `Gotk-Component` Flux sends: the event's reporting controller."""
    try:
        return str(json.loads(body).get("reportingController", ""))
    except (ValueError, AttributeError):
        return ""
