"""The web workspace: the live cards for people outside Slack (server-rendered, no build)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from devexbot.web import actions as web_actions
from devexbot.web import delivery, login, pages
from devexbot.web import me as me_page
from devexbot.web.access import LoginRequired
from devexbot.web.workspace import STATIC, Workspace

__all__ = ["Workspace", "install_workspace"]


def install_workspace(app: FastAPI, workspace: Workspace) -> None:
    """Mount the pages, the stream, sign-in and the static files; the app's lifespan starts
    and stops `workspace.live`."""
    app.state.workspace = workspace
    app.include_router(pages.router)
    app.include_router(delivery.router)
    app.include_router(web_actions.router)
    app.include_router(login.router)
    app.include_router(me_page.router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": exc.message}, status_code=401)
        return RedirectResponse(f"/login?next={_quote(exc.next_path)}", status_code=303)


def _quote(path: str) -> str:
    return quote(path, safe="")
