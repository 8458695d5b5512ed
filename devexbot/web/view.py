"""A stored card as the web shows it: the Slack message's own lines, as HTML, with the
structure a page needs (status per line, the passing checks Slack folds away)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from markupsafe import Markup

from correlation.blocks import (
    commit_line,
    deployment_line,
    first_line,
    outcome,
    pull_request_line,
    tickets_line,
)
from correlation.card import CommitCard
from correlation.checklist import (
    COLLAPSE_ABOVE,
    QUIET,
    STATUS_EMOJI,
    check_lines,
    check_units,
    leaves,
)
from correlation.status import Status, overall
from devexbot.actions.approve import MAX_REASON
from devexbot.actions.ids import ActionId
from devexbot.store import Card
from devexbot.web.mrkdwn_html import mrkdwn_html


@dataclass(frozen=True)
class Line:
    """One line of the card: its status (for colour), emoji, and the message's words."""

    status: str
    emoji: str
    html: Markup


@dataclass(frozen=True)
class WebAction:
    """A button on the web card; the server decides which a card gets (none yet)."""

    label: str
    url: str  # POSTed to
    style: str = "default"  # default | primary | danger
    confirm: str | None = None
    reason_max: int | None = None  # the form asks why (Reject), in at most this many chars


@dataclass(frozen=True)
class CardView:
    key: str  # "owner/repo@sha": how pages and the live stream name a card
    repo: str
    sha: str
    short_sha: str
    branch: str | None
    pr_number: int | None
    overall: str
    emoji: str
    title: str
    subject: str
    page_url: str
    commit: Markup
    pull_request: Markup | None
    outcome: str
    check_summary: Line | None
    checks: list[Line]
    quiet_checks: list[Line]  # listed by Slack only when few: the web folds them away
    deployments: list[Line]
    environments: list[str]
    tickets: Markup | None
    superseded_by: str | None
    superseded_url: str | None
    updated_at: datetime | None
    version: int
    slack: str  # "posted" | "pending" | "off"
    slack_url: str | None
    actions: list[WebAction] = field(default_factory=list)


def card_page_url(repo: str, sha: str) -> str:
    return f"/cards/{quote(repo, safe='/')}/{sha}"


def card_view(
    row: Card,
    card: CommitCard,
    *,
    actions: Sequence[WebAction] = (),
    slack_on: bool = False,
) -> CardView:
    """The view of a stored card (`card`, as the card loader folds it); `actions` are the
    buttons its actions area shows."""
    return view_of(card, version=row.version, actions=actions, slack=_slack_state(row, slack_on),
                   slack_url=row.slack_permalink)


def view_of(
    card: CommitCard,
    *,
    version: int = 0,
    actions: Sequence[WebAction] = (),
    slack: str = "off",
    slack_url: str | None = None,
) -> CardView:
    summary, shown, quiet = _checks(card)
    status = card.overall
    return CardView(
        key=f"{card.repo}@{card.sha}",
        repo=card.repo,
        sha=card.sha,
        short_sha=card.short_sha,
        branch=card.branch,
        pr_number=card.pull_request.number if card.pull_request else None,
        overall=status.value,
        emoji=STATUS_EMOJI[status],
        title=f"{card.repo} · {card.branch or card.short_sha}",
        subject=first_line(card.message),
        page_url=card_page_url(card.repo, card.sha),
        commit=mrkdwn_html(commit_line(card, card.url)),
        pull_request=mrkdwn_html(pull_request_line(card.pull_request))
        if card.pull_request else None,
        outcome=outcome(card),
        check_summary=summary,
        checks=shown,
        quiet_checks=quiet,
        deployments=[_line(d.status, deployment_line(d)) for d in card.deployments],
        environments=[d.environment for d in card.deployments],
        tickets=mrkdwn_html(tickets_line(card.tickets)) if card.tickets else None,
        superseded_by=card.superseded_by,
        superseded_url=card_page_url(card.repo, card.superseded_by)
        if card.superseded_by else None,
        updated_at=card.updated_at,
        version=version,
        slack=slack,
        slack_url=slack_url,
        actions=list(actions),
    )


def _checks(card: CommitCard) -> tuple[Line | None, list[Line], list[Line]]:
    """As `check_lines` lists them; past its fold, the passing ones come apart."""
    units = check_units(card.checks)
    if len(units) <= COLLAPSE_ABOVE:
        return None, [_line(u.status, u.line) for u in units], []
    summary_status = overall(c.status for c in leaves(card.checks))
    summary = _line(summary_status, check_lines(card.checks)[0])
    shown = [_line(u.status, u.line) for u in units if u.status not in QUIET]
    quiet = [_line(u.status, u.line) for u in units if u.status in QUIET]
    return summary, shown, quiet


def _line(status: Status, mrkdwn: str) -> Line:
    emoji = STATUS_EMOJI[status]
    return Line(status.value, emoji, mrkdwn_html(mrkdwn.removeprefix(emoji).lstrip()))


def _slack_state(row: Card, slack_on: bool) -> str:
    if row.slack_ts:
        return "pending" if row.dirty else "posted"
    return "pending" if slack_on and row.dirty else "off"


def web_action(row: Card, element: dict[str, Any]) -> WebAction:
    """A Block Kit button as a form that posts its action id and value back."""
    query = urlencode({"id": element["action_id"], "v": element.get("value") or ""})
    confirm = element.get("confirm", {}).get("text", {}).get("text")
    asks_why = str(element["action_id"]).split(":", 1)[0] == ActionId.REJECT
    return WebAction(
        label=str(element["text"]["text"]),
        url=f"/cards/{quote(row.repo)}/{row.sha}/actions?{query}",
        style=str(element.get("style") or "default"),
        confirm=confirm,
        reason_max=MAX_REASON if asks_why else None,
    )
