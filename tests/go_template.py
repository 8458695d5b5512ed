"""Just enough of Go's text/template to render docs/senders.md's Argo CD template in a test.

Argo CD's notifications engine renders its templates with Go's text/template over the
Application as a map (`.app`, `.context`, `.time`). Actions: `{{.a.b}}`, `{{$.a}}`,
`{{$s.a}}`, `{{index .a.b "key"}}`, `{{index .a.list $i}}`, `{{if X}}` where X is a field
(true when it is set and not empty) or `eq X "x"` (no `not`: the template avoids Go's
`not` of a missing map key), `{{else if ...}}`, `{{else}}`, `{{end}}`,
`{{range $i, $s := X}}` (the dot is the element inside), `{{break}}`, and
`{{(call .time.Now).UTC.Format "<layout>"}}` (a fixed time). A missing field renders
`<no value>`, as Go's does for maps. Anything else is an error, so the template cannot
silently grow past what this checks.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

_ACTION = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_NOW = re.compile(r'^\(call \.time\.Now\)\.UTC\.Format "2006-01-02T15:04:05Z07:00"$')
_RANGE = re.compile(r"^range \$(\w+), \$(\w+) := (\S+)$")
NO_VALUE = "<no value>"
_MISSING = object()

Node = Any  # str (text) | _Action | _If | _Range | _Break


@dataclass
class _Action:
    text: str


@dataclass
class _If:
    branches: list[tuple[str, list[Node]]] = field(default_factory=list)


@dataclass
class _Range:
    index: str
    element: str
    over: str
    body: list[Node] = field(default_factory=list)


class _Break(Exception):
    """Go's `{{break}}`: carries what the range's body rendered before it."""


@dataclass(frozen=True)
class _Scope:
    dot: Any
    root: Any
    variables: dict[str, Any]
    now: datetime


def render(template: str, data: dict[str, Any], *, now: datetime) -> str:
    tokens: list[str | _Action] = []
    position = 0
    for match in _ACTION.finditer(template):
        tokens.append(template[position:match.start()])
        tokens.append(_Action(match.group(1).strip()))
        position = match.end()
    tokens.append(template[position:])
    nodes, rest = _parse(tokens)
    if rest:
        raise ValueError(f"unexpected {rest[0]}")
    return _run(nodes, _Scope(data, data, {}, now))


def _parse(tokens: list[str | _Action]) -> tuple[list[Node], list[str | _Action]]:
    """Nodes until an else/end that closes the caller's block; and the tokens left."""
    nodes: list[Node] = []
    while tokens:
        token, tokens = tokens[0], tokens[1:]
        if isinstance(token, str):
            nodes.append(token)
        elif token.text == "end" or token.text.startswith("else"):
            return nodes, [token, *tokens]
        elif token.text.startswith("if "):
            branch = _If()
            condition = token.text[3:]
            while True:
                body, tokens = _parse(tokens)
                branch.branches.append((condition, body))
                if not tokens:
                    raise ValueError("an if without its end")
                closing, tokens = tokens[0], tokens[1:]
                assert isinstance(closing, _Action)
                if closing.text == "end":
                    break
                condition = closing.text.removeprefix("else").strip().removeprefix("if ")
                condition = condition.strip() or "true"
            nodes.append(branch)
        elif token.text.startswith("range "):
            match = _RANGE.match(token.text)
            if match is None:
                raise ValueError(f"unsupported range: {token.text}")
            body, tokens = _parse(tokens)
            if not tokens or not isinstance(tokens[0], _Action) or tokens[0].text != "end":
                raise ValueError("a range without its end")
            tokens = tokens[1:]
            nodes.append(_Range(match.group(1), match.group(2), match.group(3), body))
        elif token.text == "break":
            nodes.append(_Break())
        else:
            nodes.append(token)
    return nodes, tokens


def _run(nodes: list[Node], scope: _Scope) -> str:
    out = ""
    for node in nodes:
        if isinstance(node, str):
            out += node
        elif isinstance(node, _Break):
            raise _Break(out)
        elif isinstance(node, _If):
            for condition, body in node.branches:
                if _true(condition, scope):
                    out += _run_inner(body, scope, out)
                    break
        elif isinstance(node, _Range):
            out += _range(node, scope, out)
        else:
            out += _value(node.text, scope)
    return out


def _run_inner(body: list[Node], scope: _Scope, before: str) -> str:
    """A nested block's output; a `break` in it carries what was rendered so far."""
    try:
        return _run(body, scope)
    except _Break as done:
        raise _Break(before + str(done.args[0])) from None


def _range(node: _Range, scope: _Scope, before: str) -> str:
    items = _lookup(node.over, scope)
    if not isinstance(items, list):
        return ""
    out = ""
    for i, item in enumerate(items):
        inner = _Scope(item, scope.root, {**scope.variables, node.index: i, node.element: item},
                       scope.now)
        try:
            out += _run(node.body, inner)
        except _Break as done:
            return out + str(done.args[0])
    return out


def _true(condition: str, scope: _Scope) -> bool:
    if condition == "true":
        return True
    words = shlex.split(condition, posix=False)
    if len(words) == 3 and words[0] == "eq":
        return str(_shown(_lookup(words[1], scope))) == words[2].strip('"')
    if len(words) == 1:
        return _truthy(_lookup(words[0], scope))
    raise ValueError(f"unsupported condition: {condition}")


def _truthy(value: Any) -> bool:
    return value is not _MISSING and value is not None and bool(value)


def _value(action: str, scope: _Scope) -> str:
    if _NOW.match(action):
        return scope.now.strftime("%Y-%m-%dT%H:%M:%SZ")
    words = shlex.split(action, posix=False)
    if len(words) == 1 and words[0].startswith((".", "$")):
        return _shown(_lookup(words[0], scope))
    if len(words) == 3 and words[0] == "index":
        return _shown(_index(_lookup(words[1], scope), words[2], scope))
    raise ValueError(f"unsupported action: {action}")


def _index(found: Any, key: str, scope: _Scope) -> Any:
    if key.startswith('"'):
        return found.get(key.strip('"'), _MISSING) if isinstance(found, dict) else _MISSING
    position = scope.variables[key[1:]] if key.startswith("$") else int(key)
    if not isinstance(found, list):
        return _MISSING
    if not 0 <= position < len(found):
        raise ValueError(f"index out of range: {position}")  # Go's template fails too
    return found[position]


def _lookup(path: str, scope: _Scope) -> Any:
    if path.startswith("$."):
        return _walk(scope.root, path[1:])
    if path.startswith("$"):
        name, _, rest = path[1:].partition(".")
        return _walk(scope.variables.get(name, _MISSING), "." + rest if rest else "")
    return _walk(scope.dot, path)


def _walk(value: Any, path: str) -> Any:
    for key in path.strip(".").split(".") if path.strip(".") else []:
        if not isinstance(value, dict) or key not in value:
            return _MISSING
        value = value[key]
    return value


def _shown(value: Any) -> str:
    return NO_VALUE if value is _MISSING else str(value)
