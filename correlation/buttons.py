"""Which buttons a card shows, and why a button is missing ("Merge: 2 checks failing").

Decided once, here, from the card, the policies and the time, so the Slack message and the
web card show the same buttons; `correlation.button_blocks` draws them as Block Kit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from correlation.approval_request import standing
from correlation.approval_state import RequestState
from correlation.button_blocks import ActionId, Button, ButtonRef, Confirm, Menu
from correlation.card import CommitCard
from correlation.custom_buttons import custom_buttons
from correlation.enqueue import ENQUEUE_LABEL, in_queue, queue_offered
from correlation.merge_methods import (
    MERGE_LABELS,
    RepoMergeSettings,
    merge_methods,
    no_merge_method,
)
from correlation.mrkdwn import escape, one_line
from correlation.policies import MergePolicy, Policies, RetryPolicy
from correlation.retry import retry_shown
from correlation.status import Status

__all__ = ["ActionId", "Button", "ButtonRef", "Buttons", "Confirm", "Menu", "card_buttons",
           "decision_buttons", "merge_candidate", "pr_menus"]

MAX_RETRY_BUTTONS = 5
MAX_ACTION_ID = 255
MENUS = ((ActionId.REQUEST_REVIEW, "Request review"), (ActionId.LABEL, "Add label"))


@dataclass(frozen=True)
class Buttons:
    """What a card offers now, and why an offer is missing (mrkdwn, our own words only)."""

    elements: tuple[Button | Menu, ...] = ()
    notes: tuple[str, ...] = ()


def card_buttons(card: CommitCard, policies: Policies, now: datetime,
                 merge_settings: RepoMergeSettings | None = None) -> Buttons:
    """The buttons for the card as it stands: what a person may decide here now.
    `merge_settings`: what the repository's settings on GitHub allow, as last read."""
    if card.superseded_by:
        return Buttons()
    merge, merge_notes = _merge(card, policies.merge, merge_settings)
    approvals, approval_notes = _approvals(card, policies, now)
    return Buttons(
        elements=(*merge, *_retries(card, policies.retry), *approvals,
                  *custom_buttons(card, policies.buttons), *pr_menus(card)),
        notes=(*merge_notes, *approval_notes),
    )


def merge_candidate(card: CommitCard) -> bool:
    """The card is its open pull request's head: whether it has a Merge button, and which,
    may depend on what the repository allows."""
    pr = card.pull_request
    return (not card.superseded_by and pr is not None and pr.state == "open"
            and pr.head_sha == card.sha)


def _merge(card: CommitCard, policy: MergePolicy,
           settings: RepoMergeSettings | None) -> tuple[list[Button], list[str]]:
    pr = card.pull_request
    if pr is None or not merge_candidate(card):
        return [], []
    if any(stamp.action == "merge" for stamp in card.stamps):
        return [], []  # merged from here; GitHub's own news of it is on its way
    if pr.draft:
        return [], [f"Merge: #{pr.number} is a draft"]
    failing = [c.name for c in card.checks if c.status is Status.FAILURE]
    reasons = []
    if failing:
        reasons.append(f"{len(failing)} check{'s' if len(failing) != 1 else ''} failing")
    if pr.review == "changes_requested":
        reasons.append("changes requested")
    if reasons:
        return [], ["Merge unavailable: " + ", ".join(reasons)]
    if queue_offered(card, settings):
        return _enqueue(card), []
    methods = merge_methods(card.repo, policy, settings)
    if not methods:
        return [], [escape(no_merge_method(card.repo, policy, settings))]
    # One button, the most preferred method the repository allows: a tap on a phone does
    # what the team merges by; the label says which.
    method, base = methods[0], pr.base or "its base branch"
    label = MERGE_LABELS[method]
    value = ButtonRef(card.repo, card.sha, pr=pr.number, method=method)
    return [_button(label, ActionId.MERGE, value, style="primary",
                    confirm=_confirm(f"Merge #{pr.number}?",
                                     f"{label} #{pr.number} into {base} at "
                                     f"{card.short_sha}.", label))], []


