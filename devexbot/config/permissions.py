"""`permissions:` and `merge:`: who may act, and how the Merge button merges."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

from correlation import policies
from correlation.policies import MergeMethod
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


def _one_or_more(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _unique(methods: list[MergeMethod]) -> list[MergeMethod]:
    if not methods:
        raise ValueError("list at least one of merge, squash, rebase")
    twice = sorted({m for m in methods if methods.count(m) > 1})
    if twice:
        raise ValueError(f"{', '.join(twice)} is listed twice: list each method once, the "
                         "preferred first")
    return methods


MergeMethods = Annotated[list[MergeMethod], BeforeValidator(_one_or_more),
                         AfterValidator(_unique)]
"""Merge methods in order of preference: `merge`, `squash`, `rebase` (or just one)."""


def _every_method() -> list[MergeMethod]:
    return list(policies.MERGE_METHODS)


class RepoMerge(Strict):
    """How one repo glob's pull requests merge, instead of `merge.methods`."""

    methods: MergeMethods


class MergePolicy(Strict):
    """The methods the Merge button may use, the preferred first; the repository's own
    settings on GitHub narrow them (a squash-only repository squashes)."""

    methods: MergeMethods = Field(default_factory=_every_method)
    # Without branch protection to ask, only merge when every check on the card is green.
    require_green: bool = True
    repos: dict[str, RepoMerge] = Field(default_factory=dict)  # the first matching glob

    def policy(self) -> policies.MergePolicy:
        """What the merge decisions read."""
        return policies.MergePolicy(
            tuple(self.methods), self.require_green,
            tuple((glob, tuple(rule.methods)) for glob, rule in self.repos.items()))
