"""Reading a request's body with a limit: refused with 413 as soon as it is over."""

from __future__ import annotations

from fastapi import Request

from devexbot.errors import RequestError


async def read_body(request: Request, *, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as it is known to exceed `limit`."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestError(413, f"body of {declared} bytes is over the {limit}-byte limit")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise RequestError(413, f"body is over the {limit}-byte limit")
    return bytes(body)
