"""A bot killed mid-burst (SIGKILL, as a crash or an OOM kill does): no acknowledged delivery
is lost and nothing is posted twice. Real `devexbot serve` processes on loopback.

Bounded: ~20 commits, loopback only, every wait has a timeout.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from devexbot.store import Card, Database
from devexbot.store.cards import card_state
from devexbot.store.migrate import upgrade
from devexbot.wiring import Services
from tests.conftest import GITHUB_SECRET, make_settings
from tests.e2e.serve_process import start_serve
from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlack
from tests.github_sender import GitHubSender
from tests.routed_commits import (
    ROUTES,
    add_route_channels,
    assert_one_current_message_per_card,
    commits,
    settled_cards,
)
from tests.slack_app import SIGNING_SECRET, slack_services, wait_for


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
