"""`tickets:`: ticket keys on the cards, and the tracker kept current by deploys."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, field_validator

from correlation.tickets import TicketRules
from devexbot.config.base import Strict


class OnDeploy(Strict):
    """What happens to a commit's tickets when it reaches one environment."""

    comment: bool = True
    transition: str | None = Field(default=None, min_length=1, max_length=100)


class Tickets(Strict):
    """Ticket keys on the cards, and the issue tracker kept current by deploys."""

    projects: list[Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{1,9}$")]] = Field(
        default_factory=list)
    pattern: str | None = None
    url: str | None = Field(default=None, pattern=r"^https?://")
    github_issues: bool = True
    ignore: list[str] = Field(default_factory=list)
    cache_ttl: float = Field(default=300.0, ge=0)
    on_deploy: dict[str, OnDeploy] = Field(default_factory=dict)
    on_decision: bool = True

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                compiled = re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
            if compiled.match(""):
                raise ValueError("the pattern matches the empty string")
        return value

    def rules(self, jira_url: str | None = None) -> TicketRules:
        """The fold's view; keys link to `url`, else to JIRA_URL."""
        return TicketRules(projects=tuple(self.projects), pattern=self.pattern,
                           url=self.url or jira_url, github_issues=self.github_issues,
                           ignore=tuple(self.ignore))

    def on_deploy_to(self, environment: str) -> OnDeploy | None:
        """The rule for an environment, whatever the case it is written in."""
        wanted = environment.casefold()
        return next((rule for env, rule in self.on_deploy.items() if env.casefold() == wanted),
                    None)
