"""Who may read the JSON API: by default (`DEVEXBOT_API_ACCESS=login`) the bot's own machine,
a signed-in browser or the web token as a bearer token; with `open`, anyone, said at start.
Who may read a runbook run's arguments and output; who may scrape `/metrics`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from devexbot.errors import SettingsError
from devexbot.wiring import Services, build_services
from tests.conftest import GITHUB_SECRET, make_settings
from tests.db_template import migrate
from tests.fakes.slack_api import FakeSlack
from tests.github_sender import GitHubSender, load_fixture
from tests.runbook_bot import runbook_bot
from tests.web_client import OUTSIDE, sign_in_with_slack, web_client

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
def guarded(tmp_path: Path, database_url: str) -> Iterator[Services]:
    yield from _services(tmp_path, database_url)  # the default: DEVEXBOT_API_ACCESS=login


@pytest.fixture
def open_api(tmp_path: Path, sqlite_url: str) -> Iterator[Services]:
    yield from _services(tmp_path, sqlite_url, devexbot_api_access="open")


def test_with_open_access_anyone_who_reaches_the_bot_reads_the_api_and_start_says_so(
    open_api: Services, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING"), web_client(open_api, client=OUTSIDE) as outside:
        for path in READS:
            assert outside.get(path).status_code == 200, path
        assert outside.get("/api/cards").json()["cards"][0]["sha"] == SHA
    (warning,) = [r.getMessage() for r in caplog.records if "DEVEXBOT_API_ACCESS" in
                  r.getMessage()]
    assert warning.startswith("DEVEXBOT_API_ACCESS=open: anyone who can reach the bot reads")


def test_by_default_a_stranger_is_refused_with_one_line(guarded: Services) -> None:
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


def test_by_default_the_token_a_session_or_the_machine_itself_may_read(
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
    assert make_settings(sqlite_url, tmp_path).devexbot_api_access == "login"
    assert make_settings(sqlite_url, tmp_path,
                         devexbot_api_access=" Open ").devexbot_api_access == "open"
    with pytest.raises(SettingsError) as refused:
        make_settings(sqlite_url, tmp_path, devexbot_api_access="closed")
    assert str(refused.value).startswith("DEVEXBOT_API_ACCESS: ")
    assert "\n" not in str(refused.value)


def test_a_login_nobody_can_pass_is_said_at_start(
    tmp_path: Path, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    services = build_services(make_settings(sqlite_url, tmp_path))
    migrate(services.db.engine)
    with caplog.at_level("WARNING"), web_client(services):
        pass
    services.db.dispose()
    assert any("readable on the bot's machine only" in r.getMessage() for r in caplog.records)


# --- a run's arguments and output: for whoever may run the runbook ----------------------

RUNBOOKS = """
commands:
  mark:
    description: Leave a marker file
    run: ["scripts/marker.sh"]
    allowed: ["U0ANA", "@ops"]
    channels: ["#ops"]
  probe:
    description: Record its arguments
    run: ["scripts/probe.py", "{text}", "{count}"]
    params:
      text: {description: any words}
      count: {type: int, min: 0, max: 5, default: 1}
    allowed: ["*"]
"""


def test_a_runs_arguments_and_output_are_for_whoever_may_run_the_runbook(
    database_url: str, tmp_path: Path, fake_slack: FakeSlack
) -> None:
    with runbook_bot(database_url, tmp_path, fake_slack, RUNBOOKS,
                     devexbot_web_token=TOKEN) as bot:
        bot.command("mark", user="U0ANA")  # in #ops, where it may run
        bot.finished_run("mark")
        bot.command("probe text=hello", user="U0BEN")
        bot.finished_run("probe")

        def runs(web: TestClient, **headers: str) -> dict[str, dict[str, Any]]:
            answer = web.get("/api/runs", headers=headers)
            assert answer.status_code == 200, answer.text
            return {r["command"]: r for r in answer.json()["runs"]}

        with web_client(bot.services, client=OUTSIDE, background=False) as outside:
            by_token = runs(outside, Authorization=f"Bearer {TOKEN}")
            by_slack = {}
            for name in ("U0CAROL", "U0DAN", "U0ANA"):  # in @ops, not, and who ran it
                outside.cookies.clear()
                sign_in_with_slack(outside, name, name)
                by_slack[name] = runs(outside)
        on_the_machine = runs(bot.client)

    # Who ran what, where and how it ended is for every reader ...
    assert by_token["mark"]["user"] == "U0ANA" and by_token["mark"]["status"] == "succeeded"
    # ... its arguments and output only for people who may run it, or ran it.
    assert by_token["mark"]["output_tail"] is None and by_token["mark"]["args"] is None
    assert by_token["mark"]["hidden"] is True
    assert by_slack["U0DAN"]["mark"]["output_tail"] is None  # not allowed to run it
    assert by_slack["U0DAN"]["mark"]["hidden"] is True
    for allowed in (by_slack["U0CAROL"], by_slack["U0ANA"], on_the_machine):
        assert "marked" in allowed["mark"]["output_tail"] and not allowed["mark"]["hidden"]
    # A runbook everyone may run shows them to anyone who reads the API.
    assert by_token["probe"]["args"]["text"] == "hello"
    assert "hello" in by_token["probe"]["output_tail"] and not by_token["probe"]["hidden"]
    assert by_slack["U0DAN"]["probe"]["args"]["text"] == "hello"


# --- /metrics with a token of its own ---------------------------------------------------

METRICS_TOKEN = "metrics-token-0123456789"


def test_metrics_with_a_token_of_its_own(tmp_path: Path, sqlite_url: str) -> None:
    services = build_services(make_settings(sqlite_url, tmp_path, devexbot_web_token=TOKEN,
                                            devexbot_metrics_token=METRICS_TOKEN))
    migrate(services.db.engine)
    with web_client(services, client=OUTSIDE) as outside:
        refused = outside.get("/metrics")
        assert refused.status_code == 401 and "\n" not in refused.json()["detail"]
        assert "devexbot_" not in refused.text
        for wrong in (f"Bearer {TOKEN}", "Bearer guess", METRICS_TOKEN):
            assert outside.get("/metrics", headers={"Authorization": wrong}).status_code \
                == 401, wrong
        scraped = outside.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert scraped.status_code == 200 and "devexbot_webhook_deliveries" in scraped.text
    with web_client(services) as local:
        assert local.get("/metrics").status_code == 200
    services.db.dispose()
