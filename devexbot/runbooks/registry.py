"""The runbook commands a config declares: its `commands:` and the `@runbook` functions of
its `plugins:` modules, checked together (names unique, none shadowing a built-in)."""

from __future__ import annotations

import importlib
import os
import re
import shutil
import sys
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from correlation.principals import parse_principal
from devexbot.config import BotConfig, CommandSpec
from devexbot.errors import ConfigError
from devexbot.runbooks.model import ENV_NAME, JenkinsRun, LocalRun, RunbookCommand
from devexbot.runbooks.plugin import ATTRIBUTE

_CHANNEL = re.compile(r"^(#[a-z0-9_.-]+|[CG][A-Z0-9]+)$")


@dataclass(frozen=True)
class Runbooks:
    """The commands by name."""

    commands: Mapping[str, RunbookCommand]

    def get(self, name: str) -> RunbookCommand | None:
        return self.commands.get(name.lower())

    def __iter__(self) -> Iterator[RunbookCommand]:
        return iter(sorted(self.commands.values(), key=lambda c: c.name))

    def __len__(self) -> int:
        return len(self.commands)


def load_runbooks(config: BotConfig, *, reserved: Collection[str] = (),
                  check_files: bool = False) -> Runbooks:
    """Build the commands; `ConfigError` lists every mistake with its file and line.

    `reserved` are names taken by built-in subcommands. `check_files` also checks that
    local programs exist (what `devexbot check-config` does).
    """
    problems: list[str] = []
    commands: dict[str, RunbookCommand] = {}
    loc: tuple[str | int, ...]
    for name, spec in config.commands.items():
        loc = ("commands", name)
        if name in reserved:
            problems.append(config.problem(loc, f"`{name}` is a built-in /devex subcommand: "
                                                "give the runbook another name"))
        command = _from_spec(name, spec, config)
        commands[name] = command
        missing = _missing_program(command.execution) if check_files and isinstance(
            command.execution, LocalRun) else None
        if missing:
            problems.append(config.problem((*loc, "run", 0), missing))
    for index, module_name in enumerate(config.plugins):
        plugin_loc: tuple[str, int] = ("plugins", index)
        loc = plugin_loc
        try:
            module = _import(module_name, config.base_dir)
        except Exception as exc:  # whatever the plugin raises on import is its mistake
            problems.append(config.problem(loc, f"cannot import {module_name}: "
                                                f"{type(exc).__name__}: {exc}"))
            continue
        found = [getattr(obj, ATTRIBUTE) for obj in vars(module).values()
                 if isinstance(getattr(obj, ATTRIBUTE, None), RunbookCommand)]
        if not found:
            problems.append(config.problem(loc, f"{module_name} defines no @runbook function"))
        for command in found:
            if command.name in reserved:
                problems.append(config.problem(loc, f"{command.origin}: `{command.name}` is a "
                                                    "built-in /devex subcommand"))
            elif command.name in commands:
                other = commands[command.name].origin
                problems.append(config.problem(loc, f"{command.origin}: `{command.name}` is "
                                                    f"also declared at {other}"))
            elif problem := _plugin_problem(command):
                problems.append(config.problem(loc, f"{command.origin}: {problem}"))
            commands.setdefault(command.name, command)
    if problems:
        raise ConfigError(problems[0], problems=problems)
    return Runbooks(commands)


def _from_spec(name: str, spec: CommandSpec, config: BotConfig) -> RunbookCommand:
    execution: LocalRun | JenkinsRun
    if spec.run is not None:
        program = spec.run[0]
        if "/" in program and not os.path.isabs(program):
            program = str(config.base_dir / program)  # scripts live beside the config
        cwd = config.base_dir / spec.cwd if spec.cwd else config.base_dir
        execution = LocalRun(argv=(program, *spec.run[1:]), cwd=cwd,
                             env=tuple(dict.fromkeys([*config.runbooks.env, *spec.env])))
    else:
        assert spec.jenkins is not None
        execution = JenkinsRun(job=spec.jenkins.strip("/"))
    return RunbookCommand(
        name=name, description=spec.description, params=spec.param_list(),
        execution=execution, allowed=tuple(spec.allowed), confirm=spec.confirm,
        timeout=spec.timeout, concurrency=spec.concurrency, channels=tuple(spec.channels),
        secrets=tuple(spec.secrets), redact=tuple(spec.redact),
        origin=config.where(("commands", name)))


def _missing_program(run: LocalRun) -> str | None:
    program = run.argv[0]
    if "/" not in program:
        return None if shutil.which(program) else f"{program} is not on the PATH"
    path = Path(program)
    if not path.is_file():
        return (f"{program} does not exist (a relative path is relative to the config "
                "file's directory)")
    if not os.access(path, os.X_OK):
        return f"{program} is not executable (chmod +x it)"
    if not run.cwd.is_dir():
        return f"the working directory {run.cwd} does not exist"
    return None


def _plugin_problem(command: RunbookCommand) -> str | None:
    for who in command.allowed:
        try:
            parse_principal(who)
        except ValueError as exc:
            return f"allowed: {exc}"
    for channel in command.channels:
        if not _CHANNEL.match(channel):
            return f"channels: {channel!r} is not a channel id or #name"
    for secret in command.secrets:
        if not ENV_NAME.match(secret):
            return f"secrets: {secret!r} is not an environment variable name"
    for pattern in command.redact:
        try:
            re.compile(pattern)
        except re.error as exc:
            return f"redact: {pattern!r} is not a regular expression: {exc}"
    return None


def _import(module_name: str, base_dir: Path) -> Any:
    # Plugins live beside the config; they stay importable for what they import later.
    if str(base_dir) not in sys.path:
        sys.path.insert(0, str(base_dir))
    return importlib.import_module(module_name)
