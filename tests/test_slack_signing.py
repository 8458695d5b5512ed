"""Our signed Slack requests are what Slack sends: slack_sdk and Bolt accept them as real."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from fastapi import FastAPI, Request, Response
from fastapi.testclient import TestClient
from slack_bolt import App
from slack_bolt.adapter.starlette import SlackRequestHandler
from slack_sdk.signature import Clock, SignatureVerifier

from tests.fakes import slack_api
from tests.fakes.slack_api import FakeSlack
from tests.slack_signing import (
    SlackSender,
    block_actions_payload,
    interaction_body,
    signed_headers,
    slack_signature,
    slash_command_body,
    slash_command_fields,
    view_submission_payload,
)

SECRET = "test-signing-secret"
fake_slack = slack_api.fake_slack


class FixedClock(Clock):
    def __init__(self, now: float) -> None:
        self.at = now

    def now(self) -> float:
        return self.at


def test_matches_slacks_published_example() -> None:
    # The example in Slack's "Verifying requests from Slack" guide.
    body = (
        "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
        "&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
        "&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
        "%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
        "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    assert slack_signature("8f742231b10e8888abcd99yyyzzz85a5", 1531420618, body) == (
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    )


@pytest.mark.parametrize(
    "body",
    [
        slash_command_body("/devex", "cleanup-test-data env=staging"),
        interaction_body(block_actions_payload("retry", '{"build": 7}')),
    ],
    ids=["slash-command", "block-actions"],
)
def test_slack_sdk_accepts_ours_and_refuses_stale_or_tampered(body: bytes) -> None:
    now = int(time.time())
    verifier = SignatureVerifier(SECRET, clock=FixedClock(now))
    assert verifier.is_valid_request(body, signed_headers(body, signing_secret=SECRET))
    assert verifier.is_valid_request(
        body, signed_headers(body, signing_secret=SECRET, timestamp=now - 300)
    )

    stale = signed_headers(body, signing_secret=SECRET, timestamp=now - 301)
    assert not verifier.is_valid_request(body, stale)
    fresh = signed_headers(body, signing_secret=SECRET)
    assert not verifier.is_valid_request(body.replace(b"devex", b"devez"), fresh)
    assert not verifier.is_valid_request(body + b"&x=1", fresh)
    other = signed_headers(body, signing_secret="another-secret")
    assert not verifier.is_valid_request(body, other)


def test_a_slash_command_is_form_fields_in_slacks_order() -> None:
    body = slash_command_body("/devex", "cleanup-test-data env=staging", user_id="U0BOB")
    assert body.startswith(b"token=") and b"command=%2Fdevex" in body
    assert b"text=cleanup-test-data+env%3Dstaging" in body
    fields = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
    assert list(fields) == list(slash_command_fields())
    assert fields["user_id"] == "U0BOB" and fields["trigger_id"].count(".") == 2


def test_block_actions_takes_the_clicked_element_from_the_message(fake_slack: FakeSlack) -> None:
    card = [
        {
            "type": "actions",
            "block_id": "card-actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "merge",
                    "style": "primary",
                    "text": {"type": "plain_text", "text": "Merge"},
                    "value": '{"pr": 12}',
                }
            ],
        }
    ]
    ts = fake_slack.client().chat_postMessage(channel="#d", text="PR #12", blocks=card)["ts"]
    message = fake_slack.final_message("#d", ts)
    payload = block_actions_payload("merge", message=message, user_id="U0ANA")

    (action,) = payload["actions"]
    assert action["block_id"] == "card-actions" and action["value"] == '{"pr": 12}'
    assert (action["type"], action["style"], action["text"]["text"]) == (
        "button",
        "primary",
        "Merge",
    )
    assert payload["container"] == {
        "type": "message",
        "message_ts": ts,
        "channel_id": message.channel,
        "is_ephemeral": False,
    }
    assert payload["channel"]["id"] == message.channel and payload["message"]["ts"] == ts
    assert payload["message"]["blocks"] == message.blocks
    with pytest.raises(ValueError, match="approve"):
        block_actions_payload("approve", message=message)  # no such button on this card

    body = interaction_body(payload)
    assert json.loads(parse_qs(body.decode())["payload"][0]) == payload


# ---- end to end: Bolt behind FastAPI, fed by SlackSender, talking to FakeSlack ---------


@pytest.fixture
def bolt_app(fake_slack: FakeSlack) -> App:
    """A Bolt app using the fake as its Slack (it calls auth.test on start)."""
    return App(client=fake_slack.client(), signing_secret=SECRET, process_before_response=True)


@pytest.fixture
def slack(bolt_app: App) -> Iterator[SlackSender]:
    api = FastAPI()
    handler = SlackRequestHandler(bolt_app)

    @api.post("/slack/events")
    async def events(request: Request) -> Response:
        return await handler.handle(request)

    with TestClient(api) as client:
        yield SlackSender(client, SECRET)


def test_bolt_runs_a_signed_slash_command(
    bolt_app: App, slack: SlackSender, fake_slack: FakeSlack
) -> None:
    seen: dict[str, Any] = {}

    @bolt_app.command("/devex")
    def run(ack: Any, command: dict[str, Any], respond: Any, client: Any) -> None:
        ack()
        seen.update(command)
        respond(text=f"running {command['text']}")
        client.chat_postMessage(channel=command["channel_id"], text="cleanup started")

    url = fake_slack.new_response_url("C0DEPLOYS", user="U0ANA")
    answer = slack.command("/devex", "cleanup-test-data", user_id="U0ANA", response_url=url)

    assert answer.status_code == 200
    assert seen["user_name"] == "ana" and seen["team_id"] == fake_slack.workspace.team_id
    assert [e.text for e in fake_slack.ephemerals(user="U0ANA")] == ["running cleanup-test-data"]
    assert [m.text for m in fake_slack.messages("C0DEPLOYS")] == ["cleanup started"]
    assert [c.method for c in fake_slack.calls()] == ["auth.test", "chat.postMessage"]

    stale = slack.send(slash_command_body("/devex"), timestamp=int(time.time()) - 400)
    assert stale.status_code == 401


def test_bolt_handles_a_button_click_and_a_modal_submission(
    bolt_app: App, slack: SlackSender, fake_slack: FakeSlack
) -> None:
    modal = {
        "type": "modal",
        "callback_id": "approve-deploy",
        "title": {"type": "plain_text", "text": "Approve deploy"},
        "submit": {"type": "plain_text", "text": "Approve"},
        "blocks": [
            {
                "type": "input",
                "block_id": "reason",
                "label": {"type": "plain_text", "text": "Why"},
                "element": {"type": "plain_text_input", "action_id": "text"},
            }
        ],
    }
    button = {
        "type": "button",
        "action_id": "approve",
        "text": {"type": "plain_text", "text": "Approve"},
        "value": "staging",
    }

    @bolt_app.action("approve")
    def clicked(ack: Any, body: dict[str, Any], client: Any, respond: Any) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=modal)
        respond(replace_original=True, text=f"approval opened for {body['actions'][0]['value']}")

    submitted: dict[str, Any] = {}

    @bolt_app.view("approve-deploy")
    def approve(ack: Any, view: dict[str, Any]) -> None:
        submitted["reason"] = view["state"]["values"]["reason"]["text"]["value"]
        ack(response_action="errors", errors={"reason": "too short"})

    posted = fake_slack.client().chat_postMessage(
        channel="#deploys",
        text="deploy waiting",
        blocks=[{"type": "actions", "elements": [button]}],
    )
    card = fake_slack.final_message("#deploys", posted["ts"])
    url = fake_slack.new_response_url("#deploys", message_ts=card.ts, kind="actions")
    clicked_answer = slack.interaction(
        block_actions_payload("approve", message=card, response_url=url)
    )
    assert clicked_answer.status_code == 200
    assert fake_slack.final_message("#deploys", card.ts).text == "approval opened for staging"

    (opened,) = fake_slack.views()
    answer = slack.interaction(view_submission_payload(opened, {"reason": {"text": "ok"}}))
    assert answer.status_code == 200
    assert answer.json() == {"response_action": "errors", "errors": {"reason": "too short"}}
    assert submitted == {"reason": "ok"}
