"""Growth: per-delivery ingest cost with 10k cards stored vs with 1M events stored, and RSS.

10k cards are made through the real ingest path (one signed check_run each); the per-delivery
cost of 2000 new deliveries is measured (in-process, TestClient, as ingest_quick.py). Then the
events and deliveries tables are grown to >= 1M rows by copying rows in SQL (what months of
history leave behind), and the same measurement is repeated. Target: ratio <= 1.3.

Usage: python bench/growth.py [--database postgres] [--cards 10000] [--events 1000000]
"""

from __future__ import annotations

import argparse
import copy
import json
import resource
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ingest_floor import database_for
from devexbot.app import create_app
from devexbot.settings import load_settings
from devexbot.store import Delivery, EventRecord
from devexbot.store.migrate import upgrade
from devexbot.wiring import build_services
from tests.github_sender import github_headers, load_fixture

SECRET = "bench-secret"
TEMPLATE = load_fixture("check_run.completed")


def deliver(client: TestClient, sha: str, name: str) -> float:
    payload = copy.deepcopy(TEMPLATE)
    payload["check_run"]["head_sha"] = sha
    payload["check_run"]["name"] = name
    body = json.dumps(payload).encode()
    headers = github_headers("check_run", body, secret=SECRET, delivery_id=str(uuid.uuid4()))
    start = time.perf_counter()
    response = client.post("/webhooks/github", content=body, headers=headers)
    elapsed = time.perf_counter() - start
    assert response.status_code == 202, response.text
    return elapsed


def measure(client: TestClient, tag: str, n: int = 2000) -> list[float]:
    return [deliver(client, f"{tag}{i % 200:036x}", f"check-{i % 7}") for i in range(n)]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def grow(engine: object, target: int) -> int:
    cols = "delivery_pk, card_id, repo, sha, source, kind, name, status, at, data, stored_at"
    with engine.begin() as conn:  # type: ignore[attr-defined]
        count = conn.scalar(select(func.count()).select_from(EventRecord))
        while count < target:
            conn.execute(text(f"INSERT INTO events ({cols}) SELECT {cols} FROM events "
                              f"LIMIT {target - count}"))
            conn.execute(text(
                "INSERT INTO deliveries (source, delivery_id, event_type, received_at, outcome) "
                "SELECT source, delivery_id || '-' || CAST(id + :n AS TEXT), event_type, "
                "received_at, outcome FROM deliveries LIMIT :limit"),
                {"n": count, "limit": target - count})
            count = conn.scalar(select(func.count()).select_from(EventRecord))
        deliveries = conn.scalar(select(func.count()).select_from(Delivery))
    return int(deliveries)


def main(database: str, cards: int, events: int) -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        url, drop = database_for(database, tmp)
        settings = load_settings(_env_file=None, database_url=url, github_webhook_secret=SECRET,
                                 devexbot_config=tmp / "none.yaml")
        services = build_services(settings)
        upgrade(services.db.engine)
        try:
            with TestClient(create_app(settings, services=services)) as client:
                start = time.perf_counter()
                for i in range(cards):
                    deliver(client, f"ffff{i:036x}", "build")
                print(f"seeded {cards} cards through ingest in {time.perf_counter() - start:.0f} s;"
                      f" RSS {rss_mb():.0f} MB", flush=True)
                small = measure(client, "aaaa")
                print(f"RSS after 2000 more deliveries: {rss_mb():.0f} MB", flush=True)
                start = time.perf_counter()
                deliveries = grow(services.db.engine, events)
                print(f"grew to {events} events, {deliveries} deliveries in "
                      f"{time.perf_counter() - start:.0f} s", flush=True)
                big = measure(client, "bbbb")
                print(f"RSS after 2000 more deliveries: {rss_mb():.0f} MB", flush=True)
        finally:
            services.db.dispose()
            if drop is not None:
                drop()
    for label, series in ((f"{cards} cards", small), (f"{events} events", big)):
        q = statistics.quantiles(series, n=100)
        print(f"{label:>16s}: per delivery mean {statistics.fmean(series) * 1e3:.2f} ms, "
              f"p50 {q[49] * 1e3:.2f} ms, p99 {q[98] * 1e3:.2f} ms")
    print(f"ratio (mean, {events} events / {cards} cards): "
          f"{statistics.fmean(big) / statistics.fmean(small):.2f} (target <= 1.3)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--cards", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    ns = parser.parse_args()
    main(ns.database, ns.cards, ns.events)
