"""The mrkdwn our card renderers write, as safe HTML: the web shows the Slack message's words.

Only what `correlation` writes is understood: `<url|text>` links, `*bold*`, mentions (shown
by the person's name), Slack's date tokens and the three entities. Everything else is text:
whatever comes in, what goes out is escaped HTML with no tag but `<a href="http(s)://…">`,
`<strong>`, `<span class=mention>` and `<time>`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, datetime

from markupsafe import Markup

from devexbot.web.when import time_html

Names = Callable[[str], str | None]
"""A Slack user id's name, None when it is not known."""

_TOKEN = re.compile(r"<([^<>]*)>")
_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+?)\*(?![\w*])")
_URL = re.compile(r"^https?://[^\s\"'<>|`]+$", re.IGNORECASE)
_USER = re.compile(r"^@([UW][A-Z0-9]{2,})$")
_STASHED = re.compile(r"\x00(\d+)\x00")
_GROUP = re.compile(r"^!subteam\^(S[A-Z0-9]{2,})$")
_DATE = re.compile(r"^!date\^(\d{1,12})\^[^|]*$")


def no_names(user_id: str) -> str | None:
    return None


def mrkdwn_html(text: str, names: Names = no_names) -> Markup:
    """One mrkdwn line or more, as HTML (newlines become `<br>`); a mention shows the name
    `names` gives, a date token a `<time>` the page shows in the reader's time zone."""
    links: list[str] = []

    def stash(match: re.Match[str]) -> str:
        links.append(_token(match.group(1), names))
        return f"\x00{len(links) - 1}\x00"

    # Links are set aside first, so that `*<url|name>*` is a bold link.
    stashed = _TOKEN.sub(stash, text.replace("\x00", ""))
    rendered = _text(stashed)
    rendered = _STASHED.sub(lambda m: links[int(m.group(1))], rendered)
    return Markup(rendered.replace("\n", "<br>"))  # noqa: S704 - every piece escaped


def _text(plain_mrkdwn: str) -> str:
    # Entities are undone and everything redone, so a stray `<` from a cut link is text.
    escaped = html.escape(html.unescape(plain_mrkdwn), quote=False)
    return _BOLD.sub(r"<strong>\1</strong>", escaped)


def _token(inner: str, names: Names) -> str:
    target, _, label = inner.partition("|")
    url = html.unescape(target)
    if _URL.match(url):
        shown = _text(label) if label else html.escape(url, quote=False)
        return (f'<a href="{html.escape(url, quote=True)}" rel="noopener noreferrer" '
                f'target="_blank">{shown}</a>')
    if user := _USER.match(target):
        name = names(user.group(1))
        shown = html.escape(name, quote=False) if name else f"@{user.group(1)}"
        return f'<span class="mention">{shown}</span>'
    if date := _DATE.match(target):
        try:
            return str(time_html(datetime.fromtimestamp(int(date.group(1)), UTC)))
        except (ValueError, OverflowError, OSError):  # no year Python can hold
            return _text(label)
    if group := _GROUP.match(target):
        return f'<span class="mention">@{group.group(1)}</span>'
    return _text(f"&lt;{inner}&gt;")
