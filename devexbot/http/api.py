"""The read API: cards as DESIGN.md's card JSON, runbook runs, and liveness."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text
from sqlalchemy.orm import Session

from correlation.events import GITHUB_NAME, REPO_NAME
from devexbot.actions.audit import audit_entries
from devexbot.errors import RequestError
from devexbot.http.answers import refusals
from devexbot.http.deps import (
    ConfigDep,
    DatabaseDep,
    MetricsDep,
    RunReadersDep,
    RunsDep,
    SettingsDep,
)
from devexbot.http.metrics import CONTENT_TYPE
from devexbot.http.models import AuditList, CardDoc, CardList, EnvironmentList, Health, RunList
from devexbot.runbooks.model import NAME as RUNBOOK_NAME
from devexbot.runbooks.readers import Reader
from devexbot.store import Card
from devexbot.store.cards import card_json, find_cards, further_messages, get_card
from devexbot.store.environments import live_environments
from devexbot.tickets.directory import cached_info, with_info
from devexbot.web.access import Viewer, bearer_token, bearer_viewer, is_local, is_secret
from devexbot.web.workspace import WorkspaceDep

router = APIRouter()

_REPO = re.compile(f"^{REPO_NAME.pattern}$")
_SHA = re.compile(r"^[0-9a-fA-F]{4,40}$")

# The formats are documented, not enforced by FastAPI: a name that cannot be a repository
# is a 404 (no such card) or a 400 with a readable reason, not a 422 listing the pattern.
RepoFilter = Annotated[str | None, Query(description="owner/repo",
                                         json_schema_extra={"pattern": _REPO.pattern})]
BAD_REPO = {400: "`repo` is not owner/repo"}


def _ok(model: type[Any], description: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"model": model, "description": description}} | refusals({
        401: "the caller is neither on the bot's machine, signed in to the workspace, nor "
             "holding the web token (unless `DEVEXBOT_API_ACCESS=open`)"})


async def reader_of(request: Request, workspace: WorkspaceDep,
                    settings: SettingsDep) -> Viewer | None:
    """Who reads: with `DEVEXBOT_API_ACCESS=login`, the default, the workspace's rule (on
    the bot's machine, or signed in) or the web token as a bearer token; with `open`, anyone
    (None: someone the bot cannot name)."""
    viewer = workspace.viewer(request) or bearer_viewer(request, settings)
    if viewer is not None or settings.devexbot_api_access == "open":
        return viewer
    raise RequestError(401, "sign in to the workspace, or send the web token as "
                            "`Authorization: Bearer <token>`",
                       headers={"WWW-Authenticate": 'Bearer realm="devexbot"'})


ReaderDep = Annotated[Viewer | None, Depends(reader_of)]
READER = [Depends(reader_of)]


async def may_scrape(request: Request, settings: SettingsDep) -> None:
    """With `DEVEXBOT_METRICS_TOKEN` set, `/metrics` wants it from off the bot's machine."""
    token = settings.devexbot_metrics_token
    if token is None or is_local(request, settings) or is_secret(token, bearer_token(request)):
        return
    raise RequestError(401, "send the metrics token as `Authorization: Bearer <token>`",
                       headers={"WWW-Authenticate": 'Bearer realm="devexbot metrics"'})


class NotFound(RequestError):
    def __init__(self, message: str) -> None:
        super().__init__(404, message)


@router.get("/api/cards/{owner}/{repo}/{sha}", response_model=None, dependencies=READER,
            responses=_ok(CardDoc, "the card") | refusals({
                400: "`sha` is a prefix of more than one commit's SHA",
                404: "no card for this commit"}))
async def read_card(
    owner: Annotated[str, Path(json_schema_extra={"pattern": f"^{GITHUB_NAME}$"})],
    repo: Annotated[str, Path(json_schema_extra={"pattern": f"^{GITHUB_NAME}$"})],
    sha: Annotated[str, Path(description="the SHA, or a unique prefix of it",
                             json_schema_extra={"pattern": _SHA.pattern})],
    db: DatabaseDep,
) -> dict[str, Any]:
    """One commit's card; `sha` may be a unique prefix of at least 4 hex digits."""
    full = f"{owner}/{repo}"
    if not _REPO.match(full) or not _SHA.match(sha):
        raise NotFound(f"no card for {full}@{sha}")

    def load() -> dict[str, Any] | None:
        with db.read() as session:
            card = get_card(session, full, sha) if len(sha) == 40 else None
            if card is None and len(sha) < 40:
                matches = find_cards(session, repo=full, sha_prefix=sha, limit=2)
                if len(matches) > 1:
                    raise RequestError(400, f"{sha} is ambiguous in {full}: give more digits")
                card = matches[0] if matches else None
            return _with_tickets(session, [card])[0] if card else None

    found = await run_in_threadpool(load)
    if found is None:
        raise NotFound(f"no card for {full}@{sha}")
    return found


