"""Ack under slowness: Slack interaction ack latency while GitHub takes 5 s per call.

The real app is served by uvicorn in a thread, talking to FakeSlack and FakeGitHub (local
HTTP servers). Once the card shows its Merge button, FakeGitHub's delay is set to 5 s and
N signed block_actions clicks on Merge are sent over HTTP to /slack/events (10 per second,
each its own response_url, as distinct people clicking); the time to each HTTP answer is
the ack latency Slack sees (its limit is 3 s; target p99 <= 100 ms).

Usage: python bench/ack_latency.py [--clicks 100] [--database postgres]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ingest_floor import database_for
from devexbot.app import create_app
from devexbot.http.serving import ServerThread, settle_memory
from devexbot.store.cards import get_card
from tests.conftest import GITHUB_SECRET
from tests.fakes.github_api import FakeGitHub
from tests.fakes.slack_api import FakeSlack
from tests.github_sender import GitHubSender, load_fixture
from tests.scenario import HEAD, REPO
from tests.slack_app import SIGNING_SECRET, slack_services, wait_for
from tests.slack_signing import SlackSender, block_actions_payload

DELAY = 5.0


def main(database: str, clicks: int) -> None:
    with tempfile.TemporaryDirectory() as tmp_name, FakeSlack(clock=time.time) as slack, \
            FakeGitHub() as github:
        tmp = Path(tmp_name)
        url, drop = database_for(database, tmp)
        github.add_repo(REPO)
        services = slack_services(url, tmp, slack.base_url, config="people:\n  ana: U0ANA\n",
                                  github_token=github.token, github_api_url=github.base_url)
        try:
            app = create_app(services=services)
            settle_memory()  # as `devexbot serve` does before serving
            with ServerThread(app) as server, \
                    httpx.Client(base_url=server.url, timeout=30) as client:
                github.add_pull(REPO, head="feature/login", head_sha=HEAD, number=12,
                                title="Add login page")
                github.add_check_run(REPO, HEAD, "build", conclusion="success")
                sender = GitHubSender(client, GITHUB_SECRET)
                sender.deliver("pull_request", load_fixture("pull_request.opened"))
                sender.deliver("check_run", load_fixture("check_run.completed"))

                def merge_button() -> object:
                    with services.db.read() as session:
                        card = get_card(session, REPO, HEAD)
                        if not (card and card.slack_ts and not card.dirty):
                            return None
                        message = slack.final_message(card.slack_channel, card.slack_ts)
                    return message if "card.merge" in str(message.blocks) else None

                message = wait_for(merge_button, what="the card's Merge button")
                action_id = next(e["action_id"] for b in message.blocks  # type: ignore[attr-defined]
                                 if b["type"] == "actions" for e in b["elements"]
                                 if e["action_id"].startswith("card.merge"))
                github.delay = DELAY
                clicker = SlackSender(client, SIGNING_SECRET)
                latencies, statuses = [], []
                for _ in range(clicks):
                    user = "U0ANA"
                    response_url = slack.new_response_url(message.channel, user=user,  # type: ignore[attr-defined]
                                                          message_ts=message.ts)  # type: ignore[attr-defined]
                    payload = block_actions_payload(action_id, message=message, user_id=user,
                                                    response_url=response_url)
                    start = time.perf_counter()
                    response = clicker.interaction(payload)
                    latencies.append(time.perf_counter() - start)
                    statuses.append(response.status_code)
                    time.sleep(max(0.0, 0.1 - latencies[-1]))
                github_calls = len(github.calls())
                github.delay = 0
        finally:
            services.db.dispose()
            if drop is not None:
                drop()
    q = statistics.quantiles(latencies, n=100)
    slowest = sorted(range(len(latencies)), key=lambda i: -latencies[i])[:3]
    print("slowest clicks: " + ", ".join(f"#{i + 1} {latencies[i] * 1e3:.0f} ms" for i in slowest))
    print(f"{clicks} Merge clicks while FakeGitHub takes {DELAY:.0f} s per call "
          f"({github_calls} GitHub calls under way or done meanwhile; answers "
          f"{sorted(set(statuses))}):")
    print(f"  ack latency p50 {q[49] * 1e3:.1f} ms, p99 {q[98] * 1e3:.1f} ms, "
          f"max {max(latencies) * 1e3:.1f} ms (target p99 <= 100 ms; Slack's limit 3000 ms)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--clicks", type=int, default=100)
    ns = parser.parse_args()
    main(ns.database, ns.clicks)
