"""The one direct message that brings what quiet hours held: each held message's text,
oldest first, within Slack's 50 blocks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from correlation.blocks import SlackMessage
from correlation.mrkdwn import clip, context, header, section

__all__ = ["render_digest"]

MAX_HELD_SHOWN = 45  # sections; a header and an "and N more" fill the rest of 50
MAX_HELD_TEXT = 2900


def render_digest(held: Sequence[tuple[datetime, str]]) -> SlackMessage:
    """`held`: when each message was held, and its text (Slack mrkdwn, as it would have
    been sent)."""
    count = len(held)
    title = f"While your quiet hours lasted: {count} message{'s' if count != 1 else ''}"
    blocks = [header(title)]
    for at, text in held[:MAX_HELD_SHOWN]:
        stamp = f"<!date^{int(at.timestamp())}^{{time}}|{at:%H:%M} UTC>"
        blocks.append(section(clip(f"{stamp} {text}", MAX_HELD_TEXT)))
    if count > MAX_HELD_SHOWN:
        blocks.append(context([f"and {count - MAX_HELD_SHOWN} more"]))
    return SlackMessage(text=title, blocks=blocks)
