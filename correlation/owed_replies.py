"""Which failure reply a card owes, given the notification keys already recorded for it:
decided here only, so that one failure is one reply whatever reports it, and whenever.

A failure is named by keys that stay the same across the sources reporting it:

- an Actions job, and the check run GitHub makes of it: `check-run:<id>` (a job's id is
  its check run's id);
- a workflow run as a whole: `workflow-run:<run id>:<attempt>`. A failed run says no more
  than its failed jobs, so a reply about a job also records the run's `…:job` key, and
  a run with either key recorded was told. A job of a run told as a whole was told too;
  another job of a run told through one of its jobs was not;
- a Jenkins build: `build-number:<job>#<number>`, and its page (`build-page:<url>`), which
  the commit status or check run Jenkins reports to GitHub for the same build also names;
- every failure also by its slot and time, the keys replies were recorded under before.

A re-run is a new failure: its attempt, its job ids and its build number are new, and the
people who re-ran it wait to hear how it ended.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from correlation.card import CheckLine, CommitCard, DeploymentLine, iso
from correlation.checklist import failures
from correlation.fold import build_page
from correlation.status import Status

__all__ = ["FailureReply", "notification_key", "owed_failure_reply"]

NOTIFICATION_KEY_CHARS = 255  # the notifications table's column
_JENKINS_BUILD_PAGE = re.compile(r"/job/.+/\d+$")


@dataclass(frozen=True)
class FailureReply:
    """A reply telling the failures nobody was told about yet; `keys` are to be recorded
    once it is sent (the keys naming what it tells that were not recorded before)."""

    checks: tuple[CheckLine, ...]
    deployments: tuple[DeploymentLine, ...]
    keys: tuple[str, ...]


def owed_failure_reply(card: CommitCard, sent: Collection[str], *,
                       thread: str | None = None) -> FailureReply | None:
    """The reply `card` owes for the failures on it that no key in `sent` (the keys
    recorded for the card's replies so far) says were told; None when all were.

    `thread` names one of the card's further messages (a commit several routes post has
    one per channel): its thread is told on its own, under keys of its own."""
    def key(name: str) -> str:
        return notification_key(name if thread is None else f"{name}@{thread}")

    checks: list[CheckLine] = []
    deployments: list[DeploymentLine] = []
    keys: dict[str, None] = {}  # in order, and a key two failures share recorded once
    for check in failures(card.checks):
        told_if, records = _keys(check)
        if not any(key(k) in sent for k in told_if):
            checks.append(check)
            keys.update(dict.fromkeys(key(k) for k in records))
    for deployment in card.deployments:
        if deployment.status is not Status.FAILURE:
            continue
        deploy_key = key(f"failure:deploy:{deployment.environment}:"
                         f"{iso(deployment.updated_at)}")
        if deploy_key not in sent:
            deployments.append(deployment)
            keys[deploy_key] = None
    if not checks and not deployments:
        return None
    return FailureReply(tuple(checks), tuple(deployments),
                        tuple(k for k in keys if k not in sent))


def notification_key(key: str) -> str:
    """`key` as the notifications table can hold it: one naming a check or an environment
    with a very long name keeps its head and a digest of the whole, so it still names one
    reply (PostgreSQL refuses a longer value)."""
    if len(key) <= NOTIFICATION_KEY_CHARS:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"{key[:NOTIFICATION_KEY_CHARS - len(digest) - 1]}#{digest}"


def _keys(check: CheckLine) -> tuple[list[str], list[str]]:
    """The keys any of which, recorded, says `check`'s failure was told; and the keys a
    reply telling it records."""
    names = list(_names(check))
    run = _run(check)
    if check.kind == "job" and run:
        # Told if its run was told as a whole; telling it tells its run, not its siblings.
        return [*names, f"failure:github:workflow-run:{run}"], \
            [*names, f"failure:github:workflow-run:{run}:job"]
    if check.kind == "workflow" and run:
        return [*names, f"failure:github:workflow-run:{run}:job"], names
    return names, names


def _names(check: CheckLine) -> Iterator[str]:
    """The keys naming the failure `check` reports, whichever source reports it."""
    yield f"failure:{check.source}:{check.kind}:{check.name}:{iso(check.updated_at)}"
    details = check.details
    run = _run(check)
    if check.kind == "workflow" and run:
        yield f"failure:github:workflow-run:{run}"
    if check.kind in ("job", "check"):
        for check_run in dict.fromkeys((details.get("check_run_id"), details.get("job_id"))):
            if _is_int(check_run):
                yield f"failure:github:check-run:{check_run}"
    number = details.get("build_number")
    if check.kind == "build" and _is_int(number):
        yield f"failure:{check.source}:build-number:{details.get('job')}#{number}"
    page = build_page(check.url)
    if page and _JENKINS_BUILD_PAGE.search(page):
        yield f"failure:build-page:{page}"


def _run(check: CheckLine) -> str | None:
    """`<run id>:<attempt>` of a workflow run or job, as GitHub numbers them."""
    run_id, attempt = check.details.get("run_id"), check.details.get("run_attempt") or 1
    return f"{run_id}:{attempt}" if _is_int(run_id) and _is_int(attempt) else None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
