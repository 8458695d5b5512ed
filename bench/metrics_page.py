"""Delivery metrics with 1M rows stored: the cost of `GET /api/metrics`, the `/delivery`
page and the Prometheus gauges' read.

The delivery tables are filled in bulk with SQL (no ingest): 100 repositories x 3
environments x 1,000 deploys over the last year (300k `deploy_records`, one in ten failed),
two shipped commits per successful deploy (540k `shipped_commits`) and 160k reverts in
`change_signals`: 1M rows. Then, in-process (TestClient, from the bot's machine), each
request is timed `--rounds` times: one repository's production over 30 days and over 12
weeks, the page of one repository, every repository's production over 30 days, and the
gauges' read (uncached).

Usage: python bench/metrics_page.py [--database sqlite|postgres] [--rounds 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ingest_floor import database_for
from devexbot.app import create_app
from devexbot.settings import load_settings
from devexbot.store.migrate import upgrade
from devexbot.wiring import build_services

REPOS, ENVS, DEPLOYS_EACH = 100, 3, 1000
SIGNALS = 160_000
YEAR = timedelta(days=365)
LOCAL = ("127.0.0.1", 50123)  # a client on the bot's machine reads without signing in


def _sql(dialect: str) -> dict[str, str]:
    """The few expressions SQLite and PostgreSQL spell differently."""
    if dialect == "sqlite":
        return {"hex": "printf('%040x', {n})",
                "at": "strftime('%Y-%m-%d %H:%M:%f', :start, '+' || ({s}) || ' seconds')",
                "minus": "strftime('%Y-%m-%d %H:%M:%f', {at}, '-' || ({s}) || ' seconds')",
                "div": "({a} / {b})"}
    return {"hex": "lpad(to_hex({n}), 40, '0')",
            "at": "CAST(:start AS timestamptz) + ({s}) * interval '1 second'",
            "minus": "{at} - ({s}) * interval '1 second'",
            "div": "({a} / {b})"}


def fill(engine: object, start: datetime) -> int:
    """1M rows in the delivery tables, in bulk; how many."""
    dialect = engine.dialect.name  # type: ignore[attr-defined]
    q = _sql(dialect)
    count = REPOS * ENVS * DEPLOYS_EACH
    step = YEAR.total_seconds() / DEPLOYS_EACH
    series = ("WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n "
              "WHERE i < {last}) ")
    deploy_at = q["at"].format(s=f"{q['div'].format(a='i', b=REPOS * ENVS)} * {step:.0f}")
    deploys = series.format(last=count - 1) + (
        "INSERT INTO deploy_records (repo, env_key, environment, sha, succeeded, at, base, "
        "rollback, carried, recorded_at) SELECT "
        f"'bench/repo-' || CAST({q['div'].format(a='i', b=ENVS)} % {REPOS} AS TEXT), "
        "CASE i % 3 WHEN 0 THEN 'production' WHEN 1 THEN 'staging' ELSE 'test' END, "
        "CASE i % 3 WHEN 0 THEN 'production' WHEN 1 THEN 'staging' ELSE 'test' END, "
        f"{q['hex'].format(n='i')}, (i % 10) <> 7, {deploy_at}, NULL, (i % 97) = 5, 'done', "
        f"{q['at'].format(s='0')} FROM n")
    shipped = (
        "INSERT INTO shipped_commits (repo, env_key, sha, title, first_seen, deployed_at, "
        "deploy_id) SELECT d.repo, d.env_key, k.p || substr(d.sha, 2), 'Change ' || d.sha, "
        f"{q['minus'].format(at='d.at', s='k.h * 3600')}, d.at, d.id FROM deploy_records d "
        "CROSS JOIN (SELECT 'a' AS p, 1 AS h UNION ALL SELECT 'b', 5) k WHERE d.succeeded")
    signal_at = q["at"].format(s=f"i * {YEAR.total_seconds() / SIGNALS:.0f}")
    signals = series.format(last=SIGNALS - 1) + (
        "INSERT INTO change_signals (repo, kind, ref, at, reverts_sha, reverts_title) SELECT "
        f"'bench/repo-' || CAST(i % {REPOS} AS TEXT), 'revert', {q['hex'].format(n='i')}, "
        f"{signal_at}, 'a' || substr({q['hex'].format(n='i * 7')}, 2), NULL FROM n")
    params = {"start": start.strftime("%Y-%m-%d %H:%M:%S") if dialect == "sqlite"
              else start.isoformat()}
    with engine.begin() as conn:  # type: ignore[attr-defined]
        for statement in (deploys, shipped, signals):
            conn.execute(text(statement), params)
        total = sum(int(conn.scalar(text(f"SELECT COUNT(*) FROM {table}")))
                    for table in ("deploy_records", "shipped_commits", "change_signals"))
        if dialect == "postgresql":
            conn.execute(text("ANALYZE deploy_records, shipped_commits, change_signals"))
        else:
            conn.execute(text("ANALYZE"))
    return total


def timed(label: str, rounds: int, call: Callable[[], object]) -> float:
    call()  # warm
    series = []
    for _ in range(rounds):
        begin = time.perf_counter()
        call()
        series.append(time.perf_counter() - begin)
    median = statistics.median(series)
    print(f"{label:<58s} median {median * 1e3:7.1f} ms, max {max(series) * 1e3:7.1f} ms",
          flush=True)
    return median


def main(database: str, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        url, drop = database_for(database, tmp)
        settings = load_settings(_env_file=None, database_url=url,
                                 devexbot_config=tmp / "none.yaml")
        services = build_services(settings)
        upgrade(services.db.engine)
        try:
            begin = time.perf_counter()
            rows = fill(services.db.engine, datetime.now(UTC) - YEAR)
            print(f"{database}: {rows} rows in the delivery tables, filled in "
                  f"{time.perf_counter() - begin:.0f} s", flush=True)
            repo = "bench/repo-42"
            app = create_app(settings, services=services)
            with TestClient(app, client=LOCAL, base_url="http://127.0.0.1:8000") as client:
                def get(path: str) -> Callable[[], object]:
                    def call() -> object:
                        response = client.get(path)
                        assert response.status_code == 200, response.text[:200]
                        return response
                    return call

                month = get(f"/api/metrics?repo={repo}")
                answer = month().json()["metrics"][0]
                print(f"one repository, 30 days: {answer['deployment_frequency']['deployments']}"
                      f" deploys, {len(answer['lead_time']['commits'])} commits, "
                      f"{len(answer['change_failure_rate']['failures'])} failures", flush=True)
                timed("GET /api/metrics?repo=… (production, 30 days)", rounds, month)
                since = (datetime.now(UTC) - timedelta(weeks=12)).date().isoformat()
                timed("GET /api/metrics?repo=…&since=… (12 weeks)", rounds,
                      get(f"/api/metrics?repo={repo}&since={since}"))
                timed("GET /delivery?repo=… (the page, 30 days)", rounds,
                      get(f"/delivery?repo={repo}"))
                timed(f"GET /api/metrics (all {REPOS} repositories, 30 days)", max(rounds // 4, 3),
                      get("/api/metrics"))
                delivery = services.delivery_metrics
                timed("gauges' read, uncached (what a scrape costs every 5 min)",
                      max(rounds // 4, 3),
                      lambda: delivery.reports(repo=None, environment=None,
                                               since=delivery.period()[0],
                                               until=delivery.period()[1]))
                timed("GET /metrics (a scrape, gauges cached)", rounds, get("/metrics"))
        finally:
            services.db.dispose()
            if drop is not None:
                drop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--rounds", type=int, default=20)
    ns = parser.parse_args()
    main(ns.database, ns.rounds)
