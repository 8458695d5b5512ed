"""Deciding a request, once: whoever clicks last and however often, the decision is
carried out exactly once (the request's decision claim sees to that), recorded on the
card, and told to the commit's tickets."""

from __future__ import annotations

from typing import Protocol

from correlation.approval_request import ApprovalRequest
from correlation.approval_votes import decided_before
from correlation.card import CommitCard
from devexbot.actions.claims import Claims
from devexbot.actions.core import Refused
from devexbot.approvals.card_events import ApprovalEvents
from devexbot.approvals.effect import Decision, DecisionEffects
from devexbot.approvals.ledger import Ledger
from devexbot.config import ApprovalPolicy


class TicketComments(Protocol):
    """Tells the commit's tickets of a decision (a comment per ticket, once; without an
    issue tracker, nothing). `decision` is approved, changes_requested or rejected."""

    def __call__(self, repo: str, sha: str, environment: str, decision: str, by: str,
                 reason: str | None = None) -> int: ...


class Decisions:
    def __init__(self, claims: Claims, ledger: Ledger, effects: DecisionEffects,
                 events: ApprovalEvents, tickets: TicketComments) -> None:
        self._claims, self._ledger, self._effects = claims, ledger, effects
        self._events, self._tickets = events, tickets

    def check_undecided(self, request: ApprovalRequest, *, user: str) -> None:
        """Refused if the request was decided already (from here), in words for `user`."""
        if self._claims.state(request.decision_key) == "done":
            decisions = self._ledger.decisions_of(request.key)
            rejected = [d.slack_user for d, decision in decisions if decision == "rejected"]
            state, by = ("rejected", rejected) if rejected else (
                "approved", [d.slack_user for d, decision in decisions])
            raise Refused(decided_before(request.environment, state, by, user=user,
                                         signoff=request.signoff))

    def decide(self, card: CommitCard, request: ApprovalRequest, policy: ApprovalPolicy,
               decision: Decision, *, user: str, retry: bool = False) -> str | None:
        """Carry the decision out once; what was done, or None if another click has it in
        hand (or has done it). With `retry`, only an attempt that failed (or died) is tried
        again: the click that met the policy is the one that starts it."""
        if retry and self._claims.state(request.decision_key) is None:
            return None
        if not self._claims.take(request.decision_key, user):
            return None
        try:
            done = self._effects.carry_out(card, request, policy, decision)
            self._events.record_decision(request, state=decision.state,
                                         by=[d.slack_user for d in decision.deciders],
                                         comment=decision.reason)
            said = decision.state if decision.state == "approved" else (
                "changes_requested" if request.signoff else "rejected")
            self._tickets(request.repo, request.sha, request.environment, said, user,
                          decision.reason)
        except BaseException:
            self._claims.release(request.decision_key)
            raise
        self._claims.finish(request.decision_key)
        return done
