"""Reading a request's body, and the JSON in it, with limits: a body over its size is refused
with 413 as soon as it is known to be over, and JSON nested deeper than any sender nests is
refused with 400 before anything walks it.

Every route that reads a body reads it here (tests/test_request_limits.py checks that no
other module calls `request.body()`, `.form()`, `.json()` or `.stream()`); how long a
client may take to send it is the server's to bound (devexbot.http.connections).
"""

from __future__ import annotations

import json
import math
from typing import Any

from fastapi import Request
from starlette.requests import ClientDisconnect

from devexbot.errors import RequestError

# GitHub's payloads nest under ten levels, Slack's (a Block Kit message inside an
# interaction) a few more. Python's parser gives up near 1,000, and anything that walks a
# parsed payload (folding, storing, rendering) would give up at about the same depth.
MAX_JSON_DEPTH = 64
MAX_FORM_BYTES = 16 * 1024  # a form a person fills in on the web: a token, a reason
MAX_BODY_BYTES = 25 * 1024 * 1024  # a webhook delivery: GitHub caps payloads at 25 MB


async def read_body(request: Request, *, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as it is known to exceed `limit`."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestError(413, f"body of {declared} bytes is over the {limit}-byte limit")
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise RequestError(413, f"body is over the {limit}-byte limit")
    except ClientDisconnect:
        # The client hung up, or the server closed a body that was too slow to arrive: no
        # one reads the answer, but the request ends as a refusal, not as an error.
        raise RequestError(400, "the connection closed before the whole body arrived") \
            from None
    return bytes(body)


def parse_json(text: str | bytes) -> Any:
    """A JSON value, refused with 400 if it is not JSON, has a number that is not finite,
    or nests deeper than MAX_JSON_DEPTH."""
    try:
        value = json.loads(text, parse_constant=_not_json, parse_float=_finite_float)
    except RecursionError:
        raise JsonTooDeep() from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestError(400, f"body is not valid JSON: {exc}") from None
    if json_depth(value) > MAX_JSON_DEPTH:
        raise JsonTooDeep()
    return value


def json_depth(value: Any) -> int:
    """How deep arrays and objects nest in `value` (a scalar is 0), without recursion; the
    walk stops once past MAX_JSON_DEPTH."""
    deepest = 0
    stack = [(value, 1)] if isinstance(value, dict | list) else []
    while stack and deepest <= MAX_JSON_DEPTH:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children
                     if isinstance(child, dict | list))
    return deepest


class JsonTooDeep(RequestError):
    """JSON nested deeper than MAX_JSON_DEPTH."""

    def __init__(self) -> None:
        super().__init__(400, f"the body nests deeper than {MAX_JSON_DEPTH} levels")


def _not_json(token: str) -> Any:
    raise ValueError(f"{token} is not a JSON value")


def _finite_float(token: str) -> float:
    value = float(token)
    if math.isinf(value):
        raise ValueError(f"number {token[:20]} is out of range")
    return value
