"""Which replica runs the scheduled jobs: the one holding a PostgreSQL advisory lock.

Every replica polls `pg_try_advisory_lock` on a connection of its own; the one that gets
the lock leads for as long as that connection lives. PostgreSQL releases the lock when the
session ends, however it ends:

- the leader exits or is killed: its socket closes, the lock is free at once;
- its host or network dies: the server's TCP keepalives (set below) end the session
  within about 25 s;
- it hangs: `idle_session_timeout` (PostgreSQL 14+) ends a session that has not sent its
  heartbeat for 30 s.

Another replica takes the lock at its next poll, so a new leader runs within a minute. A
leader that loses its connection stops running jobs at once, and every job asks
`confirm()` (a round trip on the lock's connection) before it starts, so a leader that
wakes up from a hang runs nothing. On SQLite there is one process (`serve` holds the
file's serving lock, devexbot.store.serving_lock), and it leads.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import zlib
from collections.abc import Callable
from typing import Protocol

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from devexbot.store.replica import replica_name

log = logging.getLogger(__name__)

LOCK_NAMESPACE = 0x64657662  # "devb": the high half of the lock key; the low half is the schema
POLL_SECONDS = 5.0
HEARTBEAT_TIMEOUT = 30.0  # seconds: idle_session_timeout, a session silent this long is ended
KEEPALIVE = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
             "keepalives_count": 3, "tcp_user_timeout": 20_000, "connect_timeout": 10}

OnChange = Callable[[bool], None]


class Leadership(Protocol):
    """Tells the scheduler whether this process runs the jobs."""

    def start(self, on_change: OnChange) -> None: ...

    def stop(self) -> None: ...

    def confirm(self) -> bool:
        """Whether this process leads, checked now (not from memory)."""
        ...


class SoleLeader:
    """SQLite: one process (the serving lock refuses a second), and it leads."""

    def start(self, on_change: OnChange) -> None:
        on_change(True)

    def stop(self) -> None:
        pass

    def confirm(self) -> bool:
        return True


class AdvisoryLockLeader:
    """Leads while it holds a PostgreSQL session-level advisory lock."""

    def __init__(self, url: str, *, poll: float = POLL_SECONDS, name: str | None = None,
                 heartbeat_timeout: float = HEARTBEAT_TIMEOUT) -> None:
        if heartbeat_timeout <= 2 * poll:
            raise ValueError("heartbeat_timeout must be well above the poll interval")
        self.poll = poll
        self.heartbeat_timeout = heartbeat_timeout
        self.name = name or replica_name()
        self._engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT",
                                     connect_args=dict(KEEPALIVE))
        self._conn: Connection | None = None
        self._key: int | None = None
        self._leading = False
        self._mutex = threading.Lock()  # the lock's connection is shared with `confirm`
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._on_change: OnChange = lambda leading: None

    def start(self, on_change: OnChange) -> None:
        self._on_change = on_change
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="scheduler-leader", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)
        with self._mutex:
            was_leading = self._leading
            if self._conn is not None and self._leading and self._key is not None:
                with contextlib.suppress(DBAPIError):  # else the session, and lock, are gone
                    self._conn.execute(text("SELECT pg_advisory_unlock(:key)"),
                                       {"key": self._key})
            self._drop()
        self._engine.dispose()
        if was_leading:
            self._on_change(False)

    def confirm(self) -> bool:
        with self._mutex:
            if not self._leading:
                return False
            if self._alive():
                return True
            self._drop()
        log.warning("scheduler: lost the leader's database session; not running jobs")
        self._on_change(False)
        return False

    @property
    def leading(self) -> bool:
        return self._leading

    # --- the polling thread ---------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            changed = self._poll_once()
            if changed is not None:
                if changed:
                    log.info("scheduler: %s leads (advisory lock %#x)", self.name, self._key)
                else:
                    log.warning("scheduler: %s lost the leader's session", self.name)
                self._on_change(changed)
            self._stop.wait(self.poll)

    def _poll_once(self) -> bool | None:
        """One round: take the lock, or check it is still held. The new state if changed."""
        with self._mutex:
            if self._stop.is_set():
                return None
            if self._leading:
                if self._alive():
                    return None
                self._drop()
                return False
            try:
                if self._conn is None:
                    self._conn = self._connect()
                assert self._key is not None
                got = self._conn.execute(text("SELECT pg_try_advisory_lock(:key)"),
                                         {"key": self._key}).scalar()
            except DBAPIError as exc:
                log.warning("scheduler: cannot reach the database to elect a leader: %s",
                            str(exc.orig).strip().splitlines()[0] if exc.orig else exc)
                self._drop()
                return None
            self._leading = bool(got)
            return True if got else None

    def _connect(self) -> Connection:
        conn = self._engine.connect()
        conn.execute(text("SELECT set_config('application_name', :name, false)"),
                     {"name": f"devexbot scheduler {self.name}"[:63]})
        for setting in ("statement_timeout = '10s'", "tcp_keepalives_idle = 10",
                        "tcp_keepalives_interval = 5", "tcp_keepalives_count = 3",
                        f"idle_session_timeout = {int(self.heartbeat_timeout * 1000)}"):
            try:
                conn.execute(text(f"SET {setting}"))
            except DBAPIError:  # idle_session_timeout is PostgreSQL 14+
                log.info("scheduler: PostgreSQL does not take `SET %s`", setting)
        # One leader per schema: replicas of one bot share it, other bots in the same
        # database (and parallel test schemas) elect their own.
        schema = conn.execute(text("SELECT current_schema()")).scalar() or ""
        self._key = (LOCK_NAMESPACE << 32) | zlib.crc32(schema.encode())
        return conn

    def _alive(self) -> bool:
        if self._conn is None:
            return False
        try:
            self._conn.execute(text("SELECT 1"))
            return True
        except DBAPIError:
            return False

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # a broken connection may fail to close
                self._conn.close()
        self._conn, self._leading = None, False


def lock_holder(conn: Connection) -> str | None:
    """The `application_name` of the session leading this schema's scheduler, if any."""
    schema = conn.execute(text("SELECT current_schema()")).scalar() or ""
    key = (LOCK_NAMESPACE << 32) | zlib.crc32(schema.encode())
    name: str | None = conn.execute(
        text("SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a "
             "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
             "AND l.classid = :hi AND l.objid = :lo AND l.objsubid = 1"),
        {"hi": key >> 32, "lo": key & 0xFFFFFFFF},
    ).scalar()
    return name
