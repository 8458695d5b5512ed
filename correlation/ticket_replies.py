"""The thread reply that says a ticket update failed for good (no such transition, no such
ticket): once, under the card of the commit whose deploy or decision asked for it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from correlation.blocks import SlackMessage
from correlation.card import CommitCard
from correlation.mrkdwn import MAX_TEXT, clip, context, escape, link, one_line, pack

__all__ = ["TicketFailure", "render_ticket_failure"]

MAX_LISTED = 10
MAX_REPLY_TEXT = 280


@dataclass(frozen=True)
class TicketFailure:
    ticket: str
    environment: str
    what: str  # "comment", "transition to “Done”", "decision comment"
    error: str
    url: str | None = None  # the ticket's page


def render_ticket_failure(card: CommitCard, failures: Sequence[TicketFailure]) -> SlackMessage:
    """"⚠️ Could not move ABC-123 to “Done” after the deploy to production: …"."""
    lines = []
    for failure in failures[:MAX_LISTED]:
        ticket = link(failure.url, escape(one_line(failure.ticket), 40))
        env = escape(one_line(failure.environment), 60)
        lines.append(f"⚠️ {ticket}: the {escape(failure.what, 120)} for *{env}* failed: "
                     f"{escape(one_line(failure.error), 400)}")
    if len(failures) > MAX_LISTED:
        lines.append(f"… +{len(failures) - MAX_LISTED} more")
    note = "The bot will not try again: update the ticket by hand, or fix the config's `tickets`."
    first = failures[0] if failures else None
    text = clip(
        f"⚠️ {escape(card.repo, 100)} {card.short_sha}: "
        + (f"{escape(first.ticket, 40)} {escape(first.what, 80)} failed" if first else
           "a ticket update failed"),
        MAX_REPLY_TEXT,
    )
    return SlackMessage(text=text, blocks=[*pack(lines, max_chars=MAX_TEXT), context([note])])
