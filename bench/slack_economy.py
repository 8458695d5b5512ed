"""Slack economy and freshness: 100 commits x 30 deliveries through the real app and outbox.

The app (production OutboxPolicy) is served by uvicorn in a thread against FakeSlack, which
answers 429 (Retry-After: 1) to 10% of calls. Deliveries are out of order within a commit,
commits overlap, 5% are sent twice. Slack paces chat.postMessage at ~1/s per channel, so
100 first posts in one channel would take ~100 s by themselves: the bench config routes
the commits over 10 repos to 10 channels (as an organisation's routes would).

Prints Slack calls per commit (target <= 6, versus 30 for one message per event) and
freshness: seconds from a commit's last delivery to its final Slack message (target p95
<= 2 s). Usage: python bench/slack_economy.py [--database postgres] [--commits 100]
[--spacing 0.3] (seconds between commits' first deliveries).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select

from bench.ingest_floor import database_for
from devexbot.app import create_app
from devexbot.http.serving import ServerThread
from devexbot.publish.outbox import OutboxPolicy, card_message
from devexbot.settings import load_settings
from devexbot.store import Card
from devexbot.store.migrate import upgrade
from devexbot.wiring import build_services
from tests.commit_mix import commit_events, schedule
from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlack
from tests.github_sender import github_headers

SECRET = "bench-secret"
CHANNELS = 10


def main(database: str, commits: int, fail: float, spacing: float) -> None:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp_name, FakeSlack(clock=time.time) as slack:
        tmp = Path(tmp_name)
        url, drop = database_for(database, tmp)
        for k in range(CHANNELS):
            slack.add_channel(f"deploys-{k}")  # the routes name channels that exist
        config = tmp / "devexbot.yaml"
        config.write_text("routes:\n" + "".join(
            f"  - repos: [octo-org/app-{k}]\n    channel: '#deploys-{k}'\n"
            for k in range(CHANNELS)))
        settings = load_settings(_env_file=None, database_url=url, github_webhook_secret=SECRET,
                                 slack_bot_token=DEFAULT_TOKEN, slack_api_url=slack.base_url,
                                 slack_signing_secret="bench", devexbot_config=config)
        services = build_services(settings, outbox_policy=OutboxPolicy())
        upgrade(services.db.engine)
        shas = [f"{i + 1:040x}" for i in range(commits)]
        mix = [commit_events(i, repo=f"octo-org/app-{i % CHANNELS}", sha=shas[i])
               for i in range(commits)]
        plan = schedule(mix, spacing=spacing, spread=6.0, duplicate=0.05, rng=rng)
        slack.fail_rate(fail, status=429, retry_after=1, seed=3)
        last_at: dict[int, float] = {}
        statuses: Counter[int] = Counter()
        try:
            with ServerThread(create_app(settings, services=services)) as server, \
                    httpx.Client(base_url=server.url, timeout=30) as client:
                start = time.time()
                for at, c, (event, body, delivery_id) in plan:
                    time.sleep(max(0.0, start + at - time.time()))
                    response = client.post("/webhooks/github", content=body, headers=github_headers(
                        event, body, secret=SECRET, delivery_id=delivery_id))
                    statuses[response.status_code] += 1
                    last_at[c] = time.time()
                sent = time.time()
                print(f"sent {len(plan)} deliveries ({len(plan) - sum(map(len, mix))} "
                      f"duplicates) for {commits} commits in {sent - start:.1f} s: "
                      f"{dict(statuses)}", flush=True)
                deadline = time.time() + 180
                while time.time() < deadline and not _all_settled(services):
                    time.sleep(0.2)
                print(f"all cards settled {time.time() - sent:.1f} s after the last delivery")
            _report(services, slack, shas, last_at, len(plan))
        finally:
            services.db.dispose()
            if drop is not None:
                drop()


def _all_settled(services: object) -> bool:
    with services.db.read() as session:  # type: ignore[attr-defined]
        cards = session.scalars(select(Card)).all()
        return bool(cards) and all(c.slack_ts and not c.dirty and c.claim_token is None
                                   for c in cards)


def _report(services: object, slack: FakeSlack, shas: list[str], last_at: dict[int, float],
            deliveries: int) -> None:
    calls = slack.calls()
    by_method = Counter(c.method for c in calls)
    failed = sum(1 for c in calls if c.fault)
    fresh, wrong = [], 0
    with services.db.read() as session:  # type: ignore[attr-defined]
        for i, sha in enumerate(shas):
            card = session.scalar(select(Card).where(Card.sha == sha))
            final = slack.final_message(card.slack_channel, card.slack_ts)
            folded = services.card_loader.load(card)  # type: ignore[attr-defined]
            if final.text != card_message(folded, services.config.policies()).text:  # type: ignore[attr-defined]
                wrong += 1
            final_at = final.history[-1].at if final.history else 0.0
            fresh.append(max(0.0, final_at - last_at[i]))
    n = len(shas)
    posts = len([c for c in calls if c.method == "chat.postMessage" and c.ok
                 and not c.params.get("thread_ts")])
    q = statistics.quantiles(fresh, n=100)
    print(f"Slack calls: {len(calls)} ({failed} answered 429) = {len(calls) / n:.2f} per commit "
          f"(target <= 6; one message per event would be {deliveries / n:.0f}); "
          f"without the 429'd ones {(len(calls) - failed) / n:.2f}")
    print(f"  by method: {dict(by_method)}; top-level posts {posts} for {n} commits")
    print(f"freshness (last delivery -> final message): p50 {q[49]:.2f} s, p95 {q[94]:.2f} s, "
          f"max {max(fresh):.2f} s (target p95 <= 2 s)")
    print(f"final messages equal to the card's render: {n - wrong}/{n}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--commits", type=int, default=100)
    parser.add_argument("--fail", type=float, default=0.10)
    parser.add_argument("--spacing", type=float, default=0.3,
                        help="seconds between commits (0.3: 200 commits a minute)")
    ns = parser.parse_args()
    main(ns.database, ns.commits, ns.fail, ns.spacing)
