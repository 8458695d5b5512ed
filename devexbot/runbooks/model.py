"""What a runbook command is: its typed parameters, who may run it, and how it runs.

Pure data and validation; a YAML entry and a decorated Python function both become a
`RunbookCommand`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

NAME = re.compile(r"^[a-z][a-z0-9-]{0,31}$")  # also a valid Slack slash command name
PARAM_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
MAX_STR = 500  # characters of a free-text value, unless a param says otherwise

Value = str | int | bool


class ParamType(StrEnum):
    STR = "str"
    INT = "int"
    BOOL = "bool"
    CHOICE = "choice"


class RunStatus(StrEnum):
    CONFIRMING = "confirming"  # waiting for the Run / Cancel click
    CANCELLED = "cancelled"
    REFUSED = "refused"  # not allowed, wrong channel, or already running
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    INTERRUPTED = "interrupted"  # the bot shut down while it ran
    ERROR = "error"  # could not be started or followed
    LOST = "lost"  # the replica running it died; its slot expired

    @property
    def finished(self) -> bool:
        return self not in (RunStatus.CONFIRMING, RunStatus.RUNNING)


class ArgumentError(ValueError):
    """A value does not fit its parameter; the message is meant for the person who typed it."""


_TRUE = {"true", "yes", "on", "1", "y"}
_FALSE = {"false", "no", "off", "0", "n"}


@dataclass(frozen=True)
class Param:
    """One typed parameter. Required unless it has a default."""

    name: str
    type: ParamType = ParamType.STR
    default: Value | None = None
    choices: tuple[Value, ...] = ()
    min: int | None = None
    max: int | None = None
    pattern: str | None = None
    max_length: int = MAX_STR
    description: str | None = None
    secret: bool = False  # shown and stored as [redacted]; redacted from the output too

    @property
    def required(self) -> bool:
        return self.default is None

    def convert(self, raw: str) -> Value:
        """The typed value of `raw`, or an `ArgumentError` saying what would fit."""
        if "\x00" in raw:
            raise ArgumentError(f"`{self.name}` must not contain a NUL character")
        if self.type is ParamType.INT:
            return self._int(raw)
        if self.type is ParamType.BOOL:
            word = raw.strip().lower()
            if word in _TRUE:
                return True
            if word in _FALSE:
                return False
            raise ArgumentError(f"`{self.name}` must be true or false, not `{_show(raw)}`")
        if self.type is ParamType.CHOICE:
            for choice in self.choices:
                if str(choice) == raw:
                    return choice
            options = ", ".join(str(c) for c in self.choices)
            raise ArgumentError(f"`{self.name}` must be one of {options}, not `{_show(raw)}`")
        return self._str(raw)

    def _int(self, raw: str) -> int:
        text = raw.strip()
        if not re.fullmatch(r"[+-]?[0-9]{1,18}", text):
            raise ArgumentError(f"`{self.name}` must be {self.bounds()}, not `{_show(raw)}`")
        value = int(text)
        if (self.min is not None and value < self.min) or (
                self.max is not None and value > self.max):
            raise ArgumentError(f"`{self.name}` must be {self.bounds()}, not {value}")
        return value

    def _str(self, raw: str) -> str:
        if len(raw) > self.max_length:
            raise ArgumentError(f"`{self.name}` must be at most {self.max_length} characters")
        if self.pattern is not None:
            if not re.fullmatch(self.pattern, raw):
                raise ArgumentError(f"`{self.name}` must match `{self.pattern}`, "
                                    f"not `{_show(raw)}`")
        elif raw.startswith("-"):
            # A script would read it as an option (`--force`): ask for a pattern instead.
            raise ArgumentError(f"`{self.name}` must not start with `-`")
        return raw

    def bounds(self) -> str:
        if self.min is not None and self.max is not None:
            return f"a whole number from {self.min} to {self.max}"
        if self.min is not None:
            return f"a whole number of at least {self.min}"
        if self.max is not None:
            return f"a whole number of at most {self.max}"
        return "a whole number"

    def hint(self) -> str:
        """What the parameter takes, for usage lines: `staging|test`, `1-90`, `text`."""
        if self.type is ParamType.CHOICE:
            return "|".join(str(c) for c in self.choices)
        if self.type is ParamType.INT:
            low = "" if self.min is None else str(self.min)
            high = "" if self.max is None else str(self.max)
            return f"{low}..{high}" if low or high else "number"
        if self.type is ParamType.BOOL:
            return "true|false"
        return "text"

    def check(self) -> None:
        """Raise `ValueError` when the declaration itself is inconsistent (the message does
        not repeat the parameter's name: the caller says where it is)."""
        if not PARAM_NAME.match(self.name):
            raise ValueError(f"parameter name {self.name!r} must be lower case letters, digits "
                             "and _, starting with a letter")
        if self.type is ParamType.CHOICE and not self.choices:
            raise ValueError("choices must list at least one value")
        if self.type is not ParamType.CHOICE and self.choices:
            raise ValueError("choices are only for choice parameters")
        if (self.min is not None or self.max is not None) and self.type is not ParamType.INT:
            raise ValueError("min and max are only for int parameters")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is greater than max {self.max}")
        if self.pattern is not None:
            if self.type is not ParamType.STR:
                raise ValueError("pattern is only for str parameters")
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"pattern is not a regular expression: {exc}") from None
        if self.default is not None:
            try:
                self.convert(render_value(self.default))
            except ArgumentError as exc:
                reason = str(exc).replace(f"`{self.name}` ", "", 1).replace("`", "")
                raise ValueError(f"default {self.default!r} does not fit: it {reason}") from None


