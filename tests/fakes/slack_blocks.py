"""Block Kit checks Slack applies before accepting a message or a view.

Errors read like Slack's own (`"must be less than 3001 characters
[json-pointer:/blocks/0/text/text]"`), which Slack returns in `errors` and, prefixed
with `[ERROR] `, in `response_metadata.messages`. Only the limits a ChatOps bot can
trip are checked; anything else is accepted, as a lenient Slack would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MESSAGE_MAX_BLOCKS = 50
VIEW_MAX_BLOCKS = 100

BLOCK_TYPES = frozenset(
    {
        "actions",
        "context",
        "context_actions",
        "divider",
        "file",
        "header",
        "image",
        "input",
        "markdown",
        "rich_text",
        "section",
        "table",
        "video",
    }
)
TEXT_TYPES = frozenset({"plain_text", "mrkdwn"})


def _too_long(value: Any, limit: int, pointer: str) -> list[str]:
    if isinstance(value, str) and len(value) > limit:
        return [f"must be less than {limit + 1} characters [json-pointer:{pointer}]"]
    return []


def _text_object(obj: Any, pointer: str, *, limit: int, plain_only: bool = False) -> list[str]:
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        return [f"failed to match all allowed schemas [json-pointer:{pointer}]"]
    allowed = {"plain_text"} if plain_only else TEXT_TYPES
    if obj.get("type") not in allowed:
        return [f"must be a valid enum value [json-pointer:{pointer}/type]"]
    if not obj["text"]:
        return [f"must be more than 0 characters [json-pointer:{pointer}/text]"]
    return _too_long(obj["text"], limit, f"{pointer}/text")


def _element(element: Any, pointer: str) -> list[str]:
    if not isinstance(element, dict) or not isinstance(element.get("type"), str):
        return [f"failed to match all allowed schemas [json-pointer:{pointer}]"]
    errors = _too_long(element.get("action_id"), 255, f"{pointer}/action_id")
    if element["type"] == "button":
        errors += _text_object(element.get("text"), f"{pointer}/text", limit=75, plain_only=True)
        errors += _too_long(element.get("value"), 2000, f"{pointer}/value")
        errors += _too_long(element.get("url"), 3000, f"{pointer}/url")
        if "style" in element and element["style"] not in ("primary", "danger"):
            errors.append(f"must be a valid enum value [json-pointer:{pointer}/style]")
    return errors


def _section(block: dict[str, Any], pointer: str) -> list[str]:
    if "text" not in block and "fields" not in block:
        return [f"must provide either text or fields [json-pointer:{pointer}]"]
    errors: list[str] = []
    if "text" in block:
        errors += _text_object(block["text"], f"{pointer}/text", limit=3000)
    fields = block.get("fields")
    if fields is not None:
        if not isinstance(fields, list) or len(fields) > 10:
            errors.append(f"no more than 10 items allowed [json-pointer:{pointer}/fields]")
        else:
            for i, item in enumerate(fields):
                errors += _text_object(item, f"{pointer}/fields/{i}", limit=2000)
    if "accessory" in block:
        errors += _element(block["accessory"], f"{pointer}/accessory")
    return errors


def _elements(block: dict[str, Any], pointer: str, limit: int, check: bool) -> list[str]:
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        return [f"must be more than 0 items [json-pointer:{pointer}/elements]"]
    if len(elements) > limit:
        return [f"no more than {limit} items allowed [json-pointer:{pointer}/elements]"]
    errors: list[str] = []
    seen: set[str] = set()
    for i, element in enumerate(elements):
        if check:
            errors += _element(element, f"{pointer}/elements/{i}")
        action_id = element.get("action_id") if isinstance(element, dict) else None
        if action_id is not None and action_id in seen:
            errors.append(f"duplicate action_id [json-pointer:{pointer}/elements/{i}/action_id]")
        if action_id is not None:
            seen.add(action_id)
    return errors


def _block(block: Any, pointer: str) -> list[str]:
    if not isinstance(block, dict) or block.get("type") not in BLOCK_TYPES:
        return [f"failed to match all allowed schemas [json-pointer:{pointer}]"]
    errors = _too_long(block.get("block_id"), 255, f"{pointer}/block_id")
    kind = block["type"]
    if kind == "section":
        errors += _section(block, pointer)
    elif kind == "header":
        errors += _text_object(block.get("text"), f"{pointer}/text", limit=150, plain_only=True)
    elif kind == "context":
        errors += _elements(block, pointer, limit=10, check=False)
    elif kind == "actions":
        errors += _elements(block, pointer, limit=25, check=True)
    elif kind == "image":
        errors += _too_long(block.get("alt_text"), 2000, f"{pointer}/alt_text")
        if not block.get("alt_text"):
            errors.append(f"must provide alt_text [json-pointer:{pointer}]")
    elif kind == "input":
        errors += _text_object(block.get("label"), f"{pointer}/label", limit=2000, plain_only=True)
        errors += _element(block.get("element"), f"{pointer}/element")
    return errors


def block_errors(
    blocks: Any, *, max_blocks: int = MESSAGE_MAX_BLOCKS, pointer: str = "/blocks"
) -> list[str]:
    """Slack's `invalid_blocks` reasons for `blocks`, empty when Slack would accept them."""
    if not isinstance(blocks, list):
        return [f"must be an array [json-pointer:{pointer}]"]
    if len(blocks) > max_blocks:
        return [f"no more than {max_blocks} items allowed [json-pointer:{pointer}]"]
    errors: list[str] = []
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        errors += _block(block, f"{pointer}/{i}")
        block_id = block.get("block_id") if isinstance(block, dict) else None
        if block_id is not None and block_id in seen:
            errors.append(f"duplicate block_id [json-pointer:{pointer}/{i}/block_id]")
        if block_id is not None:
            seen.add(block_id)
    return errors


def view_errors(view: Any) -> list[str]:
    """Slack's `invalid_arguments` reasons for a modal view, empty when it would be accepted."""
    if not isinstance(view, dict) or view.get("type") not in ("modal", "home"):
        return ["failed to match all allowed schemas [json-pointer:/view]"]
    errors: list[str] = []
    if view["type"] == "modal":
        errors += _text_object(view.get("title"), "/view/title", limit=24, plain_only=True)
        for name in ("close", "submit"):
            if view.get(name) is not None:
                errors += _text_object(view[name], f"/view/{name}", limit=24, plain_only=True)
    errors += _too_long(view.get("private_metadata"), 3000, "/view/private_metadata")
    errors += _too_long(view.get("callback_id"), 255, "/view/callback_id")
    errors += _too_long(view.get("external_id"), 255, "/view/external_id")
    errors += block_errors(view.get("blocks"), max_blocks=VIEW_MAX_BLOCKS, pointer="/view/blocks")
    return errors


def with_block_ids(blocks: list[Any], new_id: Callable[[], str]) -> list[Any]:
    """Copy of `blocks` where each block lacking a `block_id` gets one, as Slack assigns them."""
    out = []
    for block in blocks:
        if isinstance(block, dict) and "block_id" not in block:
            block = {**block, "block_id": new_id()}
        out.append(block)
    return out
