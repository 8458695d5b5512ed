"""`GET /me`: the signed-in person's own page, the same sections as their Slack Home tab,
from the same model (`correlation.home.home_model`); `POST /me/prefs`: their settings
changed there, as `/devex me` and the Home tab's buttons change them (only their own,
audited)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from correlation.button_blocks import button_elements
from correlation.home import ApprovalItem, HomeModel
from correlation.home_blocks import REVIEW_WORDS
from correlation.prefs import PrefError, PrefName, Prefs, describe, parse_pref_change
from devexbot.errors import RequestError
from devexbot.http.bodies import MAX_FORM_BYTES, read_body
from devexbot.web.actions import same_origin
from devexbot.web.view import WebAction, card_action
from devexbot.web.workspace import WorkspaceDep

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class ApprovalRow:
    item: ApprovalItem
    actions: list[WebAction]  # the card's Approve / Reject, as the card page has them


@dataclass(frozen=True)
class PrefRow:
    """One setting as the page shows it, with the value its button sets."""

    line: str  # as `/devex me` describes it
    name: str
    on: bool
    flips_to: str  # on | off


def pref_rows(prefs: Prefs) -> tuple[list[PrefRow], str]:
    """The three switches, and the quiet hours' line, as `/devex me` describes them."""
    *lines, quiet = (line.replace("*", "").replace("`", "") for line in describe(prefs))
    flags = [(PrefName.DM_FAILURES, prefs.dm_failures), (PrefName.DM_REVIEWS, prefs.dm_reviews),
             (PrefName.MUTE_OWN, prefs.mute_own)]
    return [PrefRow(line, name.value, on, "off" if on else "on")
            for line, (name, on) in zip(lines, flags, strict=True)], quiet


@router.get("/me")
async def me_page(request: Request, workspace: WorkspaceDep) -> Response:
    """My open pull requests, what waits for me, my recent deploys, my notifications."""
    viewer = workspace.require_viewer(request)
    if workspace.home is None or not viewer.subject.startswith(("U", "W")):
        return workspace.page(request, "me.html", {"viewer": viewer, "model": None})
    home = workspace.home
    model: HomeModel = await run_in_threadpool(home.model, viewer.subject, name=viewer.name)
    approvals = [ApprovalRow(item, [card_action(item.repo, item.sha, element)
                                    for element in button_elements(item.buttons)])
                 for item in model.approvals]
    switches, quiet_line = pref_rows(model.prefs)
    return workspace.page(request, "me.html", {
        "viewer": viewer, "model": model, "approvals": approvals,
        "prefs": switches, "quiet": model.prefs.quiet, "quiet_line": quiet_line,
        "notice": request.query_params.get("notice", "")[:300],
        "review_words": REVIEW_WORDS, "changeable": workspace.prefs is not None and viewer.acts})


@router.post("/me/prefs")
async def change_pref(request: Request, workspace: WorkspaceDep) -> Response:
    """One of my settings changed from my page: `name` (dm-failures, dm-reviews, mute-own,
    quiet) and `value` (on, off, or quiet hours such as 22:00-08:00)."""
    viewer = workspace.viewer(request)
    same_origin(request)
    if viewer is None:
        raise RequestError(403, "Sign in with Slack to change your notifications.")
    changes = workspace.prefs
    if changes is None or not viewer.acts:
        return _back("Sign in with Slack to change your notifications: they are your Slack "
                     "user's.")
    form = parse_qs((await read_body(request, limit=MAX_FORM_BYTES)).decode("utf-8", "replace"))
    name, value = (form.get(key, [""])[0].strip() for key in ("name", "value"))
    if name not in {n.value for n in PrefName}:
        raise RequestError(400, "not one of the settings: dm-failures, dm-reviews, mute-own, "
                                "quiet")
    if not value:
        return _back("Say on or off, or quiet hours such as 22:00-08:00.")
    try:
        change = parse_pref_change([name, value])
    except PrefError as exc:
        return _back(str(exc).replace("`", ""))
    assert change is not None  # two words
    await run_in_threadpool(changes.apply, viewer.subject, change, where="web")
    await run_in_threadpool(changes.refresh, viewer.subject)
    return _back(f"Done: {change}.")


def _back(notice: str) -> Response:
    return RedirectResponse(f"/me?{urlencode({'notice': notice})}#my-prefs", status_code=303)
