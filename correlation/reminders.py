"""What the scheduler says: nudges in a card's thread, and the notes it stamps on cards
("no news for 47 min", "approval expired"). Pure renderers, like `replies`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from correlation.blocks import SlackMessage, first_line
from correlation.card import CommitCard
from correlation.mrkdwn import MAX_TEXT, clip, code, context, escape, link, mention, one_line, pack

__all__ = [
    "APPROVAL_EXPIRED",
    "approval_expired_note",
    "approval_expiry_noted",
    "duration",
    "render_approval_nudge",
    "render_review_nudge",
    "stuck_note",
]

APPROVAL_EXPIRED = "approval_expired"  # the action of the expiry note's stamp
MAX_MENTIONS = 20
MAX_REPLY_TEXT = 280


def duration(span: timedelta) -> str:
    """A wait in the words a person uses: `47 min`, `5 h`, `3 days` (rounded down)."""
    minutes = max(0, int(span.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} days"


def stuck_note(check_name: str, silent_for: timedelta) -> str:
    """The card's note on a check that is running but has sent no news for a while."""
    name = escape(one_line(check_name), 100)
    return f"⏳ *{name}* is running, no news for {duration(silent_for)}"


def approval_expired_note(environment: str, waited: timedelta) -> str:
    """The card's note on an approval request nobody decided in time."""
    return f"{_expired_prefix(environment)}{duration(waited)} without a decision"


def approval_expiry_noted(card: CommitCard, environment: str) -> bool:
    """Whether the card carries the expiry note on `environment`'s request. The note goes
    as soon as the deployment has news, so it is about the request waiting now."""
    prefix = _expired_prefix(environment)
    return any(stamp.action == APPROVAL_EXPIRED and stamp.text.startswith(prefix)
               for stamp in card.stamps)


def _expired_prefix(environment: str) -> str:
    env = escape(one_line(environment), 60) or "(unnamed)"
    return f"⌛ The approval request for *{env}* expired after "


def render_review_nudge(
    card: CommitCard, *, reviewers: Sequence[str], author: str | None, waited: timedelta,
    number: int, of: int,
) -> SlackMessage:
    """A reply asking the requested reviewers for a review; with none requested, it asks
    the author (`author`, a Slack id) to request one."""
    pr = card.pull_request
    title = escape(one_line(f"#{pr.number} {pr.title}"), 200) if pr else card.short_sha
    target = link(pr.url if pr else card.url, title)
    mentions = list(reviewers) or ([author] if author else [])
    asked = "your review" if reviewers else "a review, and nobody is asked: request a reviewer"
    line = (f"{_who(mentions)}👀 *{target}* has waited {duration(waited)} of working time "
            f"for {asked}.")
    notes = [f"Reminder {number} of {of} · {escape(card.repo, 100)} {_where(card)}"]
    text = clip(f"{_who(mentions[:3])}👀 {escape(card.repo, 100)} {title}: waiting "
                f"{duration(waited)} for a review", MAX_REPLY_TEXT)
    return SlackMessage(text=text, blocks=[*pack([line], max_chars=MAX_TEXT), context(notes)])


def render_approval_nudge(
    card: CommitCard, *, environment: str, mentions: Sequence[str], waited: timedelta,
    number: int, of: int, expires_in: timedelta | None,
) -> SlackMessage:
    """A reply reminding the approvers that a deployment still waits for them."""
    deployment = next((d for d in card.deployments if d.environment == environment), None)
    env = escape(one_line(environment), 60) or "(unnamed)"
    target = link(deployment.url if deployment else None, env)
    line = (f"{_who(mentions)}✋ Still waiting: the deploy of *{escape(card.repo, 100)}* "
            f"{_where(card)} to *{target}* has waited {duration(waited)} for approval.")
    notes = [f"Reminder {number} of {of}"]
    if expires_in is not None:
        notes.append(f"The request expires in {duration(expires_in)}")
    if subject := first_line(card.message):
        notes.append(escape(subject, 300))
    text = clip(f"{_who(mentions[:3])}✋ {escape(card.repo, 100)} {card.short_sha}: deploy to "
                f"{env} still waits for approval ({duration(waited)})", MAX_REPLY_TEXT)
    return SlackMessage(text=text, blocks=[*pack([line], max_chars=MAX_TEXT), context(notes)])


def _who(mentions: Sequence[str]) -> str:
    shown = [mention(m) for m in mentions[:MAX_MENTIONS] if m and m.strip()]
    extra = f" +{len(mentions) - MAX_MENTIONS} more" if len(mentions) > MAX_MENTIONS else ""
    return " ".join(shown) + extra + " " if shown else ""


def _where(card: CommitCard) -> str:
    branch = f"{code(card.branch, 80)} " if card.branch else ""
    return branch + link(card.url, card.short_sha)
