"""Approve and Reject: people decide on a deployment that waits for them, under the
environment's approval policy (`approvals:` in the config).

Each person's decision is recorded once per request; when enough distinct approvers have
approved (or anyone allowed has rejected), the decision is carried out exactly once,
whoever clicks last and however often: the request's decision claim sees to that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from correlation.approval_state import RequestState
from correlation.card import DeploymentLine
from correlation.mrkdwn import escape, one_line, people
from devexbot.actions.core import (
    ActionContext,
    Outcome,
    Refused,
    actions,
    claim,
    claim_state,
    finish_claim,
    release_claim,
    slack_time,
)
from devexbot.actions.ids import ActionId
from devexbot.approvals.card_events import mark_expired, record_decision_on_card
from devexbot.approvals.effect import Decision, carry_out
from devexbot.approvals.ledger import Decider, approvers_of, record_decision
from devexbot.approvals.policy import check_approver, check_not_author
from devexbot.approvals.request import ApprovalRequest, Standing, ago, marked_expired, standing
from devexbot.config import ApprovalPolicy
from devexbot.store.models import utcnow

MAX_REASON = 2000


@dataclass(frozen=True)
class Open:
    policy: ApprovalPolicy
    deployment: DeploymentLine
    request: ApprovalRequest


def _no_claim(ctx: ActionContext) -> None:
    return None  # one decision per person per request: the approvals table keeps that


@actions.register(ActionId.APPROVE, permission="policy:approvals", claim_key=_no_claim)
def approve(ctx: ActionContext) -> Outcome:
    found = _open_request(ctx)
    policy, request, env = found.policy, found.request, found.request.environment
    user = ctx.click.user_id
    check_approver(ctx.services, policy, environment=env, repo=request.repo, user=user)
    check_not_author(ctx.services, policy, ctx.card, environment=env, user=user)
    _check_undecided(ctx, request)
    tally = record_decision(ctx.services, request, user=user, login=ctx.github_login,
                            decision="approved")
    progress = f"{tally.position} of {policy.required}"
    stamp = f"✅ {_env(env)}: approved by <@{user}> ({progress}) {slack_time(utcnow())}"
    if tally.count < policy.required:
        left = policy.required - tally.count
        waiting = f"waiting for {left} more approver{'s' if left != 1 else ''}"
        if not tally.new:
            return Outcome(reply=f"You already approved {env} ({progress}); {waiting}.",
                           target=request.label, environment=env)
        return Outcome(reply=f"Approved {env} ({progress}); {waiting}.", stamp=stamp,
                       target=request.label, environment=env)
    try:
        done = _decide(ctx, request, policy, Decision("approved", tally.approvers))
    except Refused as exc:
        raise Refused(f"your approval counts ({progress}), but {exc.message}") from None
    if done is None:
        return Outcome(reply=f"{env} has its approvals ({progress}); the bot is already "
                             "acting on them.", stamp=stamp if tally.new else None,
                       target=request.label, environment=env)
    return Outcome(reply=f"Approved {env} ({progress}): {done}.", stamp=f"{stamp} · {done}",
                   target=request.label, environment=env)


@actions.register(ActionId.REJECT, permission="policy:approvals", claim_key=_no_claim)
def reject(ctx: ActionContext) -> Outcome:
    reason = str(ctx.click.extra.get("reason") or "").strip()[:MAX_REASON]
    if not reason:
        raise Refused("say why in the form, so whoever deploys knows what to change")
    found = _open_request(ctx)
    policy, request, env = found.policy, found.request, found.request.environment
    user = ctx.click.user_id
    check_approver(ctx.services, policy, environment=env, repo=request.repo, user=user)
    _check_undecided(ctx, request)
    record_decision(ctx.services, request, user=user, login=ctx.github_login,
                    decision="rejected", reason=reason)
    decider = Decider(user, ctx.github_login)
    done = _decide(ctx, request, policy, Decision("rejected", (decider,), reason))
    if done is None:
        raise Refused(f"{env} is being decided right now; the card shows how it ends")
    verb = "requested changes on" if request.signoff else "rejected"
    return Outcome(
        reply=f"{verb.capitalize()} {env}: {done}. Reason recorded: {reason}",
        stamp=f"🚫 {_env(env)}: {verb.removesuffix(' on')} by <@{user}> "
              f"{slack_time(utcnow())}: {escape(one_line(reason), 300)}",
        target=request.label, environment=env)


def _open_request(ctx: ActionContext) -> Open:
    """The request the button is about, if it is still open; refusals say why not."""
    env = ctx.click.value.target or ""
    policy = ctx.services.config.approval_policy(env)
    if policy is None:
        raise Refused(f"the bot's config has no approval policy for {env} "
                      f"(`approvals.{env}`), so nobody may decide on it from here")
    deployment = next((d for d in ctx.card.deployments
                       if d.environment.casefold() == env.casefold()), None)
    if deployment is None:
        raise Refused(f"this commit has no deployment to {env}")
    now = utcnow()
    found = standing(ctx.card, deployment, ctx.services.config, now)
    if found is None or found.state is RequestState.DECIDED:
        approval = deployment.approval
        if approval and approval.state in ("approved", "rejected") and approval.by:
            raise Refused(f"{env} was already {approval.state} by "
                          f"{people(approval.by, shown=5)}")
        raise Refused(f"{env} is not waiting for a decision (it is {deployment.status.value})")
    if found.state is RequestState.EXPIRED:
        mark_expired(ctx.services, found.request)
        raise Refused(_expired(found, deployment, now))
    return Open(policy, deployment, found.request)


def _expired(found: Standing, deployment: DeploymentLine, now: datetime) -> str:
    """Why a click on an expired request is refused: how long it waited, and the limit."""
    env, facts = found.request.environment, found.facts
    span, waited = facts.expires_after, facts.waited(now)
    limit = f"requests to {env} stay open {ago(span)} (`approvals.{env}.expires_after`)" \
        if span else ""
    # A refused click marked it on the card: the line's time is the mark's since then.
    if span and waited >= span and not marked_expired(deployment, found.request):
        why = f"{env} waited {ago(waited)} and {limit}"
    else:
        why = "the card says so" + (f"; {limit}" if limit else "")
    return f"this request expired: {why}. Deploy again to ask anew"


def _check_undecided(ctx: ActionContext, request: ApprovalRequest) -> None:
    if claim_state(ctx.services, request.decision_key) == "done":
        approvers = approvers_of(ctx.services, request.key)
        who = ", ".join(f"<@{d.slack_user}>" for d in approvers)
        raise Refused(f"{request.environment} was already decided" +
                      (f" (approved by {who})" if who else ""))


def _decide(ctx: ActionContext, request: ApprovalRequest, policy: ApprovalPolicy,
            decision: Decision) -> str | None:
    """Carry the decision out once; None if another click has it in hand (or has done it)."""
    services = ctx.services
    if not claim(services, request.decision_key, ctx.click.user_id):
        return None
    try:
        done = carry_out(services, ctx.card, request, policy, decision)
        record_decision_on_card(services, request, state=decision.state,
                                by=[d.slack_user for d in decision.deciders],
                                comment=decision.reason)
        # The commit's tickets hear of it too (a comment per ticket, once; no Jira, no-op).
        said = decision.state if decision.state == "approved" else (
            "changes_requested" if request.signoff else "rejected")
        services.decision_comments.comment(request.repo, request.sha, request.environment,
                                           said, ctx.click.user_id, decision.reason)
    except BaseException:
        release_claim(services, request.decision_key)
        raise
    finish_claim(services, request.decision_key)
    return done


def _env(environment: str) -> str:
    return f"*{escape(one_line(environment), 60)}*"
