"""The command line and the start-up as a person meets them: `--help`, `-V`, a port in use,
`check-config` reporting every mistake at once, and `serve` against a Slack that refuses
its token, logging JSON lines."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from devexbot import __version__
from tests.conftest import GITHUB_SECRET
from tests.e2e.serve_process import free_port, process_env
from tests.e2e.test_cli import assert_one_line_error, run
from tests.fakes.slack_api import FakeSlack
from tests.github_sender import GitHubSender, load_fixture
from tests.slack_app import wait_for

COMMANDS = ("serve", "demo", "db", "manifest", "jobs", "check-config")


def test_help_describes_every_command(tmp_path: Path) -> None:
    result = run("--help", cwd=tmp_path)
    assert result.returncode == 0
    lines = result.stdout.replace("\n                ", " ").splitlines()
    for command in COMMANDS:
        (line,) = [line for line in lines if line.strip().startswith(command + " ")]
        assert len(line.split()) > 3, line  # the command and what it does
    assert "-V, --version" in result.stdout


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_the_version(tmp_path: Path, flag: str) -> None:
    result = run(flag, cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, f"devexbot {__version__}\n")


def test_a_port_in_use_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("serve", "--port", str(port), cwd=tmp_path)
    assert_one_line_error(result, f"cannot listen on 127.0.0.1:{port} (Address already in use)")
    assert not (tmp_path / "devexbot.db").exists()  # it stopped before doing anything


def test_check_config_reports_every_mistake_at_once(tmp_path: Path) -> None:
    config = tmp_path / "devexbot.yaml"
    config.write_text(
        "routes:\n"
        "  - repos: [octo-org/*]\n"
        "    chanel: '#deploys'\n"  # line 3: a typo
        "schedule:\n"
        "  timezon: UTC\n"  # line 5: another
        "commands:\n"
        "  cleanup:\n"
        "    description: Clean the test data\n"
        "    allowed: ['*']\n"
        "    run: [./no-such-script.sh]\n"  # line 10: masked by the others before
    )
    result = run("check-config", str(config), cwd=tmp_path, PORT="eighty",
                 DATABASE_URL="mysql://root@localhost/x")
    assert_one_line_error(result)
    assert result.stderr.splitlines() == [
        "devexbot: error: DATABASE_URL: unsupported database 'mysql' (sqlite or postgresql)",
        "devexbot: error: PORT: Input should be a valid integer, unable to parse string as an "
        "integer",
        f"devexbot: error: {config}:2: routes[0].channel: Field required",
        f"devexbot: error: {config}:3: routes[0].chanel: Extra inputs are not permitted (did "
        "you mean `channel`?)",
        f"devexbot: error: {config}:5: schedule.timezon: Extra inputs are not permitted (did "
        "you mean `timezone`?)",
        f"devexbot: error: {config}:10: commands.cleanup.run[0]: {tmp_path}/no-such-script.sh "
        "does not exist (a relative path is relative to the config file's directory)",
    ]


# ---- serve, with Slack refusing the token -------------------------------------------------


@pytest.fixture
def refusing_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as slack:
        slack.refuse_token()
        yield slack


def test_serve_says_once_that_slack_refuses_the_token_and_readyz_says_why(
        tmp_path: Path, refusing_slack: FakeSlack) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    env = process_env(PORT=str(port), GITHUB_WEBHOOK_SECRET=GITHUB_SECRET,
                      SLACK_BOT_TOKEN="xoxb-revoked", SLACK_SIGNING_SECRET="signing-secret",
                      SLACK_API_URL=refusing_slack.base_url,
                      SLACK_DEFAULT_CHANNEL="C0DEPLOYS", DEVEXBOT_LOG_FORMAT="json")
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "devexbot", "serve"], cwd=tmp_path,
                                env=env, stdout=out, stderr=out)
    base = f"http://127.0.0.1:{port}"

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in log.read_text().splitlines()]

    def answering() -> bool:
        assert proc.poll() is None, log.read_text()
        try:
            return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(answering, timeout=30, what="serve to answer /healthz")
        ready = httpx.get(f"{base}/readyz", timeout=5)
        assert ready.status_code == 503
        assert ready.json()["dependencies"]["slack"]["error"] == \
            "the bot token is refused (invalid_auth): check SLACK_BOT_TOKEN"
        with httpx.Client(base_url=base, timeout=10) as client:
            delivered = GitHubSender(client, GITHUB_SECRET).deliver(
                "check_run", load_fixture("check_run.completed"), delivery_id="delivery-1")
        assert delivered.status_code == 202
        wait_for(lambda: [p for p in lines() if p.get("card")], timeout=20,
                 what="the outbox's line about the card")
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    said = lines()  # every line is a JSON object
    about_token = [p for p in said if "invalid_auth" in p["message"]
                   and p["logger"] != "devexbot.publish.outbox"]
    assert [p["message"] for p in about_token] == [
        "Slack is down: the bot token is refused (invalid_auth): check SLACK_BOT_TOKEN; "
        "checking again in 5 s"]
    assert not [p for p in said if "will be unused" in p["message"]]  # no Bolt warning
    assert not [p for p in said if "traceback" in p]
    (access,) = [p for p in said if "POST /webhooks/github" in p["message"]]
    assert access["delivery_id"] == "delivery-1"
    outbox = [p for p in said if p["logger"] == "devexbot.publish.outbox"]
    assert outbox and all(p["card"] == "octo-org/octo-app@6dcb09b" for p in outbox)
