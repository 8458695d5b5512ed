"""How Slack reads a Web API call's arguments and token, and how it says no."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from tests.fakes.slack_models import Json


class SlackError(Exception):
    """An `{"ok": false, "error": ...}` answer, with Slack's extra fields and HTTP status."""

    def __init__(
        self,
        error: str,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(error)
        self.error, self.status, self.extra = error, status, extra
        self.headers = dict(headers or {})

    @property
    def body(self) -> Json:
        return {"ok": False, "error": self.error, **self.extra}


def invalid_arguments(*reasons: str) -> SlackError:
    messages = [f"[ERROR] {reason}" for reason in reasons]
    return SlackError("invalid_arguments", response_metadata={"messages": messages})


def flag(value: Any) -> bool:
    """A boolean argument: JSON `true`, or `1` / `true` in a form body."""
    return value is True or str(value).lower() in ("1", "true")


def json_param(params: Json, name: str, error: str) -> Any:
    """A JSON-typed argument: already decoded in a JSON body, a string in a form body."""
    value = params.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise SlackError(error) from None
    return value


def parse_params(query: str, content_type: str, raw: bytes) -> tuple[Json, str | None]:
    """The call's arguments and any token sent among them, read the way Slack reads them."""
    params: Json = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    token = params.pop("token", None)
    kind = content_type.split(";")[0].strip().lower()
    if not raw:
        return params, token
    if kind == "application/json":
        try:
            body = json.loads(raw)
        except ValueError:
            raise SlackError("invalid_json") from None
        if not isinstance(body, dict):
            raise SlackError("invalid_json")
        body.pop("token", None)  # with a JSON body Slack reads the token from the header only
        params.update(body)
    elif kind in ("application/x-www-form-urlencoded", ""):
        form = {k: v[-1] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
        token = form.pop("token", token)
        params.update(form)
    else:  # multipart is for file uploads, which the fake does not take
        raise SlackError("invalid_form_data")
    return params, token


def bearer_token(header: str | None) -> str | None:
    if header and header.lower().startswith("bearer "):
        return header[len("bearer ") :].strip()
    return None
