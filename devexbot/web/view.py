"""A stored card as the web shows it: the Slack message's own lines, as HTML, with the
structure a page needs (a status label per line, the passing checks folded as Slack folds
them, the failed tests), people by their names."""

from __future__ import annotations

import re
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
    STATUS_EMOJI,
    STATUS_LABEL,
    Unit,
    check_list,
    failed_tests,
)
from correlation.mrkdwn import safe_url
from correlation.status import Status
from devexbot.actions.approve import MAX_REASON
from devexbot.actions.ids import ActionId
from devexbot.store import Card
from devexbot.web.mrkdwn_html import Names, mrkdwn_html, no_names

MAX_FAILED_TESTS = 5  # on a card; its page's table of checks lists up to MAX_LISTED_TESTS
MAX_LISTED_TESTS = 20


@dataclass(frozen=True)
class Line:
    """One line of the card: its status (for the icon and colour), the status's words, the
    message's words, and the tests that failed (the first few, and how many more)."""

    status: str
    label: str
    html: Markup
    failed_tests: tuple[str, ...] = ()
    more_failed_tests: int = 0


@dataclass(frozen=True)
class CheckRow:
    """One check or build in the card page's table."""

    status: str
    label: str
    name: str
    url: str | None
    source: str
    summary: str | None
    failed_tests: tuple[str, ...]
    more_failed_tests: int
    updated_at: datetime


def check_rows(card: CommitCard) -> list[CheckRow]:
    """Every check and build of the card, as its page's table lists them."""
    rows = []
    for check in card.checks:
        tests = [t.name for t in failed_tests(check)] if check.status is Status.FAILURE else []
        rows.append(CheckRow(
            status=check.status.value, label=STATUS_LABEL[check.status], name=check.name,
            url=check.url if safe_url(check.url) else None,
            source=f"{check.source} · {check.kind}",
            summary=check.summary,
            failed_tests=tuple(tests[:MAX_LISTED_TESTS]),
            more_failed_tests=max(0, len(tests) - MAX_LISTED_TESTS),
            updated_at=check.updated_at))
    return rows


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
    label: str
    title: str
    subject: str
    page_url: str
    commit: Markup
    pull_request: Markup | None
    outcome: str
    check_summary: Line | None
    checks: list[Line]
    quiet_checks: list[Line]  # under the summary's count, as in Slack: the web unfolds them
    deployments: list[Line]
    environments: list[str]
    tickets: Markup | None
    stamps: list[Line]  # what people did from the card ("Merged by Ana Lima 14:02")
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
    names: Names = no_names,
) -> CardView:
    """The view of a stored card (`card`, as the card loader folds it); `actions` are the
    buttons its actions area shows, `names` who Slack user ids are."""
    return view_of(card, version=row.version, actions=actions, slack=_slack_state(row, slack_on),
                   slack_url=row.slack_permalink, names=names)


def view_of(
    card: CommitCard,
    *,
    version: int = 0,
    actions: Sequence[WebAction] = (),
    slack: str = "off",
    slack_url: str | None = None,
    names: Names = no_names,
) -> CardView:
    listed = check_list(card.checks)
    status = card.overall
    return CardView(
        key=f"{card.repo}@{card.sha}",
        repo=card.repo,
        sha=card.sha,
        short_sha=card.short_sha,
        branch=card.branch,
        pr_number=card.pull_request.number if card.pull_request else None,
        overall=status.value,
        label=STATUS_LABEL[status],
        title=f"{card.repo} · {card.branch or card.short_sha}",
        subject=first_line(card.message),
        page_url=card_page_url(card.repo, card.sha),
        commit=mrkdwn_html(commit_line(card, card.url)),
        pull_request=mrkdwn_html(_unmarked(pull_request_line(card.pull_request)))
        if card.pull_request else None,
        outcome=outcome(card),
        check_summary=Line(listed.summary_status.value, STATUS_LABEL[listed.summary_status],
                           mrkdwn_html(listed.summary)) if listed.summary else None,
        checks=[_unit_line(u) for u in listed.shown],
        quiet_checks=[_unit_line(u) for u in listed.folded],
        deployments=[_line(d.status, deployment_line(d), names) for d in card.deployments],
        environments=[d.environment for d in card.deployments],
        tickets=mrkdwn_html(_unmarked(tickets_line(card.tickets))) if card.tickets else None,
        stamps=[marked_line(stamp.text, names) for stamp in card.stamps],
        superseded_by=card.superseded_by,
        superseded_url=card_page_url(card.repo, card.superseded_by)
        if card.superseded_by else None,
        updated_at=card.updated_at,
        version=version,
        slack=slack,
        slack_url=slack_url,
        actions=list(actions),
    )


def _unit_line(unit: Unit) -> Line:
    tests = [t.name for leaf in unit.leaves if leaf.status is Status.FAILURE
             for t in failed_tests(leaf)]
    return Line(unit.status.value, STATUS_LABEL[unit.status], mrkdwn_html(unit.text),
                tuple(tests[:MAX_FAILED_TESTS]), max(0, len(tests) - MAX_FAILED_TESTS))


def _line(status: Status, mrkdwn: str, names: Names) -> Line:
    emoji = STATUS_EMOJI[status]
    return Line(status.value, STATUS_LABEL[status],
                mrkdwn_html(mrkdwn.removeprefix(emoji).lstrip(), names))


# The emoji the message's lines start with: the page draws icons instead (no emoji font).
_MARKS = ("🔀 ", "🎫 ")
_BY_EMOJI = {emoji: status for status, emoji in STATUS_EMOJI.items()}
_LEADING_EMOJI = re.compile(
    "^[\U0001F000-\U0001FAFF\u2300-\u23FF\u2600-\u27BF\u2B00-\u2BFF]\ufe0f?\\s+")


def marked_line(mrkdwn: str, names: Names = no_names) -> Line:
    """A line the bot wrote (a stamp, a note): its leading emoji, if any, becomes the
    status of its icon (`none` when it names no status)."""
    for emoji, status in _BY_EMOJI.items():
        if mrkdwn.startswith(emoji):
            rest = mrkdwn.removeprefix(emoji).lstrip()
            return Line(status.value, STATUS_LABEL[status], mrkdwn_html(rest, names))
    return Line("none", "", mrkdwn_html(_LEADING_EMOJI.sub("", mrkdwn), names))


def _unmarked(mrkdwn: str) -> str:
    for mark in _MARKS:
        mrkdwn = mrkdwn.replace(mark, "")
    return mrkdwn


def _slack_state(row: Card, slack_on: bool) -> str:
    if row.slack_ts:
        return "pending" if row.dirty else "posted"
    return "pending" if slack_on and row.dirty else "off"


def web_action(row: Card, element: dict[str, Any]) -> WebAction:
    """A Block Kit button as a form that posts its action id and value back."""
    return card_action(row.repo, row.sha, element)


def card_action(repo: str, sha: str, element: dict[str, Any]) -> WebAction:
    """A Block Kit button of the card of `repo`@`sha` as a form posting back to it."""
    query = urlencode({"id": element["action_id"], "v": element.get("value") or ""})
    confirm = element.get("confirm", {}).get("text", {}).get("text")
    asks_why = str(element["action_id"]).split(":", 1)[0] == ActionId.REJECT
    return WebAction(
        label=str(element["text"]["text"]),
        url=f"/cards/{quote(repo)}/{sha}/actions?{query}",
        style=str(element.get("style") or "default"),
        confirm=confirm,
        reason_max=MAX_REASON if asks_why else None,
    )
