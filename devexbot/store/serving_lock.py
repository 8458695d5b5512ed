"""One serving process per SQLite file: an exclusive lock on `<database>.lock` beside it.

SQLite keeps two processes' writes apart, not their work: two bots on one file would each
pace Slack as if they were alone and each run the scheduler. `devexbot serve` holds this
lock for as long as it lives; the kernel drops it when the process ends, however it ends
(SIGKILL and OOM kills too), so a restart never finds a stale lock. PostgreSQL needs none:
its replicas share the work (claims, an elected scheduler). An in-memory database belongs
to its process and needs none either.

Only `serve` takes it: it alone runs the outbox, the workers and the scheduler. `db upgrade`
and `jobs` are one-shot (a migration is one transaction, a listing only reads), so they
may run beside a serving bot; `check-config` and `manifest` do not open the database.
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from devexbot.errors import DatabaseError
from devexbot.store.replica import replica_name

SEVERAL_REPLICAS = ("SQLite serves one process — use PostgreSQL "
                    "(DATABASE_URL=postgresql://…) to run several replicas")


class AlreadyServing(DatabaseError):
    """Another process serves this SQLite file."""


def database_file(database_url: str) -> Path | None:
    """The SQLite file `database_url` names, as an absolute path; None for PostgreSQL and
    in-memory SQLite."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return None
    name = url.database or ""
    if name.startswith("file:"):  # a URI filename (`?uri=true`)
        name = name[len("file:"):].split("?", 1)[0]
    if name in ("", ":memory:") or url.query.get("mode") == "memory":
        return None
    return Path(name).resolve()


@contextmanager
def serving(database_url: str) -> Iterator[None]:
    """Hold the serving lock of `database_url`'s SQLite file for the duration; raise
    `AlreadyServing` (one line, naming the holder) when another process holds it."""
    path = database_file(database_url)
    if path is None:
        yield
        return
    fd = _take(path)
    try:
        yield
    finally:
        os.close(fd)  # frees the lock; the file stays (removing it would race a successor)


def _take(path: Path) -> int:
    lock = path.with_name(path.name + ".lock")
    try:
        # O_CLOEXEC: a runbook's child process must not inherit the lock and outlive us.
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise DatabaseError(f"cannot use database {path}: cannot open {lock} "
                            f"({exc.strerror})") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        holder = _holder(fd)
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            raise AlreadyServing(f"another devexbot is already serving {path}{holder}; "
                                 f"{SEVERAL_REPLICAS}") from None
        raise DatabaseError(f"cannot use database {path}: cannot lock {lock} "
                            f"({exc.strerror})") from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{replica_name()}\n".encode())
    return fd


def _holder(fd: int) -> str:
    """` (pid 1234 on host)` from what the holder wrote, or nothing if it has not yet."""
    try:
        host, _, pid = os.pread(fd, 300, 0).decode(errors="replace").strip().rpartition(":")
    except OSError:
        return ""
    return f" (pid {pid} on {host})" if pid.isdigit() and host else ""
