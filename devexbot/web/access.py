"""Who may read the workspace: anyone on the bot's own machine; elsewhere, a signed-in person.

"On the machine" means the client address is loopback (127.0.0.0/8, ::1), the Host header
names the machine too (a DNS-rebinding page on another origin does not), and no proxy is
in front (a proxy's forwarding headers are believed only from `DEVEXBOT_TRUSTED_PROXIES`;
without that setting, a request that carries them is treated as coming from outside).
A sign-in is a session cookie signed with HMAC-SHA256: HttpOnly, SameSite=Lax, Secure on
https. It says how it was made (`via`: `slack` or `token`), and only a Slack sign-in acts:
so the key is `DEVEXBOT_SESSION_SECRET`, or a random one the bot keeps in its database,
never anything a holder of the web token could work out.

`devexbot demo` alone has a demo user: whoever looks from the demo's own machine acts as it
(`via`: `demo`). No cookie carries it, so no other bot can be talked into it: a `serve` is
built without one, and a session that claims it is not read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import Any

from fastapi import Request, Response
from pydantic import SecretStr

from devexbot.errors import DevexbotError
from devexbot.settings import Settings
from devexbot.store import Database
from devexbot.store.keys import signing_key

SESSION_COOKIE = "devexbot_session"
SESSION_SECONDS = 7 * 24 * 3600
SESSION_KEY = "web-sessions"  # its name in the database
_FORWARDING = ("x-forwarded-for", "forwarded", "x-real-ip", "x-forwarded-host")
_LOCAL_NAMES = ("localhost",)

IP = IPv4Address | IPv6Address


@dataclass(frozen=True)
class Viewer:
    """Who is looking: `local` (on the bot's machine), a signed-in person, or the demo's
    visitor acting as its demo user."""

    name: str
    via: str  # local | slack | token | demo
    subject: str = ""  # the Slack user id (`slack`, `demo`)

    @property
    def signed_in(self) -> bool:
        return self.via in ("slack", "token")

    @property
    def acts(self) -> bool:
        """Whether the card buttons act for this viewer, as the Slack user `subject`."""
        return self.via in ("slack", "demo") and self.subject.startswith(("U", "W"))


@dataclass(frozen=True)
class DemoUser:
    """`devexbot demo`'s made-up person, whom its visitor on the machine acts as."""

    slack_id: str
    name: str


class LoginRequired(DevexbotError):
    status_code = 401

    def __init__(self, next_path: str) -> None:
        super().__init__("sign in to see the workspace")
        self.next_path = next_path


class Sessions:
    """Signs and reads session cookies (and the short-lived one of a Slack sign-in) with
    `DEVEXBOT_SESSION_SECRET`, or else the database's key (made on first use)."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings, self._db = settings, db
        secret = settings.devexbot_session_secret
        self._key = secret.get_secret_value().encode() if secret is not None else None
        self._lock = threading.Lock()

    def sign(self, claims: dict[str, Any]) -> str:
        body = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
        return f"{body}.{_b64(self._mac(body))}"

    def read(self, value: str | None) -> dict[str, Any] | None:
        """The claims of a cookie we signed and that has not expired; else None."""
        if not value or value.count(".") != 1:
            return None
        body, mac = value.split(".")
        try:
            if not hmac.compare_digest(_unb64(mac), self._mac(body)):
                return None
            claims = json.loads(_unb64(body))
        except ValueError:
            return None
        if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int | float):
            return None
        return claims if claims["exp"] > time.time() else None

    def set_cookie(self, response: Response, request: Request, name: str, claims: dict[str, Any],
                   *, max_age: int) -> None:
        claims = {**claims, "exp": int(time.time()) + max_age}
        response.set_cookie(name, self.sign(claims), max_age=max_age, httponly=True,
                            samesite="lax", secure=is_https(request, self.settings), path="/")

    def viewer(self, request: Request) -> Viewer | None:
        claims = self.read(request.cookies.get(SESSION_COOKIE))
        if claims is None or claims.get("via") not in ("slack", "token"):
            return None
        return Viewer(name=str(claims.get("name") or "signed in"), via=str(claims["via"]),
                      subject=str(claims.get("sub") or ""))

    def _mac(self, body: str) -> bytes:
        return hmac.new(self._signing_key(), body.encode(), hashlib.sha256).digest()

    def _signing_key(self) -> bytes:
        if self._key is None:
            with self._lock:
                if self._key is None:
                    self._key = signing_key(self._db, SESSION_KEY)
        return self._key


def viewer_of(request: Request, settings: Settings, sessions: Sessions) -> Viewer | None:
    """The local viewer, the signed-in one, or None (a login is needed)."""
    if is_local(request, settings):
        return Viewer(name="local", via="local")
    return sessions.viewer(request)


def is_secret(secret: SecretStr | None, given: str) -> bool:
    """Whether `given` is the (set) secret, compared in constant time."""
    return secret is not None and bool(given) and hmac.compare_digest(
        given.encode(), secret.get_secret_value().encode())


def is_web_token(settings: Settings, token: str) -> bool:
    """Whether `token` is `DEVEXBOT_WEB_TOKEN`."""
    return is_secret(settings.devexbot_web_token, token)


def bearer_token(request: Request) -> str:
    """The token of `Authorization: Bearer <token>`, or ''."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def bearer_viewer(request: Request, settings: Settings) -> Viewer | None:
    """A script holding the web token, sent as `Authorization: Bearer <token>`: it reads."""
    if not is_web_token(settings, bearer_token(request)):
        return None
    return Viewer(name="token", via="token", subject="token")


def login_available(settings: Settings) -> bool:
    return settings.slack_sign_in or settings.devexbot_web_token is not None


def client_ip(request: Request, settings: Settings) -> IP | None:
    """The client's address: the peer's, or through trusted proxies, X-Forwarded-For's."""
    peer = _ip(request.client.host if request.client else None)
    proxies = settings.trusted_proxies
    if peer is None or not any(peer in net for net in proxies):
        return peer
    hops = [h.strip() for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",")]
    for hop in reversed([h for h in hops if h]):
        hop_ip = _ip(hop)
        if hop_ip is None:
            return None
        if not any(hop_ip in net for net in proxies):
            return hop_ip
        peer = hop_ip
    return peer


def is_local(request: Request, settings: Settings) -> bool:
    ip = client_ip(request, settings)
    if ip is None or not ip.is_loopback:
        return False
    if not settings.trusted_proxies and any(h in request.headers for h in _FORWARDING):
        return False  # a proxy nobody told us about is in front: its clients are not local
    host = request.headers.get("host", "").lower()
    host = host[1:].split("]", 1)[0] if host.startswith("[") else host.rsplit(":", 1)[0]
    host_ip = _ip(host)
    return host in _LOCAL_NAMES or host.endswith(".localhost") or bool(
        host_ip and host_ip.is_loopback)


def is_https(request: Request, settings: Settings) -> bool:
    if request.url.scheme == "https":
        return True
    if (settings.devexbot_public_url or "").startswith("https://"):
        return True
    peer = _ip(request.client.host if request.client else None)
    trusted = peer is not None and any(peer in net for net in settings.trusted_proxies)
    return trusted and request.headers.get("x-forwarded-proto", "").lower() == "https"


def safe_next(path: str | None) -> str:
    """Where to go after signing in: a path on this site only."""
    if not path or not path.startswith("/") or path.startswith(("//", "/\\")):
        return "/"
    return path


def _ip(value: str | None) -> IP | None:
    try:
        return ip_address(value.strip()) if value else None
    except ValueError:
        return None


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
