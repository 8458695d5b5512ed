"""Which ways of merging the Merge button may use: the config's methods for the repo (its
first matching glob, else `merge.methods`), in its order, that the repository's settings on
GitHub allow; decided from plain data, as a table."""

from __future__ import annotations

import pytest

from correlation.merge_methods import RepoMergeSettings, merge_methods, no_merge_method
from correlation.policies import MergePolicy

REPO = "octo-org/octo-app"
ALL = MergePolicy()
SQUASH_ONLY = RepoMergeSettings(merge=False, squash=True, rebase=False)
NO_MERGE_COMMITS = RepoMergeSettings(merge=False, squash=True, rebase=True)
EVERYTHING = RepoMergeSettings(merge=True, squash=True, rebase=True)
HIDDEN = RepoMergeSettings()  # the token does not see the settings

CASES: list[tuple[str, MergePolicy, RepoMergeSettings | None, tuple[str, ...]]] = [
    # name, policy, the repository's settings, the methods offered (the first is the button)
    ("defaults, settings not read yet", ALL, None, ("merge", "squash", "rebase")),
    ("defaults, every method allowed", ALL, EVERYTHING, ("merge", "squash", "rebase")),
    ("a squash-only repository squashes", ALL, SQUASH_ONLY, ("squash",)),
    ("no merge commits: squash comes first", ALL, NO_MERGE_COMMITS, ("squash", "rebase")),
    ("settings GitHub does not show narrow nothing", ALL, HIDDEN,
     ("merge", "squash", "rebase")),
    ("a refusal learned where GitHub shows nothing", ALL, RepoMergeSettings(merge=False),
     ("squash", "rebase")),
    ("the config's order of preference", MergePolicy(("rebase", "squash")), EVERYTHING,
     ("rebase", "squash")),
    ("the config narrows, the repository narrows further",
     MergePolicy(("rebase", "merge")), NO_MERGE_COMMITS, ("rebase",)),
    ("nothing both allow", MergePolicy(("merge",)), SQUASH_ONLY, ()),
    ("a matching glob replaces the default",
     MergePolicy(("merge",), repos=(("octo-org/*", ("squash", "rebase")),)), EVERYTHING,
     ("squash", "rebase")),
    ("globs match without case",
     MergePolicy(("merge",), repos=(("Octo-Org/Octo-*", ("rebase",)),)), EVERYTHING,
     ("rebase",)),
    ("the first matching glob decides",
     MergePolicy(repos=(("octo-org/octo-app", ("rebase",)), ("octo-org/*", ("squash",)))),
     EVERYTHING, ("rebase",)),
    ("another repo's glob changes nothing",
     MergePolicy(("squash",), repos=(("other-org/*", ("rebase",)),)), EVERYTHING,
     ("squash",)),
    ("a glob's methods are narrowed by the repository too",
     MergePolicy(repos=(("octo-org/*", ("merge", "rebase")),)), SQUASH_ONLY, ()),
]


@pytest.mark.parametrize(("name", "policy", "settings", "methods"), CASES,
                         ids=[case[0] for case in CASES])
def test_which_methods_the_merge_button_may_use(name: str, policy: MergePolicy,
                                                settings: RepoMergeSettings | None,
                                                methods: tuple[str, ...]) -> None:
    assert merge_methods(REPO, policy, settings) == methods


@pytest.mark.parametrize(("policy", "settings", "note"), [
    (MergePolicy(("merge",)), SQUASH_ONLY,
     "Merge unavailable: octo-org/octo-app allows only squash merging on GitHub, and the "
     "bot's config only merge commits (`merge.methods`)"),
    (MergePolicy(repos=(("octo-org/*", ("merge", "rebase")),)), SQUASH_ONLY,
     "Merge unavailable: octo-org/octo-app allows only squash merging on GitHub, and the "
     'bot\'s config only merge commits or rebase merging (`merge.repos."octo-org/*"`)'),
    (MergePolicy(("rebase",)), RepoMergeSettings(merge=True, squash=True, rebase=False),
     "Merge unavailable: octo-org/octo-app allows only merge commits or squash merging on "
     "GitHub, and the bot's config only rebase merging (`merge.methods`)"),
])
def test_why_no_method_is_left(policy: MergePolicy, settings: RepoMergeSettings,
                               note: str) -> None:
    assert merge_methods(REPO, policy, settings) == ()
    assert no_merge_method(REPO, policy, settings) == note
