"""GitHub's merge queue, as news of the pull request it tests.

GitHub tests each queued pull request on a temporary commit of its own, on a branch named
`gh-readonly-queue/<base>/pr-<number>-<sha of the commit it is stacked on>`, and tells
about the queue with `merge_group` deliveries. The queue commit is not news of its own:
its checks and the queue's outcome belong on the pull request's card. The branch name
gives the pull request's number; its head commit is whatever the pull request's own
events said last (looked up by the store when the queue's events come in).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from correlation.card import MergeQueue
from correlation.events import Event
from correlation.routing import MERGE_QUEUE_PREFIX
from correlation.status import Status

__all__ = ["MERGE_QUEUE_KIND", "MergeQueue", "QueueRef", "merge_queue_of", "onto_pull",
           "queue_commits", "queue_ref"]

MERGE_QUEUE_KIND = "merge_queue"
"""The kind of the event saying where a pull request stands in the queue."""

_QUEUE_REF = re.compile(
    "^(?:refs/heads/)?" + re.escape(MERGE_QUEUE_PREFIX)
    + r"(?P<base>.+)/pr-(?P<number>[0-9]{1,9})-(?P<parent>[0-9a-fA-F]{40})$")

# What each end of a queue entry means for the pull request (`merge_group` `destroyed`'s
# `reason`; a `checks_requested` puts it in the queue).
OUTCOMES: Mapping[str, Status] = {
    "queued": Status.PENDING,
    "merged": Status.SUCCESS,
    "dequeued": Status.FAILURE,
    "invalidated": Status.CANCELLED,
}


@dataclass(frozen=True)
class QueueRef:
    """What a queue branch's name says: the base branch and the pull request's number."""

    base: str
    number: int
    parent_sha: str


def queue_ref(ref: object) -> QueueRef | None:
    """The queue entry a branch (or full ref) names; None for any other branch."""
    if not isinstance(ref, str):
        return None
    found = _QUEUE_REF.match(ref)
    if found is None:
        return None
    return QueueRef(found["base"], int(found["number"]), found["parent"].lower())


def queue_commits(events: Iterable[Event]) -> dict[tuple[str, str], int]:
    """The queue commits among these events' commits, by (repo, sha): the number of the
    pull request each one tests, as a branch the events name says."""
    found: dict[tuple[str, str], int] = {}
    for event in events:
        if event.kind == "commit" and event.name.split(":", 1)[0] == "branch":
            ref = queue_ref(event.data.get("value"))
            if ref is not None:
                found[(event.repo, event.sha)] = ref.number
    return found


def onto_pull(events: Iterable[Event], head_sha: str) -> list[Event]:
    """A queue commit's events as news of the pull request whose head is `head_sha`: its
    checks as the queue run's checks, and the queue's own events; what the queue commit
    itself is (its branch, message, author) stays behind, as the card is the PR head's."""
    moved = []
    for event in events:
        if event.kind == "commit":
            continue
        data = {**event.data, "merge_queue_sha": event.sha}
        name = event.name
        if event.kind in ("check", "status"):
            # The pull request's own check of that name keeps its line.
            data["display_name"] = f"merge queue: {event.data.get('display_name') or name}"
            name = f"merge-queue:{name}"
        moved.append(replace(event, sha=head_sha, name=name, data=data))
    return moved


def merge_queue_of(events: Iterable[Event]) -> MergeQueue | None:
    """The latest queue news among a card's `merge_queue` events (each its slot's winner)."""
    latest = max(events, key=lambda e: (e.moment, e.slot), default=None)
    if latest is None:
        return None
    since = latest.data.get("since")
    return MergeQueue(
        state=str(latest.data.get("state") or "queued"),
        at=latest.at,
        since=datetime.fromisoformat(since) if isinstance(since, str) else None,
        base=latest.data.get("base"),
        queue_sha=latest.data.get("merge_queue_sha"),
    )
