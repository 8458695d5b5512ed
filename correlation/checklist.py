"""How a card's checks read in a message: jobs grouped under their workflow, passing ones
collapsed into a count when there are many, failures first."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from correlation.card import CheckLine
from correlation.mrkdwn import escape, link, one_line
from correlation.status import Status, overall

STATUS_EMOJI: Mapping[Status, str] = MappingProxyType(
    {
        Status.PENDING: "⏳",
        Status.RUNNING: "🔄",
        Status.WAITING: "✋",
        Status.SUCCESS: "✅",
        Status.FAILURE: "❌",
        Status.CANCELLED: "🚫",
        Status.SKIPPED: "⏭️",
        Status.NEUTRAL: "⚪",
    }
)

# What a status is called where a person reads it without the emoji (the web's labels).
STATUS_LABEL: Mapping[Status, str] = MappingProxyType(
    {
        Status.PENDING: "pending",
        Status.RUNNING: "running",
        Status.WAITING: "waiting for approval",
        Status.SUCCESS: "passed",
        Status.FAILURE: "failed",
        Status.CANCELLED: "cancelled",
        Status.SKIPPED: "skipped",
        Status.NEUTRAL: "neutral",
    }
)

COLLAPSE_ABOVE = 8  # more lines than this and the passing ones become a count
GROUP_JOBS_FROM = 4  # a workflow with this many jobs shows as one line
NAME_LIMIT = 100
SUMMARY_LIMIT = 150

# Quiet outcomes are what collapses; the rest is listed, in this order.
QUIET = frozenset({Status.SUCCESS, Status.SKIPPED, Status.NEUTRAL})
_LISTING_ORDER = {
    status: i
    for i, status in enumerate(
        [Status.FAILURE, Status.WAITING, Status.RUNNING, Status.PENDING, Status.CANCELLED,
         Status.SUCCESS, Status.NEUTRAL, Status.SKIPPED]
    )
}
# Counts read "12 checks passed, 2 running, 1 failed: ci/test": failures last, with names.
_COUNT_WORDS = (
    (Status.SUCCESS, "passed"),
    (Status.RUNNING, "running"),
    (Status.PENDING, "pending"),
    (Status.WAITING, "waiting"),
    (Status.CANCELLED, "cancelled"),
    (Status.SKIPPED, "skipped"),
    (Status.NEUTRAL, "neutral"),
    (Status.FAILURE, "failed"),
)


@dataclass(frozen=True)
class Unit:
    """One line of the card's check list: a single check, or a workflow and its jobs.
    `text` is the line's mrkdwn after its status emoji."""

    status: Status
    text: str
    leaves: tuple[CheckLine, ...]
    position: int

    @property
    def line(self) -> str:
        return f"{STATUS_EMOJI[self.status]} {self.text}"


@dataclass(frozen=True)
class CheckList:
    """The check list as every card shows it (Slack's message and the web's card): all of
    it when few; else a count ("12 checks passed, 1 failed: ci/test") heads the lines that
    need attention, and the quiet ones fold under the count."""

    summary: str | None  # mrkdwn, without its emoji; None when nothing is folded
    summary_status: Status
    shown: tuple[Unit, ...]
    folded: tuple[Unit, ...] = ()


def check_units(checks: Sequence[CheckLine]) -> list[Unit]:
    """Every line of the check list, failures first: what `check_lines` lists when few."""
    return sorted(_units(checks), key=lambda u: (_LISTING_ORDER[u.status], u.position))


def check_list(checks: Sequence[CheckLine]) -> CheckList:
    """Which lines a card lists, which it folds into a count, and the count's words."""
    units = check_units(checks)
    counted = [leaf for u in units for leaf in u.leaves]
    status = overall(c.status for c in counted)
    if len(units) <= COLLAPSE_ABOVE:
        return CheckList(None, status, tuple(units))
    return CheckList(count_phrase(counted), status,
                     tuple(u for u in units if u.status not in QUIET),
                     tuple(u for u in units if u.status in QUIET))


def check_lines(checks: Sequence[CheckLine]) -> list[str]:
    """The check list as mrkdwn lines: all of them when few; else a count line first, then
    only the ones that need attention."""
    listed = check_list(checks)
    summary = [f"{STATUS_EMOJI[listed.summary_status]} {listed.summary}"] if listed.summary else []
    return [*summary, *(u.line for u in listed.shown)]


@dataclass(frozen=True)
class FailedTest:
    name: str
    message: str | None = None


def failed_tests(check: CheckLine) -> list[FailedTest]:
    """The failed tests a check's payload named (`details["failed_tests"]`: names, or
    `{"name", "message"}`), read defensively: anything else is skipped."""
    raw = check.details.get("failed_tests")
    found: list[FailedTest] = []
    for item in raw if isinstance(raw, list) else ():
        name = item if isinstance(item, str) else (
            item.get("name") if isinstance(item, Mapping) else None)
        if not isinstance(name, str) or not name.strip():
            continue
        message = item.get("message") if isinstance(item, Mapping) else None
        found.append(FailedTest(name.strip(), message.strip()
                                if isinstance(message, str) and message.strip() else None))
    return found


