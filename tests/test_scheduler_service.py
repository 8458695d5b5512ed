"""The scheduler itself: jobs stored in the bot's database, run by the leader only, missed
runs coalesced, scheduled runbooks, the last results, and `devexbot jobs`."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.interval import IntervalTrigger
from fastapi.testclient import TestClient
from sqlalchemy import text

from devexbot.app import create_app
from devexbot.scheduler import ScheduledRunbook, runbook_jobs
from devexbot.scheduler.leader import AdvisoryLockLeader, Leadership, lock_holder
from devexbot.scheduler.service import JobSpec, Scheduler, last_results
from devexbot.store import Database
from devexbot.wiring import Services, build_services
from tests.conftest import make_settings
from tests.db_template import migrate
from tests.slack_app import wait_for

REPO_ROOT = Path(__file__).resolve().parents[1]


def quick_leadership(db: Database) -> Leadership | None:
    """On PostgreSQL, an election that polls fast (the default polls every 5 s)."""
    return None if db.is_sqlite else AdvisoryLockLeader(db.url, poll=0.2)


@pytest.fixture
def services(database_url: str, tmp_path: Path) -> Iterator[Services]:
    (tmp_path / "devexbot.yaml").write_text("schedule: {timezone: Europe/Berlin}\n")
    built = build_services(make_settings(database_url, tmp_path))
    migrate(built.db.engine)
    yield built
    built.db.dispose()


def leading(scheduler: Scheduler, job_id: str) -> Any:
    """Wait until the scheduler leads and has stored `job_id`; the stored job."""
    def stored() -> Any:
        aps = scheduler.aps
        return aps is not None and aps.state == 1 and aps.get_job(job_id)  # 1: running
    return wait_for(stored, timeout=10, what=f"the scheduler to lead with {job_id}")


def runs_finished(scheduler: Scheduler) -> threading.Event:
    """Set once the scheduler's thread pool finished a job's submission, however many
    (missed) run times it carried: whatever the pool was handed has run by then."""
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED

    finished = threading.Event()
    assert scheduler.aps is not None
    scheduler.aps.add_listener(lambda event: finished.set(),
                               EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    return finished


def cli(*args: str, database_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEVEXBOT_CONFIG")}
    env.update(DATABASE_URL=database_url, PYTHONPATH=str(REPO_ROOT))
    return subprocess.run([sys.executable, "-m", "devexbot", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


def test_a_scheduled_runbook_runs_as_the_bot_and_devexbot_jobs_lists_it(
    services: Services, database_url: str, tmp_path: Path
) -> None:
    calls: list[tuple[str, Mapping[str, str], str | None, str]] = []

    def launcher(command: str, *, params: Mapping[str, str], channel: str | None,
                 by: str) -> str:
        calls.append((command, params, channel, by))
        return "run 42 started"

    scheduled = runbook_jobs([ScheduledRunbook(
        "cleanup-test-data", "0 6 * * 1-5", params={"env": "staging"}, channel="C0OPS")],
        launcher, timezone=services.config.schedule.timezone)
    scheduler = Scheduler(services.db, [*services.scheduler.specs.values(), *scheduled],
                          leadership=quick_leadership(services.db), clock=services.clock.now)
    assert scheduler.start()
    try:
        job = leading(scheduler, "runbook:cleanup-test-data")
        berlin = job.next_run_time.astimezone(ZoneInfo("Europe/Berlin"))
        assert (berlin.hour, berlin.minute) == (6, 0) and berlin.weekday() < 5
        assert timedelta(0) < job.next_run_time - datetime.now(UTC) <= timedelta(days=3, hours=1)
        assert calls == []

        assert scheduler.aps is not None
        scheduler.aps.modify_job(job.id, next_run_time=datetime.now(UTC))  # six o'clock now
        wait_for(lambda: "runbook:cleanup-test-data" in last_results(services.db),
                 what="the runbook's run")
        assert calls == [("cleanup-test-data", {"env": "staging"}, "C0OPS", "scheduler")]
        result = last_results(services.db)["runbook:cleanup-test-data"]
        assert (result.result, result.detail) == ("ok", "run 42 started")
        assert scheduler.aps.get_job(job.id).next_run_time > datetime.now(UTC)
    finally:
        scheduler.stop()

    listed = cli("jobs", database_url=database_url, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.strip().splitlines()
    by_id = {line.split()[0]: line for line in lines if not line.startswith("leader:")}
    assert sorted(by_id) == ["nudges", "retention", "runbook:cleanup-test-data",
                             "stuck-builds"]
    runbook = by_id["runbook:cleanup-test-data"]
    assert "cron[month='*', day='*', day_of_week='1-5', hour='6', minute='0']" in runbook
    assert "ok: run 42 started (on " in runbook and "next 20" in runbook
    assert "interval[0:05:00]" in by_id["nudges"] and "never ran" in by_id["nudges"]
    if not services.db.is_sqlite:
        assert lines[-1] == "leader: none (no replica runs jobs)"


def test_missed_runs_coalesce_into_one_and_stored_jobs_keep_their_next_run(
    services: Services
) -> None:
    runs: list[datetime] = []
    tick = JobSpec("tick", IntervalTrigger(hours=1, timezone=UTC), run=lambda now: (
        runs.append(now), "ticked")[1], description="hourly tick")
    scheduler = Scheduler(services.db, [tick], leadership=quick_leadership(services.db))
    assert scheduler.start()
    try:
        first = leading(scheduler, "tick").next_run_time
    finally:
        scheduler.stop()
    # A restart keeps the stored next run: a job is not rescheduled by each new leader.
    scheduler = Scheduler(services.db, [tick], leadership=quick_leadership(services.db))
    assert scheduler.start()
    try:
        assert leading(scheduler, "tick").next_run_time == first
        # As if the bot had been down for three days: 72 runs missed, one run made. (Half an
        # hour off the interval: a whole number of hours back would make the next run fall
        # on the instant of this call, due at once against the scheduler's own clock.)
        assert scheduler.aps is not None
        finished = runs_finished(scheduler)
        scheduler.aps.modify_job(
            "tick", next_run_time=datetime.now(UTC) - timedelta(days=3, minutes=30))
        assert finished.wait(10), "the missed run"
        assert len(runs) == 1
        assert scheduler.aps.get_job("tick").next_run_time > datetime.now(UTC)
    finally:
        scheduler.stop()


def test_each_scheduler_runs_only_its_own_jobs(services: Services, tmp_path: Path) -> None:
    """Two schedulers in one process (a stopped one's late run, or an embedded second bot)
    each run their own job of the same name, on their own database, and nobody else's."""
    other_db = tmp_path / "other"
    other_db.mkdir()
    other = build_services(make_settings(f"sqlite:///{other_db / 'devexbot.db'}", other_db))
    migrate(other.db.engine)
    runs: dict[str, list[datetime]] = {"ours": [], "theirs": []}

    def tick(whose: str) -> JobSpec:
        return JobSpec("tick", IntervalTrigger(hours=1, timezone=UTC), run=lambda now: (
            runs[whose].append(now), whose)[1], description="hourly tick")

    ours = Scheduler(services.db, [tick("ours")], leadership=quick_leadership(services.db))
    theirs = Scheduler(other.db, [tick("theirs")])
    assert ours.start() and theirs.start()
    try:
        finished = []
        for scheduler in (ours, theirs):
            leading(scheduler, "tick")
            assert scheduler.aps is not None
            finished.append(runs_finished(scheduler))
            scheduler.aps.modify_job("tick", next_run_time=datetime.now(UTC)
                                     - timedelta(minutes=30))
        assert all(done.wait(10) for done in finished), "both runs"
        assert len(runs["ours"]) == len(runs["theirs"]) == 1
        assert last_results(services.db)["tick"].detail == "ours"
        assert last_results(other.db)["tick"].detail == "theirs"
    finally:
        ours.stop()
        theirs.stop()
        other.db.dispose()


class Follower:
    """A replica that never wins the election."""

    def start(self, on_change: Any) -> None:
        on_change(False)

    def stop(self) -> None:
        pass

    def confirm(self) -> bool:
        return False


def test_a_replica_that_does_not_lead_runs_and_records_nothing(services: Services) -> None:
    runs: list[datetime] = []
    spec = JobSpec("tick", IntervalTrigger(hours=1, timezone=UTC),
                   run=lambda now: (runs.append(now), "ticked")[1], description="tick")
    follower = Scheduler(services.db, [spec], leadership=Follower())
    follower.run("tick")
    assert runs == [] and last_results(services.db) == {}

    clock = datetime(2026, 11, 20, 10, tzinfo=UTC)
    failing = JobSpec("boom", spec.trigger, run=lambda now: 1 / 0, description="fails")
    leader = Scheduler(services.db, [spec, failing], leadership=quick_leadership(services.db),
                       clock=lambda: clock)
    if not services.db.is_sqlite:
        assert leader.start()
        leading(leader, "tick")
    try:
        leader.run("tick")
        leader.run("boom")
        leader.run("no-such-job")
    finally:
        leader.stop()
    results = last_results(services.db)
    assert runs == [clock]
    assert (results["tick"].result, results["tick"].detail) == ("ok", "ticked")
    assert (results["boom"].result, results["boom"].detail) == (
        "failed", "ZeroDivisionError: division by zero")
    assert results["tick"].started_at == clock


def test_serve_starts_the_scheduler_and_stops_it(services: Services) -> None:
    with TestClient(create_app(services=services)):
        scheduler = services.scheduler
        assert scheduler is not None
        if services.db.is_sqlite:  # leads at once; PostgreSQL elects within its poll
            leading(scheduler, "nudges")
    assert scheduler.aps is None


def test_devexbot_jobs_on_a_database_without_the_schema_is_one_line(tmp_path: Path) -> None:
    listed = cli("jobs", database_url=f"sqlite:///{tmp_path / 'empty.db'}", cwd=tmp_path)
    assert listed.returncode == 2
    assert listed.stderr.strip() == (
        "devexbot: error: the database has no scheduler tables: run `devexbot db upgrade`")


@pytest.mark.postgres
def test_one_advisory_lock_one_leader_and_the_next_takes_over(
    postgres_schema_url: str
) -> None:
    from devexbot.settings import normalise_database_url

    url = normalise_database_url(postgres_schema_url)
    changes: dict[str, list[bool]] = {"a": [], "b": []}
    first = AdvisoryLockLeader(url, poll=0.1, name="replica-a")
    second = AdvisoryLockLeader(url, poll=0.1, name="replica-b")
    first.start(changes["a"].append)
    wait_for(lambda: changes["a"] == [True], what="the first replica to lead")
    db = Database(url)
    second.start(changes["b"].append)

    def asked_for_the_lock() -> bool:
        """The second replica's session has tried to take the lock (and, held, failed)."""
        with db.engine.connect() as conn:
            return bool(conn.execute(text(
                "SELECT 1 FROM pg_stat_activity WHERE application_name = "
                "'devexbot scheduler replica-b' AND query LIKE '%pg_try_advisory_lock%'"
            )).first())

    wait_for(asked_for_the_lock, what="the second replica to ask for the lock")
    assert (first.confirm(), second.confirm(), changes["b"]) == (True, False, [])
    try:
        with db.engine.connect() as conn:
            assert lock_holder(conn) == "devexbot scheduler replica-a"
        first.stop()
        assert changes["a"] == [True, False]
        wait_for(lambda: changes["b"] == [True], timeout=5, what="the second to take over")
        assert second.confirm()
        with db.engine.connect() as conn:
            assert lock_holder(conn) == "devexbot scheduler replica-b"
    finally:
        second.stop()
        db.dispose()
