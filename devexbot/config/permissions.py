"""`permissions:` and `merge:`: who may act, and how the Merge button merges."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Literal

from pydantic import Field

from correlation import policies
from devexbot.config.base import Principal, Strict


def _everyone() -> list[str]:
    return ["*"]


class RepoPermissions(Strict):
    """Who may act on one repo's cards (glob), overriding the defaults for these actions."""

    merge: list[Principal] | None = None
    retry: list[Principal] | None = None
    custom: list[Principal] | None = None
    review: list[Principal] | None = None
    label: list[Principal] | None = None


class Permissions(Strict):
    subscribe: list[Principal] = Field(default_factory=_everyone)
    merge: list[Principal] = Field(default_factory=_everyone)
    retry: list[Principal] = Field(default_factory=_everyone)
    custom: list[Principal] = Field(default_factory=_everyone)
    review: list[Principal] = Field(default_factory=_everyone)  # "Request review" on PR cards
    label: list[Principal] = Field(default_factory=_everyone)  # "Label" on PR cards
    repos: dict[str, RepoPermissions] = Field(default_factory=dict)

    def who_may(self, action: str, repo: str) -> list[str]:
        """Principals allowed `action` on `repo`: the first matching repo glob, else the
        defaults."""
        for glob, perms in self.repos.items():
            if fnmatchcase(repo.lower(), glob.lower()):
                allowed = getattr(perms, action, None)
                if allowed is not None:
                    return list(allowed)
        return list(getattr(self, action))


MergeMethod = Literal["merge", "squash", "rebase"]


def _merge_only() -> list[MergeMethod]:
    return ["merge"]


class MergePolicy(Strict):
    """How the Merge button merges: the first method is the default; several make a menu."""

    methods: list[MergeMethod] = Field(default_factory=_merge_only, min_length=1)
    # Without branch protection to ask, only merge when every check on the card is green.
    require_green: bool = True

    def policy(self) -> policies.MergePolicy:
        """What the merge decisions read."""
        return policies.MergePolicy(tuple(self.methods), self.require_green)
