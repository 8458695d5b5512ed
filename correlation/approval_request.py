"""An approval request: a deployment line on a card that waits for people to decide.

Read off the card alone (no IO), so the buttons, the clicks, the scheduler and the expiry
sweep all agree on which request a deployment stands for, on its key: one per waiting
deployment (a GitHub Actions run attempt, a deploy tool's deployment id, else the commit)
and environment, stable while it waits; and on where it stands (`standing`, which gathers
the facts for `correlation.approval_state.request_state` to decide).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from string import Formatter

from correlation.approval_state import RequestFacts, RequestState, request_state
from correlation.card import CommitCard, DeploymentLine
from correlation.policies import ApprovalPolicy, Policies
from correlation.reminders import approval_expiry_noted
from correlation.status import Status

MAX_KEY = 380  # the key is stored as a claim ("approval:" + key) in 400 characters


@dataclass(frozen=True)
class ApprovalRequest:
    repo: str
    sha: str
    environment: str
    key: str
    since: datetime  # when it started waiting, as the card knows it
    signoff: bool  # a deployed change the person who asked for it tries, not a waiting deploy
    source: str
    run_id: int | None = None  # the GitHub Actions run whose deployment waits
    deployment_id: str | None = None
    reviewers: tuple[str, ...] = ()
    url: str | None = None

    @property
    def label(self) -> str:
        """The request in a few words, for the audit log: `production · run 30433642`."""
        what = (f" · run {self.run_id}" if self.run_id is not None
                else f" · deployment {self.deployment_id}" if self.deployment_id else "")
        return f"{self.environment}{what}{' · sign-off' if self.signoff else ''}"[:200]

    @property
    def decision_key(self) -> str:
        """The claim that makes the decision happen once, whoever clicks and how often."""
        return f"approval:{self.key}"


@dataclass(frozen=True)
class Standing:
    """An approval request, the facts about it, and the state they give it now."""

    request: ApprovalRequest
    facts: RequestFacts
    state: RequestState


def standing(card: CommitCard, deployment: DeploymentLine, policies: Policies,
             now: datetime) -> Standing | None:
    """Where the request the deployment line stands for is at `now`: waiting, expired or
    decided; None when the line asks nobody to decide."""
    request = _request_of(card, deployment, policies.approval(deployment.environment))
    if request is None:
        return None
    facts = RequestFacts(
        since=request.since,
        expires_after=policies.approval_expiry(request.environment, signoff=request.signoff),
        marked_expired=(marked_expired(deployment, request)
                        or approval_expiry_noted(card, deployment.environment)),
        decided=_decided(deployment, request),
    )
    return Standing(request, facts, request_state(facts, now))


def request_for(card: CommitCard, deployment: DeploymentLine,
                policy: ApprovalPolicy | None) -> ApprovalRequest | None:
    """The open request the deployment line stands for; None when nothing waits for a
    decision (not waiting, or decided from here already)."""
    request = _request_of(card, deployment, policy)
    return None if request is None or _decided(deployment, request) else request


def decided_request(card: CommitCard, deployment: DeploymentLine,
                    policy: ApprovalPolicy | None) -> ApprovalRequest | None:
    """The request the deployment line stands for, once it was decided from here."""
    request = _request_of(card, deployment, policy)
    return request if request is not None and _decided(deployment, request) else None


def _request_of(card: CommitCard, deployment: DeploymentLine,
                policy: ApprovalPolicy | None) -> ApprovalRequest | None:
    """The request the deployment line stands for, decided or not."""
    if deployment.status is Status.WAITING:
        signoff = False
    elif deployment.status is Status.SUCCESS and policy is not None and policy.notify_author:
        signoff = True
    else:
        return None
    approval = deployment.approval
    run_id = approval.run_id if approval and not signoff else None
    key = _key(card, deployment, run_id, signoff)
    return ApprovalRequest(
        repo=card.repo, sha=card.sha, environment=deployment.environment, key=key,
        since=deployment.updated_at, signoff=signoff, source=deployment.source,
        run_id=run_id, deployment_id=deployment.deployment_id,
        reviewers=approval.reviewers if approval else (), url=deployment.url,
    )


def marked_expired(deployment: DeploymentLine, request: ApprovalRequest) -> bool:
    """The deployment line already says this request expired (a refused click, or the
    expiry sweep, recorded it)."""
    approval = deployment.approval
    return bool(approval and approval.state == "expired" and approval.request == request.key)


def _decided(deployment: DeploymentLine, request: ApprovalRequest) -> bool:
    approval = deployment.approval
    return bool(approval and approval.request == request.key
                and approval.state in ("approved", "rejected"))


def _key(card: CommitCard, deployment: DeploymentLine, run_id: int | None,
         signoff: bool) -> str:
    key = f"{card.repo}@{card.sha}:{deployment.environment.casefold()}"
    if run_id is not None:
        # A re-run of the run waits anew: its attempt is a new request.
        attempts = [int(c.details["run_attempt"]) for c in card.checks
                    if c.details.get("run_id") == run_id
                    and isinstance(c.details.get("run_attempt"), int)]
        key += f":run-{run_id}.{max(attempts, default=1)}"
    elif deployment.deployment_id:
        key += f":deployment-{deployment.deployment_id}"
    if signoff:
        key += ":signoff"
    if len(key) > MAX_KEY:
        key = key[:MAX_KEY - 65] + ":" + hashlib.sha256(key.encode()).hexdigest()
    return key


def template_values(card: CommitCard, request: ApprovalRequest) -> dict[str, str]:
    """What `{placeholders}` in a promotion job's parameters stand for."""
    pr = card.pull_request
    return {
        "sha": card.sha,
        "short_sha": card.short_sha,
        "repo": card.repo,
        "environment": request.environment,
        "pr": str(pr.number) if pr else "",
    }


def substitute(template: str, values: dict[str, str]) -> str:
    """The template with each `{name}` replaced by its value: plain text, no format specs,
    attribute access or evaluation (the config refuses templates that try)."""
    out = []
    for literal, name, _, _ in Formatter().parse(template):
        out.append(literal)
        if name is not None:
            out.append(values[name])
    return "".join(out)


def ago(delta: timedelta) -> str:
    """`3h 5m`, `2d 4h`, `45s`: a span in words short enough for a one-line reply."""
    seconds = max(int(delta.total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "m")] if days or hours or minutes \
        else [(seconds, "s")]
    shown = [f"{n}{unit}" for n, unit in parts if n][:2]
    return " ".join(shown) or "0s"
