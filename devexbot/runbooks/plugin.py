"""`@runbook`: a Python function in a plugin module becomes a runbook command.

    from typing import Annotated, Literal
    from devexbot.runbooks import RunContext, runbook
    from devexbot.runbooks.plugin import Spec

    @runbook(allowed=["@ops"], confirm=True)
    def rotate_keys(env: Literal["test", "staging"],
                    batch: Annotated[int, Spec(min=1, max=50)] = 10, *,
                    run: RunContext) -> int:
        \"\"\"Rotate the API keys of an environment.\"\"\"
        run.print(f"rotating {batch} keys in {env}")
        return 0

Parameters come from the type hints (`str`, `int`, `bool`, `Literal[...]` for choices,
`Annotated[..., Spec(...)]` for bounds, patterns and descriptions); the name from the
function's (`rotate_keys` is `rotate-keys`), the description from its docstring.
"""

from __future__ import annotations

import inspect
import threading
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, get_args, get_origin

from devexbot.runbooks.model import (
    NAME,
    Param,
    ParamType,
    PythonRun,
    RunbookCommand,
    Value,
)

F = TypeVar("F", bound=Callable[..., Any])
ATTRIBUTE = "__runbook__"


@dataclass(frozen=True)
class Spec:
    """Bounds and words for a parameter: `Annotated[int, Spec(min=1, max=90)]`."""

    min: int | None = None
    max: int | None = None
    pattern: str | None = None
    max_length: int | None = None
    description: str | None = None
    secret: bool = False


class RunContext:
    """What a Python runbook gets besides its arguments: who runs it, where its output goes,
    its declared secrets, and whether it should stop (timeouts are cooperative in-process)."""

    def __init__(self, *, run_id: int, command: str, user_id: str, channel_id: str,
                 write: Callable[[str], None], secrets: Mapping[str, str],
                 stop: threading.Event) -> None:
        self.run_id, self.command = run_id, command
        self.user_id, self.channel_id = user_id, channel_id
        self._write, self._secrets, self._stop = write, dict(secrets), stop

    def print(self, *values: object, sep: str = " ", end: str = "\n") -> None:
        """Write a line to the run's output (shown in the thread, redacted)."""
        self._write(sep.join(str(v) for v in values) + end)

    def secret(self, name: str) -> str:
        """The value of a secret the runbook declared (`secrets=[...]`)."""
        if name not in self._secrets:
            raise KeyError(f"{name} is not a declared secret of {self.command}")
        return self._secrets[name]

    def should_stop(self) -> bool:
        """True once the run timed out or the bot is shutting down: return soon."""
        return self._stop.is_set()


def runbook(
    name: str | None = None,
    *,
    allowed: Sequence[str],
    description: str | None = None,
    confirm: bool = False,
    timeout: float = 600.0,
    concurrency: int = 1,
    channels: Sequence[str] = (),
    secrets: Sequence[str] = (),
    redact: Sequence[str] = (),
) -> Callable[[F], F]:
    """Mark a function as a runbook command; the config's `plugins:` imports its module."""

    def decorate(function: F) -> F:
        command = command_from_function(
            function, name=name, allowed=allowed, description=description, confirm=confirm,
            timeout=timeout, concurrency=concurrency, channels=channels, secrets=secrets,
            redact=redact)
        setattr(function, ATTRIBUTE, command)
        return function

    return decorate


def command_from_function(function: Callable[..., Any], *, name: str | None,
                          allowed: Sequence[str], description: str | None, confirm: bool,
                          timeout: float, concurrency: int, channels: Sequence[str],
                          secrets: Sequence[str], redact: Sequence[str]) -> RunbookCommand:
    """The `RunbookCommand` a function declares; `ValueError` or `TypeError` if it cannot."""
    name = name or function.__name__.replace("_", "-")
    if not NAME.match(name):
        raise ValueError(f"runbook name {name!r} must be lower case letters, digits and -")
    description = description or (inspect.getdoc(function) or "").strip().split("\n")[0]
    if not description:
        raise ValueError(f"runbook {name}: give a description (or a docstring)")
    if not allowed:
        raise ValueError(f"runbook {name}: allowed must name who may run it ('*' for everyone)")
    if timeout <= 0 or not 1 <= concurrency <= 100:
        raise ValueError(f"runbook {name}: timeout must be positive, concurrency 1 to 100")
    hints = typing.get_type_hints(function, include_extras=True)
    params = []
    for parameter in inspect.signature(function).parameters.values():
        hint = hints.get(parameter.name)
        if hint is RunContext:
            continue
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise TypeError(f"runbook {name}: *args and **kwargs cannot be parameters")
        default = None if parameter.default is parameter.empty else parameter.default
        params.append(_param(name, parameter.name, hint, default))
    return RunbookCommand(
        name=name, description=description[:150], params=tuple(params),
        execution=PythonRun(function=function, module=function.__module__),
        allowed=tuple(allowed), confirm=confirm, timeout=float(timeout),
        concurrency=concurrency, channels=tuple(channels), secrets=tuple(secrets),
        redact=tuple(redact), origin=f"{function.__module__}.{function.__qualname__}")


def _param(command: str, name: str, hint: Any, default: Any) -> Param:
    spec = Spec()
    if get_origin(hint) is typing.Annotated:
        hint, *extras = get_args(hint)
        spec = next((e for e in extras if isinstance(e, Spec)), spec)
    choices: tuple[Value, ...] = ()
    if get_origin(hint) is typing.Literal:
        kind, choices = ParamType.CHOICE, tuple(get_args(hint))
    elif hint is bool:
        kind = ParamType.BOOL
    elif hint is int:
        kind = ParamType.INT
    elif hint is str:
        kind = ParamType.STR
    else:
        raise TypeError(f"runbook {command}: parameter {name} must be str, int, bool or a "
                        f"Literal of choices, not {hint!r}")
    param = Param(name=name, type=kind, default=default, choices=choices, min=spec.min,
                  max=spec.max, pattern=spec.pattern,
                  max_length=spec.max_length or Param.max_length,
                  description=spec.description, secret=spec.secret)
    try:
        param.check()
    except ValueError as exc:
        raise ValueError(f"runbook {command}: parameter {name}: {exc}") from None
    return param

