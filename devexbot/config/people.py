"""`people:`: GitHub logins and their Slack identities."""

from __future__ import annotations

from pydantic import Field

from devexbot.config.base import Strict


class Person(Strict):
    """A GitHub login's Slack identity."""

    slack: str = Field(pattern=r"^[UW][A-Z0-9]+$")
    email: str | None = None
