"""What every webhook receiver checks before it believes a body: size, secret, signature."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import parse_qs

from fastapi import Request
from pydantic import SecretStr

from devexbot.errors import RequestError
from devexbot.http import bodies
from devexbot.http.bodies import MAX_BODY_BYTES


def require_secret(secret: SecretStr | None, variable: str) -> SecretStr:
    if secret is None or not secret.get_secret_value():
        raise RequestError(503, f"{variable} is not configured, so deliveries cannot be verified")
    return secret


async def read_body(request: Request, *, limit: int = MAX_BODY_BYTES) -> bytes:
    """The raw body, refused with 413 over `limit` (by default, GitHub's payload cap)."""
    return await bodies.read_body(request, limit=limit)


def hmac_sha256_signature(*, secret: SecretStr, body: bytes) -> str:
    """`sha256=<hex>`, as GitHub puts it in X-Hub-Signature-256."""
    digest = hmac.new(secret.get_secret_value().encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_hmac_sha256(*, secret: SecretStr, body: bytes, header: str | None, name: str) -> None:
    """Constant-time check of a `sha256=<hex>` HMAC of the raw body."""
    if not header:
        raise RequestError(401, f"missing {name} header")
    expected = hmac_sha256_signature(secret=secret, body=body)
    if not hmac.compare_digest(expected.encode(), header.strip().encode()):
        raise RequestError(401, f"{name} does not match the body")


def decode_json(body: bytes, content_type: str | None) -> Any:
    """A JSON object, or GitHub's form encoding (`payload=<json>`); 400 if neither, or if
    it nests too deep (devexbot.http.bodies.parse_json)."""
    text: str | bytes = body
    if content_type and content_type.split(";")[0].strip() == "application/x-www-form-urlencoded":
        fields = parse_qs(body.decode("utf-8", errors="replace"))
        if "payload" not in fields:
            raise RequestError(400, "form-encoded body has no payload field")
        text = fields["payload"][0]
    decoded = bodies.parse_json(text)
    if not isinstance(decoded, dict):
        raise RequestError(400, "body must be a JSON object")
    # PostgreSQL cannot store U+0000 in text or JSONB; JSON can only carry it escaped.
    needle = "\\u0000" if isinstance(text, str) else b"\\u0000"
    return _scrub_nul(decoded) if needle in text else decoded  # type: ignore[operator]


def _scrub_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, list):
        return [_scrub_nul(v) for v in value]
    if isinstance(value, dict):
        return {_scrub_nul(k): _scrub_nul(v) for k, v in value.items()}
    return value


def verify_token(*, secret: SecretStr, presented: str | None, name: str) -> None:
    """Constant-time check of a shared token, for senders that cannot sign a body."""
    if not presented:
        raise RequestError(401, f"missing {name}")
    if not hmac.compare_digest(secret.get_secret_value().encode(), presented.strip().encode()):
        raise RequestError(401, f"{name} does not match")


async def signed_or_token_body(request: Request, secret: SecretStr | None, *, variable: str,
                               signature_header: str, token_header: str) -> bytes:
    """The body of a sender that signs it (`sha256=` HMAC in `signature_header`) or, if it
    cannot sign, presents the secret itself in `token_header`."""
    key = require_secret(secret, variable)
    body = await read_body(request)
    signature = request.headers.get(signature_header.lower())
    token = request.headers.get(token_header.lower())
    if token and not signature:
        verify_token(secret=key, presented=token, name=token_header)
    else:
        verify_hmac_sha256(secret=key, body=body, header=signature, name=signature_header)
    return body
