"""The product owner's answer to a change they tried (`notify: pr_author`), and what it
owes people: their own message closed (it says what they decided and loses its buttons),
and, when they asked for changes, the change's author told why.

Which answer a deployment line holds is read off the card alone; the flush
(`devexbot.publish.replies`) sends what it owes once per key.
"""

from __future__ import annotations

from dataclasses import dataclass

from correlation.approval_request import decided_request
from correlation.blocks import SlackMessage, first_line
from correlation.card import CommitCard, DeploymentLine
from correlation.mrkdwn import (
    MAX_TEXT,
    clip,
    code,
    escape,
    link,
    mention,
    one_line,
    pack,
    people,
    section,
)
from correlation.owed_replies import notification_key
from correlation.policies import ApprovalPolicy
from correlation.replies import render_tryout_request

__all__ = ["SignoffAnswer", "render_changes_requested", "render_tryout_answered",
           "signoff_answer", "tryout_key"]

MAX_REASON = 1500
MAX_REPLY_TEXT = 280


@dataclass(frozen=True)
class SignoffAnswer:
    """What the person who asked for a change answered, having tried it."""

    request: str  # the sign-off request's key
    environment: str
    state: str  # approved | rejected (asked for changes)
    by: tuple[str, ...]  # Slack user ids
    reason: str | None

    @property
    def closed_key(self) -> str:
        """Their try-out message was closed with the answer."""
        return notification_key(f"tryout-answered:{self.request}")

    @property
    def author_key(self) -> str:
        """The author was told of the changes asked for, in the card's thread."""
        return notification_key(f"changes:{self.request}")

    @property
    def author_dm_key(self) -> str:
        """...and by direct message."""
        return notification_key(f"dm:changes:{self.request}")


def tryout_key(environment: str) -> str:
    """The try-out message of the card's deployments to `environment` was sent."""
    return notification_key(f"tryout:{environment.casefold()}")


def signoff_answer(card: CommitCard, deployment: DeploymentLine,
                   policy: ApprovalPolicy | None) -> SignoffAnswer | None:
    """The answer the deployment line holds, once the person asked to try it gave it."""
    request = decided_request(card, deployment, policy)
    approval = deployment.approval
    if request is None or not request.signoff or approval is None:
        return None
    return SignoffAnswer(request.key, deployment.environment, approval.state, approval.by,
                         approval.comment)


def render_tryout_answered(card: CommitCard, answer: SignoffAnswer, *,
                           reader: str | None) -> SlackMessage:
    """The try-out message once answered: what it said, then the answer (to `reader`,
    whose message it is, in the second person), and no buttons."""
    asked = render_tryout_request(card, environment=answer.environment)
    yours = reader is not None and reader in answer.by
    who = "You" if yours else people(answer.by, shown=3) or "Someone"
    if answer.state == "approved":
        said, short = f"✅ {who} approved it.", "approved it"
    else:
        said, short = f"🚫 {who} requested changes: {_reason(answer)}", "requested changes"
    env = escape(one_line(answer.environment), 60) or "(unnamed)"
    text = clip(f"{said[:1]} {escape(card.repo, 100)} {card.short_sha} on {env}: "
                f"{who if not yours else 'you'} {short}", MAX_REPLY_TEXT)
    return SlackMessage(text=text, blocks=[*asked.blocks, section(said)])


def render_changes_requested(card: CommitCard, answer: SignoffAnswer, *,
                             mention_author: str | None) -> SlackMessage:
    """The changes asked for, told to the author: in the card's thread (mentioning them,
    when `mention_author` gives their Slack id), or as their direct message."""
    env = escape(one_line(answer.environment), 60) or "(unnamed)"
    pr = card.pull_request
    what = (link(pr.url, escape(one_line(f"#{pr.number} {pr.title}"), 200)) if pr
            else escape(first_line(card.message), 200) or card.short_sha)
    where = (f"{code(card.branch, 80)} " if card.branch else "") + link(card.url, card.short_sha)
    who = people(answer.by, shown=3) or "Someone"
    head = f"{mention(mention_author)} " if mention_author else ""
    lines = [f"{head}🚫 {who} asked for changes to *{what}* ({escape(card.repo, 100)} "
             f"{where}) after trying it on *{env}*:", f">{_reason(answer)}"]
    text = clip(f"{head}🚫 {escape(card.repo, 100)} {card.short_sha}: changes asked for on "
                f"{env}", MAX_REPLY_TEXT)
    return SlackMessage(text=text, blocks=pack(lines, max_chars=MAX_TEXT))


def _reason(answer: SignoffAnswer) -> str:
    return escape(one_line(answer.reason or "no reason given"), MAX_REASON)