def count_phrase(
    leaves: Sequence[CheckLine],
    *,
    noun: str = "check",
    name: Callable[[CheckLine], str] | None = None,
) -> str:
    """"12 checks passed, 1 failed: ci/test"; `name` renders a failure's name (escaped)."""
    counts = Counter(c.status for c in leaves)
    failed = [c for c in leaves if c.status is Status.FAILURE]
    parts: list[str] = []
    for status, word in _COUNT_WORDS:
        n = counts[status]
        if not n:
            continue
        part = f"{n} {word}" if parts else f"{n} {noun}{'' if n == 1 else 's'} {word}"
        if status is Status.FAILURE:
            render = name or (lambda c: escape(one_line(c.name), 60))
            shown = ", ".join(render(c) for c in failed[:3])
            part += f": {shown}" + (f", +{len(failed) - 3} more" if len(failed) > 3 else "")
        parts.append(part)
    return ", ".join(parts) or f"no {noun}s"


def leaves(checks: Sequence[CheckLine]) -> list[CheckLine]:
    """The checks that count: a workflow shown through its grouped jobs is not one itself."""
    return [leaf for unit in _units(checks) for leaf in unit.leaves]


def failures(checks: Sequence[CheckLine]) -> list[CheckLine]:
    """Failed checks, less a failed workflow when one of its own jobs says what failed."""
    groups = _job_groups(checks)
    return [
        check
        for i, check in enumerate(checks)
        if check.status is Status.FAILURE
        and not (
            check.kind == "workflow"
            and any(checks[j].status is Status.FAILURE for j in groups.get(i, ()))
        )
    ]


def check_line(check: CheckLine) -> str:
    """`✅ <url|name> — summary`."""
    return f"{STATUS_EMOJI[check.status]} {_check_text(check)}"


def _check_text(check: CheckLine) -> str:
    name = escape(one_line(check.name), NAME_LIMIT) or "(unnamed)"
    text = link(check.url, name)
    if check.summary:
        text += f" — {escape(one_line(check.summary), SUMMARY_LIMIT)}"
    return text


def _units(checks: Sequence[CheckLine]) -> list[Unit]:
    big = {a: jobs for a, jobs in _job_groups(checks).items() if len(jobs) >= GROUP_JOBS_FROM}
    grouped = {j for jobs in big.values() for j in jobs}
    units = []
    for i, check in enumerate(checks):
        if i in big:
            workflow = check if check.kind == "workflow" else None
            units.append(_group_unit(workflow, [checks[j] for j in big[i]], i))
        elif i not in grouped:
            units.append(Unit(check.status, _check_text(check), (check,), i))
    return units


def _group_unit(workflow: CheckLine | None, jobs: list[CheckLine], position: int) -> Unit:
    name = workflow.name if workflow else _workflow_name(jobs[0]) or "jobs"
    status = overall([j.status for j in jobs] + ([workflow.status] if workflow else []))
    phrase = count_phrase(
        jobs, noun="job", name=lambda j: link(j.url, escape(one_line(_job_name(j)), 60))
    )
    title = link(workflow.url if workflow else None, escape(one_line(name), NAME_LIMIT))
    return Unit(status, f"{title} — {phrase}", tuple(jobs), position)


def _job_groups(checks: Sequence[CheckLine]) -> dict[int, list[int]]:
    """Job indices under the index of their workflow line (same run id, else same workflow
    name); jobs whose workflow never reported sit under the first of them."""
    by_run: dict[object, int] = {}
    by_name: dict[str, int] = {}
    for i, check in enumerate(checks):
        if check.kind == "workflow":
            if _run_id(check) is not None:
                by_run.setdefault(_run_id(check), i)
            by_name.setdefault(check.name, i)
    groups: dict[int, list[int]] = {}
    for i, check in enumerate(checks):
        if check.kind != "job":
            continue
        run_id, workflow = _run_id(check), _workflow_name(check)
        home = by_run.get(run_id) if run_id is not None else None
        if home is None and workflow is not None:
            home = by_name.get(workflow)
        if home is None and (run_id is not None or workflow is not None):
            # No workflow line: the first job of the same run (or workflow) anchors the rest.
            home = by_run.setdefault(run_id, i) if run_id is not None else None
            if home is None and workflow is not None:
                home = by_name.setdefault(workflow, i)
        if home is not None:
            groups.setdefault(home, []).append(i)
    return groups


def _run_id(check: CheckLine) -> object:
    run_id = check.details.get("run_id")
    return run_id if isinstance(run_id, int | str) and not isinstance(run_id, bool) else None


def _workflow_name(job: CheckLine) -> str | None:
    explicit = job.details.get("workflow_name")
    if isinstance(explicit, str) and explicit:
        return explicit
    return job.name.split(" / ", 1)[0] if " / " in job.name else None


def _job_name(job: CheckLine) -> str:
    workflow = _workflow_name(job)
    if workflow and job.name.startswith(f"{workflow} / "):
        return job.name[len(workflow) + 3 :]
    return job.name
