"""`commands:` and `runbooks:`: the team's scripts as slash commands."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from devexbot.config.base import Principal, Strict
from devexbot.runbooks.model import (
    ENV_NAME,
    MAX_STR,
    NAME,
    PARAM_NAME,
    Param,
    ParamType,
    check_argv,
    placeholders,
    render_value,
)


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a regular expression: {exc}") from None
    return value


CommandName = Annotated[str, Field(pattern=NAME.pattern)]
ParamName = Annotated[str, Field(pattern=PARAM_NAME.pattern)]
EnvName = Annotated[str, Field(pattern=ENV_NAME.pattern)]
ChannelRef = Annotated[str, Field(pattern=r"^(#[a-z0-9_.-]+|[CG][A-Z0-9]+)$")]
Pattern = Annotated[str, AfterValidator(_regex)]


class ParamSpec(Strict):
    """A runbook parameter in YAML: `days: {type: int, min: 1, max: 90, default: 7}`."""

    type: Literal["str", "int", "bool", "choice"] | None = None  # choices imply choice
    choices: list[int | str] | None = None
    default: bool | int | str | None = None
    min: int | None = None
    max: int | None = None
    pattern: Pattern | None = None
    max_length: int = Field(default=MAX_STR, ge=1, le=3000)
    description: str | None = Field(default=None, max_length=150)
    secret: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> ParamSpec:
        self.to_param("param")  # the name is checked as the key; the rest here
        return self

    def to_param(self, name: str) -> Param:
        kind = ParamType(self.type or ("choice" if self.choices else "str"))
        param = Param(name=name, type=kind, default=self.default,
                      choices=tuple(self.choices or ()), min=self.min, max=self.max,
                      pattern=self.pattern, max_length=self.max_length,
                      description=self.description, secret=self.secret)
        param.check()
        if self.default is None:
            return param
        # `default: 7` of a str parameter is the text "7": typed as the parameter says.
        return replace(param, default=param.convert(render_value(self.default)))


class CommandSpec(Strict):
    """A runbook command in YAML; `run` (a local process) or `jenkins` (a job), not both."""

    description: str = Field(min_length=1, max_length=150)
    params: dict[ParamName, ParamSpec] = Field(default_factory=dict)
    run: list[str] | None = Field(default=None, min_length=1)
    jenkins: str | None = Field(default=None, min_length=1)
    allowed: list[Principal] = Field(min_length=1)
    confirm: bool = False
    timeout: float = Field(default=600, gt=0, le=86400)  # seconds
    concurrency: int = Field(default=1, ge=1, le=100)
    channels: list[ChannelRef] = Field(default_factory=list)
    secrets: list[EnvName] = Field(default_factory=list)
    env: list[EnvName] = Field(default_factory=list)
    cwd: str | None = None
    redact: list[Pattern] = Field(default_factory=list)
    # Run it by itself too: a five-field cron in `schedule.timezone`, as the bot, posting to
    # the first of `channels` (so a scheduled command names at least one channel).
    schedule: str | None = None

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None:
            from apscheduler.triggers.cron import CronTrigger

            try:
                CronTrigger.from_crontab(value)
            except ValueError as exc:
                raise ValueError(f"not a cron schedule ({exc}): say e.g. \"0 6 * * 1-5\"") \
                    from None
        return value

    @field_validator("run")
    @classmethod
    def _placeholders_are_params(cls, value: list[str] | None, info: ValidationInfo
                                 ) -> list[str] | None:
        params = info.data.get("params")
        if value is not None and params is not None:
            if placeholders(value[0]):
                raise ValueError("the program (the first word) cannot be a parameter")
            check_argv(value, [spec.to_param(name) for name, spec in params.items()])
        return value

    @model_validator(mode="after")
    def _scheduled_somewhere(self) -> CommandSpec:
        if self.schedule and not self.channels:
            raise ValueError("a scheduled command needs `channels`: its output goes to the first")
        return self

    @model_validator(mode="after")
    def _one_executor(self) -> CommandSpec:
        if (self.run is None) == (self.jenkins is None):
            raise ValueError("give either run (a command line) or jenkins (a job name)")
        if self.cwd is not None and self.run is None:
            raise ValueError("cwd is only for run commands")
        return self

    def param_list(self) -> tuple[Param, ...]:
        return tuple(spec.to_param(name) for name, spec in self.params.items())


class RunbookSettings(Strict):
    """Settings every runbook shares."""

    env: list[EnvName] = Field(default_factory=list)  # passed to every local command
    redact: list[Pattern] = Field(default_factory=list)  # regexes redacted from all output
    output_limit: int = Field(default=65536, ge=1024, le=10 * 1024 * 1024)  # chars kept
    update_interval: float = Field(default=2.0, ge=0.1, le=60)  # s between Slack edits
    kill_grace: float = Field(default=5.0, ge=0, le=300)  # s from SIGTERM to SIGKILL
    jenkins_poll: float = Field(default=1.0, ge=0.05, le=60)  # s between Jenkins polls
    workers: int = Field(default=16, ge=1, le=256)  # runs at once in this process
