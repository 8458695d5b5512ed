"""Which GitHub Actions runs a card shows, and what it calls them.

One workflow can run several times on one commit: once for each event that triggers it
(`on: [push, pull_request]` runs it for the push and for the pull request), and again when
the same event comes again (a pull request reopened, a manual dispatch). Each trigger's
latest run is a line of its own, so a failed pull request run is not hidden by a push run
that passed later. A newer run of the same trigger replaces the older one, a re-run (the
same run, a later attempt) replaces its earlier attempt, and the jobs of a replaced run
go with it. A workflow shown on several lines names each after its trigger:
"CI (pull_request)", "CI (push)", and their jobs "CI (push) / test".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from correlation.events import Event, Slot

__all__ = ["RunLines", "run_lines"]


@dataclass(frozen=True)
class RunLines:
    """The workflow and job events a card shows, and the names of those shown under
    another name than their own."""

    workflows: tuple[Event, ...] = ()
    jobs: tuple[Event, ...] = ()
    names: Mapping[Slot, str] = field(default_factory=dict)


def run_lines(workflows: Iterable[Event], jobs: Iterable[Event]) -> RunLines:
    """The lines of a card's `workflow` and `job` events (each the winner of its slot).

    Slots hold one run each (state stored before they did holds one per workflow or job
    name), so what is current is decided here, from the runs' ids, attempts and triggers.
    """
    workflows, jobs = list(workflows), list(jobs)
    actions = [e for e in workflows if e.source == "github"]
    # One event per run: a run stored in two slots (an older state's and a newer) is one.
    runs = _greatest_by(actions, lambda e: ("run", _run_id(e)) if _run_id(e) is not None
                        else ("slot", e.slot))
    lines = _greatest_by(runs, lambda e: (_workflow_of(e), e.data.get("trigger")))
    current = {_run_id(e) for e in lines} - {None}
    replaced = {_run_id(e) for e in actions} - current

    shown_jobs = _greatest_by(
        [e for e in jobs if e.source == "github" and _run_id(e) not in replaced],
        # A job of a run no workflow line knows yet: the latest run's, as it always was.
        lambda e: (_run_id(e) if _run_id(e) in current else None,
                   e.data.get("workflow"), e.data.get("job") or _own_name(e)),
    )
    names = _names(lines)
    line_of_run = {_run_id(e): names[e.slot] for e in lines if e.slot in names}
    for job in shown_jobs:
        run_name = line_of_run.get(_run_id(job))
        if run_name is not None:
            names[job.slot] = f"{run_name} / {job.data.get('job') or _own_name(job)}"
    return RunLines(
        workflows=(*lines, *(e for e in workflows if e.source != "github")),
        jobs=(*shown_jobs, *(e for e in jobs if e.source != "github")),
        names=names,
    )


def _names(lines: list[Event]) -> dict[Slot, str]:
    """Names for the lines of a workflow shown more than once: its name and the trigger,
    and the run's number as well where one trigger ran two workflows of one name."""
    by_name: dict[str, list[Event]] = {}
    for line in lines:
        by_name.setdefault(_own_name(line), []).append(line)
    names: dict[Slot, str] = {}
    for name, group in by_name.items():
        if len(group) < 2:
            continue
        triggers = Counter(e.data.get("trigger") for e in group)
        for line in group:
            trigger = line.data.get("trigger")
            parts = [str(trigger)] if trigger else []
            if not trigger or triggers[trigger] > 1:
                parts.append(f"run {line.data.get('run_number') or _run_id(line)}")
            names[line.slot] = f"{name} ({', '.join(parts)})"
    return names


def _greatest_by(events: Iterable[Event], key: Any) -> list[Event]:
    """The newest event of each `key`: the latest run and attempt, then the latest news."""
    chosen: dict[Any, Event] = {}
    for event in events:
        k = key(event)
        if k not in chosen or _newness(event) > _newness(chosen[k]):
            chosen[k] = event
    return sorted(chosen.values(), key=lambda e: e.slot)


def _newness(event: Event) -> tuple[Any, ...]:
    return (event.generation, event.moment, event.slot)


def _run_id(event: Event) -> int | None:
    run_id = event.data.get("run_id")
    return run_id if isinstance(run_id, int) and not isinstance(run_id, bool) else None


def _workflow_of(event: Event) -> str:
    """The workflow a run is of: its id (older state named the slot after it)."""
    workflow_id = event.data.get("workflow_id")
    return str(workflow_id) if workflow_id is not None else event.name.split("#", 1)[0]


def _own_name(event: Event) -> str:
    return str(event.data.get("display_name") or event.name)
