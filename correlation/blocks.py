"""CommitCard → Slack message (Block Kit JSON as plain dicts), within Slack's limits.

The card is one message per commit, edited in place: header, commit, pull request, checks,
deployments, tickets, notes, then the actions (buttons) other code supplies. Whatever the
card holds, the message stays within Slack's limits; what does not fit says `+N more`.
Each part has a fixed share of text and blocks, so a card never nears 50 blocks (at most
about 15) nor Slack's cumulative text limit (see `mrkdwn.MAX_MESSAGE_TEXT`).
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from correlation.card import CommitCard, DeploymentLine, MergeQueue, PullRequest, iso
from correlation.checklist import STATUS_EMOJI, check_lines, count_phrase, failures, leaves
from correlation.mrkdwn import (
    MAX_ACTIONS_ELEMENTS,
    MAX_CONTEXT_ELEMENTS,
    Block,
    clip,
    context,
    escape,
    header,
    join_within,
    link,
    names,
    one_line,
    pack,
    people,
    safe_url,
    section,
    slack_len,
)
from correlation.status import Status

__all__ = [
    "STATUS_EMOJI",
    "SlackMessage",
    "card_fingerprint",
    "commit_line",
    "deployment_line",
    "first_line",
    "notification_text",
    "outcome",
    "pull_request_line",
    "render_card",
    "render_superseded",
    "tickets_line",
]

MAX_NOTIFICATION = 280  # phones show the first line or so; Slack allows far more
MAX_LISTED_CHECKS = 15
MAX_ENVIRONMENTS = 20
MAX_TICKETS = 5
MAX_ACTION_BLOCKS = 4
# Shares of MAX_MESSAGE_TEXT; with the header, commit and PR lines (under 2,000 together)
# a card stays within it whatever it holds.
CHECKS_TEXT = 3000
DEPLOYMENTS_TEXT = 1500
TICKETS_TEXT = 500
NOTES_TEXT = 1000

_DEPLOY_WORDS = {
    Status.PENDING: "pending",
    Status.RUNNING: "deploying",
    Status.WAITING: "waiting",
    Status.SUCCESS: "deployed",
    Status.FAILURE: "failed",
    Status.CANCELLED: "cancelled",
    Status.SKIPPED: "skipped",
    Status.NEUTRAL: "no status",
}
_REVIEW_WORDS = {
    "approved": "approved",
    "changes_requested": "changes requested",
    "pending": "pending",
}


@dataclass(frozen=True)
class SlackMessage:
    """What `chat.postMessage` / `chat.update` send: `text` is the notification fallback."""

    text: str
    blocks: list[dict[str, Any]]

    def payload(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


def card_fingerprint(message: SlackMessage) -> str:
    """sha256 of the message's canonical JSON: equal renders, equal fingerprints."""
    canonical = json.dumps(
        message.payload(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def render_card(
    card: CommitCard,
    *,
    actions: Sequence[dict[str, Any]] = (),
    notes: Sequence[str] = (),
    commit_permalink: str | None = None,
) -> SlackMessage:
    """The card's message. `actions` are Block Kit elements (buttons), `notes` are mrkdwn
    context lines the application writes (escape user text in them with `mrkdwn.escape`),
    `commit_permalink` is where the short SHA links (default: the card's commit URL)."""
    blocks: list[Block] = [
        header(f"{STATUS_EMOJI[card.overall]} {card.repo} · {card.branch or card.short_sha}"),
        section(commit_line(card, commit_permalink or card.url)),
    ]
    if card.pull_request:
        blocks.append(section(pull_request_line(card.pull_request)))
    if card.merge_queue:
        blocks.append(context([merge_queue_line(card.merge_queue)]))
    # One more than listed: a long list starts with its count line.
    blocks += pack(check_lines(card.checks), max_chars=CHECKS_TEXT,
                   max_lines=MAX_LISTED_CHECKS + 1)
    blocks += pack(
        [deployment_line(d) for d in card.deployments],
        max_chars=DEPLOYMENTS_TEXT,
        max_lines=MAX_ENVIRONMENTS,
        more=lambda n: f"… +{n} more environments",
    )
    if card.tickets:
        blocks.append(context([tickets_line(card.tickets)]))
    if any(note.strip() for note in notes):
        blocks.append(_notes_block(notes))
    blocks += _actions_blocks(actions)
    return SlackMessage(text=notification_text(card), blocks=blocks)


def render_superseded(
    card: CommitCard, *, new_sha: str, new_message_link: str | None
) -> SlackMessage:
    """The one line an old head collapses to once its PR has a new head commit."""
    new_short = escape(one_line(new_sha)[:7]) or "?"
    # The arrow promises a link: without a usable one the new head is just named.
    url = safe_url(new_message_link)
    target = f"<{url}|{new_short} →>" if url else new_short
    old = link(card.url, card.short_sha)
    message = f" {escape(first_line(card.message), 150)}" if first_line(card.message) else ""
    line = f"⏩ {old}{message} · superseded by {target}"
    text = f"⏩ {escape(card.repo, 120)} {card.short_sha} superseded by {new_short}"
    return SlackMessage(text=text, blocks=[context([line])])


def notification_text(card: CommitCard) -> str:
    """"❌ octo-org/octo-app feature/login 6dcb09b: 1 of 4 checks failed (test) — Add login
    page": what a phone's push notification shows."""
    where = " ".join(
        part
        for part in (escape(card.repo, 80), escape(one_line(card.branch or ""), 60),
                     card.short_sha)
        if part
    )
    text = f"{STATUS_EMOJI[card.overall]} {where}: {escape(outcome(card), 120)}"
    room = MAX_NOTIFICATION - slack_len(text) - 3
    if first_line(card.message) and room > 10:
        text += f" — {escape(first_line(card.message), room)}"
    return text


def first_line(message: str | None) -> str:
    """A commit message's subject line, whitespace collapsed; "" when there is none."""
    lines = (message or "").strip().splitlines()
    return one_line(lines[0]) if lines else ""


def outcome(card: CommitCard) -> str:
    """The card's state in a few words, about what its overall status is about."""
    counted = leaves(card.checks)
    by_status: dict[Status, list[str]] = {}
    for d in card.deployments:
        by_status.setdefault(d.status, []).append(d.environment)
    parts = []
    if card.overall is Status.FAILURE:
        failed = failures(card.checks)
        if failed:
            shown = ", ".join(c.name for c in failed[:2])
            extra = f", +{len(failed) - 2} more" if len(failed) > 2 else ""
            parts.append(f"{len(failed)} of {len(counted)} checks failed ({shown}{extra})")
        if Status.FAILURE in by_status:
            parts.append(f"deploy to {', '.join(by_status[Status.FAILURE])} failed")
    elif card.overall is Status.WAITING:
        if Status.WAITING in by_status:
            envs = ", ".join(by_status[Status.WAITING])
            parts.append(f"waiting for approval to deploy to {envs}")
        waiting = [c.name for c in counted if c.status is Status.WAITING]
        if waiting:
            noun = "check" if len(waiting) == 1 else "checks"
            parts.append(f"{len(waiting)} {noun} waiting for action ({', '.join(waiting[:2])})")
    else:
        if counted:
            parts.append(count_phrase(counted, name=lambda c: c.name))
        for status, words in ((Status.RUNNING, "deploying to"), (Status.PENDING, "deploy to"),
                              (Status.SUCCESS, "deployed to")):
            if status in by_status:
                pending = " pending" if status is Status.PENDING else ""
                parts.append(f"{words} {', '.join(by_status[status])}{pending}")
    return one_line("; ".join(parts)) or "no checks yet"


def commit_line(card: CommitCard, url: str | None) -> str:
    line = link(url, card.short_sha)
    if subject := first_line(card.message):
        line += f" *{escape(subject, 300)}*"
    author = card.author
    if author and (author.name or author.login):
        who = escape(one_line(author.name or author.login or ""), 80)
        if author.name and author.login and author.login != author.name:
            who += f" ({escape(one_line(author.login), 40)})"
        line += f"\nby {who}"
    return line


def pull_request_line(pr: PullRequest) -> str:
    title = escape(one_line(f"#{pr.number} {pr.title}"), 200)
    state = "draft" if pr.draft and pr.state == "open" else escape(one_line(pr.state), 20)
    line = f"🔀 {link(pr.url, title)} · {state}"
    if pr.review and pr.state == "open":
        line += f" · review: {_REVIEW_WORDS.get(pr.review) or escape(pr.review, 30)}"
    return line


def merge_queue_line(queue: MergeQueue) -> str:
    """Where the pull request stands in GitHub's merge queue."""
    if queue.state == "queued":
        since = queue.since or queue.at
        return (f"🚦 In the merge queue since <!date^{int(since.timestamp())}"
                f"^{{date_short_pretty}} {{time}}|{iso(since)}>")
    words = {"merged": "✅ Merged by the merge queue",
             "dequeued": "⛔ Removed from the merge queue",
             "invalidated": "🔁 Merge queue run replaced: an entry ahead of it left the queue"}
    return words.get(queue.state, f"Left the merge queue ({escape(queue.state, 30)})")


def deployment_line(d: DeploymentLine) -> str:
    env = escape(one_line(d.environment), 60) or "(unnamed)"
    words = _DEPLOY_WORDS[d.status]
    approval = d.approval
    if approval and approval.state == "waiting":
        words = "waiting for approval"
        if approval.reviewers:
            words += f" by {names(approval.reviewers, shown=5, limit=40)}"
    elif approval and approval.state == "approved":
        words += " · approved" + (f" by {people(approval.by, shown=5, limit=40)}"
                                  if approval.by else "")
    elif approval and approval.state == "rejected":
        # A deployed change someone tried and wants changed stays deployed.
        rejected = " · changes requested" if d.status is Status.SUCCESS else "rejected"
        words = (words if d.status is Status.SUCCESS else "") + rejected + (
            f" by {people(approval.by, shown=5, limit=40)}" if approval.by else "")
        if approval.comment:
            words += f": {escape(one_line(approval.comment), 200)}"
    elif approval and approval.state == "expired":
        words += " · approval request expired"
    line = f"{STATUS_EMOJI[d.status]} *{link(d.url, env)}* {words}"
    if d.description and d.description.strip():
        line += f" · {escape(one_line(d.description), 150)}"
    return line


def tickets_line(tickets: Sequence[dict[str, Any]]) -> str:
    items = []
    for ticket in tickets[:MAX_TICKETS]:
        key = escape(one_line(str(ticket.get("key") or "ticket")), 30)
        item = f"🎫 {link(ticket.get('url'), key)}"
        if ticket.get("title"):
            item += f" {escape(one_line(str(ticket['title'])), 120)}"
        if ticket.get("status"):
            item += f" ({escape(one_line(str(ticket['status'])), 30)})"
        items.append(item)
    items += [f"+{len(tickets) - MAX_TICKETS} more"] if len(tickets) > MAX_TICKETS else []
    return join_within(items, limit=TICKETS_TEXT)


def _notes_block(notes: Sequence[str]) -> Block:
    written = [clip(note, NOTES_TEXT) for note in notes if note.strip()]
    # Room for a closing "+N more" element when not all notes can be elements.
    room = MAX_CONTEXT_ELEMENTS - (len(written) > MAX_CONTEXT_ELEMENTS)
    kept: list[str] = []
    for note in written[:room]:
        if slack_len(note) + sum(slack_len(k) for k in kept) > NOTES_TEXT:
            break
        kept.append(note)
    hidden = len(written) - len(kept)
    return context([*kept, f"+{hidden} more"] if hidden else kept)


def _actions_blocks(actions: Sequence[dict[str, Any]]) -> list[Block]:
    """Actions blocks of at most 25 elements each: the place for the card's buttons."""
    room = MAX_ACTIONS_ELEMENTS * MAX_ACTION_BLOCKS
    elements = [copy.deepcopy(dict(a)) for a in actions[:room]]
    blocks: list[Block] = [
        {"type": "actions", "elements": elements[i : i + MAX_ACTIONS_ELEMENTS]}
        for i in range(0, len(elements), MAX_ACTIONS_ELEMENTS)
    ]
    if len(actions) > room:
        blocks.append(context([f"… +{len(actions) - room} more actions"]))
    return blocks
