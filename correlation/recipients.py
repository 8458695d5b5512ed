"""Who hears of something that happened on a card: whom its thread reply mentions, and
whom it is sent to as a direct message, given each person's preferences as plain data.

Decided here only. A person is mentioned or messaged as before unless their preferences
say otherwise: `dm-failures` and `dm-reviews` add a direct message about their own commits
and pull requests; `mute-own` drops whatever their own action caused (a deploy they
started waiting for approval, a re-run they clicked failing). During their quiet hours
nothing pings them: they are not mentioned and sent no direct message, and what either
would have told them is held for the digest they get when their quiet hours end.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from correlation.card import CheckLine, DeploymentLine, Rerun
from correlation.prefs import NO_PREFS, Prefs, is_quiet

__all__ = ["Notice", "NoticeKind", "Recipients", "rerun_by", "who_hears"]


class NoticeKind(StrEnum):
    FAILURE = "failure"  # a check or deploy of the commit failed
    REVIEW = "review"  # the pull request was approved, or changes were requested
    APPROVAL_REQUEST = "approval_request"  # a deploy waits for someone's approval
    # Whoever tried a deploy out asked for changes: told in the thread, and by DM only
    # where the route sends DMs (`dm_author_on_failure`).
    CHANGES_REQUESTED = "changes_requested"
    NUDGE = "nudge"  # a reminder in the thread: mentions only


@dataclass(frozen=True)
class Notice:
    """Something to tell: `about` is the Slack user it concerns (the commit's or pull
    request's author), `actor` the one whose action caused it, if a person's;
    `mentions` who the thread reply would mention; `route_dm`: the route sends the author
    a direct message about failures (`dm_author_on_failure`)."""

    kind: NoticeKind
    about: str | None = None
    actor: str | None = None
    mentions: tuple[str, ...] = ()
    route_dm: bool = False


@dataclass(frozen=True)
class Recipients:
    mentions: tuple[str, ...] = ()  # mentioned in the thread reply
    dms: tuple[str, ...] = ()  # sent a direct message now
    held: tuple[str, ...] = ()  # in their quiet hours: told in their digest instead

    def direct(self) -> list[tuple[str, bool]]:
        """Each person told directly, and whether it is held for their digest."""
        return [*((user, False) for user in self.dms), *((user, True) for user in self.held)]


def who_hears(notice: Notice, prefs: Mapping[str, Prefs],
              now: datetime | None = None) -> Recipients:
    """The mentions and direct messages `notice` owes, by the people's `prefs` (someone
    absent has chosen nothing), and whose are held for the digest because `now` falls in
    their quiet hours (None: nobody's are)."""

    def of(person: str) -> Prefs:
        return prefs.get(person, NO_PREFS)

    def own(person: str) -> bool:
        return person == notice.actor and of(person).mute_own

    def quiet(person: str) -> bool:
        return now is not None and is_quiet(of(person), now)

    told = list(dict.fromkeys(m for m in notice.mentions if m and not own(m)))
    about = notice.about
    if about and not own(about) and (
            (notice.kind is NoticeKind.FAILURE and (notice.route_dm or of(about).dm_failures))
            or (notice.kind is NoticeKind.REVIEW and of(about).dm_reviews)
            or (notice.kind is NoticeKind.CHANGES_REQUESTED and notice.route_dm)):
        dms = [about]
    else:
        dms = []
    return Recipients(tuple(m for m in told if not quiet(m)),
                      tuple(d for d in dms if not quiet(d)),
                      tuple(dict.fromkeys(p for p in [*told, *dms] if quiet(p))))


def rerun_by(reruns: Sequence[Rerun], checks: Sequence[CheckLine],
             deployments: Sequence[DeploymentLine] = ()) -> str | None:
    """Who caused the failures a reply tells, by clicking Retry on the card: the one person
    who re-ran every one of them (a check's own slot, or a job of the Actions run re-run);
    None when any was not re-run from the card, or re-run by someone else."""
    if deployments or not checks:
        return None
    found = set()
    for check in checks:
        run_id = check.details.get("run_id")
        found.add(next((r.by for r in reruns if r.slot == check.slot
                        or (r.run_id is not None and run_id == r.run_id)), None))
    return found.pop() if len(found) == 1 else None
