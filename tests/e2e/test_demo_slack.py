"""`devexbot demo --slack-channel C…`: the story's cards go to that Slack channel and update
in place, and a button clicked in Slack acts as the Slack user who clicked it, on the
demo's own GitHub (Slack here is the fake Slack Web API; the click is signed as Slack's)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from devexbot.demo.scenario import FEATURE
from tests.demo_run import APP, demo_process
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_models import Message
from tests.slack_app import wait_for
from tests.slack_signing import SlackSender, block_actions_payload

CHANNEL, CHANNEL_NAME = "C0DEMO42", "devexbot-demo"
SIGNING_SECRET = "demo-signing-secret"


def _action_ids(message: Message) -> list[str]:
    return [e["action_id"] for b in message.blocks for e in b.get("elements", [])
            if isinstance(e, dict) and "action_id" in e]


def _card(slack: FakeSlack, having: str) -> Message | None:
    return next((m for m in slack.messages(CHANNEL) if having in str(m.blocks)), None)


def test_the_story_plays_into_a_slack_channel_and_its_buttons_act(tmp_path: Path) -> None:
    with FakeSlack(channels={CHANNEL_NAME: CHANNEL}) as slack, demo_process(
            tmp_path, "--speed", "5", "--slack-channel", CHANNEL, env={
                "SLACK_BOT_TOKEN": slack.token, "SLACK_API_URL": slack.base_url,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET}) as demo:
        said = demo.said(f"the cards go to Slack channel {CHANNEL} too")
        assert "set SLACK_APP_TOKEN (Socket Mode) for its buttons" in said
        retry: Any = wait_for(lambda: (m := _card(slack, "feature/login")) and any(
            a.startswith("card.retry") for a in _action_ids(m)) and m, timeout=30,
            what="the feature/login card with its Retry button, in Slack")
        action = next(a for a in _action_ids(retry) if a.startswith("card.retry"))
        with httpx.Client(base_url=demo.url, timeout=10) as client:
            clicked = SlackSender(client, SIGNING_SECRET).interaction(block_actions_payload(
                action, message=slack.message_json(CHANNEL, retry.ts), channel_id=CHANNEL,
                channel_name=CHANNEL_NAME, user_id="U0ANA", user_name="ana"))
        assert clicked.status_code == 200
        wait_for(lambda: "retried by <@U0ANA>" in str(slack.final_message(CHANNEL, retry.ts)
                                                     .blocks), timeout=30,
                 what="the Slack card stamped with who retried")
        passed = wait_for(lambda: (card := demo.card(APP, FEATURE)) and [
            c for c in card["checks"] if c["name"] == "CI / test" and c["status"] == "success"
            and c["details"]["run_attempt"] == 2], timeout=30, what="the re-run passing")
        assert passed
        assert "you re-ran CI's failed jobs, through the bot" in "\n".join(demo.lines)
        audit = httpx.get(f"{demo.url}/api/audit", timeout=10).json()["audit"]
        assert [(e["action"], e["slack_user"], e["result"]) for e in audit] == [
            ("card.retry", "U0ANA", "ok")]
        # One message per commit, updated in place rather than posted again.
        tops = slack.messages(CHANNEL)
        assert len({m.ts for m in tops}) == len(tops) <= 3
        assert len(slack.final_message(CHANNEL, retry.ts).history) > 1
