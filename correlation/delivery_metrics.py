"""Delivery metrics (DORA's four keys) of one repository's environment over a period, from
plain data: its deploys, the commits they shipped first, and the reverts and hotfixes seen.

- *Deployment frequency*: successful deploys in the period (and per week).
- *Lead time for changes*: for each commit first shipped to the environment in the period,
  from its first appearance to that deploy (every commit a deploy carries, not its head
  only).
- *Change failure rate*: the share of successful deploys in the period that a failure
  signal followed within the window: a failed deploy or a rollback to an older commit
  (charged to the successful deploy live before it), a revert of a commit it shipped, or
  a hotfix (charged to the successful deploy live when the hotfix appeared).
- *Time to restore*: from a failure's signal to the next successful deploy after it that
  does not put the failed deploy's commit back.

Pure: the shell reads the rows and hands them here; each figure comes with what is behind
it (the deploys, commits and failures), and weekly buckets (weeks start on Monday, UTC).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

__all__ = [
    "Deploy",
    "Failure",
    "Figures",
    "LeadTime",
    "ShippedCommit",
    "Signal",
    "Week",
    "delivery_figures",
    "is_rollback",
    "parse_period",
    "revert_of",
    "week_start",
]

WEEK = timedelta(days=7)
_REVERT_TITLE = re.compile(r'^Revert "(?P<title>.+)"\s*$')
_REVERTS_SHA = re.compile(r"\bThis reverts commit (?P<sha>[0-9a-fA-F]{7,40})\b")


@dataclass(frozen=True)
class Deploy:
    """One deploy to the environment that ended: `succeeded`, or failed; a `rollback` put
    back a commit older than what was live."""

    id: int
    sha: str
    at: datetime
    succeeded: bool = True
    rollback: bool = False


@dataclass(frozen=True)
class ShippedCommit:
    """A commit's first successful deploy to the environment (`deploy_id`, at
    `deployed_at`), and when the commit first appeared."""

    sha: str
    first_seen: datetime
    deployed_at: datetime
    deploy_id: int
    title: str | None = None  # its message's first line, which a revert names


@dataclass(frozen=True)
class Signal:
    """A revert commit (`reverts_sha` or `reverts_title` say of what) or a hotfix pull
    request (`ref` is `#12`), and when it first appeared."""

    kind: str  # revert | hotfix
    ref: str  # the revert's SHA, or the hotfix pull request
    at: datetime
    reverts_sha: str | None = None
    reverts_title: str | None = None


@dataclass(frozen=True)
class LeadTime:
    sha: str
    first_seen: datetime
    deployed_at: datetime
    deploy_id: int

    @property
    def duration(self) -> timedelta:
        return max(self.deployed_at - self.first_seen, timedelta(0))


@dataclass(frozen=True)
class Failure:
    """A successful deploy that a signal followed: `kind` is failed_deploy, rollback,
    revert or hotfix, `ref` the deploy id, revert SHA or pull request behind it."""

    deploy: Deploy
    kind: str
    ref: str
    at: datetime  # when the failure showed
    restored_by: Deploy | None = None

    @property
    def restore(self) -> timedelta | None:
        return None if self.restored_by is None else self.restored_by.at - self.at


@dataclass(frozen=True)
class Week:
    start: datetime
    deployments: int
    lead_time: timedelta | None
    change_failure_rate: float | None
    time_to_restore: timedelta | None


@dataclass(frozen=True)
class Figures:
    since: datetime
    until: datetime
    deploys: tuple[Deploy, ...]  # the successful ones, oldest first
    lead_times: tuple[LeadTime, ...]
    failures: tuple[Failure, ...]
    weeks: tuple[Week, ...] = field(default=())

    @property
    def deployments(self) -> int:
        return len(self.deploys)

    @property
    def per_week(self) -> float:
        days = max((self.until - self.since) / timedelta(days=1), 1.0)
        return len(self.deploys) * 7 / days

    @property
    def lead_time(self) -> timedelta | None:
        """The median lead time."""
        return _median(lt.duration for lt in self.lead_times)

    @property
    def change_failure_rate(self) -> float | None:
        return len(self.failures) / len(self.deploys) if self.deploys else None

    @property
    def time_to_restore(self) -> timedelta | None:
        """The median time to restore, of the failures restored."""
        return _median(f.restore for f in self.failures if f.restore is not None)

    @property
    def unrestored(self) -> int:
        return sum(1 for f in self.failures if f.restored_by is None)


def delivery_figures(
    *,
    since: datetime,
    until: datetime,
    deploys: Sequence[Deploy],
    shipped: Sequence[ShippedCommit],
    signals: Sequence[Signal] = (),
    window: timedelta = timedelta(hours=24),
) -> Figures:
    """The four figures of [since, until). `deploys` and `signals` may reach past `until`
    (by the window, and further for restores); `shipped` are commits first shipped in it."""
    ordered = _changes(sorted(deploys, key=lambda d: (d.at, d.id)))
    in_period = [d for d in ordered if d.succeeded and since <= d.at < until]
    lead_times = sorted(
        (LeadTime(c.sha, c.first_seen, c.deployed_at, c.deploy_id) for c in shipped
         if since <= c.deployed_at < until),
        key=lambda lt: (lt.deployed_at, lt.sha))
    failures = _failures(ordered, in_period, shipped, signals, window)
    return Figures(since=since, until=until, deploys=tuple(in_period),
                   lead_times=tuple(lead_times), failures=tuple(failures),
                   weeks=_weeks(since, until, in_period, lead_times, failures))


def _changes(ordered: Sequence[Deploy]) -> list[Deploy]:
    """The deploys that changed what runs: a successful deploy of the commit already live
    there (the same deploy told again by a second tool, at its own time, or a re-run) is
    not one more deploy."""
    kept: list[Deploy] = []
    live: str | None = None
    for deploy in ordered:
        if deploy.succeeded:
            if deploy.sha == live:
                continue
            live = deploy.sha
        kept.append(deploy)
    return kept


def _failures(ordered: Sequence[Deploy], in_period: Sequence[Deploy],
              shipped: Sequence[ShippedCommit], signals: Sequence[Signal],
              window: timedelta) -> list[Failure]:
    """The first signal after each deploy of the period, within the window."""
    succeeded = [d for d in ordered if d.succeeded]
    times = [d.at for d in succeeded]
    charged = {d.id for d in in_period}
    first: dict[int, tuple[datetime, str, str]] = {}

    def charge(deploy: Deploy | None, at: datetime, kind: str, ref: str) -> None:
        if deploy is None or deploy.id not in charged or at - deploy.at > window:
            return
        if deploy.id not in first or (at, kind, ref) < first[deploy.id]:
            first[deploy.id] = (at, kind, ref)

    def live_before(at: datetime, *, strictly: bool) -> Deploy | None:
        i = bisect_right(times, at)
        while i > 0 and strictly and succeeded[i - 1].at >= at:
            i -= 1
        return succeeded[i - 1] if i > 0 else None

    for deploy in ordered:
        if not deploy.succeeded:
            charge(live_before(deploy.at, strictly=False), deploy.at, "failed_deploy",
                   str(deploy.id))
        elif deploy.rollback:
            charge(live_before(deploy.at, strictly=True), deploy.at, "rollback", str(deploy.id))
    by_id = {d.id: d for d in succeeded}
    by_sha = {c.sha: c.deploy_id for c in shipped}
    by_title = {c.title: c.deploy_id for c in shipped if c.title}
    for signal in signals:
        if signal.kind == "revert":
            target = _reverted(signal, by_sha, by_title)
            reverted = by_id.get(target) if target is not None else None
            if reverted is not None and signal.at >= reverted.at:
                charge(reverted, signal.at, "revert", signal.ref)
        elif signal.kind == "hotfix":
            charge(live_before(signal.at, strictly=False), signal.at, "hotfix", signal.ref)
    failures = []
    for deploy in in_period:
        if deploy.id in first:
            at, kind, ref = first[deploy.id]
            failures.append(Failure(deploy, kind, ref, at, _restored(succeeded, deploy, at)))
    return failures


def _reverted(signal: Signal, by_sha: dict[str, int], by_title: dict[str, int]) -> int | None:
    if signal.reverts_sha:
        wanted = signal.reverts_sha.lower()
        if wanted in by_sha:
            return by_sha[wanted]
        if len(wanted) < 40:  # Git abbreviated it: rare, so looked for one by one
            for sha, deploy_id in by_sha.items():
                if sha.startswith(wanted):
                    return deploy_id
    return by_title.get(signal.reverts_title) if signal.reverts_title else None


def _restored(succeeded: Sequence[Deploy], failed: Deploy, at: datetime) -> Deploy | None:
    """The first successful deploy after `at` that does not put the failed commit back."""
    return next((d for d in succeeded if d.at > at and d.sha != failed.sha), None)


def _weeks(since: datetime, until: datetime, deploys: Sequence[Deploy],
           lead_times: Sequence[LeadTime], failures: Sequence[Failure]) -> tuple[Week, ...]:
    weeks = []
    start = week_start(since)
    while start < until:
        end = start + WEEK
        count = sum(1 for d in deploys if start <= d.at < end)
        failed = [f for f in failures if start <= f.deploy.at < end]
        weeks.append(Week(
            start=start, deployments=count,
            lead_time=_median(lt.duration for lt in lead_times if start <= lt.deployed_at < end),
            change_failure_rate=len(failed) / count if count else None,
            time_to_restore=_median(f.restore for f in failed if f.restore is not None)))
        start = end
    return tuple(weeks)


def week_start(moment: datetime) -> datetime:
    """The Monday 00:00 of `moment`'s week, in `moment`'s time zone."""
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def _median(values: Iterable[timedelta | None]) -> timedelta | None:
    found = sorted(v for v in values if v is not None)
    if not found:
        return None
    middle = len(found) // 2
    return found[middle] if len(found) % 2 else (found[middle - 1] + found[middle]) / 2


def revert_of(message: str) -> tuple[str | None, str | None] | None:
    """What a commit message reverts, as Git writes it: (SHA from "This reverts commit
    <sha>", title from `Revert "<title>"`); None when it reverts nothing."""
    lines = message.strip().splitlines()
    title = _REVERT_TITLE.match(lines[0]) if lines else None
    sha = _REVERTS_SHA.search(message)
    if title is None and sha is None:
        return None
    return (sha["sha"].lower() if sha else None, title["title"] if title else None)


def is_rollback(*, sha: str, live_sha: str | None, shipped_before: bool,
                compare_status: str | None = None) -> bool:
    """A successful deploy goes back: GitHub says the commit is behind what was live, or
    the commit was shipped to the environment before and is not what is live now."""
    if live_sha is None or sha == live_sha:
        return False
    return compare_status == "behind" or shipped_before


_PERIOD = re.compile(r"^(\d{1,5})([hdw])$")
_PERIOD_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
MAX_PERIOD = timedelta(days=400)


def parse_period(text: str) -> timedelta:
    """`7d`, `30d`, `12w`, `48h`: a ValueError in one line for anything else."""
    match = _PERIOD.match(text.strip().lower())
    if match is None:
        raise ValueError(f"a period is a number and d, w or h (7d, 30d, 12w), not {text!r}")
    period = int(match[1]) * _PERIOD_UNITS[match[2]]
    if period < timedelta(hours=1):
        raise ValueError(f"a period must be at least an hour, not {text!r}")
    if period > MAX_PERIOD:
        raise ValueError(f"a period may be at most 400 days, not {text!r}")
    return period
