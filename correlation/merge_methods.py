"""Which ways of merging the Merge button may use on a repository: those the config allows
for it, in its order of preference, that the repository's settings on GitHub allow.

Decided once, here, for the card's button (`correlation.buttons`) and for the click
(`devexbot.actions.merge`), from plain facts the shell reads of GitHub.
"""

from __future__ import annotations

from dataclasses import dataclass

from correlation.policies import MERGE_METHODS, MergeMethod, MergePolicy
from correlation.routing import matches_any

__all__ = ["MERGE_LABELS", "METHOD_NAMES", "RepoMergeSettings", "merge_methods", "no_merge_method"]

MERGE_LABELS: dict[str, str] = {
    "merge": "Merge", "squash": "Squash and merge", "rebase": "Rebase and merge"}
# As GitHub's repository settings name them ("Allow merge commits", …).
METHOD_NAMES: dict[str, str] = {
    "merge": "merge commits", "squash": "squash merging", "rebase": "rebase merging"}


@dataclass(frozen=True)
class RepoMergeSettings:
    """What a repository's settings on GitHub allow (`allow_merge_commit`,
    `allow_squash_merge`, `allow_rebase_merge`); None: GitHub did not say (some tokens do
    not see these fields), taken as allowed until GitHub refuses it. `queue_branches`: the
    branches whose rules take pull requests only through GitHub's merge queue, as read."""

    merge: bool | None = None
    squash: bool | None = None
    rebase: bool | None = None
    queue_branches: frozenset[str] = frozenset()

    def requires_queue(self, branch: str | None) -> bool:
        """Pull requests into `branch` merge only through the merge queue, as last read."""
        return branch is not None and branch in self.queue_branches

    def allows(self, method: MergeMethod) -> bool:
        allowed: bool | None = getattr(self, method)
        return allowed is not False


def _configured(repo: str, policy: MergePolicy) -> tuple[tuple[MergeMethod, ...], str]:
    """The config's methods for `repo`, and where the config says so."""
    for glob, methods in policy.repos:
        if matches_any(repo, (glob,)):
            return methods, f'`merge.repos."{glob}"`'
    return policy.methods, "`merge.methods`"


def merge_methods(repo: str, policy: MergePolicy,
                  settings: RepoMergeSettings | None) -> tuple[MergeMethod, ...]:
    """The methods the Merge button may use on `repo`, most preferred first: the config's
    (its first matching `merge.repos` glob, else `merge.methods`) that the repository's
    settings allow. Settings not read yet (None) narrow nothing."""
    configured, _ = _configured(repo, policy)
    allowed = settings or RepoMergeSettings()
    return tuple(method for method in configured if allowed.allows(method))


def no_merge_method(repo: str, policy: MergePolicy, settings: RepoMergeSettings | None) -> str:
    """Why `merge_methods` is empty, in a line for the card: what GitHub allows, and what
    the config does."""
    allowed = settings or RepoMergeSettings()
    configured, where = _configured(repo, policy)
    on_github = [METHOD_NAMES[m] for m in MERGE_METHODS if allowed.allows(m)]
    in_config = [METHOD_NAMES[m] for m in configured]
    return (f"Merge unavailable: {repo} allows only {_words(on_github)} on GitHub, and "
            f"the bot's config only {_words(in_config)} ({where})")


def _words(names: list[str]) -> str:
    if not names:
        return "nothing"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