def render_value(value: Value) -> str:
    """A typed value as its script argument: `true`/`false` for booleans."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _show(raw: str, limit: int = 40) -> str:
    text = raw.replace("\n", "⏎").replace("`", "'")
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class LocalRun:
    """Run `argv` (each element a template of `{param}` placeholders) as a process."""

    argv: tuple[str, ...]
    cwd: Path
    env: tuple[str, ...] = ()  # names of the bot's variables passed through besides the base


@dataclass(frozen=True)
class JenkinsRun:
    """Trigger a parameterised Jenkins job (full name, folders with `/`)."""

    job: str


@dataclass(frozen=True)
class PythonRun:
    """Call a decorated function in the bot's process, with typed keyword arguments."""

    function: Callable[..., Any]
    module: str


Execution = LocalRun | JenkinsRun | PythonRun


@dataclass(frozen=True)
class RunbookCommand:
    name: str
    description: str
    params: tuple[Param, ...]
    execution: Execution
    allowed: tuple[str, ...]
    confirm: bool = False
    timeout: float = 600.0
    concurrency: int = 1
    channels: tuple[str, ...] = ()  # ids (`C0123`) or names (`#ops`); empty: any channel
    secrets: tuple[str, ...] = ()  # names of the bot's environment variables
    redact: tuple[str, ...] = ()  # extra regex patterns for this command's output
    origin: str = ""  # where it was declared, for messages: `config.yaml:12`, `mod.fn`
    extra: Mapping[str, Any] = field(default_factory=dict)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    @property
    def executor(self) -> str:
        match self.execution:
            case LocalRun():
                return "local"
            case JenkinsRun():
                return "jenkins"
            case PythonRun():
                return "python"

    def usage(self, prefix: str) -> str:
        """`/devex cleanup-test-data env=test|staging [days=1..90]`."""
        parts = [f"{prefix}{self.name}"]
        for p in self.params:
            word = f"{p.name}={p.hint()}"
            parts.append(f"[{word}]" if not p.required else word)
        return " ".join(parts)

    def allows_channel(self, channel_id: str, channel_name: str | None) -> bool:
        if not self.channels:
            return True
        names = {channel_id}
        if channel_name:
            names |= {channel_name, f"#{channel_name}"}
        return bool(names & set(self.channels))


def placeholders(template: str) -> list[str]:
    """The `{name}` placeholders of one argv element (`{{` and `}}` are literal braces)."""
    return [m.group(1) for m in PLACEHOLDER.finditer(template.replace("{{", "").replace("}}", ""))]


def substitute(template: str, values: Mapping[str, str]) -> str:
    """One argv element with its placeholders replaced: never parsed by a shell."""
    out, i = [], 0
    while i < len(template):
        if template.startswith("{{", i) or template.startswith("}}", i):
            out.append(template[i])
            i += 2
            continue
        if template[i] == "{":
            end = template.index("}", i)
            out.append(values[template[i + 1:end]])
            i = end + 1
            continue
        out.append(template[i])
        i += 1
    return "".join(out)


def check_argv(argv: Sequence[str], params: Sequence[Param]) -> None:
    """Raise `ValueError` when a placeholder names no parameter."""
    known = {p.name for p in params}
    for element in argv:
        bare = PLACEHOLDER.sub("", element.replace("{{", "").replace("}}", ""))
        if "{" in bare or "}" in bare:
            raise ValueError(f"{element!r} has an unmatched brace (write {{{{ or }}}} for a "
                             "literal one)")
        for name in placeholders(element):
            if name not in known:
                listed = ", ".join(sorted(known)) or "none declared"
                raise ValueError(f"{{{name}}} is not a parameter (parameters: {listed})")
