"""`devexbot demo`: a timed, realistic story played through the bot's real webhook endpoints,
signed as GitHub, the Jenkins Notification plugin and a deploy script sign."""

from __future__ import annotations

import hmac
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from devexbot.demo.scenario import Step, steps

__all__ = ["DemoSecrets", "deliver", "play"]


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


def deliver(base_url: str, keys: DemoSecrets, step: Step, *, timeout: float = 10.0) -> int:
    """POST one step's payload as its real sender would; the HTTP status it was answered."""
    body = json.dumps(step.payload).encode()
    base = base_url.rstrip("/")
    if step.sender.startswith("github:"):
        url = f"{base}/webhooks/github"
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/7d3f0c1",
            "X-GitHub-Event": step.sender.removeprefix("github:"),
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-GitHub-Hook-ID": "447512369",
            "X-Hub-Signature": "sha1=" + _hmac(keys.github, body, "sha1"),
            "X-Hub-Signature-256": "sha256=" + _hmac(keys.github, body),
        }
    elif step.sender == "jenkins":
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


def play(
    base_url: str,
    keys: DemoSecrets,
    *,
    speed: float = 1.0,
    say: Callable[[str], None] = print,
    stop: threading.Event | None = None,
    until: float | None = None,
) -> int:
    """Send every step at its time (offsets divided by `speed`), or those up to `until`
    seconds into the story; returns how many were sent."""
    stop = stop or threading.Event()
    story = [s for s in steps(datetime.now(UTC), speed) if until is None or s.offset <= until]
    began = time.monotonic()
    sent = 0
    for step in story:
        if stop.wait(max(0.0, began + step.offset / speed - time.monotonic())):
            break
        status = deliver(base_url, keys, step)
        elapsed = time.monotonic() - began
        mark = "" if status in (200, 202) else f"  (answered {status})"
        say(f"  {int(elapsed) // 60}:{int(elapsed) % 60:02d}  {step.label}{mark}")
        sent += 1
    return sent
