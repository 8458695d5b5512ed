"""Request review: ask a collaborator or a team to review the card's pull request.

Re-checked at click time against GitHub: the pull request is still open, the person is not
its author, and is not already asked (after they review, GitHub forgets the request, so
they can be asked again).
"""

from __future__ import annotations

from github import GithubException
from github.PullRequest import PullRequest
from github.Repository import Repository

from devexbot.actions.core import ActionContext, ActionSpec, Outcome, Refused, slack_time
from devexbot.actions.ids import ActionId, ButtonValue
from devexbot.actions.pr_selects import Reviewer
from devexbot.clients.github import GitHubApi, GitHubNotConfigured
from devexbot.errors import DevexbotError
from devexbot.store.models import utcnow


def open_pull(github: GitHubApi, value: ButtonValue) -> tuple[Repository, PullRequest]:
    """The card's repository and pull request, fresh from GitHub, if it is still open."""
    if value.pr is None:
        raise Refused("this card has no pull request")
    if not github.configured:
        raise GitHubNotConfigured()
    repo = github.repo(value.repo)
    pr = repo.get_pull(value.pr)
    if pr.merged or pr.state != "open":
        raise Refused(f"#{pr.number} is {'merged' if pr.merged else 'closed'}")
    return repo, pr


def github_refusal(exc: GithubException) -> str:
    data = exc.data if isinstance(exc.data, dict) else {}
    return str(data.get("message") or exc)


class PullMenuAction:
    """What the PR cards' menus share: GitHub, and no claim (picking again is fine)."""

    def __init__(self, github: GitHubApi) -> None:
        self._github = github

    def claim_key(self, ctx: ActionContext) -> None:
        return None  # may be done again


class RequestReview(PullMenuAction):
    """Ask the person or team picked in the menu to review the card's pull request."""

    spec = ActionSpec(ActionId.REQUEST_REVIEW, permission="review", verb="request reviews")


    def __call__(self, ctx: ActionContext) -> Outcome:
        try:
            reviewer = Reviewer.decode(str(ctx.click.extra.get("choice") or ""))
        except DevexbotError as exc:
            raise Refused(exc.message) from None
        shown = reviewer.shown(ctx.click.value.repo.split("/", 1)[0])
        _, pr = open_pull(self._github, ctx.click.value)
        if reviewer.login and reviewer.login.lower() == pr.user.login.lower():
            raise Refused(f"{shown} opened #{pr.number}; GitHub does not let authors review "
                          "their own pull request")
        users, teams = pr.get_review_requests()
        asked = ({u.login.lower() for u in users} if reviewer.login
                 else {t.slug.lower() for t in teams})
        if (reviewer.login or reviewer.team or "").lower() in asked:
            raise Refused(f"a review from {shown} is already requested on #{pr.number}")
        try:
            if reviewer.login:
                pr.create_review_request(reviewers=[reviewer.login])
            else:
                pr.create_review_request(team_reviewers=[reviewer.team or ""])
        except GithubException as exc:
            if exc.status == 422:
                raise Refused(f"GitHub refused: {github_refusal(exc)}") from None
            raise
        return Outcome(
            reply=f"Asked {shown} to review #{pr.number}.",
            stamp=f"Review requested from {shown} by <@{ctx.click.user_id}> "
                  f"{slack_time(utcnow())}",
            target=shown,
        )
