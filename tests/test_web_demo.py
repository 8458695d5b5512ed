"""`devexbot demo`: its story, played through the real endpoints, builds the expected cards."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from devexbot.app import create_app
from devexbot.config import BotConfig
from devexbot.demo import DemoSecrets, play
from devexbot.demo.scenario import API_COMMIT, ENVIRONMENTS, FEATURE, MERGE
from devexbot.http.serving import ServerThread
from devexbot.services import build_services
from tests.conftest import make_settings
from tests.db_template import migrate


def _cards(base: str) -> dict[str, dict]:
    listed = httpx.get(f"{base}/api/cards", params={"limit": 50}, timeout=10).json()["cards"]
    return {c["sha"]: c for c in listed}


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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_devexbot_demo_prints_its_url_and_shows_cards(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATABASE_URL", "DEVEXBOT_", "SLACK_", "GITHUB_"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "devexbot", "demo", "--port", str(port), "--speed", "30"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert f"open http://127.0.0.1:{port}/" in first, first
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        merge = None
        while time.monotonic() < deadline:
            try:
                merge = _cards(base).get(MERGE)
            except httpx.TransportError:
                merge = None
            if merge and merge["deployments"] and merge["deployments"][-1]["status"] == "success":
                break
            time.sleep(0.3)
        assert merge is not None and merge["overall"] == "success", merge
        page = httpx.get(f"{base}/", timeout=10)
        assert page.status_code == 200 and "octo-org/octo-app · main" in page.text
    finally:
        proc.terminate()
        assert proc.wait(timeout=15) == 0
    assert not list(tmp_path.iterdir())  # the demo's database is thrown away


def test_demo_refuses_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "devexbot", "demo", "--port", str(port)],
                                cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert result.stderr.startswith(f"devexbot: error: cannot listen on 127.0.0.1:{port}")
