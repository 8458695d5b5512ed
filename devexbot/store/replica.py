"""This process among the bot's replicas: its name, and whether another one on this host
has died."""

from __future__ import annotations

import os
import socket


def replica_name() -> str:
    """This process as `devexbot jobs` and the outbox's claims name it: host:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def died_here(owner: str) -> bool:
    """Whether `owner` (a `replica_name`) was a process on this host that is gone, or an
    earlier run of this one (a restarted container keeps its host name and pid): what it
    held, nobody holds. False when it may live on, or ran on another host."""
    host, _, pid_text = owner.rpartition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return True  # asked at start, before this process held anything
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, as another user
    return False
