"""The replies in a card's thread (and the direct messages) a flush owes: planned from the
claimed card and what was sent before, then each sent once per key.

A commit posted in several channels has a thread in each: each thread hears of its
failures (the person responsible is mentioned in the first only); approval requests and
failed ticket updates go to the first, the card's own message, and direct messages once.

Which failures are owed a reply is `correlation.owed_replies`' decision; whether an
approval request is still open is `correlation.approval_request.standing`'s. A failure
reply quoting logs waits for the card lookups to record them (see
`devexbot.lookups.log_records`), for `LOG_WAIT` at most: the planner reads, never fetches.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from correlation.approval_request import standing
from correlation.approval_state import RequestState
from correlation.blocks import SlackMessage
from correlation.card import CheckLine, CommitCard, DeploymentLine, iso
from correlation.owed_replies import notification_key, owed_failure_reply
from correlation.policies import Policies
from correlation.recipients import Notice, NoticeKind, rerun_by, who_hears
from correlation.replies import render_approval_request, render_failure_reply
from correlation.signoff import (
    render_changes_requested,
    render_tryout_answered,
    signoff_answer,
    tryout_key,
)
from correlation.status import Status
from correlation.ticket_replies import TicketFailure, render_ticket_failure
from devexbot.approvals.product_owner import requester_slack_id, tryout_message
from devexbot.config import BotConfig
from devexbot.lookups.log_records import MAX_LOGS, LogSources, log_key
from devexbot.publish.claims import CardPost, Claim
from devexbot.publish.lost_replies import LostReplies, reply_metadata
from devexbot.publish.pacing import Deferred, Pacing
from devexbot.publish.personal import NoPrefs, PersonPrefs, ReviewDms, hold_once
from devexbot.slack.errors import error_code, is_transient
from devexbot.slack.people import People
from devexbot.store import Database, Notification

log = logging.getLogger(__name__)

LOG_WAIT = timedelta(seconds=30)  # since the news: a failure reply waits no longer for logs


@dataclass(frozen=True)
class Reply:
    """One reply to send once, in `channel` (a user: a direct message), in the thread of
    `thread_ts` if given; `keys` say it was sent."""

    keys: tuple[str, ...]
    message: SlackMessage | Callable[[], SlackMessage]
    channel: str
    thread_ts: str | None = None
    # The key of a message sent before, to edit (once) instead of posting: it is edited
    # where it was sent (a direct message's own D… ID), whatever `channel` says.
    edit_of: str | None = None
    # A direct message the person's quiet hours hold for their digest (no `channel`: only
    # its keys are recorded).
    held: bool = False


@dataclass(frozen=True)
class Plan:
    """The replies a card owes now, and when to plan again for one that waits (a failure
    reply waiting for its logs to be recorded)."""

    replies: list[Reply]
    again_at: datetime | None = None


class ReplyPlanner:
    """What a claimed card owes: failure replies, approval requests, the product owner's
    try-out message and what their answer owes (`correlation.signoff`), and failed ticket
    updates, in that order."""

    def __init__(self, config: BotConfig, policies: Policies, people: People,
                 logs: LogSources, prefs: PersonPrefs | None = None) -> None:
        self.config, self.policies, self.people, self.logs = config, policies, people, logs
        self.prefs = prefs or NoPrefs()
        self.review_dms = ReviewDms(people, self.prefs)

    def owed(self, claim: Claim, now: datetime) -> Plan:
        card = claim.card
        posted = claim.posted
        if card.superseded_by or not posted:
            return Plan([])
        first = posted[0]
        replies, again_at = self._failure(claim, now, posted)
        for deployment in card.deployments:
            replies += self._tryout(claim, deployment)
            replies += self._signoff_answered(claim, first, deployment, now)
            if deployment.status is Status.WAITING:
                replies += self._approval_request(claim, first, deployment, now)
        replies += self._ticket_failures(claim, first)
        # A review nobody asked to hear of is recorded as told (held for nobody).
        replies += [Reply((dm.key,), dm.message, channel=dm.user or "",
                          held=dm.held or dm.user is None)
                    for dm in self.review_dms.owed(card, claim.notified, now)]
        return Plan(replies, again_at)

    def _failure(self, claim: Claim, now: datetime,
                 posted: list[CardPost]) -> tuple[list[Reply], datetime | None]:
        """The failure reply in each message's thread, with the excerpts of its logs: once
        the lookups recorded them (or tried and could not), or once `LOG_WAIT` passed
        since the news."""
        card = claim.card
        replies: list[Reply] = []
        again_at = None
        for post in posted:
            thread = None if post.on_card else (post.route_channel or post.channel)
            owed = owed_failure_reply(card, claim.notified, thread=thread)
            if owed is None:
                continue
            excerpts, wait_until = self._excerpts(claim, owed.checks, now)
            if wait_until is not None:
                again_at = wait_until
                continue
            author = self._responsible(card) if post is posted[0] else None
            route = claim.destination.route if claim.destination else None
            actor = rerun_by(card.reruns, owed.checks, owed.deployments)  # a Retry click
            notice = Notice(NoticeKind.FAILURE, about=author, actor=actor,
                            mentions=(author,) if author else (),
                            route_dm=bool(route and route.dm_author_on_failure))
            heard = who_hears(notice, self.prefs.get_many([author] if author else []), now)
            keys = tuple(owed.keys)
            assert post.ts is not None
            replies.append(Reply(keys, render_failure_reply(
                card, mention=heard.mentions[0] if heard.mentions else None,
                log_excerpts=excerpts, checks=owed.checks,
                deployments=owed.deployments), channel=post.channel,
                thread_ts=post.thread_ts or post.ts))
            # The same reply as the thread's, less the mention: sent, or held for the
            # digest of whoever is in their quiet hours (mentioned or not).
            for user, held in heard.direct():
                replies.append(Reply(
                    tuple(notification_key(f"dm:{key}") for key in keys),
                    render_failure_reply(card, mention=None, log_excerpts=excerpts,
                                         checks=owed.checks, deployments=owed.deployments),
                    channel=user, held=held))
        return replies, again_at

    def _excerpts(self, claim: Claim, checks: Sequence[CheckLine],
                  now: datetime) -> tuple[dict[str, str], datetime | None]:
        """The failed checks' log excerpts the lookups recorded; or when to look again,
        while one is still to be recorded and `LOG_WAIT` has not passed."""
        excerpts: dict[str, str] = {}
        missing = False
        for check in self.logs.wanted(checks):
            if len(excerpts) >= MAX_LOGS:
                break
            key = log_key(check)
            if key not in claim.logs:
                missing = True
            elif excerpt := claim.logs[key]:
                excerpts[check.name] = excerpt
        deadline = (claim.dirty_since or claim.claimed_at) + LOG_WAIT
        if missing and len(excerpts) < MAX_LOGS and now < deadline:
            return excerpts, deadline
        return excerpts, None

    def _approval_request(self, claim: Claim, first: CardPost, deployment: DeploymentLine,
                          now: datetime) -> list[Reply]:
        card = claim.card
        found = standing(card, deployment, self.policies, now)
        if found is not None and found.state is RequestState.EXPIRED:
            return []  # nobody can decide any more
        key = notification_key(f"approval:{deployment.environment}:{iso(deployment.updated_at)}")
        if key in claim.notified:
            return []
        policy = self.config.approval_policy(deployment.environment)
        reviewers = deployment.approval.reviewers if deployment.approval else ()
        mentions = [m for m in (self.people.slack_id(login=r) for r in reviewers) if m]
        for principal in policy.approvers if policy else ():
            if principal[:1] in ("U", "W", "S") and principal not in mentions:
                mentions.append(principal)
        # Whoever started the deploy (their push, their click) is not asked about it if
        # they mute their own actions.
        starter = self.people.slack_id(login=deployment.creator)
        heard = who_hears(Notice(NoticeKind.APPROVAL_REQUEST, actor=starter,
                                 mentions=tuple(mentions)),
                          self.prefs.get_many([p for p in (starter, *mentions) if p]), now)
        # An approver in their quiet hours is not pinged: the request waits in their digest.
        quiet = render_approval_request(card, environment=deployment.environment,
                                        mentions=()) if heard.held else None
        return [Reply((key,), render_approval_request(card, environment=deployment.environment,
                                                      mentions=heard.mentions),
                      channel=first.channel, thread_ts=first.thread_ts or first.ts),
                *(Reply((notification_key(f"held:{key}:{user}"),), quiet, channel=user,
                        held=True) for user in heard.held if quiet is not None)]

    def _tryout(self, claim: Claim, deployment: DeploymentLine) -> list[Reply]:
        """The product-owner flow: once per card and environment, a direct message."""
        key = tryout_key(deployment.environment)
        policy = self.config.approval_policy(deployment.environment)
        if policy is None or policy.notify is None or key in claim.notified:
            return []
        found = tryout_message(claim.card, deployment, policy, self.people)
        if found is None:
            return []
        user, message = found
        return [Reply((key,), message, channel=user)]

    def _signoff_answered(self, claim: Claim, first: CardPost,
                          deployment: DeploymentLine, now: datetime) -> list[Reply]:
        """The answer to a try-out: the try-out message closed, and the author told of
        the changes asked for (in the thread; by DM where the route sends DMs)."""
        policy = self.config.approval_policy(deployment.environment)
        if policy is None or policy.notify is None:
            return []
        card = claim.card
        answer = signoff_answer(card, deployment, policy.policy(deployment.environment))
        if answer is None:
            return []
        replies = []
        if answer.closed_key not in claim.notified:
            reader = requester_slack_id(card, policy, self.people)
            replies.append(Reply(
                (answer.closed_key,),
                lambda: render_tryout_answered(card, answer, reader=reader),
                channel=reader or "", edit_of=tryout_key(deployment.environment)))
        if answer.state != "rejected":
            return replies
        author = self._responsible(card)
        if author in answer.by:
            author = None  # they asked for changes to their own change: nobody to tell
        route = claim.destination.route if claim.destination else None
        heard = who_hears(Notice(NoticeKind.CHANGES_REQUESTED, about=author,
                                 mentions=(author,) if author else (),
                                 route_dm=bool(route and route.dm_author_on_failure)),
                          self.prefs.get_many([author] if author else []), now)
        if answer.author_key not in claim.notified:
            replies.append(Reply((answer.author_key,), render_changes_requested(
                card, answer, mention_author=heard.mentions[0] if heard.mentions else None),
                channel=first.channel, thread_ts=first.thread_ts or first.ts))
        for user, held in heard.direct():
            if answer.author_dm_key not in claim.notified:
                replies.append(Reply((answer.author_dm_key,), render_changes_requested(
                    card, answer, mention_author=None), channel=user, held=held))
        return replies

    def _ticket_failures(self, claim: Claim, first: CardPost) -> list[Reply]:
        """Once per failed ticket update; those failing together share one reply."""
        new = {k: f for k, f in claim.ticket_failures.items() if k not in claim.notified}
        if not new:
            return []
        links = {str(t.get("key")): t.get("url") for t in claim.card.tickets}
        failures = [
            TicketFailure(f.ticket, f.environment, f.what, f.error, links.get(f.ticket))
            for _, f in sorted(new.items())
        ]
        return [Reply(tuple(sorted(new)), render_ticket_failure(claim.card, failures),
                      channel=first.channel, thread_ts=first.thread_ts or first.ts)]

    def _responsible(self, card: CommitCard) -> str | None:
        pr, author = card.pull_request, card.author
        login = (pr.author if pr else None) or (author.login if author else None)
        return self.people.slack_id(login=login, email=author.email if author else None)


class ReplySender:
    """Posts a reply once per key, within Slack's pace for its channel."""

    def __init__(self, db: Database, client: WebClient, pacing: Pacing, *,
                 clock: Callable[[], datetime]) -> None:
        self.db, self.client, self.pacing, self.clock = db, client, pacing, clock
        self.lost = LostReplies(db, client, pacing, clock=clock)

    def settle_unsure(self, claim: Claim) -> None:
        """The card's thread replies whose answer was lost: recorded as sent where the
        thread has them, or forgotten, to be planned and posted again."""
        if claim.unsettled_replies:  # read with the claim: no query for the usual card
            claim.notified -= self.lost.resolve(claim.card_id)

    def send(self, claim: Claim, reply: Reply) -> None:
        if reply.held:
            if hold_once(self.db, claim.card_id, reply.channel or None, list(reply.keys),
                         reply.message):
                claim.notified.update(reply.keys)
            return
        if reply.edit_of is not None:
            if self.edit_once(claim.card_id, reply.edit_of, list(reply.keys), reply.message):
                claim.notified.update(reply.keys)
            return
        if self.reply_once(claim.card_id, reply.channel, reply.thread_ts, list(reply.keys),
                           reply.message):
            claim.notified.update(reply.keys)

    def reply_once(
        self, card_id: int, channel: str, thread_ts: str | None, keys: list[str],
        message: SlackMessage | Callable[[], SlackMessage],
    ) -> bool:
        """Post `message` (in the thread of `thread_ts`, if given) unless one of the card's
        `keys` was sent already; True if this call sent it. Raises `Deferred` while Slack's
        limits for the channel say not now. A `message` that is a function is called only
        once the keys are claimed, so what making it costs is spent on a reply that goes
        out."""
        wait = self.pacing.blocked_for(channel)
        if wait or not self.pacing.take_post(channel):
            raise Deferred(max(wait, 0.2))
        try:
            with self.db.write() as session:
                session.add_all([Notification(card_id=card_id, key=k, channel=channel,
                                              state="sending", thread_ts=thread_ts,
                                              created_at=self.clock()) for k in keys])
        except IntegrityError:
            return False  # another flusher sent it
        try:
            made = message() if callable(message) else message
            response = self.client.chat_postMessage(
                channel=channel, text=made.text, blocks=made.blocks,
                thread_ts=thread_ts, unfurl_links=False,
                metadata=reply_metadata(card_id, keys),
            )
        except Exception as exc:
            if thread_ts is not None and _may_have_landed(exc):
                self._unsure(card_id, keys)  # the next flush looks for it in the thread
            else:
                self._unclaim(card_id, keys)  # not sent: let the next flush try again
            raise
        # The channel Slack answers with: a direct message's own ID (D…), which editing
        # it later needs (chat.update takes no user ID).
        self._sent(card_id, keys, channel=response.get("channel") or channel, ts=response["ts"])
        return True

    def edit_once(self, card_id: int, original: str, keys: list[str],
                  message: SlackMessage | Callable[[], SlackMessage]) -> bool:
        """Edit the message the card sent under the key `original` to `message`, unless one
        of `keys` says it was edited so already; True if this call did. Nothing is edited
        when no message was sent under `original`, or Slack can no longer edit it."""
        with self.db.read() as session:
            sent = session.execute(select(Notification.channel, Notification.ts).where(
                Notification.card_id == card_id, Notification.key == original,
                Notification.state == "sent")).first()
        if sent is None or not sent.channel or not sent.ts:
            return False
        channel, ts = sent.channel, sent.ts
        wait = self.pacing.blocked_for(channel)
        if wait or not self.pacing.take_update(channel):
            raise Deferred(max(wait, 0.5))
        try:
            with self.db.write() as session:
                session.add_all([Notification(card_id=card_id, key=k, channel=channel,
                                              state="sending") for k in keys])
        except IntegrityError:
            return False  # another flusher edited it
        try:
            made = message() if callable(message) else message
            self.client.chat_update(channel=channel, ts=ts, text=made.text, blocks=made.blocks)
        except SlackApiError as exc:
            if is_transient(exc):
                self._unclaim(card_id, keys)  # the next flush tries again
                raise
            # Deleted, or out of the bot's reach: an edit can never succeed. Not the card's
            # own message, so nothing else is wrong.
            log.warning("could not edit %s in %s: %s", original, channel, error_code(exc))
        except Exception:
            self._unclaim(card_id, keys)
            raise
        self._sent(card_id, keys, channel=channel, ts=ts)
        return True

    def _sent(self, card_id: int, keys: list[str], *, channel: str, ts: str) -> None:
        with self.db.write() as session:
            session.query(Notification).filter(
                Notification.card_id == card_id, Notification.key.in_(keys)
            ).update({"state": "sent", "channel": channel, "ts": ts},
                     synchronize_session=False)

    def _unsure(self, card_id: int, keys: list[str]) -> None:
        with self.db.write() as session:
            session.execute(update(Notification).where(
                Notification.card_id == card_id, Notification.key.in_(keys)
            ).values(state="unsure"))

    def _unclaim(self, card_id: int, keys: list[str]) -> None:
        with self.db.write() as session:
            session.query(Notification).filter(
                Notification.card_id == card_id, Notification.key.in_(keys)
            ).delete(synchronize_session=False)


def _may_have_landed(exc: Exception) -> bool:
    """Whether a post that failed so may have reached Slack all the same: no answer came
    (a timeout, a cut connection), or Slack answered 5xx. A 429 or a 4xx refused it."""
    if isinstance(exc, SlackApiError):
        return int(exc.response.status_code) >= 500
    return isinstance(exc, OSError)
