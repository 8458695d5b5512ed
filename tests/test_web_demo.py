"""`devexbot demo`'s story, played through the real endpoints, builds the expected cards
(`tests/e2e/test_demo_command.py` runs `devexbot demo` itself)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from devexbot.app import create_app
from devexbot.config import BotConfig
from devexbot.demo import DemoSecrets, play
from devexbot.demo.scenario import API_COMMIT, ENVIRONMENTS, FEATURE, MERGE
from devexbot.http.serving import ServerThread
from devexbot.wiring import build_services
from tests.conftest import make_settings
from tests.db_template import migrate


def _cards(base: str) -> dict[str, dict]:
    listed = httpx.get(f"{base}/api/cards", params={"limit": 50}, timeout=10).json()["cards"]
    return {c["sha"]: c for c in listed}


@pytest.mark.sqlite_only
def test_the_story_builds_its_cards(tmp_path: Path, database_url: str) -> None:
    keys = DemoSecrets.generate()
    settings = make_settings(database_url, tmp_path, github_webhook_secret=keys.github,
                             jenkins_webhook_token=keys.jenkins, deploy_webhook_secret=keys.deploy)
    services = build_services(settings, config=BotConfig(environments=ENVIRONMENTS))
    migrate(services.db.engine)
    lines: list[str] = []
    with ServerThread(create_app(settings, services=services)) as server:
        sent = play(server.url, keys, speed=300, say=lines.append)
        cards = _cards(server.url)
    services.db.dispose()
    assert sent == len(lines) > 40
    assert not [line for line in lines if "answered" in line], lines

    feature, merge, api = cards[FEATURE], cards[MERGE], cards[API_COMMIT]
    assert feature["branch"] == "feature/login" and feature["overall"] == "success"
    assert feature["pull_request"]["state"] == "merged"
    ci_test = next(c for c in feature["checks"] if c["name"] == "CI / test")
    assert ci_test["status"] == "success" and ci_test["details"]["run_attempt"] == 2  # retried
    assert {c["source"] for c in feature["checks"]} == {"github", "jenkins"}

    assert merge["branch"] == "main" and merge["overall"] == "success"
    assert merge["pull_request"]["number"] == 12
    assert [(d["environment"], d["status"]) for d in merge["deployments"]] == [
        ("test", "success"), ("production", "success")]
    approval = merge["deployments"][0]["approval"]
    assert approval["state"] == "approved" and approval["by"] == ["carla"]

    assert api["repo"] == "octo-org/octo-api" and api["overall"] == "failure"
    assert "3 of 310 tests failed" in api["checks"][0]["summary"]
