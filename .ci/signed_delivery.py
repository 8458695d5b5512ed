"""From outside the bot: /healthz answers, a GitHub push signed as GitHub signs it becomes a
card, and the same push unsigned is refused.

    python3 .ci/signed_delivery.py BASE_URL GITHUB_WEBHOOK_SECRET

Standard library only: it runs with whichever Python the machine has. Exits 1 with a one-line
reason when the bot does not answer as it should.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

PUSH = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "github" / "push.json"
WAIT_S = 60


def call(url: str, body: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers=headers or {},  # noqa: S310
                                     method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - http(s)
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_healthy(base: str) -> None:
    deadline = time.monotonic() + WAIT_S
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            status, body = call(f"{base}/healthz")
            if status == 200:
                return
            last = f"{status} {body[:200]!r}"
        except OSError as exc:
            last = str(exc)
        time.sleep(0.5)
    sys.exit(f"/healthz did not answer 200 within {WAIT_S} s (last: {last})")


def github_headers(event: str, body: bytes, secret: str | None) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/7d3f0c1",
               "X-GitHub-Event": event, "X-GitHub-Delivery": str(uuid.uuid4()),
               "X-GitHub-Hook-ID": "447512369"}
    if secret is not None:
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers["X-Hub-Signature-256"] = f"sha256={digest}"
    return headers


def main(base: str, secret: str) -> None:
    base = base.rstrip("/")
    if not base.startswith(("http://", "https://")):
        sys.exit(f"not an http(s) URL: {base!r}")
    wait_healthy(base)
    payload = json.loads(PUSH.read_text())
    body = json.dumps(payload).encode()
    status, answer = call(f"{base}/webhooks/github", body, github_headers("push", body, None))
    if status != 401:
        sys.exit(f"an unsigned push was answered {status}, not 401: {answer[:200]!r}")
    status, answer = call(f"{base}/webhooks/github", body, github_headers("push", body, secret))
    if status != 202:
        sys.exit(f"a signed push was answered {status}, not 202: {answer[:200]!r}")
    repo, sha = payload["repository"]["full_name"], payload["after"]
    status, answer = call(f"{base}/api/cards/{repo}/{sha}")
    if status != 200:
        sys.exit(f"the pushed commit's card: {status} {answer[:200]!r}")
    card = json.loads(answer)
    branch = payload["ref"].removeprefix("refs/heads/")
    if card.get("branch") != branch or card.get("sha") != sha:
        sys.exit(f"the pushed commit's card shows {card.get('sha')} on {card.get('branch')}, "
                 f"not {sha} on {branch}")
    print(f"ci: {base}: /healthz 200; a signed push 202 and its card ({repo} {sha[:7]} on "
          f"{branch}); unsigned 401")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    try:
        main(sys.argv[1], sys.argv[2])
    except OSError as exc:  # refused, reset, timed out
        sys.exit(f"the bot did not answer: {exc}")
