"""Whether a Slack user may decide on a request, under the environment's approval policy.

Refusals say why in words the clicker can act on: who the approvers are, or that the
change is their own.
"""

from __future__ import annotations

from correlation.authorship import (
    Authorship,
    SelfApproval,
    card_authors,
    change_authors,
    self_approval,
)
from correlation.card import CommitCard
from devexbot.actions.core import Refused
from devexbot.approvals.authors import CommitAuthors
from devexbot.config import ApprovalPolicy
from devexbot.slack.authz import Authorizer
from devexbot.slack.people import People

MAX_LISTED = 6


class ApproverChecks:
    """Whether a Slack user may decide: one of the policy's approvers (Slack users and
    groups, GitHub users and teams), and not the change's author unless the policy says so
    (`correlation.authorship` decides; this finds out who wrote the change)."""

    def __init__(self, authorizer: Authorizer, people: People,
                 authors: CommitAuthors) -> None:
        self._authorizer, self._people, self._authors = authorizer, people, authors

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
        """Refused if `user` wrote the change and the policy does not let authors approve
        their own changes; and, under that rule, if nobody can tell who wrote it, unless
        the policy says `allow_unknown_author`."""
        if policy.authors_may_approve:
            return
        logins = card_authors(card)
        if not logins:  # a card made only from deploy events: ask GitHub, after the ack
            logins = change_authors(card, environment, self._authors.login(card.repo, card.sha))
        email = card.author.email if card.author else None
        ids = {self._people.slack_id(login=login) for login in logins}
        if email:
            ids.add(self._people.slack_id(login=card.author.login if card.author else None,
                                          email=email))
        authorship = Authorship(logins=logins, slack_ids=tuple(i for i in ids if i),
                                email=email)
        verdict = self_approval(authorship, user=user, user_login=self._people.github_login(user),
                                authors_may_approve=False,
                                allow_unknown_author=policy.allow_unknown_author)
        if verdict is SelfApproval.OWN_CHANGE:
            pr = card.pull_request
            what = f"#{pr.number}" if pr else f"commit {card.short_sha}"
            raise Refused(f"{what} is your own change, and `approvals.{environment}` does not "
                          "let authors approve their own changes: someone else has to")
        if verdict is SelfApproval.UNKNOWN_AUTHOR:
            asked = ("GitHub does not say" if self._authors.configured
                     else "the bot has no GitHub access to ask")
            raise Refused(
                f"the bot can't tell who wrote {card.short_sha} (no pull request or commit "
                f"author on the card, {asked}, and no person created the deployment), and "
                f"authors may not approve their own changes in {environment}. Deploy it "
                f"through a pull request, or set `approvals.{environment}."
                "allow_unknown_author: true` to let approvers decide anyway")
