"""Checks a rendered message against Slack: slack_sdk's own models, plus the limits it does
not enforce (text lengths as Slack counts them, non-empty texts, blocks per message), plus
our injection rule: every `<` opens a link or a mention we meant."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from slack_sdk.models.blocks import Block

from correlation.blocks import SlackMessage

# What our own code may open with `<`; anything else came from user text unescaped.
ALLOWED_TOKEN = re.compile(r"<(?:https?://[^|<>\s]+\|[^<>]+|@[UW][A-Z0-9]+|!subteam\^S[A-Z0-9]+)>")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def texts(block: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, text) for every text object in a block we rendered (not in action elements)."""
    if block["type"] in ("section", "header"):
        yield block["type"], block["text"]["text"]
    elif block["type"] == "context":
        for element in block["elements"]:
            yield "context", element["text"]


def assert_valid_message(message: SlackMessage) -> None:
    assert isinstance(message.text, str) and message.text.strip()
    assert utf16_len(message.text) < 300, message.text
    assert 1 <= len(message.blocks) <= 50
    json.dumps(message.payload())  # plain JSON, nothing else

    for raw in message.blocks:
        parsed = Block.parse(raw)
        assert parsed is not None, raw
        parsed.validate_json()
        assert parsed.to_dict() == raw, raw
        if raw["type"] == "header":
            assert utf16_len(raw["text"]["text"]) <= 150
        if raw["type"] == "context":
            assert 1 <= len(raw["elements"]) <= 10
        if raw["type"] == "actions":
            assert 1 <= len(raw["elements"]) <= 25
        for _, text in texts(raw):
            assert text.strip()
            assert utf16_len(text) <= 3000
        if raw["type"] in ("section", "context"):
            for _, text in texts(raw):
                assert_no_stray_brackets(text)
    assert_no_stray_brackets(message.text)
    # Slack's undocumented cumulative limit (msg_blocks_too_long) sits around 12,000.
    assert sum(utf16_len(t) for b in message.blocks for _, t in texts(b)) <= 8000


def assert_no_stray_brackets(text: str) -> None:
    rest = ALLOWED_TOKEN.sub("", text)
    # Our own block quotes start a line with "> ".
    rest = "\n".join(line[2:] if line.startswith("> ") else line for line in rest.split("\n"))
    assert "<" not in rest and ">" not in rest, text


def all_text(message: SlackMessage) -> str:
    return "\n".join([message.text] + [t for b in message.blocks for _, t in texts(b)])
