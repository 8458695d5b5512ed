"""The Slack Home tab of `correlation.home.HomeModel`: a `home` view within Slack's 100
blocks, each section folding what does not fit into "and N more"."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from correlation.button_blocks import button_elements
from correlation.checklist import STATUS_EMOJI
from correlation.home import ApprovalItem, DeployItem, HomeModel, PrItem
from correlation.mrkdwn import Block, clip, context, escape, header, link, one_line, section
from correlation.prefs import PrefName, describe

__all__ = ["HOME_MAX_BLOCKS", "PREF_ACTION", "render_home_view"]

HOME_MAX_BLOCKS = 100  # Slack's limit for a Home tab
PREF_ACTION = "home.pref"  # the preference buttons' action ids: `home.pref.<name>`
MAX_PRS = 15  # lines per section; the rest are "and N more"
MAX_REVIEWS = 10
MAX_SECTION = 3000  # characters in a section's text
MAX_APPROVALS = 15  # two blocks each (the line and its buttons)
REVIEW_WORDS = {"approved": "approved", "changes_requested": "changes requested",
                "pending": "review pending"}


def render_home_view(model: HomeModel) -> dict[str, Any]:
    """The `home` view `views.publish` takes."""
    blocks: list[Block] = [header("Your devexbot")]
    blocks += _section("Your open pull requests", model.prs, MAX_PRS, _pr_line,
                       "None open, as far as the bot has seen.")
    blocks += _section("Reviews asked of you", model.reviews, MAX_REVIEWS, _pr_line,
                       "Nobody waits for your review.")
    blocks += _approvals(model.approvals)
    blocks += _deploys(model.deploys)
    blocks += _prefs(model)
    assert len(blocks) <= HOME_MAX_BLOCKS, len(blocks)
    return {"type": "home", "blocks": blocks}


def _title(text: str) -> list[Block]:
    return [{"type": "divider"}, section(f"*{text}*")]


def _section(title: str, items: Sequence[PrItem], shown: int,
             line: Callable[[PrItem], str], empty: str) -> list[Block]:
    blocks = _title(f"{title} ({len(items)})" if items else title)
    if not items:
        return [*blocks, context([empty])]
    blocks += [section(line(item)) for item in items[:shown]]
    if len(items) > shown:
        blocks.append(context([f"and {len(items) - shown} more"]))
    return blocks


def _pr_line(pr: PrItem) -> str:
    title = escape(one_line(pr.title), 150) or f"#{pr.number}"
    words = [f"{STATUS_EMOJI[pr.status]} {pr.status.value}"]
    if pr.review in REVIEW_WORDS:
        words.append(REVIEW_WORDS[pr.review])
    if pr.draft:
        words.append("draft")
    return (f"{link(pr.url, f'{escape(pr.repo, 100)}#{pr.number}')} {title}\n"
            + " · ".join(words))


def _approvals(items: Sequence[ApprovalItem]) -> list[Block]:
    blocks = _title(f"Deploys waiting for your approval ({len(items)})" if items
                    else "Deploys waiting for your approval")
    if not items:
        return [*blocks, context(["Nothing waits for you."])]
    for item in items[:MAX_APPROVALS]:
        where = link(item.url, f"{escape(item.repo, 100)} {item.sha[:7]}")
        blocks.append(section(f"✋ *{escape(one_line(item.environment), 60)}*: {where} "
                              f"{escape(one_line(item.title), 150)}"))
        blocks.append({"type": "actions", "elements": button_elements(item.buttons)})
    if len(items) > MAX_APPROVALS:
        blocks.append(context([f"and {len(items) - MAX_APPROVALS} more"]))
    return blocks


def _deploys(items: Sequence[DeployItem]) -> list[Block]:
    blocks = _title("Your recent deploys")
    if not items:
        return [*blocks, context(["None yet."])]
    lines = [f"{STATUS_EMOJI[d.status]} *{escape(one_line(d.environment), 60)}* "
             f"{link(d.url, f'{escape(d.repo, 100)} {d.sha[:7]}')} {_when(d.at)}"
             for d in items]
    return [*blocks, section(clip("\n".join(lines), MAX_SECTION))]


def _when(at: datetime) -> str:
    """A time each reader sees in their own time zone."""
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|{at:%Y-%m-%d %H:%M} UTC>"


def _prefs(model: HomeModel) -> list[Block]:
    prefs = model.prefs
    blocks = _title("Your notifications")
    blocks.append(section("\n".join(describe(prefs))))
    flags = ((PrefName.DM_FAILURES, prefs.dm_failures, "DMs on failures"),
             (PrefName.DM_REVIEWS, prefs.dm_reviews, "DMs on reviews"),
             (PrefName.MUTE_OWN, prefs.mute_own, "Mute my own actions"))
    elements = [_toggle(name, on, label) for name, on, label in flags]
    if prefs.quiet is not None:
        elements.append(_button(f"{PREF_ACTION}.{PrefName.QUIET.value}", "Quiet hours off",
                                "off"))
    blocks.append({"type": "actions", "block_id": "home.prefs", "elements": elements})
    blocks.append(context(["Quiet hours: `/devex me quiet 22:00-08:00` (your Slack time "
                           "zone) or `/devex me quiet off`."]))
    return blocks


def _toggle(name: PrefName, on: bool, label: str) -> dict[str, Any]:
    """A button that turns the preference over: it carries the value it sets."""
    return _button(f"{PREF_ACTION}.{name.value}", f"{label}: {'on' if on else 'off'}",
                   "off" if on else "on", primary=on)


def _button(action_id: str, text: str, value: str, *, primary: bool = False
            ) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "button", "action_id": action_id, "value": value,
                               "text": {"type": "plain_text", "text": text, "emoji": True}}
    if primary:
        element["style"] = "primary"
    return element
