"""The card buttons on the web: the same actions as in Slack, taken as the signed-in Slack
user (or, in `devexbot demo` only, its demo user), through the same path (permissions,
claims, stamps, audit)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from devexbot.actions.core import Click
from devexbot.actions.ids import ActionId, ButtonValue
from devexbot.actions.registry import Actions
from devexbot.errors import DevexbotError, RequestError
from devexbot.http.answers import refusals
from devexbot.http.bodies import MAX_FORM_BYTES, read_body
from devexbot.web.workspace import WorkspaceDep

router = APIRouter(tags=["workspace"])


async def actions_of(request: Request) -> Actions:
    """The app's actions, the same Slack's clicks run through."""
    actions: Actions = request.app.state.actions
    return actions


ActionsDep = Annotated[Actions, Depends(actions_of)]

ASKS_WHY = {ActionId.REJECT}  # the form's `reason` field, as Slack's modal asks for it

# The card page's buttons post here with their id and value in the query string.
SENT = {"parameters": [
    {"name": "id", "in": "query", "required": True, "schema": {"type": "string"},
     "description": "the button's action id (`card.merge`, `card.retry`, ...)"},
    {"name": "v", "in": "query", "required": True, "schema": {"type": "string"},
     "description": "the button's value, as the card page renders it"},
]}
ANSWERS: dict[int | str, dict[str, Any]] = {
    303: {"description": "back to the card, with what happened as `?notice=` (asking to "
                         "sign in with Slack when the session is the web token's)",
          "headers": {"Location": {"schema": {"type": "string"}}}},
    **refusals({400: "not a button of this card",
                403: "posted from another site, or without a session the bot signed",
                413: "a form over 16 KiB"}),
}


@router.post("/cards/{owner}/{repo}/{sha}/actions", openapi_extra=SENT,
             status_code=303, response_class=RedirectResponse, responses=ANSWERS)
async def act(owner: str, repo: str, sha: str, request: Request,
              actions: ActionsDep, workspace: WorkspaceDep) -> Response:
    """A card button pressed on the web, taken as the signed-in Slack user."""
    viewer = workspace.viewer(request)
    back = f"/cards/{owner}/{repo}/{sha}"
    same_origin(request)
    if viewer is None:  # no session the bot signed: nobody could have seen the card's page
        raise RequestError(403, "Sign in with Slack to act on cards.")
    if not viewer.acts:
        return _back(back, "Sign in with Slack to act on cards: the bot acts as your Slack "
                           "user, with your permissions.")
    try:
        action = ActionId(request.query_params.get("id", "").split(":", 1)[0])
        value = ButtonValue.decode(request.query_params.get("v"))
    except (ValueError, DevexbotError):
        raise RequestError(400, "not a button of this card") from None
    if (value.repo, value.sha) != (f"{owner}/{repo}".lower(), sha.lower()):
        raise RequestError(400, "the button belongs to another card")
    extra: dict[str, Any] = {"via": "web"}
    if action in ASKS_WHY:
        form = parse_qs((await read_body(request, limit=MAX_FORM_BYTES)).decode(
            "utf-8", "replace"))
        reason = " ".join(form.get("reason", [""])[0].split())
        if not reason:
            return _back(back, "Say why, so whoever deploys knows what to change.")
        extra["reason"] = reason  # the action keeps at most MAX_REASON characters of it
    click = Click(action=action, value=value, user_id=viewer.subject, extra=extra)
    reply = await run_in_threadpool(actions.run, click)
    return _back(back, reply)


def same_origin(request: Request) -> None:
    """A form post from another site is refused (the session cookie is SameSite=Lax too)."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if origin and urlsplit(origin).netloc != request.headers.get("host"):
        raise RequestError(403, "cross-site request refused")


def _back(path: str, notice: str) -> Response:
    return RedirectResponse(f"{path}?{urlencode({'notice': notice})}", status_code=303)
