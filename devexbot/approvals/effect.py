"""Carrying out a decision: approve or reject GitHub's pending deployment, start the
promotion job on Jenkins, or POST a signed callback to the deploy tool.

Runs once per request (the caller holds the request's decision claim) and says in a few
words what it did, for the clicker's reply and the card's stamp.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from github import GithubException
from pydantic import SecretStr

from correlation.approval_request import ApprovalRequest, substitute, template_values
from correlation.card import CommitCard
from devexbot.actions.core import Refused
from devexbot.approvals.ledger import Decider
from devexbot.clients.github import GitHubApi, GitHubNotConfigured
from devexbot.clients.jenkins import JenkinsJobs
from devexbot.config import ApprovalPolicy, OnCallback, OnJenkins
from devexbot.errors import DevexbotError
from devexbot.store.models import utcnow

CALLBACK_TIMEOUT = 10  # seconds
SIGNATURE_HEADER = "X-Devexbot-Signature-256"
MAX_COMMENT = 1000


@dataclass(frozen=True)
class Decision:
    state: str  # approved | rejected
    deciders: tuple[Decider, ...]
    reason: str | None = None
    via: str = "slack"  # where the click that made the decision was: slack | web

    def names(self) -> str:
        return ", ".join(d.github_login or d.slack_user for d in self.deciders)

    def where(self) -> str:
        """Where it was decided, in the words GitHub's reviewers read."""
        return "in devexbot's web workspace" if self.via == "web" else "in Slack"


def callback_body(card: CommitCard, request: ApprovalRequest, decision: Decision) -> bytes:
    """The JSON the deploy tool's callback URL receives."""
    pr = card.pull_request
    return json.dumps({
        "repository": request.repo,
        "sha": request.sha,
        "environment": request.environment,
        "decision": decision.state,
        "reason": decision.reason,
        "by": [{"slack": d.slack_user, "github": d.github_login} for d in decision.deciders],
        "deployment_id": request.deployment_id,
        "pull_request": pr.number if pr else None,
        "request": request.key,
        "timestamp": utcnow().isoformat().replace("+00:00", "Z"),
    }, separators=(",", ":")).encode()


class DecisionEffects:
    """What a decision does outside the bot: GitHub's pending deployment, a Jenkins
    promotion job, or the deploy tool's callback (signed with `callback_secret`)."""

    def __init__(self, github: GitHubApi, jenkins: JenkinsJobs, *,
                 callback_secret: SecretStr | None) -> None:
        self._github_api, self._jenkins_jobs = github, jenkins
        self._callback_secret = callback_secret

    def carry_out(self, card: CommitCard, request: ApprovalRequest, policy: ApprovalPolicy,
                  decision: Decision) -> str:
        """Do what the policy says for the decision; returns what was done, in a few words."""
        action = policy.on_approve
        if action is None and request.source == "github" and not request.signoff:
            action = "github"  # a GitHub Actions run waits for review: decide it there
        if action == "github":
            return self._github(request, decision)
        if isinstance(action, OnJenkins):
            return self._jenkins(card, request, action, decision)
        if isinstance(action, OnCallback):
            return self._callback(card, request, action, decision)
        return "recorded"

    def _github(self, request: ApprovalRequest, decision: Decision) -> str:
        if request.signoff or (request.run_id is None and request.source != "github"):
            raise Refused(f"`approvals.{request.environment}.on_approve` is github, but this "
                          "deployment is not a GitHub Actions run waiting for review")
        if request.run_id is None:
            raise Refused("GitHub has not said yet which workflow run waits for this deployment "
                          "(its deployment_review webhook): try again in a moment")
        if not self._github_api.configured:
            raise GitHubNotConfigured()
        repo = self._github_api.repo(request.repo)
        url = f"{repo.url}/actions/runs/{request.run_id}/pending_deployments"
        try:
            # PyGithub has no helper for pending deployments.
            _, pending = repo.requester.requestJsonAndCheck("GET", url)
            ids = [p["environment"]["id"] for p in pending or ()
                   if str(p["environment"]["name"]).casefold() == request.environment.casefold()]
            if not ids:
                raise Refused(f"GitHub has no deployment of run {request.run_id} to "
                              f"{request.environment} waiting any more: it was decided elsewhere")
            verb = "Approved" if decision.state == "approved" else "Rejected"
            comment = f"{verb} {decision.where()} by {decision.names()}"
            if decision.reason:
                comment += f": {decision.reason}"
            repo.requester.requestJsonAndCheck("POST", url, input={
                "environment_ids": ids, "state": decision.state, "comment": comment[:MAX_COMMENT]})
        except GithubException as exc:
            data = exc.data if isinstance(exc.data, dict) else {}
            message = str(data.get("message") or exc)
            if exc.status == 422:
                verb = "approve" if decision.state == "approved" else "reject"
                raise Refused(f"GitHub refused to {verb} the deployment: {message} "
                              "(the bot's GitHub account must be a required reviewer of "
                              f"{request.environment})") from None
            raise
        return f"{decision.state} on GitHub (run {request.run_id})"

    def _jenkins(self, card: CommitCard, request: ApprovalRequest, action: OnJenkins,
                 decision: Decision) -> str:
        if decision.state != "approved":
            return f"{action.jenkins.job} not started"
        values = template_values(card, request)
        parameters = {name: substitute(template, values)
                      for name, template in action.jenkins.parameters.items()}
        queue_id = self._jenkins_jobs.build_job(action.jenkins.job, parameters=parameters or None)
        return f"Jenkins is starting {action.jenkins.job} (queue item {queue_id})"

    def _callback(self, card: CommitCard, request: ApprovalRequest, action: OnCallback,
                  decision: Decision) -> str:
        secret = self._callback_secret
        if secret is None:
            raise DevexbotError("DEPLOY_WEBHOOK_SECRET is not set, so the approval callback "
                                "cannot be signed")
        body = callback_body(card, request, decision)
        signature = hmac.new(secret.get_secret_value().encode(), body, hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json", "User-Agent": "devexbot",
                   SIGNATURE_HEADER: f"sha256={signature}",
                   "X-Devexbot-Delivery": hashlib.sha256(
                       f"{request.key}:{decision.state}".encode()).hexdigest()}
        # The URL comes from the operator's config, which only takes http(s) URLs.
        http = urllib.request.Request(action.callback, data=body, headers=headers,  # noqa: S310
                                      method="POST")
        try:
            with urllib.request.urlopen(http, timeout=CALLBACK_TIMEOUT):  # noqa: S310
                pass
        except urllib.error.HTTPError as exc:
            raise DevexbotError(f"the deploy tool refused to hear of it (HTTP {exc.code})") \
                from None
        except (urllib.error.URLError, TimeoutError) as exc:
            reason: Any = getattr(exc, "reason", exc)
            raise DevexbotError(f"the deploy tool could not be reached ({reason})") from None
        return "the deploy tool was told"
