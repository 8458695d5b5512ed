"""The workspace's pages: the newest cards (filtered, live), one card's page, the stream."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response, StreamingResponse
from sqlalchemy import select

from devexbot.http.deps import ConfigDep, DatabaseDep
from devexbot.store import Card, Database
from devexbot.store.cards import find_cards, get_card
from devexbot.store.models import utcnow
from devexbot.web.audit import audit_entries
from devexbot.web.filters import CardFilter
from devexbot.web.live import TooManyStreams
from devexbot.web.timeline import timeline
from devexbot.web.view import CardView, check_rows
from devexbot.web.workspace import Workspace, WorkspaceDep

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
SCAN_LIMIT = 2000  # rows looked at for filters SQL cannot decide (the environment)
_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_SHA = re.compile(r"^[0-9a-fA-F]{4,40}$")


@router.get("/")
async def workspace_page(
    request: Request, workspace: WorkspaceDep, db: DatabaseDep, config: ConfigDep,
    limit: Annotated[int, Query(ge=1, le=200)] = PAGE_SIZE,
) -> Response:
    """The newest cards, filtered; the page follows changes live."""
    viewer = workspace.require_viewer(request)
    card_filter = CardFilter.from_query(request.query_params)
    since = utcnow()
    cards, repos = await run_in_threadpool(_load_cards, workspace, db, card_filter, limit)
    environments = list(dict.fromkeys(
        [*config.environments, *(e for c in cards for e in c.environments)]))
    return workspace.page(request, "index.html", {
        "viewer": viewer, "cards": cards, "filter": card_filter, "repos": repos,
        "environments": environments, "branches": sorted({c.branch for c in cards if c.branch}),
        "since": since.isoformat(), "limit": limit,
        "card_html": workspace.card_html,
    })


def _load_cards(workspace: Workspace, db: Database, card_filter: CardFilter, limit: int
                ) -> tuple[list[CardView], list[str]]:
    with db.read() as session:
        query = card_filter.narrow(
            select(Card).order_by(Card.updated_at.desc(), Card.id.desc()))
        views: list[CardView] = []
        if not card_filter.environment:
            views = [workspace.view(row) for row in session.scalars(query.limit(limit))]
        else:
            wanted = card_filter.environment.casefold()
            for row in session.scalars(query.limit(SCAN_LIMIT)):
                envs = {str(d.get("environment", "")).casefold()
                        for d in (row.doc or {}).get("deployments", [])}
                if wanted in envs:
                    views.append(workspace.view(row))
                    if len(views) >= limit:
                        break
        repos = list(session.scalars(select(Card.repo).distinct().order_by(Card.repo).limit(500)))
    return [v for v in views if card_filter.matches(v)], repos


@router.get("/cards/{owner}/{repo}/{sha}")
async def card_page(owner: str, repo: str, sha: str, request: Request,
                    workspace: WorkspaceDep, db: DatabaseDep) -> Response:
    """One card, its whole timeline and its audit entries."""
    viewer = workspace.require_viewer(request)
    full = f"{owner}/{repo}".lower()
    found = None
    if _REPO.match(full) and _SHA.match(sha):
        found = await run_in_threadpool(_load_card, workspace, db, full, sha.lower())
    if found is None:
        return workspace.page(request, "not_found.html", {
            "viewer": viewer, "what": f"{full}@{sha}"}, status_code=404)
    return workspace.page(request, "card.html", {"viewer": viewer, **found,
                                                 "since": utcnow().isoformat(),
                                                 "notice": request.query_params.get("notice"),
                                                 "card_html": workspace.card_html})


def _load_card(workspace: Workspace, db: Database, repo: str, sha: str
               ) -> dict[str, Any] | None:
    with db.read() as session:
        row = get_card(session, repo, sha) if len(sha) == 40 else None
        if row is None and len(sha) < 40:
            matches = find_cards(session, repo=repo, sha_prefix=sha, limit=2)
            row = matches[0] if len(matches) == 1 else None
        if row is None:
            return None
        card = workspace.card_loader.load(row)
        return {"card": workspace.view(row, card), "checks": check_rows(card),
                "timeline": timeline(session, row.id, names=workspace.names),
                "audit": audit_entries(session, row, workspace.names)}


@router.get("/api/stream")
async def stream(request: Request, workspace: WorkspaceDep) -> Response:
    """Server-sent events: `card` (its HTML) when a card changes, `drop` when a card no
    longer matches the filters (`repo`, `branch`, `status`, `environment`, `q`, or `card`:
    one card's key). `since` (or Last-Event-ID) replays what changed after it."""
    if workspace.viewer(request) is None:
        return JSONResponse({"detail": "sign in to follow the workspace"}, status_code=401)
    params = request.query_params
    since = _since(request.headers.get("last-event-id") or params.get("since"))
    try:
        live_stream = workspace.live.open(CardFilter.from_query(params),
                                          card_key=params.get("card") or None)
    except TooManyStreams as exc:
        return JSONResponse({"detail": f"too many live streams ({exc}); try again later"},
                            status_code=503, headers={"Retry-After": "5"})
    return StreamingResponse(
        workspace.live.events(live_stream, since=since), media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def _since(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None
