"""Retry: re-run a failed Jenkins build with the same parameters, or a failed GitHub Actions
run's failed jobs. The new result arrives through the webhooks like any other.

A Jenkins build is re-run as Jenkins recorded it, never as a notification described it:
the click asks Jenkins for the build and `correlation.retry` decides from its answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from github import GithubException

from correlation.policies import RetryPolicy
from correlation.retry import JenkinsBuild, retry_refusal
from devexbot.actions.core import ActionContext, ActionSpec, Outcome, Refused, slack_time
from devexbot.actions.ids import ActionId
from devexbot.clients.github import GitHubApi, GitHubNotConfigured
from devexbot.clients.jenkins import JenkinsJobs
from devexbot.store.models import utcnow

RETRYABLE = {"failure", "cancelled"}


def retry_target(ctx: ActionContext) -> dict[str, Any]:
    """The failed build the button names, as the card knows it: by the check's slot, which
    stays when a line is renamed (a second run of the workflow names both by their trigger);
    by its name for buttons drawn before buttons carried the slot."""
    name, slot = ctx.click.value.target, ctx.click.value.slot
    for check in ctx.card.checks:
        named = check.slot == slot if slot else check.name == name
        if named and check.kind in ("build", "workflow", "job"):
            if check.status.value not in RETRYABLE:
                raise Refused(f"{name} is {check.status.value} now; nothing to retry")
            return {"source": check.source, "kind": check.kind, "name": check.name,
                    "slot": check.slot, **check.details}
    raise Refused(f"this card has no build named {name!r}")


def recorded_build(jenkins: JenkinsJobs, details: Mapping[str, Any]) -> JenkinsBuild:
    """The Jenkins build a card's check names (`job`, `build_number`), as Jenkins recorded
    it; Refused when the card names none or Jenkins has no such build."""
    job, number = details.get("job"), details.get("build_number")
    if not isinstance(job, str) or not job:
        raise Refused("the build does not say which Jenkins job it was")
    if isinstance(number, bool) or not isinstance(number, int):
        raise Refused(f"the card does not know which build of {job} it was")
    build = jenkins.build(job, number)
    if build is None:
        raise Refused(f"Jenkins has no build #{number} of {job}")
    return build


class Retry:
    """Re-run the failed build the button names, on Jenkins or on GitHub Actions."""

    spec = ActionSpec(ActionId.RETRY, permission="retry")

    def __init__(self, github: GitHubApi, jenkins: JenkinsJobs, policy: RetryPolicy) -> None:
        self._github, self._jenkins, self._policy = github, jenkins, policy

    def claim_key(self, ctx: ActionContext) -> str:
        target = retry_target(ctx)
        if target["source"] == "jenkins":
            return f"retry:jenkins:{target.get('job')}#{target.get('build_number')}"
        return f"retry:actions:{target.get('run_id')}#{target.get('run_attempt') or 1}"

    def __call__(self, ctx: ActionContext) -> Outcome:
        target = retry_target(ctx)
        if target["source"] == "jenkins":
            return self._retry_jenkins(ctx, target)
        return self._retry_actions(ctx, target)

    def _retry_jenkins(self, ctx: ActionContext, target: dict[str, Any]) -> Outcome:
        build = recorded_build(self._jenkins, target)
        job, number = build.job, build.number
        why_not = retry_refusal(build, repo=ctx.card.repo, sha=ctx.card.sha,
                                policy=self._policy)
        if why_not is not None:
            raise Refused(why_not)
        parameters = dict(build.parameters)
        queue_id = self._jenkins.build_job(job, parameters=parameters or None)
        who = f"<@{ctx.click.user_id}>"
        shown = ", ".join(f"{k}={v}" for k, v in sorted(parameters.items()))
        return Outcome(
            reply=f"Re-running {job} #{number}{' with ' + shown if shown else ''} "
                  f"(queue item {queue_id}); the card updates when it starts.",
            stamp=f"{target['name']}: retried by {who} {slack_time(utcnow())}",
            until_news_of=target["slot"],
            target=f"{job}#{number}",
        )

    def _retry_actions(self, ctx: ActionContext, target: dict[str, Any]) -> Outcome:
        run_id, attempt = target.get("run_id"), int(target.get("run_attempt") or 1)
        if not isinstance(run_id, int):
            raise Refused("the card does not know this workflow's run id")
        if not self._github.configured:
            raise GitHubNotConfigured()
        run = self._github.repo(ctx.click.value.repo).get_workflow_run(run_id)
        try:
            accepted = run.rerun_failed_jobs()
        except GithubException as exc:
            accepted = False
            if exc.status not in (403, 422):
                raise
        if not accepted:  # PyGithub answers False rather than raising on GitHub's refusal
            raise Refused("GitHub refused the re-run: the run may still be running, be too "
                          "old, or have no failed jobs")
        workflow = str(target.get("workflow") or target["name"])
        return Outcome(
            reply=f"Re-running the failed jobs of {workflow} (attempt {attempt + 1}); the "
                  "card updates when they report.",
            stamp=f"{workflow}: retried by <@{ctx.click.user_id}> (attempt {attempt + 1})",
            until_news_of=target["slot"],
            target=f"{workflow}#{run_id}",
        )
