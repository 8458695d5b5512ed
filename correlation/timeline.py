"""A card's history in people's words: which of its events a person cares about (pushed, a
check failed, a deploy waits for approval, someone approved it) and which are bookkeeping
(the branch a workflow job named, a check queued, a slot saying again what it said)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from correlation.events import Event, Slot
from correlation.mrkdwn import escape, one_line, people
from correlation.status import Status

NAME_LIMIT = 100

# What a check, build or deployment did, by the status its event reports.
_CHECK_WORDS: Mapping[Status, str] = MappingProxyType({
    Status.PENDING: "queued",
    Status.RUNNING: "started",
    Status.WAITING: "waiting for approval",
    Status.SUCCESS: "passed",
    Status.FAILURE: "failed",
    Status.CANCELLED: "cancelled",
    Status.SKIPPED: "skipped",
    Status.NEUTRAL: "finished",
})
_DEPLOY_WORDS: Mapping[Status, str] = MappingProxyType({
    Status.PENDING: "deploy to {env} queued",
    Status.RUNNING: "deploy to {env} started",
    Status.WAITING: "deploy to {env} waiting for approval",
    Status.SUCCESS: "deployed to {env}",
    Status.FAILURE: "deploy to {env} failed",
    Status.CANCELLED: "deploy to {env} cancelled",
    Status.SKIPPED: "deploy to {env} skipped",
    Status.NEUTRAL: "deploy to {env} has no status",
})
_CHECK_KINDS = {"check": "check", "status": "status", "workflow": "workflow", "job": "job",
                "build": "build"}
_REVIEW_WORDS = {"approved": "approved", "changes_requested": "requested changes on",
                 "dismissed": "had their review dismissed on", "pending": "is reviewing"}
_DECISIONS = {"approved": "approved", "rejected": "rejected"}
# Kinds whose status is an outcome a person reads (a pull request's is only its stage).
_OUTCOMES = frozenset({*_CHECK_KINDS, "deployment", "approval", "approver"})


@dataclass(frozen=True)
class Moment:
    """One event as the timeline shows it: `what` it says (mrkdwn, user text escaped), the
    outcome it reports (`status`, None for events that report none), and whether it is a
    `headline` or bookkeeping a page folds away."""

    event: Event
    headline: bool
    what: str
    status: Status | None


def moments(events: Sequence[Event]) -> list[Moment]:
    """Each event, in the order given (event time), as the timeline shows it. An event that
    says again what its slot said last (the same status) is bookkeeping."""
    last: dict[Slot, Status | None] = {}
    deciders = _deciders(events)
    shown = []
    for event in events:
        repeat = event.slot in last and last[event.slot] == event.status
        last[event.slot] = event.status
        headline, what = _words(event, deciders)
        status = event.status if event.kind in _OUTCOMES else None
        shown.append(Moment(event, headline and not repeat, what, status))
    return shown


def _words(event: Event, deciders: Mapping[tuple[str, str, object], list[str]]
           ) -> tuple[bool, str]:
    """(headline?, what) for one event, on its own."""
    data, status, kind = event.data, event.status, event.kind
    name = _name(event)
    if kind == "commit":
        return _commit(event)
    if kind in _CHECK_KINDS:
        word = _CHECK_WORDS[status] if status else "reported"
        return status is not Status.PENDING, f"{_CHECK_KINDS[kind]} {name} {word}"
    if kind == "deployment":
        words = _DEPLOY_WORDS[status or Status.NEUTRAL].format(env=name)
        return status is not Status.PENDING, words
    if kind == "approval":
        state = str(data.get("state") or "")
        if state in _DECISIONS:
            deciding = deciders.get((event.name, state, event.at))
            by = f" by {people(deciding, shown=5, limit=40)}" if deciding else ""
            return True, f"deploy to {name} {_DECISIONS[state]}{by}"
        if state == "expired":
            return True, f"approval request for {name} expired"
        reviewers = _strings(data.get("reviewers"))
        asked = f" from {people(reviewers, shown=5, limit=40)}" if reviewers else ""
        return True, f"approval to deploy to {name} requested{asked}"
    if kind == "approver":
        env = escape(one_line(str(data.get("environment") or "")), NAME_LIMIT)
        state = str(data.get("state") or "")
        who = people(_strings([data.get("login")]), shown=1, limit=40) or "someone"
        return False, f"{who} {_DECISIONS.get(state, state or 'decided')} the deploy to {env}"
    if kind in ("pr", "merged_pr", "pr_ready"):
        return True, _pull_request(event)
    if kind == "review":
        login = escape(one_line(str(data.get("login") or "someone")), 40)
        state = str(data.get("state") or "")
        number = data.get("number")
        words = _REVIEW_WORDS.get(state, escape(one_line(state), 30) or "reviewed")
        return True, f"{login} {words} pull request #{number}"
    if kind == "stamp" and isinstance(data.get("text"), str):
        return True, str(data["text"])  # the bot's own mrkdwn, written with user text escaped
    if kind == "log":
        return False, f"log excerpt of {name} read"
    label = f" · {status.value}" if status else ""
    return True, f"{escape(one_line(kind), 40)} {name}{label}"


def _commit(event: Event) -> tuple[bool, str]:
    field, _, origin = event.name.partition(":")
    value = event.data.get("value")
    if field == "message" and origin == "push":
        subject = one_line(str(value or "").strip().splitlines()[0]) if value else ""
        return True, f"pushed *{escape(subject, 300)}*" if subject else "pushed"
    shown = _value(value)
    where = f" from {escape(origin, 40)}" if origin else ""
    return False, f"{escape(field, 40)}{where}" + (f": {shown}" if shown else "")


def _pull_request(event: Event) -> str:
    data = event.data
    title = escape(one_line(f"#{data.get('number') or event.name} {data.get('title') or ''}"),
                   200)
    if event.kind == "pr_ready":
        return f"pull request *{title}* ready for review"
    if event.kind == "merged_pr":
        return f"merged from pull request *{title}*"
    state = str(data.get("state") or "")
    if state == "open":
        return f"pull request *{title}* is open{' as a draft' if data.get('draft') else ''}"
    return f"pull request *{title}* {escape(one_line(state), 20) or 'updated'}"


def _deciders(events: Sequence[Event]) -> dict[tuple[str, str, object], list[str]]:
    """Who made each approval decision: its `approver` events (same environment, state and
    moment), so the decision reads "approved by carla" on one line."""
    found: dict[tuple[str, str, object], list[str]] = {}
    for e in events:
        login = e.data.get("login")
        if e.kind == "approver" and isinstance(login, str) and login:
            key = (str(e.data.get("environment") or ""), str(e.data.get("state") or ""), e.at)
            found.setdefault(key, []).append(login)
    return found


def _name(event: Event) -> str:
    shown = event.data.get("display_name") or event.name
    trigger = event.data.get("trigger")  # a workflow run's: which of its runs this is
    if isinstance(trigger, str) and trigger:
        shown = f"{shown} ({trigger})"
    return f"*{escape(one_line(str(shown)), NAME_LIMIT) or '(unnamed)'}*"


def _value(value: object) -> str:
    if isinstance(value, Mapping):
        return escape(" · ".join(str(v) for v in (value.get("name"), value.get("login")) if v),
                      120)
    if isinstance(value, str) and value.strip():
        return escape(one_line(value.strip().splitlines()[0]), 300)
    return ""


def _strings(raw: object) -> list[str]:
    return [str(x) for x in raw if isinstance(x, str) and x] if isinstance(raw, list) else []
