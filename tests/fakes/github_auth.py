"""Who is calling the fake GitHub: personal tokens, GitHub App JWTs, installation tokens.

`Authorization: token X` or `Bearer X`. A JWT must be RS256-signed by the private key of a
registered app (`iss` = app id), not expired, and live at most ten minutes, as GitHub
requires (docs: "Generating a JSON Web Token (JWT) for a GitHub App"). Installation
tokens are issued by `POST /app/installations/{id}/access_tokens` and expire.
"""

from __future__ import annotations

import secrets
import string
import time
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from tests.fakes.github_models import IssuedToken
from tests.fakes.github_objects import iso
from tests.fakes.github_state import GitHubError, GitHubState

MAX_JWT_LIFETIME = 600  # seconds between iat and exp GitHub accepts
CLOCK_DRIFT = 60  # PyGithub backdates iat by 60 s for clock drift; GitHub tolerates it
BAD_JWT = "A JSON web token could not be decoded"


@dataclass(frozen=True)
class Identity:
    """An authenticated caller: kind "token" (a user), "installation" or "app"."""

    login: str
    kind: str
    app_id: int | None = None
    installation_id: int | None = None


def credentials(header: str | None) -> str:
    if not header:
        raise GitHubError(401, "Requires authentication")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() not in ("token", "bearer") or not value.strip():
        raise GitHubError(401, "Bad credentials")
    return value.strip()


def authenticate(gh: GitHubState, header: str | None) -> Identity:
    """The caller behind an `Authorization` header, or a 401 `GitHubError`."""
    secret = credentials(header)
    with gh.lock:
        if secret in gh.tokens:
            return Identity(gh.tokens[secret], "token")
        issued = gh.issued.get(secret)
        if issued is not None:
            if issued.expires_at <= time.time():
                raise GitHubError(401, "Bad credentials")
            app_id = gh.installations[issued.installation_id].app_id
            return Identity(issued.login, "installation", app_id, issued.installation_id)
    if secret.count(".") == 2:
        return verify_app_jwt(gh, secret)
    raise GitHubError(401, "Bad credentials")


def verify_app_jwt(gh: GitHubState, token: str) -> Identity:
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
        header = jwt.get_unverified_header(token)
        app_id = int(claims["iss"])
    except (jwt.PyJWTError, KeyError, TypeError, ValueError) as exc:
        raise GitHubError(401, BAD_JWT) from exc
    app = gh.apps.get(app_id)
    if app is None or header.get("alg") != "RS256":
        raise GitHubError(401, BAD_JWT)
    now = time.time()
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(iat, int) or iat > now + CLOCK_DRIFT:
        raise GitHubError(
            401,
            "'Issued at' claim ('iat') must be an Integer representing the time that the "
            "assertion was issued",
        )
    if not isinstance(exp, int) or exp <= now:
        raise GitHubError(
            401,
            "'Expiration time' claim ('exp') must be a numeric value representing the future "
            "time at which the assertion expires",
        )
    if exp - iat > MAX_JWT_LIFETIME + CLOCK_DRIFT or exp > now + MAX_JWT_LIFETIME + CLOCK_DRIFT:
        raise GitHubError(401, "'Expiration time' claim ('exp') is too far in the future")
    try:
        jwt.decode(
            token,
            key=app.public_key,
            algorithms=["RS256"],
            options={"verify_exp": False, "verify_iat": False, "verify_iss": False},
        )
    except jwt.PyJWTError as exc:
        raise GitHubError(401, BAD_JWT) from exc
    return Identity(f"{app.slug}[bot]", "app", app_id=app_id)


def public_key(key: Any) -> Any:
    """A cryptography public key from PEM text or bytes, or the key object itself."""
    if isinstance(key, str):
        key = key.encode()
    if isinstance(key, bytes):
        return load_pem_public_key(key)
    return key


def issue_token(
    gh: GitHubState,
    caller: Identity,
    installation_id: int,
    permissions: dict[str, str] | None,
    ttl: float,
) -> IssuedToken:
    with gh.lock:
        installation = gh.installations.get(installation_id)
        if installation is None or installation.app_id != caller.app_id:
            raise GitHubError(404, "Not Found")
        granted = dict(permissions) if permissions else dict(installation.permissions)
        alphabet = string.ascii_letters + string.digits
        token = "ghs_" + "".join(secrets.choice(alphabet) for _ in range(36))
        app = gh.apps[installation.app_id]
        issued = IssuedToken(token, installation_id, time.time() + ttl, granted, f"{app.slug}[bot]")
        gh.issued[token] = issued
        return issued


def token_json(issued: IssuedToken, repository_selection: str) -> dict[str, Any]:
    return {
        "token": issued.token,
        "expires_at": iso(issued.expires_at),
        "permissions": issued.permissions,
        "repository_selection": repository_selection,
    }
