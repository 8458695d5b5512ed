"""`github:`: which GitHub webhooks the bot watches, and how it catches up from their
delivery logs after it was down (see devexbot.catchup)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import Field, model_validator

from correlation.catchup import CatchUpPolicy
from correlation.events import GITHUB_NAME, REPO_NAME
from devexbot.config.base import Strict


class WatchedHook(Strict):
    """A repository's hook (`repo: owner/name`) or an organisation's (`org: name`), by the
    id GitHub shows in the hook's settings URL."""

    repo: Annotated[str, Field(pattern=f"^{REPO_NAME.pattern}$")] | None = None
    org: Annotated[str, Field(pattern=f"^{GITHUB_NAME}$")] | None = None
    id: int = Field(gt=0)

    @model_validator(mode="after")
    def _one_owner(self) -> WatchedHook:
        if (self.repo is None) == (self.org is None):
            raise ValueError("name either `repo: owner/name` or `org: name`, not both")
        return self


class CatchUp(Strict):
    """When catch-up runs and how far back it looks."""

    enabled: bool = True
    every_minutes: float = Field(default=5, gt=0, le=60)
    # A hook's first cycle looks back this far; GitHub redelivers the last 3 days only.
    lookback_hours: float = Field(default=72, gt=0, le=72)
    # An asked redelivery that has not arrived after this long is asked for again.
    patience_minutes: float = Field(default=15, gt=0)
    max_attempts: int = Field(default=3, ge=1, le=10)
    max_pages: int = Field(default=30, ge=1, le=1000)  # per hook and cycle, 100 a page
    # Between two redelivery requests: GitHub asks for about a second between writes.
    ask_spacing_seconds: float = Field(default=1.0, ge=0, le=60)

    def policy(self) -> CatchUpPolicy:
        return CatchUpPolicy(lookback=timedelta(hours=self.lookback_hours),
                             patience=timedelta(minutes=self.patience_minutes),
                             max_attempts=self.max_attempts)


class GitHubConfig(Strict):
    """`hooks`: the repository and organisation hooks to catch up from; `app_hook`: also
    the GitHub App's own hook, when the bot runs as an App; `discover_hooks`: also the
    bot's own hooks of the repositories it has news of."""

    hooks: list[WatchedHook] = Field(default_factory=list)
    app_hook: bool = True
    # Also the hooks whose URL is the bot's, in the repositories it has news of (needs
    # DEVEXBOT_PUBLIC_URL, and admin on those repositories to list their hooks).
    discover_hooks: bool = False
    catch_up: CatchUp = Field(default_factory=CatchUp)
