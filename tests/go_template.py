"""Just enough of Go's text/template to render docs/senders.md's Argo CD template in a test.

Actions: `{{.a.b}}`, `{{index .a.b "key"}}`, `{{if eq .a "x"}}`, `{{else if eq ...}}`,
`{{else}}`, `{{end}}`, and `{{(call .time.Now).UTC.Format "<layout>"}}` (a fixed time).
A missing field renders `<no value>`, as Go's does for maps. Anything else is an error,
so the template cannot silently grow past what this checks.
"""

from __future__ import annotations

import re
import shlex
from datetime import datetime
from typing import Any

_ACTION = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_NOW = re.compile(r'^\(call \.time\.Now\)\.UTC\.Format "2006-01-02T15:04:05Z07:00"$')
NO_VALUE = "<no value>"


def render(template: str, data: dict[str, Any], *, now: datetime) -> str:
    tokens: list[tuple[str, str]] = []
    position = 0
    for match in _ACTION.finditer(template):
        tokens.append(("text", template[position:match.start()]))
        tokens.append(("action", match.group(1).strip()))
        position = match.end()
    tokens.append(("text", template[position:]))
    out, rest = _block(tokens, data, now)
    if rest:
        raise ValueError(f"unexpected {rest[0]}")
    return out


def _block(tokens: list[tuple[str, str]], data: dict[str, Any], now: datetime
           ) -> tuple[str, list[tuple[str, str]]]:
    """Render until an else/end that closes the caller's block; return what is left."""
    out = ""
    while tokens:
        kind, text = tokens[0]
        if kind == "text":
            out, tokens = out + text, tokens[1:]
        elif text == "end" or text.startswith("else"):
            return out, tokens
        elif text.startswith("if "):
            rendered, tokens = _if(text[3:], tokens[1:], data, now)
            out += rendered
        else:
            out, tokens = out + _value(text, data, now), tokens[1:]
    return out, tokens


def _if(condition: str, tokens: list[tuple[str, str]], data: dict[str, Any], now: datetime
        ) -> tuple[str, list[tuple[str, str]]]:
    chosen = None
    while True:
        rendered, tokens = _block(tokens, data, now)
        if chosen is None and _true(condition, data):
            chosen = rendered
        if not tokens:
            raise ValueError("an if without its end")
        text, tokens = tokens[0][1], tokens[1:]
        if text == "end":
            return chosen or "", tokens
        condition = text.removeprefix("else").strip().removeprefix("if ").strip() or "true"


def _true(condition: str, data: dict[str, Any]) -> bool:
    if condition == "true":
        return True
    words = shlex.split(condition, posix=False)
    if len(words) == 3 and words[0] == "eq":
        return str(_lookup(words[1], data)) == words[2].strip('"')
    raise ValueError(f"unsupported condition: {condition}")


def _value(action: str, data: dict[str, Any], now: datetime) -> str:
    if _NOW.match(action):
        return now.strftime("%Y-%m-%dT%H:%M:%SZ")
    words = shlex.split(action, posix=False)
    if len(words) == 1 and words[0].startswith("."):
        return str(_lookup(words[0], data))
    if len(words) == 3 and words[0] == "index":
        found = _lookup(words[1], data)
        key = words[2].strip('"')
        return str(found.get(key, NO_VALUE)) if isinstance(found, dict) else NO_VALUE
    raise ValueError(f"unsupported action: {action}")


def _lookup(path: str, data: dict[str, Any]) -> Any:
    value: Any = data
    for key in path.strip(".").split("."):
        if not isinstance(value, dict) or key not in value:
            return NO_VALUE
        value = value[key]
    return value
