"""Failure modes under load: a failing Slack, a bot killed mid-burst, forged Slack requests.

Bounded: ~20 commits, loopback only, every wait has a timeout.
"""

from __future__ import annotations

import random
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from devexbot.app import create_app
from devexbot.publish.outbox import card_message
from devexbot.services import Services
from devexbot.store import Card, Database
from devexbot.store.cards import CardLoader, card_state
from devexbot.store.migrate import upgrade
from tests.bot_process import start_serve
from tests.commit_mix import commit_events
from tests.conftest import GITHUB_SECRET, make_settings
from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlack
from tests.fakes.slack_faults import Fault, failure
from tests.github_sender import GitHubSender
from tests.slack_app import SIGNING_SECRET, slack_services, wait_for
from tests.slack_signing import interaction_body, signed_headers, slash_command_body

CHANNELS = 5
ROUTES = "routes:\n" + "".join(
    f"  - repos: [octo-org/app-{k}]\n    channel: '#deploys-{k}'\n" for k in range(CHANNELS))


def add_route_channels(slack: FakeSlack) -> None:
    """The channels ROUTES names, as a workspace has them before the bot posts there."""
    for k in range(CHANNELS):
        slack.add_channel(f"deploys-{k}")


def commits(n: int, *, seed: int) -> tuple[list[str], list[tuple[str, dict[str, Any]]]]:
    """n small commits (one check run) over CHANNELS repos, their deliveries shuffled."""
    shas = [f"{seed:08x}{i + 1:032x}" for i in range(n)]
    deliveries = [d for i, sha in enumerate(shas)
                  for d in commit_events(i, repo=f"octo-org/app-{i % CHANNELS}", sha=sha,
                                         checks=("build",))]
    random.Random(seed).shuffle(deliveries)
    return shas, deliveries


def settled_cards(db: Database, shas: list[str]) -> list[Card] | None:
    with db.read() as session:
        cards = session.scalars(select(Card).where(Card.sha.in_(shas))).all()
    done = [c for c in cards if c.slack_ts and not c.dirty and c.claim_token is None]
    return done if len(done) == len(shas) else None


def assert_one_current_message_per_card(db: Database, slack: FakeSlack, shas: list[str],
                                        card_loader: CardLoader, config: Any) -> None:
    cards = settled_cards(db, shas)
    assert cards is not None
    top_level = [m for k in range(CHANNELS) for m in slack.messages(f"#deploys-{k}")]
    assert len(top_level) == len(shas), f"{len(top_level)} messages for {len(shas)} commits"
    assert {(m.channel, m.ts) for m in top_level} == {(c.slack_channel, c.slack_ts) for c in cards}
    for card in cards:
        folded = card_loader.load(card)
        final = slack.final_message(card.slack_channel, card.slack_ts)
        assert final.text == card_message(folded, config).text, card.sha


# ---- Slack failing on a third of calls ---------------------------------------------------

def test_cards_converge_while_slack_fails_a_third_of_calls(
    database_url: str, tmp_path: Path, fake_slack: FakeSlack
) -> None:
    add_route_channels(fake_slack)
    bot = slack_services(database_url, tmp_path, fake_slack.base_url, config=ROUTES)
    assert bot.slack_client is not None
    bot.slack_client.timeout = 1  # so a held answer is a client timeout, not a 10 s wait
    fake_slack.fail_mix(1 / 3, [failure(429, 1, None), failure(500, None, None),
                                failure(503, None, None),
                                Fault("hang", seconds=1.5),  # Slack acted, answer too late
                                Fault("drop", seconds=1.5)],  # nothing done, no answer
                        seed=11, methods=["chat.postMessage", "chat.update",
                                          "conversations.history", "conversations.list"])
    shas, deliveries = commits(20, seed=1)
    with TestClient(create_app(services=bot)) as client:
        github = GitHubSender(client, GITHUB_SECRET)
        for event, payload in deliveries:
            assert github.deliver(event, payload).status_code == 202
        wait_for(lambda: settled_cards(bot.db, shas), timeout=90,
                 what="every card to settle while Slack fails a third of calls")
    faults = {c.fault for c in fake_slack.calls() if c.fault}
    assert {"fail", "hang", "drop"} <= faults, faults
    assert_one_current_message_per_card(bot.db, fake_slack, shas, bot.card_loader,
                                        bot.config)
    bot.db.dispose()


# ---- SIGKILL mid-burst -------------------------------------------------------------------