@router.get("/api/cards", response_model=None, dependencies=READER,
            responses=_ok(CardList, "cards, newest first") | refusals(BAD_REPO))
async def list_cards(
    db: DatabaseDep,
    repo: RepoFilter = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> dict[str, Any]:
    """Cards newest first, optionally of one repo."""
    if repo is not None and not _REPO.match(repo):
        raise RequestError(400, f"repo must look like owner/repo, not {repo!r}")

    def load() -> list[dict[str, Any]]:
        with db.read() as session:
            return _with_tickets(session, find_cards(session, repo=repo, limit=limit))

    return {"cards": await run_in_threadpool(load)}


def _with_tickets(session: Session, cards: list[Card]) -> list[dict[str, Any]]:
    """Cards' JSON, their tickets with the titles and statuses the cache knows (the API
    never waits on the tracker; the flusher keeps the cache current)."""
    further = further_messages(session, cards)
    docs = [card_json(card, further.get(card.id, ())) for card in cards]
    known = cached_info(session, (str(t.get("key")) for d in docs for t in d.get("tickets") or ()))
    for doc in docs:
        doc["tickets"] = list(with_info(doc.get("tickets") or [], known))
    return docs


@router.get("/api/environments", response_model=None, dependencies=READER,
            responses=_ok(EnvironmentList, "what is live where") | refusals(BAD_REPO))
async def read_environments(
    db: DatabaseDep,
    config: ConfigDep,
    repo: RepoFilter = None,
) -> dict[str, Any]:
    """What is live where: each environment's commit, since when, by whom, its card."""
    if repo is not None and not _REPO.match(repo):
        raise RequestError(400, f"repo must look like owner/repo, not {repo!r}")

    def load() -> list[dict[str, Any]]:
        with db.read() as session:
            found = live_environments(session, repo, config.environments)
            return [env.to_json() for env in found]

    return {"environments": await run_in_threadpool(load)}


@router.get("/api/audit", response_model=None, dependencies=READER,
            responses=_ok(AuditList, "the audit log, newest first") | refusals(BAD_REPO))
async def read_audit(
    db: DatabaseDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    repo: RepoFilter = None,
) -> dict[str, Any]:
    """What people did from the cards, newest first."""
    if repo is not None and not _REPO.match(repo):
        raise RequestError(400, f"repo must look like owner/repo, not {repo!r}")
    return {"audit": await run_in_threadpool(audit_entries, db, limit=limit, repo=repo)}


@router.get("/metrics", include_in_schema=False, dependencies=[Depends(may_scrape)])
async def metrics(registry: MetricsDep) -> Response:
    """Prometheus metrics (text exposition format)."""
    body = await run_in_threadpool(registry.exposition)  # the outbox lag reads the database
    return Response(body, media_type=CONTENT_TYPE)


@router.get("/api/runs", response_model=None, dependencies=READER,
            responses=_ok(RunList, "runs, newest first")
            | refusals({400: "`command` is not a runbook's name"}))
async def list_runs(
    runs: RunsDep,
    readers: RunReadersDep,
    viewer: ReaderDep,
    command: Annotated[str | None, Query(
        description="only this runbook",
        json_schema_extra={"pattern": RUNBOOK_NAME.pattern})] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> dict[str, Any]:
    """Runbook runs newest first: who ran what, with which arguments (secrets redacted),
    where, when, and how it ended; the arguments and output only to people who may run
    the runbook (and whoever ran it)."""
    if command is not None and not RUNBOOK_NAME.fullmatch(command):
        # Nothing else could match, and PostgreSQL cannot compare with a NUL in it.
        raise RequestError(400, "command must be a runbook's name: lower-case letters, "
                                "digits and dashes")

    def load() -> list[dict[str, Any]]:
        return readers.shown(_run_reader(viewer), runs.recent(limit=limit, command=command))

    return {"runs": await run_in_threadpool(load)}


def _run_reader(viewer: Viewer | None) -> Reader:
    if viewer is not None and viewer.via == "local":
        return Reader(everything=True)
    return Reader(user_id=viewer.subject if viewer is not None and viewer.via == "slack"
                  else None)


@router.get("/healthz", response_model=None,
            responses=_ok(Health, "up, and the database answers")
            | {503: {"model": Health, "description": "the database does not answer"}})
async def healthz(db: DatabaseDep) -> JSONResponse:
    """Liveness: the process answers and so does its database."""

    def ping() -> None:
        with db.read() as session:
            session.execute(text("SELECT 1"))

    try:
        await run_in_threadpool(ping)
    except Exception as exc:  # liveness must answer, whatever the database says
        return JSONResponse({"status": "unavailable", "database": type(exc).__name__}, 503)
    return JSONResponse({"status": "ok", "database": "ok"})
