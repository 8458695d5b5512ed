"""Leader election on PostgreSQL with real processes: two replicas of the scheduler on one
database, a job due every second; exactly one replica runs it, and when that one is killed
the other takes over."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from devexbot.settings import normalise_database_url
from devexbot.store import Database
from tests.db_template import migrate
from tests.e2e.serve_process import REPO_ROOT, process_env
from tests.slack_app import wait_for

OBSERVE = 5  # runs of the job, once a second, under one leader
AFTER = 3  # runs of the job by the new leader, with the old one dead or woken
TAKEOVER = 10.0  # the bound on a handover after the leader is killed (the design says 60)


@pytest.fixture
def db(postgres_schema_url: str) -> Iterator[Database]:
    database = Database(normalise_database_url(postgres_schema_url))
    migrate(database.engine)
    with database.engine.begin() as conn:
        conn.execute(text("CREATE TABLE ticks (pid integer NOT NULL, "
                          "at double precision NOT NULL)"))
    yield database
    database.dispose()


def ticks(db: Database, since: float = 0.0) -> list[tuple[int, float]]:
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT pid, at FROM ticks WHERE at >= :since ORDER BY at"),
                            {"since": since})
        return [(int(pid), float(at)) for pid, at in rows]


@pytest.fixture
def spawn(postgres_schema_url: str, tmp_path: Path) -> Iterator[Any]:
    """Starts replicas (`spawn(heartbeat_timeout)`, returns {pid: process}); ends them after."""
    env = process_env()
    replicas: dict[int, subprocess.Popen[bytes]] = {}

    def start(heartbeat_timeout: float = 30.0) -> dict[int, subprocess.Popen[bytes]]:
        for _ in range(2):
            log = (tmp_path / f"replica-{len(replicas)}.log").open("w")
            proc = subprocess.Popen(
                [sys.executable, "-m", "tests.e2e.scheduler_replica", postgres_schema_url,
                 str(heartbeat_timeout)],
                cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
            replicas[proc.pid] = proc
        return replicas

    yield start
    for proc in replicas.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def runs_by(db: Database, pid: int, since: float, count: int) -> list[tuple[int, float]]:
    """Wait until `pid` ran the job `count` times since `since`; every run since then."""
    wait_for(lambda: len([t for t in ticks(db, since=since) if t[0] == pid]) >= count,
             timeout=TAKEOVER + count * 2, what=f"{count} runs by {pid}")
    return ticks(db, since=since)


@pytest.mark.postgres
def test_two_replicas_one_runs_the_job_and_the_other_takes_over_when_it_dies(
    db: Database, spawn: Any, tmp_path: Path
) -> None:
    replicas = spawn()
    first = wait_for(lambda: ticks(db), timeout=20, what="the first tick")
    leader = first[0][0]
    start = first[0][1]
    seen = runs_by(db, leader, start, OBSERVE)
    assert {pid for pid, _ in seen} == {leader}, _logs(tmp_path)
    gaps = [later - earlier for (_, earlier), (_, later) in pairwise(seen)]
    assert min(gaps) > 0.5, seen  # one run per second, never two

    replicas[leader].send_signal(signal.SIGKILL)
    replicas[leader].wait(timeout=5)
    killed = time.time()
    (follower,) = set(replicas) - {leader}
    taken = wait_for(lambda: [t for t in ticks(db, since=killed) if t[0] == follower],
                     timeout=TAKEOVER, what="the other replica to take over")
    assert taken[0][1] - killed < TAKEOVER
    after = runs_by(db, follower, killed, AFTER)
    assert {pid for pid, _ in after} == {follower}
    print(f"\nleader {leader} ran {len(seen)} ticks; "
          f"{follower} took over {taken[0][1] - killed:.1f}s after the kill")


@pytest.mark.postgres
def test_a_hung_leader_is_replaced_and_runs_nothing_when_it_wakes(
    db: Database, spawn: Any, tmp_path: Path
) -> None:
    # A leader that hangs keeps its TCP connection (the kernel still answers); PostgreSQL
    # ends its silent session after the heartbeat timeout (30 s in production, 2 s here).
    replicas = spawn(heartbeat_timeout=2.0)
    leader = wait_for(lambda: ticks(db), timeout=20, what="the first tick")[0][0]
    # Right after a run, so between two runs: a run already past its leadership check
    # would finish (as a real one would); the point is that no run starts once the session
    # is gone.
    runs_by(db, leader, 0.0, 2)
    replicas[leader].send_signal(signal.SIGSTOP)
    hung = time.time()
    (follower,) = set(replicas) - {leader}
    taken = wait_for(lambda: [t for t in ticks(db, since=hung) if t[0] == follower],
                     timeout=TAKEOVER, what="the other replica to take over")
    assert taken[0][1] - hung < TAKEOVER
    replicas[leader].send_signal(signal.SIGCONT)  # it wakes with jobs overdue
    woke = time.time()
    runs_by(db, follower, woke, AFTER)  # the old leader had as long to run something
    assert {pid for pid, _ in ticks(db, since=hung)} == {follower}, _logs(tmp_path)
    print(f"\nleader {leader} hung; {follower} took over {taken[0][1] - hung:.1f}s later")


def _logs(tmp_path: Path) -> str:
    return "\n".join(p.read_text() for p in sorted(tmp_path.glob("replica-*.log")))