@pytest.fixture
def serve_env(database_url: str, tmp_path: Path, fake_slack: FakeSlack) -> dict[str, str]:
    add_route_channels(fake_slack)
    (tmp_path / "devexbot.yaml").write_text(ROUTES)
    settings = make_settings(database_url, tmp_path)
    db = Database(settings.database_url)
    upgrade(db.engine)  # PostgreSQL is migrated by `devexbot db upgrade` first, as in production
    db.dispose()
    return {"DATABASE_URL": database_url, "DEVEXBOT_CONFIG": str(tmp_path / "devexbot.yaml"),
            "GITHUB_WEBHOOK_SECRET": GITHUB_SECRET, "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": fake_slack.base_url}


def test_sigkill_mid_burst_loses_no_acknowledged_delivery_and_posts_nothing_twice(
    database_url: str, tmp_path: Path, fake_slack: FakeSlack, serve_env: dict[str, str]
) -> None:
    _, deliveries = commits(20, seed=2)
    acknowledged: list[tuple[str, dict[str, Any]]] = []
    proc, base = start_serve(tmp_path, serve_env)
    kill_at = len(deliveries) // 2
    try:
        with httpx.Client(base_url=base, timeout=5) as client:
            for n, (event, payload) in enumerate(deliveries):
                if n == kill_at:
                    proc.send_signal(signal.SIGKILL)  # mid-burst, the outbox mid-flush
                try:
                    response = GitHubSender(client, GITHUB_SECRET).deliver(event, payload)
                except httpx.TransportError:
                    continue
                if 200 <= response.status_code < 300:
                    acknowledged.append((event, payload))
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert 0 < len(acknowledged) < len(deliveries)
    posts_before_restart = len([c for c in fake_slack.calls("chat.postMessage") if c.ok])

    proc, base = start_serve(tmp_path, serve_env)
    try:
        reflected = sorted({_sha_of(p) for _, p in acknowledged})
        bot = slack_services(database_url, tmp_path, fake_slack.base_url, config=ROUTES)
        # Within half the claim's lease (60 s): the restarted bot frees the claims the killed
        # one held on this host instead of waiting them out.
        wait_for(lambda: settled_cards(bot.db, reflected), timeout=30,
                 what="the cards of every acknowledged delivery after the restart")
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    assert_one_current_message_per_card(bot.db, fake_slack, reflected, bot.card_loader,
                                        bot.config)
    _assert_every_acknowledged_delivery_is_on_its_card(bot, acknowledged)
    print(f"\nSIGKILL after {kill_at} of {len(deliveries)} deliveries: {len(acknowledged)} "
          f"acknowledged, {posts_before_restart} posts before the restart, "
          f"{len(reflected)} messages after")
    bot.db.dispose()


def _sha_of(payload: dict[str, Any]) -> str:
    for path in (("after",), ("check_run", "head_sha"), ("pull_request", "head", "sha"),
                 ("deployment", "sha"), ("sha",)):
        value: Any = payload
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str):
            return value
    raise AssertionError(f"no sha in {sorted(payload)}")


def _assert_every_acknowledged_delivery_is_on_its_card(
    bot: Services, acknowledged: list[tuple[str, dict[str, Any]]]
) -> None:
    with bot.db.read() as session:
        cards = {c.sha: c for c in session.scalars(select(Card)).all()}
    for event, payload in acknowledged:
        card = cards[_sha_of(payload)]
        names = {slot[2] for slot in card_state(card)}
        assert names, (event, card.sha)
        if event == "check_run":
            assert payload["check_run"]["name"] in names, (card.sha, names)


# ---- forged Slack requests ---------------------------------------------------------------

@pytest.fixture
def slack_bot(database_url: str, tmp_path: Path, fake_slack: FakeSlack) -> Iterator[TestClient]:
    bot = slack_services(database_url, tmp_path, fake_slack.base_url)
    with TestClient(create_app(services=bot)) as client:
        yield client
    bot.db.dispose()


def _post(client: TestClient, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return client.post("/slack/events", content=body, headers=headers)


def test_a_signed_fresh_request_is_taken(slack_bot: TestClient) -> None:
    body = slash_command_body("/devex", "help")
    assert _post(slack_bot, body, signed_headers(body, signing_secret=SIGNING_SECRET)
                 ).status_code == 200


@pytest.mark.parametrize("case", ["stale", "wrong_secret", "tampered_body", "replayed_old",
                                  "old_signature_new_timestamp", "unsigned"])
def test_forged_or_replayed_slack_requests_are_refused(slack_bot: TestClient,
                                                       fake_slack: FakeSlack, case: str) -> None:
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
    assert fake_slack.calls() == []
