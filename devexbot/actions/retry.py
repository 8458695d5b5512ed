"""Retry: re-run a failed Jenkins build with the same parameters, or a failed GitHub Actions
run's failed jobs. The new result arrives through the webhooks like any other."""

from __future__ import annotations

from typing import Any

from github import GithubException

from devexbot.actions.core import ActionContext, Outcome, Refused, actions, slack_time
from devexbot.actions.ids import ActionId
from devexbot.clients.github import GitHubNotConfigured
from devexbot.clients.jenkins import jenkins_server
from devexbot.store.models import utcnow

RETRYABLE = {"failure", "cancelled"}


def retry_target(ctx: ActionContext) -> dict[str, Any]:
    """The failed build the button names, as the card knows it."""
    name = ctx.click.value.target
    for check in ctx.card.checks:
        if check.name == name and check.kind in ("build", "workflow", "job"):
            if check.status.value not in RETRYABLE:
                raise Refused(f"{name} is {check.status.value} now; nothing to retry")
            return {"source": check.source, "kind": check.kind, "name": check.name,
                    "slot": check.slot, **check.details}
    raise Refused(f"this card has no build named {name!r}")


def _retry_key(ctx: ActionContext) -> str:
    target = retry_target(ctx)
    if target["source"] == "jenkins":
        return f"retry:jenkins:{target.get('job')}#{target.get('build_number')}"
    return f"retry:actions:{target.get('run_id')}#{target.get('run_attempt') or 1}"


@actions.register(ActionId.RETRY, permission="retry", claim_key=_retry_key)
def retry(ctx: ActionContext) -> Outcome:
    target = retry_target(ctx)
    if target["source"] == "jenkins":
        return _retry_jenkins(ctx, target)
    return _retry_actions(ctx, target)


def _retry_jenkins(ctx: ActionContext, target: dict[str, Any]) -> Outcome:
    job, number = target.get("job"), target.get("build_number")
    if not job:
        raise Refused("the build does not say which Jenkins job it was")
    parameters = target.get("parameters") or None
    server = jenkins_server(ctx.services.settings)
    queue_id = server.build_job(job, parameters=parameters)
    who = f"<@{ctx.click.user_id}>"
    shown = ", ".join(f"{k}={v}" for k, v in sorted((parameters or {}).items()))
    return Outcome(
        reply=f"Re-running {job} #{number}{' with ' + shown if shown else ''} "
              f"(queue item {queue_id}); the card updates when it starts.",
        stamp=f"{target['name']}: retried by {who} {slack_time(utcnow())}",
        until_news_of=target["slot"],
        target=f"{job}#{number}",
    )


def _retry_actions(ctx: ActionContext, target: dict[str, Any]) -> Outcome:
    run_id, attempt = target.get("run_id"), int(target.get("run_attempt") or 1)
    if not isinstance(run_id, int):
        raise Refused("the card does not know this workflow's run id")
    github = ctx.services.github
    if github is None or not github.configured:
        raise GitHubNotConfigured()
    run = github.repo(ctx.click.value.repo).get_workflow_run(run_id)
    try:
        accepted = run.rerun_failed_jobs()
    except GithubException as exc:
        accepted = False
        if exc.status not in (403, 422):
            raise
    if not accepted:  # PyGithub answers False rather than raising on GitHub's refusal
        raise Refused("GitHub refused the re-run: the run may still be running, be too old, "
                      "or have no failed jobs")
    workflow = str(target.get("workflow") or target["name"])
    return Outcome(
        reply=f"Re-running the failed jobs of {workflow} (attempt {attempt + 1}); the card "
              "updates when they report.",
        stamp=f"{workflow}: retried by <@{ctx.click.user_id}> (attempt {attempt + 1})",
        until_news_of=target["slot"],
        target=f"{workflow}#{run_id}",
    )
