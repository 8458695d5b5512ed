"""Who may read the JSON API: anyone by default (DESIGN.md's contract); with
`DEVEXBOT_API_ACCESS=login`, the workspace's rule plus the web token as a bearer token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devexbot.errors import SettingsError
from devexbot.wiring import Services, build_services
from tests.conftest import GITHUB_SECRET, make_settings
from tests.db_template import migrate
from tests.github_sender import GitHubSender, load_fixture
from tests.web_client import OUTSIDE, web_client

TOKEN = "api-token-0123456789abcdef"
SHA = load_fixture("push")["after"]
REPO = load_fixture("push")["repository"]["full_name"]
READS = ["/api/cards", f"/api/cards/{REPO}/{SHA}", f"/api/environments?repo={REPO}",
         "/api/audit", "/api/runs"]


def _services(tmp_path: Path, url: str, **settings: Any) -> Iterator[Services]:
    services = build_services(make_settings(url, tmp_path, devexbot_web_token=TOKEN,
                                            **settings))
    migrate(services.db.engine)
    with web_client(services) as local:
        GitHubSender(local, GITHUB_SECRET).deliver("push", load_fixture("push"))
    yield services
    services.db.dispose()


@pytest.fixture
def guarded(tmp_path: Path, sqlite_url: str) -> Iterator[Services]:
    yield from _services(tmp_path, sqlite_url, devexbot_api_access="login")


@pytest.fixture
def open_api(tmp_path: Path, sqlite_url: str) -> Iterator[Services]:
    yield from _services(tmp_path, sqlite_url)


def test_by_default_anyone_who_reaches_the_bot_reads_the_api(open_api: Services) -> None:
    with web_client(open_api, client=OUTSIDE) as outside:
        for path in READS:
            assert outside.get(path).status_code == 200, path
        assert outside.get("/api/cards").json()["cards"][0]["sha"] == SHA


def test_behind_the_login_a_stranger_is_refused_with_one_line(guarded: Services) -> None:
    with web_client(guarded, client=OUTSIDE) as outside:
        for path in READS:
            refused = outside.get(path)
            assert refused.status_code == 401, path
            assert refused.headers["www-authenticate"] == 'Bearer realm="devexbot"'
            detail = refused.json()["detail"]
            assert "Authorization: Bearer" in detail and "\n" not in detail
            assert SHA not in refused.text
        for wrong in ("Bearer not-the-token", f"Basic {TOKEN}", "Bearer ", TOKEN):
            assert outside.get("/api/cards", headers={"Authorization": wrong}).status_code \
                == 401, wrong
        # What is not card data stays open: liveness, metrics, the schema.
        for path in ("/healthz", "/metrics", "/api/openapi.json"):
            assert outside.get(path).status_code == 200, path


def test_behind_the_login_the_token_a_session_or_the_machine_itself_may_read(
    guarded: Services,
) -> None:
    with web_client(guarded, client=OUTSIDE) as outside:
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        for path in READS:
            assert outside.get(path, headers=bearer).status_code == 200, path
        assert outside.get("/api/cards", headers=bearer).json()["cards"][0]["sha"] == SHA
    with web_client(guarded, client=OUTSIDE, follow_redirects=False) as browser:
        assert browser.post("/login", data={"token": TOKEN, "next": "/"}).status_code == 303
        assert browser.get(f"/api/cards/{REPO}/{SHA}").json()["sha"] == SHA
    with web_client(guarded) as local:
        assert local.get("/api/cards").status_code == 200


def test_the_setting_takes_open_or_login_only(tmp_path: Path, sqlite_url: str) -> None:
    assert make_settings(sqlite_url, tmp_path,
                         devexbot_api_access=" Login ").devexbot_api_access == "login"
    with pytest.raises(SettingsError) as refused:
        make_settings(sqlite_url, tmp_path, devexbot_api_access="closed")
    assert str(refused.value).startswith("DEVEXBOT_API_ACCESS: ")
    assert "\n" not in str(refused.value)


def test_a_login_nobody_can_pass_is_said_at_start(
    tmp_path: Path, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    services = build_services(make_settings(sqlite_url, tmp_path, devexbot_api_access="login"))
    migrate(services.db.engine)
    with caplog.at_level("WARNING"), web_client(services):
        pass
    services.db.dispose()
    assert any("readable on the bot's machine only" in r.getMessage() for r in caplog.records)
