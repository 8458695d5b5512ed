"""The product-owner flow: when a change reaches an environment whose policy says
`notify: pr_author`, the person who asked for it gets a direct message with the link to try
it and Approve / Request changes buttons.

Who asked for it: the login in a pull request label `requested-by:<login>` (the prefix is
the policy's `requested_by_label`), else the pull request's author, else the commit's.
"""

from __future__ import annotations

from correlation.approval_request import request_for
from correlation.blocks import SlackMessage
from correlation.button_blocks import button_elements
from correlation.buttons import decision_buttons
from correlation.card import CommitCard, DeploymentLine
from correlation.replies import render_tryout_request
from correlation.status import Status
from devexbot.config import ApprovalPolicy
from devexbot.slack.people import People


def requester_login(card: CommitCard, policy: ApprovalPolicy) -> str | None:
    pr = card.pull_request
    if pr:
        for label in pr.labels:
            if label.lower().startswith(policy.requested_by_label.lower()):
                login = label[len(policy.requested_by_label):].strip().lstrip("@")
                if login:
                    return login
        if pr.author:
            return pr.author
    return card.author.login if card.author else None


def requester_slack_id(card: CommitCard, policy: ApprovalPolicy, people: People) -> str | None:
    """The Slack user who asked for the change (whom the try-out message goes to)."""
    login = requester_login(card, policy)
    author = card.author
    email = author.email if author and author.login == login else None
    return people.slack_id(login=login, email=email)


def tryout_message(card: CommitCard, deployment: DeploymentLine, policy: ApprovalPolicy,
                   people: People) -> tuple[str, SlackMessage] | None:
    """(Slack user id, message) for the person who asked for the change; None when the
    deployment is not one to try, or nobody knows who that person is on Slack."""
    if policy.notify != "pr_author" or deployment.status not in (Status.SUCCESS,
                                                                  Status.WAITING):
        return None
    if request_for(card, deployment, policy.policy(deployment.environment)) is None:
        return None
    slack_id = requester_slack_id(card, policy, people)
    if slack_id is None:
        return None
    buttons = button_elements(decision_buttons(card, deployment.environment))
    return slack_id, render_tryout_request(card, environment=deployment.environment,
                                           actions=buttons)