def _enqueue(card: CommitCard) -> list[Button]:
    """"Add to merge queue" where the base branch takes pull requests only through GitHub's
    merge queue (the queue merges by its own method); none once the pull request is in it:
    the card's queue line says since when."""
    pr = card.pull_request
    if pr is None or in_queue(card):
        return []
    base = pr.base or "its base branch"
    value = ButtonRef(card.repo, card.sha, pr=pr.number)
    return [_button(ENQUEUE_LABEL, ActionId.ENQUEUE, value, style="primary",
                    confirm=_confirm(f"Add #{pr.number} to the merge queue?",
                                     f"Add #{pr.number} at {card.short_sha} to the merge "
                                     f"queue of {base}: GitHub merges it once the queue's "
                                     "checks pass.", "Add to queue"))]


def _retries(card: CommitCard, policy: RetryPolicy) -> list[Button]:
    failed = [c for c in card.checks
              if c.kind in ("build", "workflow")
              and c.status in (Status.FAILURE, Status.CANCELLED)
              and (_jenkins_retry(c.details.get("job"), card.repo, policy)
                   if c.source == "jenkins" else c.details.get("run_id"))]
    return [_button(f"Retry {check.name}", ActionId.RETRY,
                    ButtonRef(card.repo, card.sha, target=check.name, slot=check.slot))
            for check in failed[:MAX_RETRY_BUTTONS]]


def _jenkins_retry(job: object, repo: str, policy: RetryPolicy) -> bool:
    return isinstance(job, str) and bool(job) and retry_shown(job, repo, policy)


def _approvals(card: CommitCard, policies: Policies,
               now: datetime) -> tuple[list[Button], list[str]]:
    buttons: list[Button] = []
    notes: list[str] = []
    for deployment in card.deployments:
        if deployment.status is not Status.WAITING:
            continue
        env = deployment.environment
        shown = escape(one_line(env), 60)
        policy = policies.approval(env)
        if policy is None:
            notes.append(f"{shown}: decide where it waits (the bot has no approval policy "
                         "for it)")
            continue
        found = standing(card, deployment, policies, now)
        if found is None or found.state is RequestState.DECIDED:
            continue
        if found.state is RequestState.EXPIRED:
            if not found.facts.marked_expired:  # else the card says so already
                notes.append(f"⌛ {shown}: the approval request expired")
            continue
        value = ButtonRef(card.repo, card.sha, target=env)
        buttons.append(_button(f"Approve {env}", ActionId.APPROVE, value, style="primary"))
        buttons.append(_button(f"Reject {env}", ActionId.REJECT, value, style="danger"))
        if policy.required > 1:
            notes.append(f"{shown} needs {policy.required} approvals")
    return buttons, notes


def pr_menus(card: CommitCard) -> list[Menu]:
    """The "Request review" and "Add label" menus of an open pull request's head commit
    card. The card travels in the menu's `action_id`: a select has no `value`."""
    pr = card.pull_request
    if card.superseded_by or pr is None or pr.state != "open" or pr.head_sha != card.sha:
        return []
    ref = ButtonRef(card.repo, card.sha, pr=pr.number)
    menus = []
    for action, placeholder in MENUS:
        action_id = menu_action_id(action, ref)
        if len(action_id) > MAX_ACTION_ID:
            continue  # an extraordinarily long repo name: no menu rather than a broken one
        menus.append(Menu(action_id, placeholder))
    return menus


def menu_action_id(action: ActionId, ref: ButtonRef) -> str:
    return f"{action.value}:{ref.encode()}"


def decision_buttons(card: CommitCard, environment: str) -> tuple[Button, ...]:
    """Approve / Request changes, for the person who asked for a change to try it."""
    value = ButtonRef(card.repo, card.sha, target=environment)
    return (_button("Approve", ActionId.APPROVE, value, style="primary"),
            _button("Request changes", ActionId.REJECT, value))


def _button(text: str, action: ActionId, value: ButtonRef, *,
            style: Literal["primary", "danger"] | None = None,
            confirm: Confirm | None = None) -> Button:
    return Button(
        action_id=f"{action.value}:{value.target or value.method or ''}"[:MAX_ACTION_ID],
        label=text[:75], value=value, style=style, confirm=confirm)


def _confirm(title: str, text: str, go: str) -> Confirm:
    return Confirm(title[:100], text[:300], go[:30])
