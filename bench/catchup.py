"""Catch-up: N deliveries GitHub could not make while the bot was down, recovered from the
hook's delivery log once it is back.

FakeGitHub keeps a repository hook pointing at a loopback port where nothing listens yet:
N deliveries (30 per commit, the mix of `tests/commit_mix.py`) are refused and logged as
failed. The bot is then served by uvicorn on that port; its catch-up job runs once (asks
spaced 0 s apart here: production spaces them `ask_spacing_seconds`, 1 s, so add N s), and
FakeGitHub carries out the redeliveries over HTTP, one after another. A twin bot given the
same N deliveries directly is the reference.

Prints deliveries recovered (stored by the bot / N), GitHub calls made (pages listed,
redeliveries asked), the time to list and ask, the time to receive the redeliveries, the
total time to converge, and how many cards equal the twin's. Usage:
python bench/catchup.py [--database sqlite|postgres] [--deliveries 1000]
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bench.ingest_floor import database_for
from devexbot.app import create_app
from devexbot.http.serving import ServerThread
from devexbot.scheduler.leader import SoleLeader
from devexbot.settings import load_settings
from devexbot.store import Card, Delivery
from devexbot.store.migrate import upgrade
from devexbot.wiring import Services, build_services
from tests.commit_mix import commit_events
from tests.fakes.github_api import FakeGitHub
from tests.github_sender import github_headers

SECRET = "bench-secret"
REPO = "octo-org/octo-app"
HOOK_ID = 447512369


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def bot(tmp: Path, name: str, database_url: str, github: FakeGitHub | None) -> Services:
    config = tmp / f"{name}.yaml"
    config.write_text(f"github:\n  hooks: [{{repo: {REPO}, id: {HOOK_ID}}}]\n"
                      "  catch_up: {ask_spacing_seconds: 0}\n" if github else "")
    extra: dict[str, Any] = {}
    if github is not None:
        extra = {"github_token": github.token, "github_api_url": github.base_url}
    settings = load_settings(_env_file=None, database_url=database_url,
                             github_webhook_secret=SECRET, devexbot_config=config, **extra)
    services = build_services(settings, leadership=SoleLeader())  # one process: it leads
    upgrade(services.db.engine)
    return services


def cards(services: Services) -> dict[str, Any]:
    with services.db.read() as session:
        return {sha: (doc, state) for sha, doc, state in
                session.execute(select(Card.sha, Card.doc, Card.state))}


def main(database: str, count: int) -> None:
    commits = -(-count // 30)
    mix = [d for i in range(commits)
           for d in commit_events(i, repo=REPO, sha=f"{i + 1:040x}")][:count]
    with tempfile.TemporaryDirectory() as tmp_name, FakeGitHub() as github:
        tmp = Path(tmp_name)
        github.add_repo(REPO)
        port = free_port()
        hook = github.add_hook(f"http://127.0.0.1:{port}/webhooks/github", secret=SECRET,
                               repo=REPO, hook_id=HOOK_ID)
        sent = [github.send(hook, event, payload) for event, payload in mix]
        refused = sum(1 for e in sent if e.status_code == 502)

        twin = bot(tmp, "twin", f"sqlite:///{tmp}/twin.db", None)
        with TestClient(create_app(twin.settings, services=twin, background=False)) as client:
            for (event, payload), entry in zip(mix, sent, strict=True):
                body = json.dumps(payload).encode()
                client.post("/webhooks/github", content=body, headers=github_headers(
                    event, body, secret=SECRET, delivery_id=entry.guid))

        url, drop = database_for(database, tmp)
        services = bot(tmp, "bot", url, github)
        try:
            with ServerThread(create_app(services.settings, services=services,
                                         background=False), port=port):
                began = time.perf_counter()
                services.scheduler.run("catch-up")
                asked_at = time.perf_counter()
                redelivered = github.send_queued()
                done = time.perf_counter()
            with services.db.read() as session:
                stored = session.scalar(select(func.count()).select_from(Delivery)) or 0
            same = cards(services) == cards(twin)
            pages = len(github.calls("GET", "/repos/*/hooks/*/deliveries"))
            asks = len(github.calls("POST", "/repos/*/hooks/*/deliveries/*/attempts"))
            ok = sum(1 for e in redelivered if 200 <= e.status_code < 300)
            print(f"catch-up, {database}: {count} deliveries over {commits} commits, "
                  f"{refused} refused while the bot was down")
            print(f"  recovered: {stored}/{count} stored = {stored / count:.2f}; "
                  f"{ok} redeliveries answered 2xx")
            print(f"  GitHub calls: {pages} pages listed, {asks} redeliveries asked")
            print(f"  list + ask: {asked_at - began:.2f} s "
                  f"({asks / max(asked_at - began, 1e-9):.0f} asks/s); redeliveries received: "
                  f"{done - asked_at:.2f} s "
                  f"({len(redelivered) / max(done - asked_at, 1e-9):.0f}/s)")
            print(f"  converged in {done - began:.2f} s (+{asks} s of 1 s spacing in "
                  f"production); cards equal to the twin's: {same} "
                  f"({len(cards(services))} cards)")
        finally:
            services.db.dispose()
            twin.db.dispose()
            if drop is not None:
                drop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--deliveries", type=int, default=1000)
    args = parser.parse_args()
    main(args.database, args.deliveries)
