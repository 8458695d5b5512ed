"""Counting approvals: one person's click against the decisions a request has recorded,
and what a click on a decided request is told.

`cast` is decided where the decisions are recorded, inside the transaction that holds the
request's lock, so the count a reply gives is the count that decided: however many people
click at once, the approvals never pass what the policy requires, and exactly one click
is the one that met it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from correlation.mrkdwn import people

__all__ = ["Ballot", "Vote", "VoteOutcome", "cast", "decided_before"]


@dataclass(frozen=True)
class Ballot:
    """One person's recorded decision on a request, in the order they were recorded."""

    user: str
    decision: str  # approved | rejected


class VoteOutcome(StrEnum):
    COUNTED = "counted"  # recorded now: a new approval, or a rejection
    REPEATED = "repeated"  # the same decision again (a double click, Slack's retry)
    LATE = "late"  # an approval after enough people had approved: not recorded


@dataclass(frozen=True)
class Vote:
    """What a click did to the request's decisions, and who approved after it."""

    outcome: VoteOutcome
    approvers: tuple[str, ...]  # in the order they approved
    position: int  # the voter's place among the approvers, 1-based; 0 if not one of them

    @property
    def count(self) -> int:
        return len(self.approvers)

    @property
    def record(self) -> bool:
        """The voter's decision is to be written (new, or replacing their other one)."""
        return self.outcome is VoteOutcome.COUNTED


def cast(ballots: Sequence[Ballot], user: str, decision: str, required: int) -> Vote:
    """`user`'s `decision` against the request's `ballots`: a person's later decision
    replaces their earlier one; an approval once `required` people have approved is late
    and not counted, so the approvals never number more than `required`."""
    mine = next((b.decision for b in ballots if b.user == user), None)
    approvers = [b.user for b in ballots if b.decision == "approved"]
    if mine == decision:
        outcome = VoteOutcome.REPEATED
    elif decision == "approved" and len(approvers) >= required:
        outcome = VoteOutcome.LATE
    else:
        outcome = VoteOutcome.COUNTED
        approvers = [a for a in approvers if a != user]
        if decision == "approved":
            approvers.append(user)
    position = approvers.index(user) + 1 if user in approvers else 0
    return Vote(outcome, tuple(approvers), position)


def decided_before(environment: str, state: str, by: Sequence[str], *, user: str,
                   signoff: bool) -> str:
    """Why a click on a request decided before does nothing, said to the clicker: `you
    already approved test`, or `production was already approved by <@U0BEN>`."""
    others = [b for b in by if b != user]
    if user in by:
        verb = "approved" if state == "approved" else (
            "requested changes on" if signoff else "rejected")
        also = f" (with {people(others, shown=5)})" if others else ""
        return f"you already {verb} {environment}{also}"
    who = people(others, shown=5) if others else "someone"
    if state == "rejected" and signoff:
        return f"{who} already requested changes on {environment}"
    return f"{environment} was already {state} by {who}"
