"""`/api/docs` is served whole by the bot: a machine without internet access shows it too
(the browser test renders it with every other host unreachable)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient


@pytest.mark.sqlite_only
def test_the_docs_page_loads_only_the_bots_own_files(client: TestClient) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200
    linked = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    assert linked, page.text
    assert not [url for url in linked if not url.startswith("/")], linked
    assert "cdn" not in page.text.lower()
    for url in linked:
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert answer.content, url
    assert client.get("/api/docs/assets/swagger-ui-bundle.js").headers[
        "content-type"].startswith(("application/javascript", "text/javascript"))
    assert "'/api/openapi.json'" in page.text or '"/api/openapi.json"' in page.text
    assert client.get("/api/openapi.json").json()["info"]["title"] == "devexbot"
