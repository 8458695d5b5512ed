"""The FastAPI application, built by `create_app` from settings (never at import time)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError

from devexbot import __version__
from devexbot.errors import DevexbotError
from devexbot.http import api, delivery_api, health
from devexbot.http.answers import ErrorAnswer
from devexbot.http.docs import install_docs
from devexbot.settings import Settings, get_settings
from devexbot.web import install_workspace
from devexbot.web.access import login_available
from devexbot.wiring import Background, Services, build_services
from handlers import webhooks
from handlers.slack import events as slack_events

log = logging.getLogger(__name__)

FIRST_CHECKS = 5.0  # seconds the start waits for the first word from each service


def create_app(settings: Settings | None = None, *, services: Services | None = None,
               background: bool = True) -> FastAPI:
    """The bot's HTTP application: webhooks, read API, health. With `background` off, its
    lifespan starts no outbox, ticket or scheduler thread and no Socket Mode: whoever built
    it does that work (a test, stepping its clock)."""
    services = services or build_services(settings or get_settings())
    app = FastAPI(title="devexbot", version=__version__, docs_url=None,
                  openapi_url="/api/openapi.json", redoc_url=None,
                  lifespan=_lifespan(services, background))
    # What the routes' dependencies (devexbot.http.deps) hand them.
    app.state.settings = services.settings
    app.state.config = services.config
    app.state.db = services.db
    app.state.ingest = services.ingest
    app.state.metrics = services.metrics
    app.state.tracer = services.tracer
    app.state.runs = services.runs
    app.state.run_readers = services.run_readers
    app.state.slack_events = services.slack_events
    app.state.actions = services.actions
    app.state.readiness = services.watch.readiness
    app.state.delivery_metrics = services.delivery_metrics
    app.include_router(webhooks.router)
    app.include_router(slack_events.router)
    app.include_router(api.router)
    app.include_router(delivery_api.router)
    app.include_router(health.router)
    install_docs(app)
    install_workspace(app, services.workspace)
    _install_error_handlers(app)
    _document_validation_errors(app)
    return app


def _lifespan(services: Services, background: bool
              ) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        _say_what_is_off(services)
        parts: list[Background] = [services.watch, *services.background] if background else []
        for part in parts:
            part.start()
        if background and not services.watch.wait_first_round(FIRST_CHECKS):
            log.warning("the services have not all answered within %.0f s: /readyz says "
                        "which", FIRST_CHECKS)
        live = services.workspace.live
        await live.start()
        try:
            yield
        finally:
            await live.stop()
            for part in reversed(parts):
                part.stop()
            services.close()

    return lifespan


def _say_what_is_off(services: Services) -> None:
    settings = services.settings
    if not services.slack_on:
        log.info("Slack is off (SLACK_BOT_TOKEN is not set): cards are served on the web API "
                 "only")
    elif settings.slack_signing_secret is None and settings.slack_app_token is None:
        log.warning("SLACK_SIGNING_SECRET is not set: Slack's button clicks and slash commands "
                    "to /slack/events are refused (503); set it, or SLACK_APP_TOKEN for Socket "
                    "Mode")
    for variable, secret, path in (
            ("GITHUB_WEBHOOK_SECRET", settings.github_webhook_secret, "/webhooks/github"),
            ("JENKINS_WEBHOOK_TOKEN", settings.jenkins_webhook_token, "/webhooks/jenkins"),
            ("DEPLOY_WEBHOOK_SECRET", settings.deploy_webhook_secret,
             "/webhooks/deploy and /webhooks/flux")):
        if secret is None:
            log.warning("%s is not set: every delivery to %s is refused (503)", variable, path)
    if settings.devexbot_api_access == "open":
        log.warning("DEVEXBOT_API_ACCESS=open: anyone who can reach the bot reads /api/* "
                    "(commit messages, PR titles, who approved what, runbook runs)")
    elif not login_available(settings):
        log.warning("neither DEVEXBOT_WEB_TOKEN nor Sign in with Slack is set: the web "
                    "workspace and the API are readable on the bot's machine only")


def _document_validation_errors(app: FastAPI) -> None:
    """FastAPI documents a 422 as its list of errors; `_invalid` below answers one line."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                invalid = operation.get("responses", {}).get("422")
                if invalid is not None:
                    invalid["description"] = "a parameter is invalid: `name: reason`"
                    invalid["content"] = {"application/json": {"schema": {
                        "$ref": f"#/components/schemas/{ErrorAnswer.__name__}"}}}
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        components[ErrorAnswer.__name__] = ErrorAnswer.model_json_schema()
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DevexbotError)
    async def _known(request: Request, exc: DevexbotError) -> JSONResponse:
        status = exc.status_code if 400 <= exc.status_code < 600 else 500
        return JSONResponse({"detail": exc.message}, status_code=status,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path"))
        return JSONResponse({"detail": f"{where}: {first.get('msg')}"}, status_code=422)

    @app.exception_handler(OperationalError)
    async def _database_down(request: Request, exc: OperationalError) -> JSONResponse:
        log.error("database unavailable on %s %s: %s", request.method, request.url.path,
                  exc.orig)
        return JSONResponse({"detail": "database unavailable, try again"}, status_code=503)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        error_id = uuid.uuid4().hex[:12]
        log.exception("error %s on %s %s", error_id, request.method, request.url.path)
        return JSONResponse({"detail": f"internal error (id {error_id})", "error_id": error_id},
                            status_code=500)
