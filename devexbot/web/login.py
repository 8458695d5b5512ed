"""Signing in to the workspace from off the bot's machine: Sign in with Slack (OpenID
Connect) when SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set, a token otherwise.

Slack's flow: /login/slack sends the browser to Slack's authorize page with a random
`state` and `nonce` kept in a short-lived signed cookie; Slack sends it back to
/login/slack/callback with a code, which the bot trades for an ID token at
`openid.connect.token` (SLACK_API_URL). The ID token comes straight from Slack over TLS,
so its claims are checked (issuer, audience, expiry, nonce, workspace) rather than its
signature (OpenID Connect Core 3.1.3.7).
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import logging
import secrets
import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from devexbot.http.bodies import MAX_FORM_BYTES, read_body
from devexbot.settings import Settings
from devexbot.web.access import (
    SESSION_COOKIE,
    SESSION_SECONDS,
    is_web_token,
    login_available,
    safe_next,
)
from devexbot.web.workspace import Workspace, WorkspaceDep

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

FLOW_COOKIE = "devexbot_oidc"
FLOW_SECONDS = 600
SLACK_ISSUER = "https://slack.com"
TEAM_CLAIM = "https://slack.com/team_id"
FAILED_TOKEN_DELAY = 0.5  # seconds: guessing a token costs time


class SignInError(Exception):
    """A Slack sign-in that cannot be trusted; the message is shown to the person."""


@router.get("/login")
async def login_page(request: Request, workspace: WorkspaceDep, next: str = "/") -> Response:
    return _login(workspace, request, next_path=safe_next(next))


@router.post("/login")
async def token_login(request: Request, workspace: WorkspaceDep) -> Response:
    settings = workspace.settings
    form = parse_qs((await read_body(request, limit=MAX_FORM_BYTES)).decode("utf-8",
                                                                             "replace"))
    token = (form.get("token") or [""])[0].strip()
    next_path = safe_next((form.get("next") or ["/"])[0])
    if not is_web_token(settings, token):
        await asyncio.sleep(FAILED_TOKEN_DELAY)
        return _login(workspace, request, next_path=next_path, status_code=401,
                      error="That token is not the workspace's token.")
    response = RedirectResponse(next_path, status_code=303)
    workspace.sessions.set_cookie(response, request, SESSION_COOKIE,
                                  {"via": "token", "name": "token", "sub": "token"},
                                  max_age=SESSION_SECONDS)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/login/slack")
async def slack_login(request: Request, workspace: WorkspaceDep, next: str = "/") -> Response:
    settings = workspace.settings
    if not settings.slack_sign_in:
        return _login(workspace, request, next_path="/", status_code=404,
                      error="Sign in with Slack is not set up on this bot.")
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    query = {"response_type": "code", "scope": "openid profile", "client_id":
             settings.slack_client_id, "state": state, "nonce": nonce,
             "redirect_uri": redirect_uri(request, settings)}
    if settings.slack_team_id:
        query["team"] = settings.slack_team_id
    response = RedirectResponse(f"{authorize_url(settings)}?{urlencode(query)}", 303)
    workspace.sessions.set_cookie(response, request, FLOW_COOKIE,
                                  {"state": state, "nonce": nonce, "next": safe_next(next)},
                                  max_age=FLOW_SECONDS)
    return response


@router.get("/login/slack/callback")
async def slack_callback(request: Request, workspace: WorkspaceDep) -> Response:
    params = request.query_params
    flow = workspace.sessions.read(request.cookies.get(FLOW_COOKIE)) or {}
    next_path = safe_next(str(flow.get("next") or "/"))
    try:
        if params.get("error"):
            raise SignInError(f"Slack did not sign you in ({params['error']}).")
        state = params.get("state") or ""
        if not flow or not hmac.compare_digest(state.encode(), str(flow.get("state")).encode()):
            raise SignInError("This sign-in link is stale or was not started here: try again.")
        claims = await run_in_threadpool(_exchange, workspace, request, params.get("code") or "",
                                         str(flow.get("nonce")))
    except SignInError as exc:
        response = _login(workspace, request, next_path=next_path, status_code=401,
                          error=str(exc))
        response.delete_cookie(FLOW_COOKIE, path="/")
        return response
    response = RedirectResponse(next_path, status_code=303)
    response.delete_cookie(FLOW_COOKIE, path="/")
    name = claims.get("name") or claims.get("given_name") or claims.get("sub")
    workspace.sessions.set_cookie(response, request, SESSION_COOKIE,
                                  {"via": "slack", "name": str(name), "sub": claims["sub"]},
                                  max_age=SESSION_SECONDS)
    return response


def _exchange(workspace: Workspace, request: Request, code: str, nonce: str) -> dict[str, Any]:
    """The code for an ID token at `openid.connect.token`; its claims once checked."""
    settings = workspace.settings
    assert settings.slack_client_id and settings.slack_client_secret
    if not code:
        raise SignInError("Slack sent no code back: try again.")
    client = WebClient(base_url=settings.slack_api_url, timeout=10)
    try:
        answer = client.openid_connect_token(
            client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret.get_secret_value(),
            code=code, redirect_uri=redirect_uri(request, settings))
    except SlackApiError as exc:
        log.warning("openid.connect.token refused: %s", exc.response.get("error"))
        raise SignInError("Slack refused the sign-in: try again.") from None
    except OSError as exc:
        log.warning("openid.connect.token unreachable: %s", exc)
        raise SignInError("Slack could not be reached: try again.") from None
    claims = id_token_claims(str(answer.get("id_token") or ""))
    check_claims(claims, client_id=settings.slack_client_id, nonce=nonce,
                 team=workspace.team.team_id())
    return claims


def id_token_claims(id_token: str) -> dict[str, Any]:
    """The claims of a JWT (not its signature: see the module's docstring)."""
    parts = id_token.split(".")
    if len(parts) != 3:
        raise SignInError("Slack's answer had no ID token.")
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        raise SignInError("Slack's ID token is unreadable.") from None
    if not isinstance(claims, dict):
        raise SignInError("Slack's ID token is unreadable.")
    return claims


def check_claims(claims: dict[str, Any], *, client_id: str, nonce: str, team: str | None,
                 now: float | None = None) -> None:
    now = time.time() if now is None else now
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if claims.get("iss") != SLACK_ISSUER or client_id not in audiences:
        raise SignInError("The ID token is not Slack's for this app.")
    if not isinstance(claims.get("exp"), int | float) or claims["exp"] < now - 60:
        raise SignInError("The ID token has expired: try again.")
    if not claims.get("nonce") or not hmac.compare_digest(str(claims["nonce"]).encode(),
                                                          nonce.encode()):
        raise SignInError("The ID token was not issued for this sign-in: try again.")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise SignInError("The ID token names nobody.")
    if team is None:
        raise SignInError("The bot does not know its Slack workspace: set SLACK_TEAM_ID.")
    if claims.get(TEAM_CLAIM) != team:
        raise SignInError("You signed in to another Slack workspace than the bot's.")


def authorize_url(settings: Settings) -> str:
    """Slack's authorize page, next to its Web API (https://slack.com/openid/connect/...)."""
    return urljoin(settings.slack_api_url, "/openid/connect/authorize")


def redirect_uri(request: Request, settings: Settings) -> str:
    base = settings.devexbot_public_url or str(request.base_url).rstrip("/")
    return f"{base}/login/slack/callback"


def _login(workspace: Workspace, request: Request, *, next_path: str, status_code: int = 200,
           error: str | None = None) -> Response:
    settings = workspace.settings
    return workspace.page(request, "login.html", {
        "viewer": workspace.viewer(request), "next": next_path, "error": error,
        "slack": settings.slack_sign_in, "token": settings.devexbot_web_token is not None,
        "available": login_available(settings),
    }, status_code=status_code)
