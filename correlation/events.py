"""The normalised Event: one fact about one commit, from any source."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from correlation.status import Status

GITHUB_NAME = r"[A-Za-z0-9_.-]+"
"""An owner's or a repository's name, in the characters GitHub allows."""
REPO_NAME = re.compile(f"{GITHUB_NAME}/{GITHUB_NAME}")
"""`owner/repo`; the read API refuses any other spelling."""
_SHA = re.compile(r"[0-9a-fA-F]{40}")
_UTC_SUFFIX = re.compile(r"[zZ]$")

Slot = tuple[str, str, str]
"""(source, kind, name): the place on a card an event fills, e.g. ("github", "check", "build")."""


class ParseError(ValueError):
    """A payload is missing or has malformed fields that an Event needs."""


@dataclass(frozen=True)
class Event:
    """A fact about the commit `sha` of `repo`, as of `at` (the time the payload states).

    Within a slot the event with the greatest (generation, at, status rank, data) wins,
    which makes folding any set of events order-independent and duplicate-proof.
    `generation` says which run of a slot an event belongs to where the source numbers its
    runs (a Jenkins build number, a GitHub Actions run id and attempt): a later run
    replaces an earlier one whatever their clocks say. It is compared only within a slot.
    """

    repo: str
    sha: str
    source: str
    kind: str
    name: str
    at: datetime
    status: Status | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    generation: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("Event.at must be timezone-aware")
        if not all(isinstance(g, int) and not isinstance(g, bool) for g in self.generation):
            raise ValueError("Event.generation must be a tuple of ints")

    @property
    def slot(self) -> Slot:
        return (self.source, self.kind, self.name)

    @cached_property
    def canonical_data(self) -> str:
        # Cached: an event is compared many times in a fold (its fields are frozen, and its
        # data is never changed after parsing).
        return json.dumps(self.data, sort_keys=True, separators=(",", ":"), default=str)

    @property
    def moment(self) -> tuple[datetime, int, str]:
        """(event time, status rank, data): how events of different slots compare."""
        rank = self.status.rank if self.status is not None else -1
        return (self.at, rank, self.canonical_data)

    @property
    def precedence(self) -> tuple[tuple[int, ...], datetime, int, str]:
        """The order in which events of one slot supersede each other."""
        return (self.generation, *self.moment)

    def __hash__(self) -> int:
        return hash((self.repo, self.sha, self.slot, self.generation, self.at, self.status,
                     self.canonical_data))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Event):
            return NotImplemented
        return (
            self.repo == other.repo
            and self.sha == other.sha
            and self.slot == other.slot
            and self.precedence == other.precedence
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form, the inverse of `Event.from_dict`."""
        return {
            "repo": self.repo,
            "sha": self.sha,
            "source": self.source,
            "kind": self.kind,
            "name": self.name,
            "at": self.at.astimezone(UTC).isoformat(),
            "status": self.status.value if self.status is not None else None,
            "data": dict(self.data),
            "generation": list(self.generation),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Event:
        return cls(
            repo=raw["repo"],
            sha=raw["sha"],
            source=raw["source"],
            kind=raw["kind"],
            name=raw["name"],
            at=datetime.fromisoformat(raw["at"]),
            status=Status(raw["status"]) if raw.get("status") else None,
            data=raw.get("data") or {},
            generation=tuple(raw.get("generation") or ()),
        )


def parse_time(value: object) -> datetime:
    """ISO 8601 (with `Z` or an offset) or Unix epoch seconds, as an aware UTC datetime."""
    if isinstance(value, bool):
        raise ParseError(f"not a timestamp: {value!r}")
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (ValueError, OverflowError, OSError) as exc:  # out of datetime's range
            raise ParseError(f"not a timestamp: {value!r}") from exc
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(_UTC_SUFFIX.sub("+00:00", value))
        except ValueError as exc:
            raise ParseError(f"not a timestamp: {value!r}") from exc
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise ParseError(f"not a timestamp: {value!r}")


def normalise_repo(full_name: object) -> str:
    """`Owner/Repo` as the lower-case key cards are stored under (GitHub ignores case)."""
    name = full_name.strip() if isinstance(full_name, str) else None
    if name is None or len(name) > 200 or not REPO_NAME.fullmatch(name):
        raise ParseError(f"not an owner/repo name: {full_name!r}")
    return name.lower()


def normalise_sha(sha: object) -> str:
    """A full 40-hex commit SHA in lower case."""
    # Not int(sha, 16): it also takes `0x`, a sign, underscores and surrounding spaces.
    if not isinstance(sha, str) or not _SHA.fullmatch(sha):
        raise ParseError(f"not a commit SHA: {sha!r}")
    return sha.lower()


MAX_CLOCK_AHEAD = timedelta(minutes=5)
"""How far ahead of its arrival an event's own time is believed (senders' clocks drift)."""


def clamp_future(events: Sequence[Event], arrival: datetime, *,
                 ahead: timedelta = MAX_CLOCK_AHEAD) -> tuple[list[Event], list[Event]]:
    """The events with every time more than `ahead` past `arrival` taken as `arrival`, and
    the ones that were: a sender whose clock runs ahead, or a payload stamped years out,
    must not pin a card's state or its place in the list."""
    kept, clamped = [], []
    for event in events:
        if event.at > arrival + ahead:
            clamped.append(event)
            event = replace(event, at=arrival)
        kept.append(event)
    return kept, clamped
