"""Command text to typed arguments: `env=staging 7 "note=two words"`.

Words are split like a POSIX shell splits them (quotes group, nothing is expanded), then
`key=value` words name their parameter and the other words fill the parameters in their
declared order. Every value is checked against its parameter before anything runs.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from devexbot.runbooks.model import ArgumentError, Param, RunbookCommand, Value

_KEY = re.compile(r"^(?:--)?([A-Za-z_][A-Za-z0-9_-]*)=(.*)$", re.DOTALL)
# Slack sends &, < and > as entities; phones and Macs may turn quotes curly.
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))
_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})


@dataclass(frozen=True)
class Arguments:
    """The outcome of reading a command's arguments."""

    values: dict[str, Value]  # every parameter that has a value: given or default
    given: dict[str, str]  # what the person typed, by parameter (a modal shows it again)
    missing: tuple[str, ...] = ()  # required parameters nobody gave
    errors: tuple[str, ...] = ()
    by_param: Mapping[str, str] = field(default_factory=dict)  # errors of one parameter

    @property
    def complete(self) -> bool:
        return not self.missing and not self.errors


def slack_text(text: str) -> str:
    """Undo Slack's escaping of a slash command's text."""
    for entity, char in _ENTITIES:
        text = text.replace(entity, char)
    return text.translate(_QUOTES)


def split_words(text: str) -> list[str]:
    """Words as a shell splits them, without expanding anything; `ArgumentError` if a quote
    is left open."""
    try:
        return shlex.split(slack_text(text), posix=True)
    except ValueError as exc:
        raise ArgumentError(f"I could not read that: {exc}. Quote values with spaces in them, "
                            "e.g. `note=\"two words\"`.") from None


def read_words(command: RunbookCommand, words: Sequence[str]) -> Arguments:
    """Assign words to parameters (by `key=value`, then by position) and check them."""
    by_key: dict[str, str] = {}
    positional: list[str] = []
    errors: list[str] = []
    for word in words:
        match = _KEY.match(word)
        if match is None:
            positional.append(word)
            continue
        key, value = match.group(1).replace("-", "_").lower(), match.group(2)
        if command.param(key) is None:
            errors.append(f"`{command.name}` has no parameter `{match.group(1)}`; "
                          f"valid: {_names(command.params)}")
        elif key in by_key:
            errors.append(f"`{key}` is given twice")
        else:
            by_key[key] = value
    free = [p for p in command.params if p.name not in by_key]
    if len(positional) > len(free):
        errors.append(f"too many values: `{command.name}` takes "
                      f"{_names(command.params) or 'no parameters'}")
    for param, value in zip(free, positional, strict=False):
        by_key[param.name] = value
    if errors:
        return Arguments({}, by_key, errors=tuple(errors))
    return bind(command, by_key)


def bind(command: RunbookCommand, given: Mapping[str, str]) -> Arguments:
    """Check raw values by parameter name (from words, a modal or a button) and fill in
    defaults."""
    values: dict[str, Value] = {}
    errors: list[str] = []
    by_param: dict[str, str] = {}
    missing: list[str] = []
    for key in given:
        if command.param(key) is None:
            errors.append(f"`{command.name}` has no parameter `{key}`; "
                          f"valid: {_names(command.params)}")
    for param in command.params:
        raw = given.get(param.name)
        if raw is None:
            if param.required:
                missing.append(param.name)
            else:
                assert param.default is not None
                values[param.name] = param.default
            continue
        try:
            values[param.name] = param.convert(raw)
        except ArgumentError as exc:
            errors.append(str(exc))
            by_param[param.name] = str(exc)
    return Arguments(values, dict(given), tuple(missing), tuple(errors), by_param)


def _names(params: Sequence[Param]) -> str:
    return ", ".join(f"`{p.name}`" for p in params)
