"""`GET /me`: the signed-in person's own page, the same sections as their Slack Home tab,
from the same model (`correlation.home.home_model`)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from correlation.button_blocks import button_elements
from correlation.home import ApprovalItem, HomeModel
from correlation.home_blocks import REVIEW_WORDS
from correlation.prefs import describe
from devexbot.web.view import WebAction, card_action
from devexbot.web.workspace import WorkspaceDep

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class ApprovalRow:
    item: ApprovalItem
    actions: list[WebAction]  # the card's Approve / Reject, as the card page has them


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
    return workspace.page(request, "me.html", {
        "viewer": viewer, "model": model, "approvals": approvals,
        "prefs": [line.replace("*", "").replace("`", "") for line in describe(model.prefs)],
        "review_words": REVIEW_WORDS})
