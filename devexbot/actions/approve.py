"""Approve and Reject: people decide on a deployment that waits for them, under the
environment's approval policy (`approvals:` in the config).

Each person's decision is recorded once per request; when enough distinct approvers have
approved (or anyone allowed has rejected), the decision is carried out exactly once,
whoever clicks last and however often: the request's decision claim sees to that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from correlation.approval_request import ApprovalRequest, Standing, ago, marked_expired, standing
from correlation.approval_state import RequestState
from correlation.approval_votes import decided_before
from correlation.card import CommitCard, DeploymentLine
from correlation.mrkdwn import escape, one_line
from correlation.policies import Policies
from devexbot.actions.core import ActionContext, ActionSpec, Click, Outcome, Refused, slack_time
from devexbot.actions.ids import ActionId
from devexbot.approvals.card_events import ApprovalEvents
from devexbot.approvals.decisions import Decisions
from devexbot.approvals.effect import Decision
from devexbot.approvals.ledger import Decider, Ledger, Tally
from devexbot.approvals.policy import ApproverChecks
from devexbot.config import ApprovalPolicy, BotConfig
from devexbot.store.models import utcnow

MAX_REASON = 2000


@dataclass(frozen=True)
class Open:
    policy: ApprovalPolicy
    deployment: DeploymentLine
    request: ApprovalRequest


class OpenRequests:
    """The request a click is about, if it is still open; refusals say why not (and a
    click on an expired request marks it expired on the card)."""

    def __init__(self, config: BotConfig, policies: Policies, events: ApprovalEvents) -> None:
        self._config, self._policies, self._events = config, policies, events

    def of(self, click: Click, card: CommitCard) -> Open:
        env = click.value.target or ""
        policy = self._config.approval_policy(env)
        if policy is None:
            raise Refused(f"the bot's config has no approval policy for {env} "
                          f"(`approvals.{env}`), so nobody may decide on it from here")
        deployment = next((d for d in card.deployments
                           if d.environment.casefold() == env.casefold()), None)
        if deployment is None:
            raise Refused(f"this commit has no deployment to {env}")
        now = utcnow()
        found = standing(card, deployment, self._policies, now)
        if found is None or found.state is RequestState.DECIDED:
            approval = deployment.approval
            if approval and approval.state in ("approved", "rejected") and approval.by:
                raise Refused(decided_before(env, approval.state, approval.by,
                                             user=click.user_id,
                                             signoff=bool(found and found.request.signoff)))
            raise Refused(f"{env} is not waiting for a decision (it is "
                          f"{deployment.status.value})")
        if found.state is RequestState.EXPIRED:
            self._events.mark_expired(found.request)
            raise Refused(_expired(found, deployment, now))
        return Open(policy, deployment, found.request)


class _Decider:
    """What Approve and Reject share: the open request, who may decide, the ledger, and the
    decision carried out once."""

    def __init__(self, requests: OpenRequests, checks: ApproverChecks, ledger: Ledger,
                 decisions: Decisions) -> None:
        self._requests, self._checks = requests, checks
        self._ledger, self._decisions = ledger, decisions

    def claim_key(self, ctx: ActionContext) -> None:
        return None  # one decision per person per request: the approvals table keeps that


class Approve(_Decider):
    """One approver's approval; the decision once enough have approved."""

    spec = ActionSpec(ActionId.APPROVE, permission="policy:approvals")

    def __call__(self, ctx: ActionContext) -> Outcome:
        found = self._requests.of(ctx.click, ctx.card)
        policy, request, env = found.policy, found.request, found.request.environment
        user = ctx.click.user_id
        self._checks.check_approver(policy, environment=env, user=user)
        self._checks.check_not_author(policy, ctx.card, environment=env, user=user)
        self._decisions.check_undecided(request, user=user)
        tally = self._ledger.record(request, user=user, login=ctx.github_login,
                                    decision="approved", required=policy.required)
        if tally.late:
            return self._late(ctx, found, tally)
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
            done = self._decisions.decide(ctx.card, request, policy,
                                          Decision("approved", tally.approvers, via=_via(ctx)),
                                          user=user)
        except Refused as exc:
            raise Refused(f"your approval counts ({progress}), but {exc.message}") from None
        if done is None:
            reply = (f"Approved {env} ({progress}); the bot is already acting on it."
                     if tally.new else
                     f"You already approved {env} ({progress}); the bot is acting on it.")
            return Outcome(reply=reply, stamp=stamp if tally.new else None,
                           target=request.label, environment=env)
        return Outcome(reply=f"Approved {env} ({progress}): {done}.",
                       stamp=f"{stamp} · {done}", target=request.label, environment=env)

    def _late(self, ctx: ActionContext, found: Open, tally: Tally) -> Outcome:
        """Enough people approved before this click: say who. If carrying their decision
        out failed before, this click tries again (without counting itself)."""
        policy, request, env = found.policy, found.request, found.request.environment
        user = ctx.click.user_id
        before = decided_before(env, "approved", [d.slack_user for d in tally.approvers],
                                user=user, signoff=request.signoff)
        try:
            done = self._decisions.decide(ctx.card, request, policy,
                                          Decision("approved", tally.approvers, via=_via(ctx)),
                                          user=user,
                                          retry=True)
        except Refused as exc:
            raise Refused(f"{before}, but {exc.message}") from None
        if done is None:
            raise Refused(before)
        progress = f"{tally.count} of {policy.required}"
        return Outcome(reply=f"Carried out now: {done}; {before} ({progress}).",
                       stamp=f"✅ {_env(env)}: {done} {slack_time(utcnow())}",
                       target=request.label, environment=env)


class Reject(_Decider):
    """A rejection (or "request changes") with its reason: decided at once."""

    spec = ActionSpec(ActionId.REJECT, permission="policy:approvals")

    def __call__(self, ctx: ActionContext) -> Outcome:
        reason = str(ctx.click.extra.get("reason") or "").strip()[:MAX_REASON]
        if not reason:
            raise Refused("say why in the form, so whoever deploys knows what to change")
        found = self._requests.of(ctx.click, ctx.card)
        policy, request, env = found.policy, found.request, found.request.environment
        user = ctx.click.user_id
        self._checks.check_approver(policy, environment=env, user=user)
        self._decisions.check_undecided(request, user=user)
        self._ledger.record(request, user=user, login=ctx.github_login, decision="rejected",
                            required=policy.required, reason=reason)
        decider = Decider(user, ctx.github_login)
        done = self._decisions.decide(ctx.card, request, policy,
                                      Decision("rejected", (decider,), reason,
                                               via=_via(ctx)), user=user)
        if done is None:
            raise Refused(f"{env} is being decided right now; the card shows how it ends")
        verb = "requested changes on" if request.signoff else "rejected"
        return Outcome(
            reply=f"{verb.capitalize()} {env}: {done}. Reason recorded: {reason}",
            stamp=f"🚫 {_env(env)}: {verb.removesuffix(' on')} by <@{user}> "
                  f"{slack_time(utcnow())}: {escape(one_line(reason), 300)}",
            target=request.label, environment=env)


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


def _env(environment: str) -> str:
    return f"*{escape(one_line(environment), 60)}*"


def _via(ctx: ActionContext) -> str:
    """Where the click was made: the web workspace marks its clicks, Slack's are the rest."""
    return "web" if ctx.click.extra.get("via") == "web" else "slack"
