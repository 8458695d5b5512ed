"""The whole config: every section, and the lookups that span them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import Field, PrivateAttr, field_validator

from correlation.policies import Policies, approval_expiry
from correlation.scm import ScmRepos
from devexbot.config.approvals import ApprovalPolicy
from devexbot.config.base import Strict
from devexbot.config.buttons import CustomButton, unique_keys
from devexbot.config.commands import CommandName, CommandSpec, RunbookSettings
from devexbot.config.flux import FluxSettings
from devexbot.config.github import GitHubConfig
from devexbot.config.metrics import MetricsSettings
from devexbot.config.people import Person
from devexbot.config.permissions import MergePolicy, Permissions
from devexbot.config.retry import RetrySettings
from devexbot.config.routes import Route
from devexbot.config.schedule import Retention, Schedule
from devexbot.config.tickets import Tickets
from devexbot.config.yaml_lines import dotted, line_of


class BotConfig(Strict):
    routes: list[Route] = Field(default_factory=list)
    permissions: Permissions = Field(default_factory=Permissions)
    merge: MergePolicy = Field(default_factory=MergePolicy)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    approvals: dict[str, ApprovalPolicy] = Field(default_factory=dict)
    people: dict[str, Person] = Field(default_factory=dict)
    environments: list[str] = Field(default_factory=list)
    scm_repos: dict[str, str] = Field(default_factory=dict)
    flux: FluxSettings = Field(default_factory=FluxSettings)
    buttons: list[CustomButton] = Field(default_factory=list)

    _unique_buttons = field_validator("buttons")(unique_keys)
    commands: dict[CommandName, CommandSpec] = Field(default_factory=dict)
    plugins: list[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.]*$")]] = Field(
        default_factory=list)
    runbooks: RunbookSettings = Field(default_factory=RunbookSettings)

    # Where the config came from: scripts and plugins are found relative to its directory,
    # and later checks (plugins, names) report `file:line` like schema errors do.
    _source: str = PrivateAttr(default="<config>")
    _root: yaml.Node | None = PrivateAttr(default=None)
    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)

    @property
    def base_dir(self) -> Path:
        return self._base_dir

    def where(self, loc: Sequence[int | str]) -> str:
        """`file:line` of the YAML at `loc` (or of its nearest parent), for messages."""
        line = line_of(self._root, loc, key_line=True)
        return f"{self._source}:{line}" if line else self._source

    def problem(self, loc: Sequence[int | str], message: str) -> str:
        """A config mistake found after schema validation, worded like schema errors."""
        return f"{self.where(loc)}: {dotted(loc)}: {message}"
    schedule: Schedule = Field(default_factory=Schedule)
    retention: Retention = Field(default_factory=Retention)
    tickets: Tickets = Field(default_factory=Tickets)
    github: GitHubConfig = Field(default_factory=GitHubConfig)  # hooks catch-up watches
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)  # delivery metrics

    @field_validator("scm_repos")
    @classmethod
    def _scm_repos_are_usable(cls, value: dict[str, str]) -> dict[str, str]:
        ScmRepos.from_mapping(value)  # a ValueError names the bad entry
        return value

    def approval_policy(self, environment: str) -> ApprovalPolicy | None:
        """The policy for an environment (names compared without case, like on cards)."""
        for name, policy in self.approvals.items():
            if name.casefold() == environment.casefold():
                return policy
        return None

    def approval_expiry(self, environment: str, *, signoff: bool = False) -> timedelta | None:
        """How long a request to decide on `environment` stays open; None: for ever.

        `approvals.<env>.expires_after`; where that is unset, a deploy waiting for approval
        expires after the deprecated `schedule.approval_expires_after_hours` (24 by
        default, as the scheduler always marked it), and a sign-off never does (as before).
        """
        policy = self.approval_policy(environment)
        return approval_expiry(
            policy.policy(environment) if policy is not None else None,
            self._default_expiry, signoff=signoff)

    @property
    def _default_expiry(self) -> timedelta:
        return timedelta(hours=self.schedule.approval_expires_after_hours)

    def policies(self) -> Policies:
        """The policies the decisions read, as plain data: built once, by the wiring."""
        return Policies(
            merge=self.merge.policy(),
            approvals=tuple(p.policy(env) for env, p in self.approvals.items()),
            buttons=tuple(b.policy() for b in self.buttons),
            routes=tuple(route.rule() for route in self.routes),
            retry=self.retry.policy(),
            default_expiry=self._default_expiry,
        )

    def deprecations(self) -> list[str]:
        """One line per deprecated setting the file sets, with its file:line."""
        lines = []
        if "approval_expires_after_hours" in self.schedule.model_fields_set:
            lines.append(self.problem(
                ("schedule", "approval_expires_after_hours"),
                "deprecated: set approvals.<environment>.expires_after instead (until then "
                "it is the expiry of environments that set none)"))
        for i, route in enumerate(self.routes):
            if "approval_expires_after_hours" in route.schedule.model_fields_set:
                lines.append(self.problem(
                    ("routes", i, "schedule", "approval_expires_after_hours"),
                    "no longer read: set approvals.<environment>.expires_after instead"))
        return lines

    @property
    def scm(self) -> ScmRepos:
        """`scm_repos` ready to look remotes up in."""
        return ScmRepos.from_mapping(self.scm_repos)

    @field_validator("people", mode="before")
    @classmethod
    def _people_shorthand(cls, value: Any) -> Any:
        # `ana: U0123ABC` is short for `ana: {slack: U0123ABC}`.
        if isinstance(value, dict):
            return {k: {"slack": v} if isinstance(v, str) else v for k, v in value.items()}
        return value
