"""Slack mrkdwn and Block Kit pieces: escaping, links, mentions, and Slack's size limits.

Pure string and dict work. Lengths are measured in UTF-16 code units (an emoji counts
two), which is never less than Python's `len`, so a text within our measure is within
Slack's limit however Slack counts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

MAX_TEXT = 3000  # a section's text, and any one text object
MAX_HEADER = 150
MAX_ACTIONS_ELEMENTS = 25
MAX_CONTEXT_ELEMENTS = 10
MAX_URL = 500  # longer links are dropped, not cut: a cut URL points nowhere
# Slack also refuses blocks whose texts add up to about 12,000 characters (not documented:
# slackapi/bolt-js#2509, #2867); our messages keep well under it.
MAX_MESSAGE_TEXT = 8000

ELLIPSIS = "…"
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_SLACK_ID = re.compile(r"[UW][A-Z0-9]{2,}")
_SLACK_GROUP_ID = re.compile(r"S[A-Z0-9]{2,}")
_EXPLICIT_MENTION = re.compile(r"<@[UW][A-Z0-9]{2,}>|<!subteam\^S[A-Z0-9]{2,}>")

Block = dict[str, Any]


def slack_len(text: str) -> int:
    """Length in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def one_line(text: str) -> str:
    """Collapse all whitespace, newlines included, to single spaces."""
    return " ".join(text.split())


def escape(text: str, limit: int | None = None) -> str:
    """Escape `&`, `<`, `>` so user text cannot open links or mentions (`<!channel>`).

    With a limit, the escaped text is cut to at most `limit` units, ending in `…`,
    never inside an entity.
    """
    pieces = [_ENTITIES.get(ch, ch) for ch in text]
    if limit is None or sum(slack_len(p) for p in pieces) <= limit:
        return "".join(pieces)
    kept, used = [], 0
    for piece in pieces:
        size = slack_len(piece)
        if used + size > limit - 1:
            break
        kept.append(piece)
        used += size
    return "".join(kept).rstrip() + ELLIPSIS


def clip(text: str, limit: int) -> str:
    """Cut already-formatted text to `limit` units, ending in `…` (a last resort)."""
    if slack_len(text) <= limit:
        return text
    kept, used = [], 0
    for ch in text:
        size = slack_len(ch)
        if used + size > limit - 1:
            break
        kept.append(ch)
        used += size
    return "".join(kept) + ELLIPSIS


def clip_start(text: str, limit: int) -> str:
    """Keep the end of `text` within `limit` units, starting with `…`."""
    if slack_len(text) <= limit:
        return text
    kept: list[str] = []
    used = 0
    for ch in reversed(text):
        size = slack_len(ch)
        if used + size > limit - 1:
            break
        kept.append(ch)
        used += size
    return ELLIPSIS + "".join(reversed(kept))


