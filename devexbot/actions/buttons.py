"""Which buttons a card shows, and why a button is missing ("Merge: 2 checks failing")."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from correlation.approval_state import RequestState
from correlation.card import CommitCard
from correlation.mrkdwn import escape, one_line
from correlation.status import Status
from devexbot.actions.custom_buttons import custom_buttons
from devexbot.actions.ids import ActionId, ButtonValue
from devexbot.actions.pr_selects import pr_selects
from devexbot.approvals.request import standing
from devexbot.config import BotConfig
from devexbot.store.models import utcnow

MAX_RETRY_BUTTONS = 5


@dataclass
class CardActions:
    elements: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # mrkdwn, our own words only


def _button(text: str, action: ActionId, value: ButtonValue, *, style: str | None = None,
            confirm: dict[str, Any] | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text[:75], "emoji": True},
        "action_id": f"{action.value}:{value.target or value.method or ''}"[:255],
        "value": value.encode(),
    }
    if style:
        element["style"] = style
    if confirm:
        element["confirm"] = confirm
    return element


def _confirm(title: str, text: str, go: str) -> dict[str, Any]:
    return {
        "title": {"type": "plain_text", "text": title[:100]},
        "text": {"type": "plain_text", "text": text[:300]},
        "confirm": {"type": "plain_text", "text": go[:30]},
        "deny": {"type": "plain_text", "text": "Cancel"},
    }


def card_actions(card: CommitCard, config: BotConfig,
                 now: datetime | None = None) -> CardActions:
    """The buttons for the card as it stands: what a person may decide here now."""
    out = CardActions()
    if card.superseded_by:
        return out
    _merge(card, config, out)
    _retries(card, out)
    _approvals(card, config, out, now or utcnow())
    out.elements += custom_buttons(card, config)
    out.elements += pr_selects(card)
    return out


def _merge(card: CommitCard, config: BotConfig, out: CardActions) -> None:
    pr = card.pull_request
    if pr is None or pr.state != "open" or pr.head_sha != card.sha:
        return
    if any(stamp.action == "merge" for stamp in card.stamps):
        return  # merged from here; GitHub's own news of it is on its way
    if pr.draft:
        out.notes.append(f"Merge: #{pr.number} is a draft")
        return
    failing = [c.name for c in card.checks if c.status is Status.FAILURE]
    reasons = []
    if failing:
        reasons.append(f"{len(failing)} check{'s' if len(failing) != 1 else ''} failing")
    if pr.review == "changes_requested":
        reasons.append("changes requested")
    if reasons:
        out.notes.append("Merge unavailable: " + ", ".join(reasons))
        return
    base = pr.base or "its base branch"
    for method in config.merge.methods:
        value = ButtonValue(r=card.repo, s=card.sha, n=pr.number, m=method)
        label = "Merge" if len(config.merge.methods) == 1 else f"Merge ({method})"
        out.elements.append(_button(
            label, ActionId.MERGE, value, style="primary",
            confirm=_confirm(f"Merge #{pr.number}?",
                             f"{method.capitalize()} #{pr.number} into {base} at "
                             f"{card.short_sha}.", "Merge"),
        ))


def _retries(card: CommitCard, out: CardActions) -> None:
    failed = [c for c in card.checks
              if c.kind in ("build", "workflow")
              and c.status in (Status.FAILURE, Status.CANCELLED)
              and (c.details.get("job") if c.source == "jenkins" else c.details.get("run_id"))]
    for check in failed[:MAX_RETRY_BUTTONS]:
        value = ButtonValue(r=card.repo, s=card.sha, t=check.name)
        out.elements.append(_button(f"Retry {check.name}", ActionId.RETRY, value))


def _approvals(card: CommitCard, config: BotConfig, out: CardActions, now: datetime) -> None:
    for deployment in card.deployments:
        if deployment.status is not Status.WAITING:
            continue
        env = deployment.environment
        shown = escape(one_line(env), 60)
        policy = config.approval_policy(env)
        if policy is None:
            out.notes.append(f"{shown}: decide where it waits (the bot has no approval "
                             "policy for it)")
            continue
        found = standing(card, deployment, config, now)
        if found is None or found.state is RequestState.DECIDED:
            continue
        if found.state is RequestState.EXPIRED:
            if not found.facts.marked_expired:  # else the card says so already
                out.notes.append(f"⌛ {shown}: the approval request expired")
            continue
        value = ButtonValue(r=card.repo, s=card.sha, t=env)
        out.elements.append(_button(f"Approve {env}", ActionId.APPROVE, value,
                                    style="primary"))
        out.elements.append(_button(f"Reject {env}", ActionId.REJECT, value, style="danger"))
        if policy.required > 1:
            out.notes.append(f"{shown} needs {policy.required} approvals")


def decision_buttons(card: CommitCard, environment: str) -> list[dict[str, Any]]:
    """Approve / Request changes, for the person who asked for a change to try it."""
    value = ButtonValue(r=card.repo, s=card.sha, t=environment)
    return [_button("Approve", ActionId.APPROVE, value, style="primary"),
            _button("Request changes", ActionId.REJECT, value)]
