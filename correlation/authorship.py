"""Who wrote a change, and whether a person may approve it under "authors may not approve
their own changes".

The card says who wrote it (the pull request's author, the commit's author); a card made
only from deploy events may not, and then the shell asks GitHub for the commit's author,
and failing that the deployment's creator stands in. Bots never count as authors. When
nobody can tell, the policy decides: approvers may go ahead only where it says
`allow_unknown_author`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from correlation.card import CommitCard

__all__ = ["Authorship", "SelfApproval", "card_authors", "change_authors",
           "deployment_creators", "self_approval"]


def _human(login: str | None) -> bool:
    return bool(login) and not str(login).casefold().endswith("[bot]")


def card_authors(card: CommitCard) -> tuple[str, ...]:
    """The GitHub logins the card names as the change's authors: the PR's, the commit's."""
    pr, author = card.pull_request, card.author
    found = (pr.author if pr else None, author.login if author else None)
    return tuple(dict.fromkeys(login for login in found if login and _human(login)))


def deployment_creators(card: CommitCard, environment: str) -> tuple[str, ...]:
    """Who created the deployments to `environment` (a person, not a CI bot)."""
    return tuple(dict.fromkeys(
        d.creator for d in card.deployments
        if d.creator and _human(d.creator) and d.environment.casefold() == environment.casefold()))


@dataclass(frozen=True)
class Authorship:
    """Who wrote the change, as the shell found out."""

    logins: tuple[str, ...] = ()  # GitHub logins
    slack_ids: tuple[str, ...] = ()  # the Slack users the logins (or the commit's e-mail) are
    email: str | None = None  # the commit's author e-mail, when the card has one


class SelfApproval(StrEnum):
    ALLOWED = "allowed"
    OWN_CHANGE = "own_change"  # the clicker wrote it, and authors may not approve
    UNKNOWN_AUTHOR = "unknown_author"  # nobody can tell who wrote it, and that matters


def self_approval(authorship: Authorship, *, user: str, user_login: str | None,
                  authors_may_approve: bool, allow_unknown_author: bool) -> SelfApproval:
    """May Slack user `user` (GitHub login `user_login`, if the people map knows it)
    approve a change `authorship` describes?"""
    if authors_may_approve:
        return SelfApproval.ALLOWED
    if not authorship.logins and not authorship.email:
        return SelfApproval.ALLOWED if allow_unknown_author else SelfApproval.UNKNOWN_AUTHOR
    logins = {login.casefold() for login in authorship.logins}
    if (user_login and user_login.casefold() in logins) or user in authorship.slack_ids:
        return SelfApproval.OWN_CHANGE
    return SelfApproval.ALLOWED


def change_authors(card: CommitCard, environment: str,
                   from_github: str | None = None) -> tuple[str, ...]:
    """The change's authors, from the best source that names one: the card, then GitHub's
    commit author (`from_github`, asked only when the card names nobody), then the creator
    of the deployment to `environment`."""
    github = (from_github,) if from_github and _human(from_github) else ()
    return card_authors(card) or github or deployment_creators(card, environment)
