"""One replica of the bot's scheduler, as a process of its own, for the leader-election test.

    python -m tests.e2e.scheduler_replica <database url> [<heartbeat timeout, seconds>]

Its only job runs every second and writes (this process's id, the time) into `ticks`. It
runs until it gets SIGTERM (or is killed).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from datetime import UTC, datetime

from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import text

from devexbot.scheduler.leader import AdvisoryLockLeader
from devexbot.scheduler.service import JobSpec, Scheduler
from devexbot.store import Database

POLL = 0.5  # seconds between election rounds (5 in production)


def main(url: str, heartbeat_timeout: float) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    db = Database(url)

    def tick(now: datetime) -> str:
        with db.write() as session:
            session.execute(text("INSERT INTO ticks (pid, at) VALUES (:pid, :at)"),
                            {"pid": os.getpid(), "at": time.time()})
        return "ticked"

    job = JobSpec("tick", IntervalTrigger(seconds=1, timezone=UTC), tick, "tick every second")
    scheduler = Scheduler(db, [job], leadership=AdvisoryLockLeader(
        db.url, poll=POLL, heartbeat_timeout=heartbeat_timeout))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if not scheduler.start():
        sys.exit(1)
    print(f"replica {os.getpid()} started", flush=True)
    stop.wait()
    scheduler.stop()
    db.dispose()


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 30.0)
