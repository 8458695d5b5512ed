"""`/api/docs`: Swagger UI for the API, served by the bot itself. Its script and style
come from the `fastapi-offline` package (Swagger UI 5, which reads OpenAPI 3.1), so the page
works on a machine without internet access, where a CDN would leave it blank."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_URL = "/api/docs"
ASSETS_URL = f"{DOCS_URL}/assets"
ASSETS = Path(fastapi_offline.__file__).parent / "static"


def install_docs(app: FastAPI) -> None:
    """The docs page, and its Swagger UI files under `/api/docs/assets/`."""
    openapi_url = app.openapi_url or "/api/openapi.json"
    app.mount(ASSETS_URL, StaticFiles(directory=str(ASSETS)), name="docs-assets")

    @app.get(DOCS_URL, include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url, title=f"{app.title} API",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg")