def safe_url(url: object) -> str | None:
    """An http(s) URL that can sit inside `<url|text>`, or None."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    if len(url) > MAX_URL or not url.lower().startswith(("http://", "https://")):
        return None
    # `<`, `>`, `|` and whitespace would end the link early; `&` is escaped as anywhere.
    return "".join(
        quote(ch, safe="") if ch in '<>|"' or ch.isspace() or not ch.isprintable() else ch
        for ch in url
    ).replace("&", "&amp;")


def link(url: object, text: str) -> str:
    """`<url|text>` around already-escaped text, or just the text when there is no usable URL."""
    target = safe_url(url)
    return f"<{target}|{text}>" if target and text else text


def code(text: str, limit: int) -> str:
    """Inline code of user text; backticks inside would end the span early."""
    return "`" + escape(one_line(text).replace("`", "'"), limit) + "`"


def mention(who: str) -> str:
    """A Slack mention for a user id (`U123`, `<@U123>`) or user group id (`S123`);
    anything else is shown as escaped text, so it notifies nobody."""
    who = who.strip()
    if _EXPLICIT_MENTION.fullmatch(who):
        return who
    if _SLACK_ID.fullmatch(who):
        return f"<@{who}>"
    if _SLACK_GROUP_ID.fullmatch(who):
        return f"<!subteam^{who}>"
    return "@" + escape(one_line(who).lstrip("@"), 60)


def people(items: Sequence[str], *, shown: int, limit: int = 60) -> str:
    """Like `names`, but Slack user ids (who decided from Slack) are shown as mentions."""
    text = ", ".join(f"<@{i}>" if _SLACK_ID.fullmatch(i) else escape(one_line(i), limit)
                     for i in items[:shown])
    return text + (f", +{len(items) - shown} more" if len(items) > shown else "")


def names(items: Sequence[str], *, shown: int, limit: int = 60) -> str:
    """Escaped names joined by commas, the surplus as `+N more`."""
    text = ", ".join(escape(one_line(i), limit) for i in items[:shown])
    return text + (f", +{len(items) - shown} more" if len(items) > shown else "")


def mrkdwn_text(text: str) -> dict[str, Any]:
    # verbatim: Slack must not auto-link or parse mentions in plain words of user text.
    return {"type": "mrkdwn", "text": clip(text, MAX_TEXT) or " ", "verbatim": True}


def section(text: str) -> Block:
    return {"type": "section", "text": mrkdwn_text(text)}


def context(texts: Sequence[str]) -> Block:
    """A context block; texts beyond Slack's ten elements end in a `+N more` element."""
    texts = [t for t in texts if t.strip()] or [" "]
    if len(texts) > MAX_CONTEXT_ELEMENTS:
        hidden = len(texts) - (MAX_CONTEXT_ELEMENTS - 1)
        texts = [*texts[: MAX_CONTEXT_ELEMENTS - 1], f"+{hidden} more"]
    return {"type": "context", "elements": [mrkdwn_text(t) for t in texts]}


def header(text: str) -> Block:
    plain = clip(one_line(text), MAX_HEADER) or " "
    return {"type": "header", "text": {"type": "plain_text", "text": plain, "emoji": True}}


def join_within(items: Sequence[str], *, limit: int, sep: str = " · ") -> str:
    """Items joined by `sep` in at most `limit` units; those that do not fit are counted
    in a last `+N more`."""
    for keep in range(len(items), -1, -1):
        shown = [*items[:keep], f"+{len(items) - keep} more"] if keep < len(items) else items
        text = sep.join(shown)
        if slack_len(text) <= limit:
            return text
    return clip(f"+{len(items)} more", limit)


def more_line(hidden: int) -> str:
    return f"{ELLIPSIS} +{hidden} more"


def pack(
    lines: Sequence[str],
    *,
    max_chars: int,
    max_lines: int | None = None,
    more: Callable[[int], str] = more_line,
) -> list[Block]:
    """Lines as sections of at most MAX_TEXT units each and `max_chars` in all; lines that
    do not fit (or are beyond `max_lines`) are dropped from the end and counted in a last
    `more(N)` line."""
    per_line = min(MAX_TEXT, max_chars)
    lines = [clip(line, per_line) for line in lines]
    keep = len(lines) if max_lines is None else min(len(lines), max_lines)
    while keep >= 0:
        shown = lines[:keep]
        if keep < len(lines):
            shown = [*shown, more(len(lines) - keep)]
        chunks = _chunks(shown)
        if sum(slack_len(chunk) for chunk in chunks) <= max_chars or not keep:
            return [section(chunk) for chunk in chunks]
        keep -= 1
    return []  # unreachable: the loop returns when keep reaches 0


def _chunks(lines: Sequence[str]) -> list[str]:
    chunks: list[str] = []
    for line in lines:
        if chunks and slack_len(chunks[-1]) + 1 + slack_len(line) <= MAX_TEXT:
            chunks[-1] += "\n" + line
        else:
            chunks.append(line)
    return chunks


def text_size(blocks: Sequence[Block]) -> int:
    """All the text in blocks, in units: Slack refuses a message whose blocks hold too much
    in all (`msg_blocks_too_long`, around 12,000 characters, undocumented)."""
    return sum(_size(block) for block in blocks)


def _size(value: object) -> int:
    if isinstance(value, str):
        return slack_len(value)
    if isinstance(value, dict):
        return sum(_size(v) for k, v in value.items() if k not in ("type", "verbatim", "emoji"))
    if isinstance(value, list):
        return sum(_size(v) for v in value)
    return 0
