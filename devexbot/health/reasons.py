"""Why a service could not be used, in a person's words for `/readyz` (which names no
Python exception): `unreachable (Connection refused)`, `GitHub answers 401: Bad
credentials`."""

from __future__ import annotations

import socket

import jenkins
from github import GithubException
from sqlalchemy.exc import DBAPIError

from devexbot.errors import DevexbotError


def failure_reason(exc: BaseException) -> str:
    """One line saying why the call failed."""
    if isinstance(exc, DevexbotError):
        return exc.message
    if isinstance(exc, GithubException):
        message = exc.data.get("message") if isinstance(exc.data, dict) else None
        return f"GitHub answers {exc.status}" + (f": {message}" if message else "")
    if isinstance(exc, DBAPIError):
        return _first_line(exc.orig) or "the database refused"
    if isinstance(exc, jenkins.JenkinsException):
        return _first_line(exc) or "Jenkins refused"
    network = _network_cause(exc)
    if network is not None:
        return network
    return _first_line(exc) or f"failed ({type(exc).__name__})"


def _network_cause(exc: BaseException) -> str | None:
    """`unreachable (…)` or `no answer (timed out)`, from anywhere in the chain of causes
    (urllib's, requests' and urllib3's errors wrap the socket's)."""
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        found = todo.pop(0)
        if not isinstance(found, BaseException) or id(found) in seen:
            continue
        seen.add(id(found))
        if isinstance(found, TimeoutError | socket.timeout):
            return "no answer (timed out)"
        if isinstance(found, socket.gaierror):
            return f"unreachable ({found.strerror or 'unknown host'})"
        if isinstance(found, OSError) and found.strerror:
            return f"unreachable ({found.strerror})"
        todo += [getattr(found, "reason", None), found.__cause__, found.__context__,
                 *found.args]
    return "unreachable" if isinstance(exc, OSError) else None


def _first_line(exc: object) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else ""
