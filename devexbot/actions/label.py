"""Label: add one of the repo's labels to the card's pull request.

Only labels the repository has: GitHub would quietly create any other name.
"""

from __future__ import annotations

from github import GithubException

from correlation.mrkdwn import code
from devexbot.actions.core import ActionContext, ActionSpec, Outcome, Refused, slack_time
from devexbot.actions.ids import ActionId
from devexbot.actions.request_review import PullMenuAction, github_refusal, open_pull
from devexbot.store.models import utcnow


class Label(PullMenuAction):
    """Add the label picked in the menu to the card's pull request."""

    spec = ActionSpec(ActionId.LABEL, permission="label", verb="label pull requests")


    def __call__(self, ctx: ActionContext) -> Outcome:
        name = str(ctx.click.extra.get("choice") or "").strip()
        if not name:
            raise Refused("no label was picked")
        repo, pr = open_pull(self._github, ctx.click.value)
        if any(existing.name.lower() == name.lower() for existing in pr.labels):
            raise Refused(f"#{pr.number} already has the label {name}")
        try:
            repo.get_label(name)
        except GithubException as exc:
            if exc.status == 404:
                raise Refused(f"{repo.full_name} has no label {name!r} (any more)") from None
            raise
        try:
            pr.add_to_labels(name)
        except GithubException as exc:
            if exc.status == 422:
                raise Refused(f"GitHub refused: {github_refusal(exc)}") from None
            raise
        return Outcome(
            reply=f"Labelled #{pr.number} {name}.",
            stamp=f"Labelled {code(name, 60)} by <@{ctx.click.user_id}> "
                  f"{slack_time(utcnow())}",
            target=name[:150],
        )
