"""What senders send, for the OpenAPI schema.

The receivers read the raw request (a signature is over the exact bytes, and a missing
header must answer 401 or 400 as DESIGN.md says, not FastAPI's 422), so FastAPI cannot
infer their headers and bodies; these helpers declare them by hand (`openapi_extra=`).
"""

from __future__ import annotations

from typing import Any

HMAC_SHA256 = r"^sha256=[0-9a-f]{64}$"
LAST_SECOND = 253402300799  # 9999-12-31T23:59:59Z, the last moment a datetime holds


def timestamp(*, per_second: int, description: str) -> dict[str, Any]:
    """A moment as epoch time (`per_second` units in a second) or an ISO 8601 string."""
    return {"description": description, "anyOf": [
        {"type": "integer" if per_second > 1 else "number", "minimum": 0,
         "maximum": LAST_SECOND * per_second},
        {"type": "string", "format": "date-time"},
    ]}


def header(name: str, description: str, *, required: bool = False,
           pattern: str | None = None, max_length: int | None = None) -> dict[str, Any]:
    """One header parameter; an empty value counts as missing."""
    schema: dict[str, Any] = {"type": "string", "minLength": 1}
    if pattern:
        schema["pattern"] = pattern
    if max_length:
        schema["maxLength"] = max_length
    return {"name": name, "in": "header", "required": required, "description": description,
            "schema": schema}


def query(name: str, description: str) -> dict[str, Any]:
    """One optional query parameter."""
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": {"type": "string"}}


def json_body(schema: dict[str, Any], description: str) -> dict[str, Any]:
    """A required JSON body."""
    return {"required": True, "description": description,
            "content": {"application/json": {"schema": schema}}}
