"""A local Sign in with Slack: the authorize page (consents at once, redirecting back with a
code) and `openid.connect.token` (a code for an ID token), at `http://127.0.0.1:<port>/`."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

CLIENT_ID = "1234567890.0987654321"
CLIENT_SECRET = "oidc-client-secret"
TEAM = "T0DEVEX"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwt(claims: dict[str, Any]) -> str:
    header = _b64(json.dumps({"alg": "RS256", "kid": "mB2MAyKSn555isd0EbdhKx6nkyAi9xLq"}).encode())
    return f"{header}.{_b64(json.dumps(claims).encode())}.{_b64(b'not-checked-signature')}"


class FakeSlackOidc:
    def __init__(self, *, user: str = "U0ANA", name: str = "Ana Lima", team: str = TEAM) -> None:
        self.user, self.name, self.team = user, name, team
        self.codes: dict[str, dict[str, str]] = {}  # code -> the authorize request
        self.token_requests: list[dict[str, Any]] = []
        self.claim_overrides: dict[str, Any] = {}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlparse(self.path)
                if url.path != "/openid/connect/authorize":
                    return self._send(404, {"ok": False})
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                code = secrets.token_hex(8)
                fake.codes[code] = query
                self.send_response(302)
                self.send_header("Location", f"{query['redirect_uri']}?"
                                 + urlencode({"code": code, "state": query["state"]}))
                self.end_headers()

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                path = urlparse(self.path).path
                if path == "/api/auth.test":
                    return self._send(200, {"ok": True, "team_id": fake.team, "user_id": "UBOT"})
                if path != "/api/openid.connect.token":
                    return self._send(404, {"ok": False, "error": "unknown_method"})
                auth = self.headers.get("authorization", "")
                basic = base64.b64decode(auth.removeprefix("Basic ")).decode() if auth else ""
                fake.token_requests.append({"form": form, "basic": basic})
                request = fake.codes.pop(form.get("code", ""), None)
                if basic != f"{CLIENT_ID}:{CLIENT_SECRET}" or request is None or \
                        form.get("redirect_uri") != request["redirect_uri"]:
                    return self._send(200, {"ok": False, "error": "invalid_code"})
                now = int(time.time())
                claims = {"iss": "https://slack.com", "sub": fake.user, "aud": CLIENT_ID,
                          "exp": now + 300, "iat": now, "auth_time": now,
                          "nonce": request.get("nonce"), "name": fake.name,
                          "https://slack.com/user_id": fake.user,
                          "https://slack.com/team_id": fake.team, **fake.claim_overrides}
                self._send(200, {"ok": True, "access_token": "xoxp-fake", "token_type": "Bearer",
                                 "id_token": jwt(claims)})

            def _send(self, status: int, body: dict[str, Any]) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def __enter__(self) -> FakeSlackOidc:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
