"""Whether a pull request may be merged at the card's commit, given what GitHub says of it
at click time: decided here from plain facts the shell reads (`devexbot.actions.merge`).

Two stages, so the shell reads the checks only for a pull request that may still merge:
`pull_refusal` judges the pull request itself, `checks_refusal` its commit's checks.
"""

from __future__ import annotations

from dataclasses import dataclass

from correlation.policies import MergePolicy

__all__ = ["GREEN", "CheckFacts", "PullFacts", "checks_refusal", "pull_refusal"]

GREEN = frozenset({"success", "neutral", "skipped"})


@dataclass(frozen=True)
class PullFacts:
    """The pull request as GitHub has it now."""

    number: int
    state: str  # open | closed
    head_sha: str
    merged: bool = False
    merged_by: str | None = None  # the login
    draft: bool = False
    mergeable: bool | None = None  # None: GitHub has not computed it (yet)
    mergeable_state: str | None = None  # clean, blocked, dirty, unstable, …


@dataclass(frozen=True)
class CheckFacts:
    """The commit's checks: each one's result by name (a commit status's state, a check
    run's conclusion or, while it runs, its status), and the checks the base branch's
    protection requires (None: the branch is not protected)."""

    results: tuple[tuple[str, str], ...] = ()
    required: tuple[str, ...] | None = None


def pull_refusal(pull: PullFacts, card_sha: str, *, queue: bool = False) -> str | None:
    """Why the pull request may not be merged from the card of `card_sha` (`queue`: added
    to the merge queue); None: it may, as far as the pull request goes."""
    if pull.merged:
        return f"#{pull.number} was already merged by {pull.merged_by or 'someone'}"
    if pull.state != "open":
        return f"#{pull.number} is closed"
    if pull.draft:
        return f"#{pull.number} is a draft"
    if pull.head_sha != card_sha:
        verb = "add it to the merge queue" if queue else "merge"
        return (f"#{pull.number}'s head moved to {pull.head_sha[:7]}: {verb} from that "
                "commit's card")
    if pull.mergeable is False:
        return (f"GitHub says #{pull.number} cannot be merged ({pull.mergeable_state}: "
                "conflicts or rules)")
    # A branch that takes pull requests only through the queue blocks merging them
    # directly: whether the queue takes it is GitHub's to say when it is added.
    if pull.mergeable_state == "blocked" and not queue:
        return (f"#{pull.number} is blocked by branch protection (required reviews or "
                "checks)")
    return None


def checks_refusal(checks: CheckFacts, policy: MergePolicy) -> str | None:
    """Why the checks forbid the merge: a required check (as branch protection names them)
    not green; else, if the policy says so, any check not green. None: they allow it."""
    results = dict(checks.results)
    if checks.required is not None:
        missing = [name for name in checks.required if results.get(name) not in GREEN]
        if missing:
            return f"required checks are not green: {', '.join(sorted(missing))}"
        return None
    if policy.require_green:
        red = [name for name, result in results.items() if result not in GREEN]
        if red:
            return (f"{len(red)} check{'s' if len(red) != 1 else ''} not green: "
                    f"{', '.join(sorted(red)[:5])}")
    return None
