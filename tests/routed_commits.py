"""Small commits over a few routed channels, and the check that Slack shows each of them in
one message, as its card stands (the failure-mode tests, in process and end to end)."""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import select

from devexbot.publish.outbox import card_message
from devexbot.store import Card, Database
from devexbot.store.cards import CardLoader
from tests.commit_mix import commit_events
from tests.fakes.slack_api import FakeSlack

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
        assert final.text == card_message(folded, config.policies()).text, card.sha
