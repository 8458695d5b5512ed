"""Add to merge queue: re-check the pull request at click time as Merge does, then ask
GitHub (GraphQL `enqueuePullRequest`) to add it to its base branch's merge queue, only
while its head is the card's commit.

Whether it may go is `correlation.merge_verdict`'s decision (in its queue mode) and
`correlation.enqueue`'s; this reads the facts they decide on from GitHub, and asks.
"""

from __future__ import annotations

import logging

from github import GithubException

from correlation.enqueue import claim_round, in_queue
from correlation.merge_methods import MERGE_LABELS, merge_methods, no_merge_method
from correlation.merge_verdict import checks_refusal, pull_refusal
from correlation.policies import MergePolicy
from devexbot.actions.core import ActionContext, ActionSpec, Outcome, Refused, slack_time
from devexbot.actions.ids import ActionId
from devexbot.actions.merge import check_facts, fresh_pull, github_message, pull_facts
from devexbot.clients.github import GitHubApi, GitHubNotConfigured
from devexbot.clients.merge_queue import EnqueueRefused, enqueue
from devexbot.store.merge_settings import MergeSettings
from devexbot.store.models import utcnow

log = logging.getLogger(__name__)


class Enqueue:
    """Add the card's pull request to its base branch's merge queue, at the card's SHA."""

    spec = ActionSpec(ActionId.ENQUEUE, permission="merge",
                      verb="add pull requests to the merge queue")

    def __init__(self, github: GitHubApi, policy: MergePolicy, settings: MergeSettings) -> None:
        self._github, self._policy, self._settings = github, policy, settings

    def claim_key(self, ctx: ActionContext) -> str:
        value = ctx.click.value
        # Once per stay in the queue: dequeued, the same commit may be added again.
        return f"enqueue:{value.repo}#{value.pr}@{value.sha}:{claim_round(ctx.card)}"

    def __call__(self, ctx: ActionContext) -> Outcome:
        value = ctx.click.value
        if value.pr is None:
            raise Refused("this card has no pull request to add to the merge queue")
        queue = ctx.card.merge_queue
        if in_queue(ctx.card):
            since = (queue.since or queue.at) if queue is not None else None
            when = f" (since {slack_time(since)})" if since is not None else ""
            raise Refused(f"#{value.pr} is already in the merge queue{when}")
        if not self._github.configured:
            raise GitHubNotConfigured()
        repo = self._github.repo(value.repo)
        pr = fresh_pull(repo, value.pr)
        refusal = pull_refusal(pull_facts(pr), value.sha, queue=True)
        if refusal is not None:
            raise Refused(refusal)
        base = pr.base.ref
        try:
            required = self._settings.queue_rules.read(repo, base)
        except GithubException as exc:  # GitHub itself says whether it queues, when asked
            log.info("cannot read the rules of %s %s at a click: %s", value.repo, base,
                     github_message(exc))
            required = True
        if not required:  # the card is rendered again with the offer below
            raise Refused(f"`{base}` no longer takes pull requests through a merge queue. "
                          f"{self._offer(value.repo)}")
        refusal = checks_refusal(check_facts(repo, value.sha, base), self._policy)
        if refusal is not None:
            raise Refused(refusal)
        try:
            entry = enqueue(pr, value.sha)
        except EnqueueRefused as exc:
            raise Refused(f"GitHub did not add #{pr.number} to the merge queue: "
                          f"{exc.message}") from None
        place = f" (position {entry.position})" if entry.position else ""
        return Outcome(
            reply=(f"Added #{pr.number} to the merge queue of {base}{place}: GitHub merges it "
                   "once the queue's checks pass."),
            stamp=f"Added to the merge queue by <@{ctx.click.user_id}> {slack_time(utcnow())}",
            target=f"#{pr.number}",
        )

    def _offer(self, repo: str) -> str:
        settings = self._settings.known(repo)
        methods = merge_methods(repo, self._policy, settings)
        if not methods:
            return no_merge_method(repo, self._policy, settings).removeprefix(
                "Merge unavailable: ") + "."
        return f"The card now offers {MERGE_LABELS[methods[0]]}."
