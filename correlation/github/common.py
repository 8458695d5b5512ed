"""What the GitHub parsers share: the router, and the helpers that read a payload."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from correlation.events import Event, ParseError, normalise_repo, parse_time
from correlation.payload import Fields
from correlation.status import Status

Parser = Callable[[Fields, datetime], list[Event]]

ZERO_SHA = "0" * 40
MAX_OUTPUT_SUMMARY = 2000  # a check's markdown summary can be 64 KB; a card needs the top
MAX_PR_BODY = 4000  # kept for the tickets it names, which are near the top


def trimmed(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[:limit].rsplit("\n", 1)[0] + "\n…"


class Router:
    """Maps a GitHub event type (`X-GitHub-Event`) to its parser."""

    def __init__(self, *routers: Router) -> None:
        self._parsers: dict[str, Parser] = {}
        for other in routers:
            self._parsers.update(other._parsers)

    def register(self, event_type: str) -> Callable[[Parser], Parser]:
        def decorate(parser: Parser) -> Parser:
            self._parsers[event_type] = parser
            return parser

        return decorate

    def handles(self, event_type: str) -> bool:
        return event_type in self._parsers

    def parse(self, event_type: str, payload: object, *, received_at: datetime) -> list[Event]:
        """Events in a delivery; [] for types we ignore; ParseError for missing fields."""
        parser = self._parsers.get(event_type)
        if parser is None:
            return []
        try:
            return parser(Fields(payload), received_at)
        except ParseError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            # A field of the wrong type or shape: the payload is malformed, not our code.
            raise ParseError(f"malformed {event_type} payload: {exc}") from exc


def github_event(
    repo: str,
    sha: str,
    kind: str,
    name: str,
    at: datetime,
    status: Status | None = None,
    *,
    generation: tuple[int, ...] = (),
    **data: Any,
) -> Event:
    return Event(repo=repo, sha=sha, source="github", kind=kind, name=name, at=at,
                 status=status, data={k: v for k, v in data.items() if v is not None},
                 generation=generation)


def run_generation(run_id: object, attempt: object) -> tuple[int, ...]:
    """A later run, or a later attempt of the same run, replaces an earlier one."""
    if run_id is None:
        return ()
    attempt = attempt or 1
    if not isinstance(run_id, int | str) or not isinstance(attempt, int | str):
        raise ParseError(f"run id {run_id!r} and attempt {attempt!r} must be numbers")
    return (int(run_id), int(attempt))


def per_run(name: str, run_id: int | None) -> str:
    """The slot name of one run's workflow or job (see `correlation.runs`)."""
    return name if run_id is None else f"{name}#{run_id}"


def commit_fields(repo: str, sha: str, origin: str, at: datetime, **fields: Any) -> list[Event]:
    """Commit metadata: one slot per field and origin, so a richer source is never lost."""
    return [
        github_event(repo, sha, "commit", f"{field}:{origin}", at, value=value)
        for field, value in fields.items()
        if value not in (None, "", {})
    ]


def person(raw: Fields | None, login: str | None = None) -> dict[str, Any] | None:
    if raw is None:
        return None
    person = {
        "login": login or raw.ostr("username") or raw.ostr("login"),
        "name": raw.ostr("name"),
        "email": raw.ostr("email"),
    }
    return {k: v for k, v in person.items() if v} or None


def opt_obj(payload: Fields, dotted: str) -> Fields | None:
    return payload.obj(dotted) if payload.opt(dotted) is not None else None


def event_time(payload: Fields, *candidates: str, fallback: datetime) -> datetime:
    for dotted in candidates:
        value = payload.opt(dotted)
        if value is not None:
            return parse_time(value)
    return fallback


def repo_of(payload: Fields) -> str:
    return normalise_repo(payload.req("repository.full_name"))


def commit_url(payload: Fields, sha: str) -> str | None:
    html = payload.ostr("repository.html_url")
    return f"{html}/commit/{sha}" if html else None


def deployment_data(deployment: Fields) -> dict[str, Any]:
    return {
        "deployment_id": str(deployment.req("id")),
        "description": deployment.ostr("description"),
        "creator": deployment.ostr("creator.login"),
        "ref": deployment.ostr("ref"),
    }
