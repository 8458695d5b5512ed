"""A bot with runbooks, wired to the fake Slack (and a fake Jenkins), for end-to-end tests:
scripts written beside its config, signed slash commands and clicks, waits on run records."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from devexbot.app import create_app
from devexbot.store import RunbookRun
from devexbot.wiring import Services
from tests.fakes.slack_api import FakeSlack
from tests.slack_app import SIGNING_SECRET, slack_services, wait_for
from tests.slack_signing import SlackSender, block_actions_payload, view_submission_payload
from tests.web_client import local_client

OPS, OPS_NAME = "C0OPS", "ops"
INTERVAL = 0.3  # seconds between edits of a run's reply in these tests

SETTINGS = f"""
runbooks:
  update_interval: {INTERVAL}
  kill_grace: 0.5
  jenkins_poll: 0.1
  redact: ['AKIA[0-9A-Z]{{16}}']
"""

SCRIPTS = {
    # --env ENV --days DAYS: says what it would delete, a line every 25 ms for 1.5 s; then,
    # while a file `hold` exists beside it, waits (10 s at most).
    "cleanup.sh": """#!/bin/sh
echo "cleaning $2 older than $4 days"
i=1
while [ $i -le 60 ]; do echo "line $i"; sleep 0.025; i=$((i+1)); done
j=0
while [ -f hold ] && [ $j -lt 200 ]; do sleep 0.05; j=$((j+1)); done
echo "run $DEVEXBOT_RUN_ID by $DEVEXBOT_USER done"
""",
    # Runs until the file `release` appears beside it (10 s at most).
    "slow.sh": """#!/bin/sh
echo "holding"
i=0
while [ ! -f release ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
echo "released"
""",
    "sleepy.sh": "#!/bin/sh\necho 'about to sleep'\nsleep 100\n",
    "leaky.sh": """#!/bin/sh
echo "password=$DB_PASSWORD"
echo "key AKIAABCDEFGHIJKLMNOP in a log line"
echo "token=$1"
""",
    "marker.sh": "#!/bin/sh\ntouch ran-marker\necho marked\n",
    "probe.py": f"""#!{sys.executable}
import json, sys
with open("probe.json", "a") as out:
    out.write(json.dumps(sys.argv[1:]) + "\\n")
print("argv", sys.argv[1:])
""",
}


@dataclass
class Bot:
    services: Services
    client: TestClient
    slack: SlackSender
    fake: FakeSlack
    directory: Path

    def command(self, text: str, *, user: str = "U0ANA", channel: str = OPS,
                channel_name: str = OPS_NAME, command: str = "/devex") -> Any:
        """Type `command text` in a channel; returns the HTTP response (Bolt's ack)."""
        url = self.fake.new_response_url(channel, user=user)
        response = self.slack.command(command, text, user_id=user, channel_id=channel,
                                      channel_name=channel_name, response_url=url,
                                      user_name=user.lower())
        assert response.status_code == 200, response.text
        return response

    def reply(self, text: str, **kwargs: Any) -> dict[str, Any]:
        response = self.command(text, **kwargs)
        assert response.text, "the command was answered with an empty ack"
        body: dict[str, Any] = response.json()
        return body

    def click(self, action_id: str, message: Any, *, user: str = "U0ANA",
              channel: str = OPS, message_ts: str | None = None) -> tuple[Any, str]:
        """Click a button of `message`; returns the response and the click's response_url."""
        url = self.fake.new_response_url(channel, user=user, message_ts=message_ts,
                                         kind="actions")
        payload = block_actions_payload(action_id, message=message, user_id=user,
                                        user_name=user.lower(), channel_id=channel,
                                        channel_name=OPS_NAME, response_url=url,
                                        message_ts=message_ts)
        response = self.slack.interaction(payload)
        assert response.status_code == 200, response.text
        return response, url

    def submit(self, view: dict[str, Any], values: dict[str, Any], *,
               user: str = "U0ANA") -> Any:
        response = self.slack.interaction(view_submission_payload(
            view, values, user_id=user, user_name=user.lower()))
        assert response.status_code == 200, response.text
        return response

    def runs(self, command: str | None = None) -> list[RunbookRun]:
        return self.services.runs.recent(limit=50, command=command)

    def finished_run(self, command: str | None = None, count: int = 1,
                     timeout: float = 20) -> RunbookRun:
        """The newest run of `command`, once `count` of its runs have finished."""
        def done() -> list[RunbookRun]:
            runs = [r for r in self.runs(command) if r.status not in ("running", "confirming")]
            return runs if len(runs) >= count and not [
                r for r in self.runs(command) if r.status == "running"] else []
        return wait_for(done, timeout=timeout, what=f"{count} finished run(s)")[0]

    def reply_message(self, run: RunbookRun) -> Any:
        """The thread reply showing a run's output, once the run's last edits have landed
        (the reply's, then the "ran" message's)."""
        assert run.slack_channel and run.slack_reply_ts and run.slack_ts
        wait_for(lambda: " · " in self.fake.final_message(run.slack_channel, run.slack_ts).text,
                 timeout=10, what="the run's last edits")
        return self.fake.final_message(run.slack_channel, run.slack_reply_ts)

    def api_runs(self, **params: Any) -> list[dict[str, Any]]:
        response = self.client.get("/api/runs", params=params)
        assert response.status_code == 200, response.text
        runs: list[dict[str, Any]] = response.json()["runs"]
        return runs


@contextmanager
def runbook_bot(database_url: str, tmp_path: Path, fake: FakeSlack, commands: str,
                **settings: Any) -> Iterator[Bot]:
    """The app, with `commands` (YAML) and the scripts above beside its config."""
    scripts = tmp_path / "scripts"
    scripts.mkdir(exist_ok=True)
    for name, body in SCRIPTS.items():
        path = scripts / name
        path.write_text(body)
        path.chmod(0o755)
    fake.add_usergroup("S0OPS", "ops", ["U0CAROL"])
    services = slack_services(database_url, tmp_path, fake.base_url,
                              config=commands + SETTINGS, **settings)
    try:
        with local_client(create_app(services=services)) as client:
            yield Bot(services, client, SlackSender(client, SIGNING_SECRET), fake, tmp_path)
    finally:
        services.db.dispose()


def button_value(message: Any, action_id: str) -> dict[str, Any]:
    blocks = message.blocks if hasattr(message, "blocks") else message["blocks"]
    for block in blocks:
        for element in block.get("elements", []):
            if isinstance(element, dict) and element.get("action_id") == action_id:
                value: dict[str, Any] = json.loads(element["value"])
                return value
    raise AssertionError(f"no {action_id} button")


def wait_until(condition: Any, timeout: float = 10, what: str = "") -> Any:
    return wait_for(condition, timeout=timeout, what=what)


def elapsed(start: float) -> float:
    return time.monotonic() - start
