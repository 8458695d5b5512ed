"""`GET /readyz`: whether the bot can do its work now, service by service. It reads what the
bot last saw of each (its own calls, and the watch's checks while one is down) and asks
only the database itself, so a probe every few seconds costs Slack, GitHub, Jenkins and
Jira nothing."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text

from devexbot.health.readiness import Readiness, Seen, is_ready
from devexbot.health.reasons import failure_reason
from devexbot.http.deps import DatabaseDep
from devexbot.store.models import utcnow

router = APIRouter()

DATABASE_TIMEOUT = 3.0  # seconds the database has to answer `SELECT 1`


async def readiness_of(request: Request) -> Readiness:
    readiness: Readiness = request.app.state.readiness
    return readiness


ReadinessDep = Annotated[Readiness, Depends(readiness_of)]


class ServiceState(BaseModel):
    state: Literal["up", "down", "off"] = Field(
        description="`off`: the bot is not configured to use it")
    error: str | None = Field(default=None, description="why it is down, in one line")
    since: str | None = Field(default=None, description="in this state since (ISO 8601)")


class Ready(BaseModel):
    status: Literal["ready", "not ready"]
    dependencies: dict[str, ServiceState] = Field(
        description="database, slack, github, jenkins, jira")


@router.get("/readyz", response_model=None, responses={
    200: {"model": Ready, "description": "every service the bot is configured to use is up"},
    503: {"model": Ready, "description": "one of them is down"}})
async def readyz(db: DatabaseDep, readiness: ReadinessDep) -> JSONResponse:
    """Readiness: the database, Slack, GitHub, Jenkins and Jira each up, down (with the
    last error) or off; 503 while one the bot is configured to use is down."""

    def ping() -> None:
        with db.read() as session:
            session.execute(text("SELECT 1"))

    database = Seen("up", since=None)
    try:
        await asyncio.wait_for(run_in_threadpool(ping), DATABASE_TIMEOUT)
    except TimeoutError:
        database = Seen("down", f"no answer within {DATABASE_TIMEOUT:.0f} s", utcnow())
    except Exception as exc:  # readiness must answer, whatever the database says
        database = Seen("down", failure_reason(exc), utcnow())
    seen = {"database": database, **readiness.snapshot()}
    ready = is_ready(seen)
    body = {"status": "ready" if ready else "not ready",
            "dependencies": {name: s.to_json() for name, s in seen.items()}}
    return JSONResponse(body, status_code=200 if ready else 503)
