"""The mrkdwn our card renderers write, as safe HTML: the web shows the Slack message's words.

Only what `correlation.blocks` writes is understood: `<url|text>` links, `*bold*`, mentions
and the three entities. Everything else is text: whatever comes in, what goes out is
escaped HTML with no tag but `<a href="http(s)://…">`, `<strong>` and `<span class=mention>`.
"""

from __future__ import annotations

import html
import re

from markupsafe import Markup

_TOKEN = re.compile(r"<([^<>]*)>")
_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+?)\*(?![\w*])")
_URL = re.compile(r"^https?://[^\s\"'<>|`]+$", re.IGNORECASE)
_USER = re.compile(r"^@([UW][A-Z0-9]{2,})$")
_STASHED = re.compile(r"\x00(\d+)\x00")
_GROUP = re.compile(r"^!subteam\^(S[A-Z0-9]{2,})$")


def mrkdwn_html(text: str) -> Markup:
    """One mrkdwn line or more, as HTML (newlines become `<br>`)."""
    links: list[str] = []

    def stash(match: re.Match[str]) -> str:
        links.append(_token(match.group(1)))
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


def _token(inner: str) -> str:
    target, _, label = inner.partition("|")
    url = html.unescape(target)
    if _URL.match(url):
        shown = _text(label) if label else html.escape(url, quote=False)
        return (f'<a href="{html.escape(url, quote=True)}" rel="noopener noreferrer" '
                f'target="_blank">{shown}</a>')
    if user := _USER.match(target):
        return f'<span class="mention">@{user.group(1)}</span>'
    if group := _GROUP.match(target):
        return f'<span class="mention">@{group.group(1)}</span>'
    return _text(f"&lt;{inner}&gt;")
