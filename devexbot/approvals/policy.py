"""Whether a Slack user may decide on a request, under the environment's approval policy.

Refusals say why in words the clicker can act on: who the approvers are, or that the
change is their own.
"""

from __future__ import annotations

from correlation.card import CommitCard
from devexbot.actions.core import Refused
from devexbot.config import ApprovalPolicy
from devexbot.slack.authz import Authorizer
from devexbot.slack.people import People

MAX_LISTED = 6


class ApproverChecks:
    """Whether a Slack user may decide: one of the policy's approvers (Slack users and
    groups, GitHub users and teams), and not the change's author unless the policy says so."""

    def __init__(self, authorizer: Authorizer, people: People) -> None:
        self._authorizer, self._people = authorizer, people

    def check_approver(self, policy: ApprovalPolicy, *, environment: str, user: str) -> None:
        """Refused unless `user` is one of the policy's approvers."""
        access = self._authorizer.check(user, policy.approvers)
        if access.allowed:
            return
        listed = ", ".join(f"`{p}`" for p in policy.approvers[:MAX_LISTED])
        more = f" and {len(policy.approvers) - MAX_LISTED} more" if len(
            policy.approvers) > MAX_LISTED else ""
        message = (f"you are not an approver for {environment}: `approvals.{environment}."
                   f"approvers` in the bot's config lists {listed}{more}")
        if access.why_not:
            message += f". {access.why_not}"
        raise Refused(message)

    def check_not_author(self, policy: ApprovalPolicy, card: CommitCard, *,
                         environment: str, user: str) -> None:
        """Refused if `user` wrote the change (the PR's author or the commit's) and the policy
        does not let authors approve their own changes."""
        if policy.authors_may_approve:
            return
        pr, author = card.pull_request, card.author
        logins = {login.casefold() for login in (pr.author if pr else None,
                                                 author.login if author else None) if login}
        mine = self._people.github_login(user)
        yours = bool(mine and mine.casefold() in logins)
        if not yours:
            ids = {self._people.slack_id(login=login) for login in logins}
            if author and author.email:
                ids.add(self._people.slack_id(login=author.login, email=author.email))
            yours = user in ids
        if yours:
            what = f"#{pr.number}" if pr else f"commit {card.short_sha}"
            raise Refused(f"{what} is your own change, and `approvals.{environment}` does not "
                          "let authors approve their own changes: someone else has to")
