"""Two `devexbot serve` processes on one PostgreSQL schema: one Slack message per commit.

100 commits x 3 deliveries, 20% of them sent twice, each delivery to a replica picked at
random. 25 routed channels keep Slack's ~1 post/s per channel from dominating the time.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from correlation.fold import FoldRules
from devexbot.config import load_config
from devexbot.publish.outbox import card_message
from devexbot.store import Card, Database
from devexbot.store.cards import CardLoader
from tests.commit_mix import commit_events
from tests.conftest import GITHUB_SECRET
from tests.e2e.serve_process import process_env, start_serve
from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlack
from tests.github_sender import github_headers
from tests.slack_app import SIGNING_SECRET, wait_for

COMMITS, CHANNELS = 100, 25
ROUTES = "routes:\n" + "".join(
    f"  - repos: [octo-org/app-{k}]\n    channel: '#deploys-{k}'\n" for k in range(CHANNELS))


def test_two_replicas_post_each_commit_once_and_every_card_ends_current(
    postgres_schema_url: str, tmp_path: Path, fake_slack: FakeSlack
) -> None:
    started = time.monotonic()
    for k in range(CHANNELS):
        fake_slack.add_channel(f"deploys-{k}")  # the channels the routes name
    (tmp_path / "devexbot.yaml").write_text(ROUTES)
    env = {"DATABASE_URL": postgres_schema_url,
           "DEVEXBOT_CONFIG": str(tmp_path / "devexbot.yaml"),
           "GITHUB_WEBHOOK_SECRET": GITHUB_SECRET, "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
           "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": fake_slack.base_url}
    upgraded = subprocess.run([sys.executable, "-m", "devexbot", "db", "upgrade"], cwd=tmp_path,
                              env=process_env(**env), capture_output=True, text=True,
                              timeout=60)
    assert upgraded.returncode == 0, upgraded.stderr

    rng = random.Random(5)
    shas = [f"{i + 1:040x}" for i in range(COMMITS)]
    plan: list[tuple[int, str, bytes, str]] = []  # (replica, event, body, delivery id)
    for i, sha in enumerate(shas):
        every = commit_events(i, repo=f"octo-org/app-{i % CHANNELS}", sha=sha,
                              checks=("build",))
        small = [every[0], every[2], every[4]]  # push, build queued, build completed
        rng.shuffle(small)  # out of order within the commit
        for event, payload in small:
            delivery = (event, json.dumps(payload).encode(), f"r-{i}-{event}-{rng.random()}")
            plan.append((rng.randrange(2), *delivery))
            if rng.random() < 0.2:
                plan.append((rng.randrange(2), *delivery))  # GitHub's redelivery, anywhere

    replicas: list[Any] = []
    clients: list[httpx.Client] = []
    statuses: list[int] = []
    try:
        replicas += [start_serve(tmp_path, env) for _ in range(2)]
        clients += [httpx.Client(base_url=base, timeout=10) for _, base in replicas]

        def send(which: int) -> None:
            for replica, event, body, delivery_id in plan:
                if replica == which:
                    statuses.append(clients[which].post("/webhooks/github", content=body,
                                                        headers=github_headers(
                                                            event, body, secret=GITHUB_SECRET,
                                                            delivery_id=delivery_id)).status_code)

        senders = [threading.Thread(target=send, args=(k,)) for k in range(2)]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join(timeout=60)
        assert set(statuses) <= {200, 202} and len(statuses) == len(plan)

        db = Database(postgres_schema_url)

        def all_settled() -> list[Card] | None:
            with db.read() as session:
                cards = session.scalars(select(Card)).all()
            done = [c for c in cards if c.slack_ts and not c.dirty and c.claim_token is None]
            return done if len(done) == COMMITS else None

        cards = wait_for(all_settled, timeout=max(10.0, 85 - (time.monotonic() - started)),
                         what="every card to be posted and current")
    finally:
        for proc, _ in replicas:
            proc.terminate()
        for proc, _ in replicas:
            proc.wait(timeout=15)
        for client in clients:
            client.close()

    top_level = [m for k in range(CHANNELS) for m in fake_slack.messages(f"#deploys-{k}")]
    assert len(top_level) == COMMITS
    assert {(m.channel, m.ts) for m in top_level} == {(c.slack_channel, c.slack_ts) for c in cards}
    config = load_config(tmp_path / "devexbot.yaml")
    loader = CardLoader(FoldRules(tuple(config.environments), config.tickets.rules()))
    for card in cards:
        expected: Any = card_message(loader.load(card), config.policies())
        assert fake_slack.final_message(card.slack_channel, card.slack_ts).text == expected.text
    db.dispose()
    print(f"\ntwo replicas: {len(plan)} deliveries for {COMMITS} commits, {len(top_level)} "
          f"messages, {len(fake_slack.calls('chat.update'))} updates, "
          f"{time.monotonic() - started:.1f} s in all")
