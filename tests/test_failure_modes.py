"""Failure modes: a Slack failing a third of calls, forged and replayed Slack requests. (A bot
killed mid-burst is `tests/e2e/test_sigkill.py`.)"""

from __future__ import annotations

import time

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.bot import BotFactory
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_faults import Fault, failure
from tests.routed_commits import (
    ROUTES,
    add_route_channels,
    assert_one_current_message_per_card,
    commits,
    settled_cards,
)
from tests.slack_app import SIGNING_SECRET
from tests.slack_signing import interaction_body, signed_headers, slash_command_body

SLACK_TIMEOUT = 0.2  # seconds: the client's, so that a held answer is a client timeout soon

# ---- Slack failing on a third of calls ---------------------------------------------------


def test_cards_converge_while_slack_fails_a_third_of_calls(
    make_bot: BotFactory, slack: FakeSlack
) -> None:
    add_route_channels(slack)
    bot = make_bot(config=ROUTES)
    assert bot.services.slack_client is not None
    bot.services.slack_client.timeout = SLACK_TIMEOUT  # type: ignore[assignment]
    slack.fail_mix(1 / 3, [failure(429, 1, None), failure(500, None, None),
                           failure(503, None, None),
                           Fault("hang", seconds=2 * SLACK_TIMEOUT),  # acted, answer too late
                           Fault("drop", seconds=2 * SLACK_TIMEOUT)],  # nothing done, no answer
                   seed=11, methods=["chat.postMessage", "chat.update",
                                     "conversations.history", "conversations.list"])
    shas, deliveries = commits(20, seed=1)
    for event, payload in deliveries:
        assert bot.deliver(event, payload).status_code == 202
    bot.settle()  # every card, while Slack fails a third of calls
    assert settled_cards(bot.services.db, shas) is not None
    faults = {c.fault for c in slack.calls() if c.fault}
    assert {"fail", "hang", "drop"} <= faults, faults
    assert_one_current_message_per_card(bot.services.db, slack, shas,
                                         bot.services.card_loader, bot.services.config)


# ---- forged Slack requests ---------------------------------------------------------------


@pytest.fixture
def slack_bot(make_bot: BotFactory) -> TestClient:
    return make_bot().client


def _post(client: TestClient, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return client.post("/slack/events", content=body, headers=headers)


@pytest.mark.sqlite_only
def test_a_signed_fresh_request_is_taken(slack_bot: TestClient) -> None:
    body = slash_command_body("/devex", "help")
    assert _post(slack_bot, body, signed_headers(body, signing_secret=SIGNING_SECRET)
                 ).status_code == 200


@pytest.mark.parametrize("case", ["stale", "wrong_secret", "tampered_body", "replayed_old",
                                  "old_signature_new_timestamp", "unsigned"])
@pytest.mark.sqlite_only
def test_forged_or_replayed_slack_requests_are_refused(slack_bot: TestClient,
                                                       slack: FakeSlack, case: str) -> None:
    body = interaction_body({"type": "block_actions", "actions": [], "user": {"id": "U0ANA"}})
    now = int(time.time())
    old = now - 6 * 60  # outside Slack's 5-minute window
    if case == "stale":
        headers = signed_headers(body, signing_secret=SIGNING_SECRET, timestamp=old)
    elif case == "wrong_secret":
        headers = signed_headers(body, signing_secret="not-the-secret")
    elif case == "tampered_body":
        headers = signed_headers(body, signing_secret=SIGNING_SECRET)
        body = body.replace(b"U0ANA", b"U0BEN")
    elif case == "replayed_old":  # a request that was valid 6 minutes ago, sent again
        headers = signed_headers(body, signing_secret=SIGNING_SECRET, timestamp=old)
    elif case == "old_signature_new_timestamp":  # the replay with a fresh timestamp
        headers = signed_headers(body, signing_secret=SIGNING_SECRET, timestamp=old)
        headers["X-Slack-Request-Timestamp"] = str(now)
    else:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
    response = _post(slack_bot, body, headers)
    assert response.status_code == 401, (case, response.status_code, response.text)
    assert "Traceback" not in response.text
    assert slack.calls() == []
