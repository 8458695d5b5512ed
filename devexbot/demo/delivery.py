"""The demo's deliveries, sent to the bot's real webhook endpoints and signed as GitHub, the
Jenkins Notification plugin and a deploy script sign them."""

from __future__ import annotations

import hmac
import json
import secrets
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

__all__ = ["DemoSecrets", "deliver"]


@dataclass(frozen=True)
class DemoSecrets:
    github: str
    jenkins: str
    deploy: str

    @classmethod
    def generate(cls) -> DemoSecrets:
        return cls(*(secrets.token_hex(16) for _ in range(3)))


def _hmac(secret: str, body: bytes, digest: str = "sha256") -> str:
    return hmac.new(secret.encode(), body, digest).hexdigest()


def deliver(base_url: str, keys: DemoSecrets, sender: str, payload: dict[str, Any], *,
            timeout: float = 10.0) -> int:
    """POST a payload as its real sender would (`github:<event>`, `jenkins` or `deploy`);
    the HTTP status it was answered."""
    body = json.dumps(payload).encode()
    base = base_url.rstrip("/")
    if sender.startswith("github:"):
        url = f"{base}/webhooks/github"
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/7d3f0c1",
            "X-GitHub-Event": sender.removeprefix("github:"),
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-GitHub-Hook-ID": "447512369",
            "X-Hub-Signature": "sha1=" + _hmac(keys.github, body, "sha1"),
            "X-Hub-Signature-256": "sha256=" + _hmac(keys.github, body),
        }
    elif sender == "jenkins":
        # The Notification plugin cannot sign: its token is in the (secret) URL.
        url = f"{base}/webhooks/jenkins?{urlencode({'token': keys.jenkins})}"
        headers = {"Content-Type": "application/json;charset=UTF-8"}
    else:
        url = f"{base}/webhooks/deploy"
        headers = {"Content-Type": "application/json",
                   "X-Devexbot-Signature-256": "sha256=" + _hmac(keys.deploy, body)}
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {base_url!r}")
    request = urllib.request.Request(url, data=body, headers=headers,  # noqa: S310 - checked
                                     method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status: int = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    return status
