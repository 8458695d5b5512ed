"""Decisions and expiries as events of the card (source `devexbot`), so they fold,
publish and survive like every other fact about the commit.

The decision is an `approval` event of the environment (the newest approval wins the
deployment line, whatever its source), and each decider an `approver` event, one slot per
person: the fold stays order-independent and duplicate-proof.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from correlation import Event
from correlation.approval_request import ApprovalRequest
from correlation.status import Status
from devexbot.store.ingest import Ingest
from devexbot.store.models import utcnow

SOURCE = "devexbot"
_STATUS = {"approved": Status.SUCCESS, "rejected": Status.FAILURE, "expired": Status.NEUTRAL}


class ApprovalEvents:
    """Records decisions and expiries on the request's card."""

    def __init__(self, ingest: Ingest) -> None:
        self._ingest = ingest

    def record_decision(self, request: ApprovalRequest, *, state: str, by: Sequence[str],
                        comment: str | None = None) -> None:
        """The request was approved or rejected by `by` (Slack user ids)."""
        self._record(request, state, by=by, comment=comment)


    def mark_expired(self, request: ApprovalRequest) -> bool:
        """The card says the request expired; False if it said so already."""
        return self._record(request, "expired", by=())


    def _record(self, request: ApprovalRequest, state: str, *, by: Sequence[str],
                comment: str | None = None) -> bool:
        now = utcnow()
        status = _STATUS[state]
        data: dict[str, Any] = {
            "state": state, "request": request.key, "run_id": request.run_id,
            "reviewers": list(request.reviewers) or None, "comment": comment,
            "since": request.since.isoformat(),
        }
        events = [Event(repo=request.repo, sha=request.sha, source=SOURCE, kind="approval",
                        name=request.environment, at=now, status=status,
                        data={k: v for k, v in data.items() if v is not None})]
        events += [Event(repo=request.repo, sha=request.sha, source=SOURCE, kind="approver",
                         name=f"{request.environment}:{user}", at=now, status=status,
                         data={"environment": request.environment, "login": user, "state": state,
                               "request": request.key})
                   for user in by]
        # One delivery per request and outcome: recording it twice changes nothing.
        digest = hashlib.sha256(request.key.encode()).hexdigest()
        result = self._ingest.record(source=SOURCE, delivery_id=f"approval:{state}:{digest}",
                                     event_type=f"approval_{state}", events=events)
        return result.outcome != "duplicate"
