"""Notifications posted exactly as the Jenkins Notification plugin posts them: JSON, no
signature, the token in the URL (or, for other senders, in X-Devexbot-Token)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures" / "jenkins"


def load_jenkins(name: str) -> dict[str, Any]:
    """A recorded-shape notification, e.g. `completed.unstable`."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


class JenkinsSender:
    """Posts notifications to a bot through any httpx-style client."""

    def __init__(self, client: Any, token: str, path: str = "/webhooks/jenkins") -> None:
        self.client, self.token, self.path = client, token, path

    def notify(self, payload: dict[str, Any] | bytes, *, via: str = "query",
               token: str | None = None) -> Any:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        # The plugin's HTTP protocol: POST, this content type, nothing else of ours.
        headers = {"Content-Type": "application/json;charset=UTF-8"}
        token = self.token if token is None else token
        params = {}
        if via == "query":
            params["token"] = token
        elif via == "header":
            headers["X-Devexbot-Token"] = token
        return self.client.post(self.path, content=body, headers=headers, params=params)
