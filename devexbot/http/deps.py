"""What the routes use, as typed FastAPI dependencies: `create_app` puts each part on
`app.state` once, and a route names the parts it needs (`db: DatabaseDep`), nothing more.

They are coroutines so that FastAPI runs them on the event loop: a plain function would
cost each request a trip through the thread pool per dependency."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from devexbot.config import BotConfig
from devexbot.http.metrics import Metrics
from devexbot.runbooks.readers import RunReaders
from devexbot.runbooks.runs import RunStore
from devexbot.settings import Settings
from devexbot.store import Database
from devexbot.store.ingest import Ingest
from devexbot.tracing import Tracer


async def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def config_of(request: Request) -> BotConfig:
    config: BotConfig = request.app.state.config
    return config


async def database_of(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def ingest_of(request: Request) -> Ingest:
    ingest: Ingest = request.app.state.ingest
    return ingest


async def metrics_of(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


async def runs_of(request: Request) -> RunStore:
    runs: RunStore = request.app.state.runs
    return runs


async def run_readers_of(request: Request) -> RunReaders:
    readers: RunReaders = request.app.state.run_readers
    return readers


async def tracer_of(request: Request) -> Tracer:
    tracer: Tracer = request.app.state.tracer
    return tracer


SettingsDep = Annotated[Settings, Depends(settings_of)]
ConfigDep = Annotated[BotConfig, Depends(config_of)]
DatabaseDep = Annotated[Database, Depends(database_of)]
IngestDep = Annotated[Ingest, Depends(ingest_of)]
MetricsDep = Annotated[Metrics, Depends(metrics_of)]
RunsDep = Annotated[RunStore, Depends(runs_of)]
RunReadersDep = Annotated[RunReaders, Depends(run_readers_of)]
TracerDep = Annotated[Tracer, Depends(tracer_of)]
