"""The shape of a signed Slack request, checked before Bolt reads it.

Bolt reads a request's JSON (the body, or a form's `payload`) to route it, and indexes into
it as Slack shapes it: `actions[0]["action_id"]`, `event.get("type")`, `team["id"]`, ...
A body of another shape raises inside Bolt, which answers 500. Slack never sends one, but
whoever holds the signing secret can, so such a body is refused here with a 400 and one
line, and one nested too deep is refused before anything walks it
(devexbot.http.bodies.parse_json).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from devexbot.errors import RequestError
from devexbot.http.bodies import JsonTooDeep, parse_json

# Fields Bolt looks into, in a request and in its `event`, and what each may be.
_ID_OR_OBJECT = (str, dict, type(None))
_SHAPES: dict[str, tuple[type, ...]] = {
    "enterprise": _ID_OR_OBJECT, "team": _ID_OR_OBJECT, "user": _ID_OR_OBJECT,
    "channel": _ID_OR_OBJECT,
    "authorizations": (list, type(None)), "response_urls": (list,),
    "event": (dict,), "view": (dict, type(None)), "message": (dict, type(None)),
    "previous_message": (dict, type(None)), "item": (dict, type(None)),
    "container": (dict, type(None)), "state": (dict, type(None)),
    "function_data": (dict, type(None)), "assistant_thread": (dict, type(None)),
}
_NAMES = {str: "text", dict: "an object", list: "a list", type(None): "null"}


def check_slack_body(body: str, content_type: str | None) -> None:
    """400 unless the body is a form of fields (a slash command), or JSON in Slack's shape,
    read as Bolt reads it: the whole body if JSON, else a form's `payload` field."""
    text: str | None = body
    if (content_type or "").split(";")[0] != "application/json" and not body.startswith("{"):
        text = dict(parse_qsl(body, keep_blank_values=True)).get("payload")
    if not text:
        return  # a slash command's fields, or an empty form
    try:
        payload = parse_json(text)
    except JsonTooDeep:
        raise
    except RequestError as exc:
        raise RequestError(400, f"the body is not one Slack sends: {exc}") from None
    if not isinstance(payload, dict):
        raise RequestError(400, "the body is not one Slack sends: not a JSON object")
    _check_fields(payload, "")
    if isinstance(payload.get("event"), dict):
        _check_fields(payload["event"], "event.")
    for field in ("authorizations", "response_urls"):
        if any(not isinstance(item, dict) for item in payload.get(field) or []):
            raise RequestError(400, f"{field} must be a list of objects")
    if payload.get("type") in ("block_actions", "interactive_message") and "actions" in payload:
        actions = payload["actions"]
        if not isinstance(actions, list) or not actions or not isinstance(actions[0], dict):
            raise RequestError(400, "the interaction names no action")
        if payload["type"] == "block_actions" and not isinstance(actions[0].get("action_id"),
                                                                  str):
            raise RequestError(400, "the interaction's action has no action_id")


def _check_fields(payload: dict[str, Any], prefix: str) -> None:
    for field, allowed in _SHAPES.items():
        if field in payload and not isinstance(payload[field], allowed):
            expected = " or ".join(_NAMES[kind] for kind in allowed)
            raise RequestError(400, f"{prefix}{field} must be {expected}")
