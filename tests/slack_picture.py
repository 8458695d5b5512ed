"""A channel and one thread of the fake Slack, drawn as HTML in Slack's manner, for a
browser to show: the README's picture of what a channel sees, made from the blocks the bot
actually posted. Only the Block Kit the bot writes is drawn (header, section, context,
actions, divider); any other block shows as its type, so nothing is drawn that was not sent.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup

from devexbot.web.mrkdwn_html import mrkdwn_html
from tests.fakes.slack_models import Message

_CODE = re.compile(r"`([^`\n]+)`")
_STYLE = """
body { margin: 0; font: 15px/1.45 "Liberation Sans", "DejaVu Sans", sans-serif; color: #1d1c1d;
       background: #fff; }
.caption { font-size: 12px; color: #616061; padding: 6px 20px; background: #f8f8f8;
           border-bottom: 1px solid #ddd; }
.panes { display: grid; grid-template-columns: 1fr 1fr; min-height: 100vh; }
.pane { border-right: 1px solid #ddd; }
.pane h2 { margin: 0; padding: 12px 20px; font-size: 17px; border-bottom: 1px solid #ddd; }
.pane h2 small { font-weight: normal; color: #616061; font-size: 13px; }
.message { display: grid; grid-template-columns: 36px 1fr; gap: 0 8px; padding: 8px 20px; }
.avatar { width: 36px; height: 36px; border-radius: 6px; background: #4a154b; color: #fff;
          font-weight: bold; display: flex; align-items: center; justify-content: center; }
.who { font-weight: bold; } .app { font-size: 10px; color: #616061; background: #eee;
       padding: 0 3px; border-radius: 2px; margin: 0 4px; font-weight: bold; }
.when, .edited { color: #616061; font-size: 12px; }
.header { font-weight: bold; font-size: 17px; margin: 2px 0; }
.section { margin: 2px 0; } .context { font-size: 12px; color: #616061; margin: 2px 0; }
.context > span + span { margin-left: 8px; }
a { color: #1264a3; text-decoration: none; }
.mention { color: #1264a3; background: #e8f5fa; border-radius: 3px; padding: 0 2px; }
code { font: 12px "DejaVu Sans Mono", monospace; color: #c01343; background: #f6f6f6;
       border: 1px solid #ddd; border-radius: 3px; padding: 0 3px; }
blockquote { margin: 2px 0; padding-left: 10px; border-left: 4px solid #ddd; }
.actions button { font: bold 13px sans-serif; background: #fff; border: 1px solid #bbb;
                  border-radius: 4px; padding: 4px 12px; margin: 4px 6px 0 0; }
.actions button.primary { background: #007a5a; color: #fff; border-color: #007a5a; }
.actions button.danger { color: #e01e5a; border-color: #e01e5a; }
hr { border: 0; border-top: 1px solid #ddd; }
.replies { color: #1264a3; font-weight: bold; font-size: 13px; margin-top: 4px; }
.divider { color: #616061; font-size: 13px; margin: 4px 20px; display: flex; gap: 8px; }
.divider::after { content: ""; flex: 1; border-bottom: 1px solid #ddd; margin-bottom: 8px; }
.unknown { color: #616061; font-style: italic; }
"""


def conversation_page(channel_name: str, top: Message, replies: Sequence[Message],
                      names: Mapping[str, str], caption: str) -> str:
    """The channel (its one top-level message, with the count of replies) beside the open
    thread (the message and every reply, oldest first)."""
    channel = _message(top, names) + Markup(
        f'<div class="replies" style="margin-left:64px">{len(replies)} replies</div>')
    thread = _message(top, names) + Markup(
        f'<div class="divider">{len(replies)} replies</div>') + Markup("").join(
        _message(reply, names) for reply in replies)
    return (f'<!doctype html><html><head><meta charset="utf-8"><style>{_STYLE}</style>'
            f'</head><body><div class="caption">{html.escape(caption)}</div>'
            f'<div class="panes"><section class="pane channel"><h2># '
            f'{html.escape(channel_name)}</h2>{channel}</section>'
            f'<section class="pane thread"><h2>Thread <small># {html.escape(channel_name)}'
            f'</small></h2>{thread}</section></div></body></html>')


def _message(message: Message, names: Mapping[str, str]) -> Markup:
    who = names.get(message.user, message.user)
    when = datetime.fromtimestamp(float(message.ts), UTC).strftime("%H:%M")
    edited = ' <span class="edited">(edited)</span>' if message.edited_ts else ""
    body = Markup("").join(_block(block, names) for block in message.blocks) or _mrkdwn(
        message.text, names)
    return Markup(
        f'<div class="message" data-ts="{html.escape(message.ts)}">'
        f'<div class="avatar">{html.escape(who[:1].upper())}</div><div>'
        f'<span class="who">{html.escape(who)}</span><span class="app">APP</span>'
        f'<span class="when">{when} UTC</span>{edited}<div class="blocks">{body}</div>'
        f'</div></div>')


def _block(block: Mapping[str, Any], names: Mapping[str, str]) -> Markup:
    kind = block.get("type")
    if kind == "header":
        return Markup('<div class="header">{}</div>').format(block["text"]["text"])
    if kind == "section":
        parts = [_text(block["text"], names)] if block.get("text") else []
        parts += [_text(field, names) for field in block.get("fields", [])]
        if accessory := block.get("accessory"):
            parts.append(_element(accessory, names))
        return Markup('<div class="section">{}</div>').format(Markup("<br>").join(parts))
    if kind == "context":
        return Markup('<div class="context">{}</div>').format(Markup("").join(
            Markup("<span>{}</span>").format(_element(e, names)) for e in block["elements"]))
    if kind == "actions":
        return Markup('<div class="actions">{}</div>').format(Markup("").join(
            _element(e, names) for e in block["elements"]))
    if kind == "divider":
        return Markup("<hr>")
    return Markup('<div class="unknown">[{} block]</div>').format(kind)


def _element(element: Mapping[str, Any], names: Mapping[str, str]) -> Markup:
    kind = element.get("type")
    if kind in ("mrkdwn", "plain_text"):
        return _text(element, names)
    if kind == "button":
        style = element.get("style", "")
        return Markup('<button class="{}">{}</button>').format(style, element["text"]["text"])
    if kind == "image":
        return Markup("{}").format(element.get("alt_text", ""))
    return Markup('<span class="unknown">[{}]</span>').format(kind)


def _text(text: Mapping[str, Any], names: Mapping[str, str]) -> Markup:
    if text.get("type") == "plain_text":
        return Markup("{}").format(text["text"])
    return _mrkdwn(text["text"], names)


def _mrkdwn(text: str, names: Mapping[str, str]) -> Markup:
    """Slack's mrkdwn, as the web renders it, with Slack's `code` and `> quote` lines too."""
    lines = str(mrkdwn_html(text, lambda user: f"@{names[user]}" if user in names else None)
                ).split("<br>")
    shown = [f"<blockquote>{line[5:]}</blockquote>" if line.startswith("&gt; ") else line
             for line in lines]
    joined = "<br>".join(shown).replace("</blockquote><br>", "</blockquote>")
    return Markup(_CODE.sub(r"<code>\1</code>", joined))  # every piece escaped
