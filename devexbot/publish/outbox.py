"""The outbox: dirty cards become Slack messages that keep themselves current.

A flusher claims one due card at a time (`FOR UPDATE SKIP LOCKED` plus a lease, so replicas
and threads never work the same card), renders it, and posts it the first time or updates
the same `ts` later, all outside any database transaction. The dirty mark lives in the
database, so a crash at any point leaves the card dirty and it converges after a restart;
a post that may have reached Slack before a crash is looked up in the channel by its
message metadata instead of being posted twice.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web.slack_response import SlackResponse
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from correlation.approval_state import RequestState
from correlation.blocks import SlackMessage, card_fingerprint, render_card, render_superseded
from correlation.card import CommitCard, DeploymentLine, iso
from correlation.owed_replies import FailureReply, notification_key, owed_failure_reply
from correlation.replies import render_approval_request, render_failure_reply
from correlation.status import Status
from correlation.ticket_replies import TicketFailure, render_ticket_failure
from devexbot.actions.buttons import card_actions
from devexbot.approvals.product_owner import tryout_message
from devexbot.approvals.request import standing
from devexbot.config import BotConfig
from devexbot.polling import PollingWorker
from devexbot.publish.card_extras import CardExtras
from devexbot.publish.channels import CHANNEL_ID, ChannelDirectory
from devexbot.publish.failure_logs import FailureLogs
from devexbot.publish.pacing import Pacing
from devexbot.publish.routing import CardRouter, Destination
from devexbot.slack.errors import error_code, is_transient
from devexbot.slack.people import People
from devexbot.store import Card, Database, Notification, TicketUpdate
from devexbot.store.cards import CardLoader
from devexbot.store.models import utcnow
from devexbot.store.replica import died_here, replica_name

log = logging.getLogger(__name__)

METADATA_EVENT = "devexbot_card"
_GONE = {"message_not_found", "cant_update_message", "edit_window_closed"}


@dataclass(frozen=True)
class OutboxPolicy:
    quiet: float = 0.4  # seconds without news before a dirty card is flushed...
    max_delay: float = 1.5  # ...or at most this long after it first became dirty
    lease: float = 60.0  # how long a claim keeps other flushers off a card
    retry_base: float = 1.0
    retry_max: float = 300.0
    recover_window: float = 3600.0  # how far back a crashed post is looked for


@dataclass
class Claim:
    """What a flusher took from the database for one card."""

    card_id: int
    token: str
    claimed_at: datetime
    version: int
    repo: str
    sha: str
    card: CommitCard
    doc: dict[str, Any]
    channel: str | None
    ts: str | None
    render_hash: str | None
    post_started_at: datetime | None
    destination: Destination | None
    successor_link: str | None = None
    successor: tuple[int, str, str] | None = None  # id, channel, ts of the newer head's card
    notified: set[str] = field(default_factory=set)
    # Ticket updates that failed for good, by notification key, to be said once.
    ticket_failures: dict[str, TicketFailure] = field(default_factory=dict)


class Deferred(Exception):
    """Slack's limits say not now: the card stays dirty and is tried again after `seconds`."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"deferred {seconds:.1f}s")
        self.seconds = seconds


def card_message(card: CommitCard, config: BotConfig,
                 extra_notes: Sequence[str] = ()) -> SlackMessage:
    """A card's Slack message: its render, its stamps and the buttons it offers now;
    `extra_notes` (what a waiting deploy carries) come last, so they never crowd out a
    stamp or a button's reason in the notes' share of the message."""
    buttons = card_actions(card, config)
    notes = [*(stamp.text for stamp in card.stamps), *buttons.notes, *extra_notes]
    return render_card(card, actions=buttons.elements, notes=notes)


class Outbox:
    def __init__(
        self,
        db: Database,
        client: WebClient,
        router: CardRouter,
        people: People,
        *,
        pacing: Pacing | None = None,
        channels: ChannelDirectory | None = None,
        policy: OutboxPolicy = OutboxPolicy(),
        card_loader: CardLoader,
        config: BotConfig | None = None,
        logs: FailureLogs | None = None,
        extras: CardExtras | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db, self.client, self.router, self.people = db, client, router, people
        self.logs = logs
        self.extras = extras
        self.config = config or BotConfig()
        self.pacing = pacing or Pacing()
        self.channels = channels or ChannelDirectory(client)
        self.policy = policy
        self.card_loader = card_loader
        self.clock = clock
        self.owner = replica_name()

    def release_abandoned_claims(self) -> int:
        """Free the claims of flushers on this host that died holding them (or of this
        process's earlier run): their cards go out now, not when the lease runs out.
        A claim of a live process, or of another host, waits for its lease as before."""
        with self.db.write() as session:
            held = session.execute(
                select(Card.id, Card.claim_owner).where(Card.claim_token.is_not(None),
                                                        Card.claim_owner.is_not(None))
            ).all()
            dead = [card_id for card_id, owner in held if owner and died_here(owner)]
            if dead:
                session.execute(update(Card).where(Card.id.in_(dead)).values(
                    claimed_until=None, claim_token=None, claim_owner=None))
        if dead:
            log.info("released %d card claim(s) left by a flusher that died", len(dead))
        return len(dead)

    # --- the loop -----------------------------------------------------------------------

    def flush(self, *, limit: int = 500) -> int:
        """Work every due card once; returns how many were claimed."""
        done = 0
        while done < limit:
            claim = self._claim_next()
            if claim is None:
                break
            done += 1
            self._work(claim)
        return done

    def _work(self, claim: Claim) -> None:
        try:
            if claim.destination is None and claim.ts is None:
                self._finish(claim, render_hash=claim.render_hash)  # no route takes it
                return
            message = self._render(claim)
            fingerprint = card_fingerprint(message)
            if claim.ts is None:
                self._post(claim, message)
            elif fingerprint != claim.render_hash:
                self._update(claim, message)
            claim.render_hash = fingerprint  # Slack shows this render now
            self._notify(claim)
            self._finish(claim, render_hash=fingerprint)
        except Deferred as wait:
            self._release(claim, retry_in=wait.seconds, failed=False)
        except SlackApiError as exc:
            self._on_slack_error(claim, exc)
        except Exception:
            log.exception("flushing card %s@%s failed", claim.repo, claim.sha[:7])
            self._release(claim, retry_in=None, failed=True)

    # --- claiming -----------------------------------------------------------------------

    def _claim_next(self) -> Claim | None:
        now = self.clock()
        policy = self.policy
        with self.db.write() as session:
            card = session.scalar(
                select(Card)
                .where(
                    Card.dirty.is_(True),
                    or_(Card.claimed_until.is_(None), Card.claimed_until < now),
                    or_(Card.next_flush_at.is_(None), Card.next_flush_at <= now),
                    or_(
                        Card.changed_at <= now - timedelta(seconds=policy.quiet),
                        Card.dirty_since <= now - timedelta(seconds=policy.max_delay),
                    ),
                )
                .order_by(Card.dirty_since, Card.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if card is None:
                return None
            token = uuid.uuid4().hex
            card.claimed_until = now + timedelta(seconds=policy.lease)
            card.claim_token, card.claim_owner = token, self.owner
            claim = Claim(
                card_id=card.id,
                token=token,
                claimed_at=now,
                version=card.version,
                repo=card.repo,
                sha=card.sha,
                card=self.card_loader.load(card),
                doc=dict(card.doc),
                channel=card.slack_channel,
                ts=card.slack_ts,
                render_hash=card.render_hash,
                post_started_at=card.post_started_at,
                destination=None,
            )
            # Once posted, a message stays where it is; the route still decides on DMs.
            claim.destination = self.router.destination(session, claim.doc)
            if card.superseded_by:
                successor = session.scalar(
                    select(Card).where(Card.repo == card.repo, Card.sha == card.superseded_by)
                )
                if successor and successor.slack_ts and successor.slack_channel:
                    claim.successor = (successor.id, successor.slack_channel, successor.slack_ts)
                    claim.successor_link = successor.slack_permalink
            claim.notified = set(
                session.scalars(select(Notification.key).where(Notification.card_id == card.id))
            )
            claim.ticket_failures = {
                f"ticket:{row.id}": TicketFailure(
                    ticket=row.ticket, environment=row.environment,
                    what=_ticket_update_name(row.kind, row.transition),
                    error=row.last_error or "refused")
                for row in session.scalars(select(TicketUpdate).where(
                    TicketUpdate.card_id == card.id, TicketUpdate.state == "failed_permanent"))
            }
            return claim

    # --- rendering and sending ----------------------------------------------------------

    def _render(self, claim: Claim) -> SlackMessage:
        card = claim.card
        if card.superseded_by:
            if claim.successor and not claim.successor_link:
                claim.successor_link = self._permalink(*claim.successor)
            return render_superseded(card, new_sha=card.superseded_by,
                                     new_message_link=claim.successor_link)
        if self.extras is None:
            return card_message(card, self.config)
        decorated = self.extras.decorate(card)
        return card_message(decorated.card, self.config, decorated.notes)

    def _permalink(self, card_id: int, channel: str, ts: str) -> str | None:
        try:
            link: str = self.client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"]
        except SlackApiError as exc:
            log.warning("chat.getPermalink failed: %s", exc.response.get("error"))
            return None
        with self.db.write() as session:
            session.execute(update(Card).where(Card.id == card_id).values(slack_permalink=link))
        return link

    def _post(self, claim: Claim, message: SlackMessage) -> None:
        assert claim.destination is not None
        # The ID from the start: a lost post is looked for by channel ID (Slack reads no
        # names there), and pacing knows the channel by the ID Slack's answers carry.
        channel = self.channels.id_of(claim.channel or claim.destination.channel)
        if claim.post_started_at is not None:
            found = self._find_posted(channel, claim)
            if found:
                claim.channel, claim.ts = found
                self._store_ts(claim)
                # What it shows may be stale: bring it up to date now.
                self._update(claim, message)
                return
        wait = self.pacing.blocked_for(channel)
        if wait or not self.pacing.take_post(channel):
            raise Deferred(max(wait, 0.2))
        self._mark_post_started(claim, channel)
        response = self.client.chat_postMessage(
            channel=channel,
            text=message.text,
            blocks=message.blocks,
            unfurl_links=False,
            unfurl_media=False,
            metadata={"event_type": METADATA_EVENT,
                      "event_payload": {"repo": claim.repo, "sha": claim.sha}},
        )
        claim.channel, claim.ts = response["channel"], response["ts"]
        self._store_ts(claim)

    def _update(self, claim: Claim, message: SlackMessage) -> None:
        assert claim.channel and claim.ts
        wait = self.pacing.blocked_for(claim.channel)
        if wait or not self.pacing.take_update(claim.channel, can_wait=_can_wait(claim.card)):
            raise Deferred(max(wait, 0.5))
        self.client.chat_update(channel=claim.channel, ts=claim.ts, text=message.text,
                                blocks=message.blocks)

    def _find_posted(self, channel: str, claim: Claim) -> tuple[str, str] | None:
        """After a crash mid-post: the message, if Slack got it, found by its metadata.
        Raises `SlackApiError` if Slack cannot say now (429, 5xx): posting without
        knowing could post twice, so the card waits and looks again."""
        assert claim.post_started_at is not None
        oldest = claim.post_started_at - timedelta(seconds=60)
        try:
            history = self._history(channel, oldest)
        except SlackApiError as exc:
            if is_transient(exc):
                raise
            # Looking can never succeed here (no scope, no such channel): post.
            log.warning("cannot look for %s@%s's message in %s (%s): posting it",
                        claim.repo, claim.sha[:7], channel, error_code(exc))
            return None
        messages: list[dict[str, Any]] = history.get("messages", [])
        for msg in messages:
            meta = msg.get("metadata") or {}
            payload = meta.get("event_payload") or {}
            if meta.get("event_type") == METADATA_EVENT and payload == {
                "repo": claim.repo, "sha": claim.sha
            }:
                log.info("found %s@%s's message after a restart", claim.repo, claim.sha[:7])
                return history.get("channel") or channel, msg["ts"]
        return None

    def _history(self, channel: str, oldest: datetime) -> SlackResponse:
        def read() -> SlackResponse:
            return self.client.conversations_history(
                channel=channel, oldest=f"{oldest.timestamp():.6f}", limit=200,
                include_all_metadata=True,
            )

        try:
            return read()
        except SlackApiError as exc:
            # chat:write.public posts to a public channel without joining it, but only a
            # member may read the channel: join, then look.
            if error_code(exc) != "not_in_channel" or not CHANNEL_ID.match(channel):
                raise
            self.client.conversations_join(channel=channel)
            return read()

    # --- decision points ----------------------------------------------------------------

    def _notify(self, claim: Claim) -> None:
        card = claim.card
        if card.superseded_by or claim.ts is None or claim.channel is None:
            return
        owed = owed_failure_reply(card, claim.notified)
        if owed is not None:
            mention = self._responsible(card)
            keys = list(owed.keys)
            self._send_once(claim, keys, partial(self._failure_reply, card, owed, mention))
            if mention and claim.destination and claim.destination.route and \
                    claim.destination.route.dm_author_on_failure:
                self._send_once(claim, [notification_key(f"dm:{key}") for key in keys],
                                render_failure_reply(card, mention=None, checks=owed.checks,
                                                     deployments=owed.deployments),
                                channel=mention, in_thread=False)
        for deployment in card.deployments:
            self._notify_requester(claim, deployment)
            if deployment.status is not Status.WAITING:
                continue
            policy = self.config.approval_policy(deployment.environment)
            if _expired(card, deployment, self.config, self.clock()):
                continue  # nobody can decide any more
            key = notification_key(
                f"approval:{deployment.environment}:{iso(deployment.updated_at)}")
            if key in claim.notified:
                continue
            reviewers = deployment.approval.reviewers if deployment.approval else ()
            mentions = [m for m in (self.people.slack_id(login=r) for r in reviewers) if m]
            for principal in policy.approvers if policy else ():
                if principal[:1] in ("U", "W", "S") and principal not in mentions:
                    mentions.append(principal)
            request = render_approval_request(card, environment=deployment.environment,
                                              mentions=mentions)
            self._send_once(claim, [key], request)
        self._notify_ticket_failures(claim)

    def _failure_reply(self, card: CommitCard, owed: FailureReply,
                       mention: str | None) -> SlackMessage:
        """The reply telling `owed`'s failures with the end of their logs: made only when
        it is sure to be sent, as the logs are downloaded then."""
        logs = self.logs.excerpts(card, owed.checks) if self.logs is not None else {}
        return render_failure_reply(card, mention=mention, log_excerpts=logs,
                                    checks=owed.checks, deployments=owed.deployments)

    def _notify_ticket_failures(self, claim: Claim) -> None:
        """Once per failed ticket update; those failing together share one reply."""
        new = {k: f for k, f in claim.ticket_failures.items() if k not in claim.notified}
        if not new:
            return
        links = {str(t.get("key")): t.get("url") for t in claim.card.tickets}
        failures = [
            TicketFailure(f.ticket, f.environment, f.what, f.error, links.get(f.ticket))
            for _, f in sorted(new.items())
        ]
        self._send_once(claim, sorted(new), render_ticket_failure(claim.card, failures))

    def _notify_requester(self, claim: Claim, deployment: DeploymentLine) -> None:
        """The product-owner flow: once per card and environment, a direct message."""
        key = notification_key(f"tryout:{deployment.environment.casefold()}")
        policy = self.config.approval_policy(deployment.environment)
        if policy is None or policy.notify is None or key in claim.notified:
            return
        found = tryout_message(claim.card, deployment, policy, self.people)
        if found is not None:
            user, message = found
            self._send_once(claim, [key], message, channel=user, in_thread=False)

    def _responsible(self, card: CommitCard) -> str | None:
        pr, author = card.pull_request, card.author
        login = (pr.author if pr else None) or (author.login if author else None)
        return self.people.slack_id(login=login, email=author.email if author else None)

    def _send_once(
        self,
        claim: Claim,
        keys: list[str],
        message: SlackMessage | Callable[[], SlackMessage],
        *,
        channel: str | None = None,
        in_thread: bool = True,
    ) -> None:
        """Post a reply once per key: the keys are claimed in the database first."""
        target = channel or claim.channel
        assert target is not None
        if self.reply_once(claim.card_id, target, claim.ts if in_thread else None, keys,
                           message):
            claim.notified.update(keys)

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
                                              state="sending") for k in keys])
        except IntegrityError:
            return False  # another flusher sent it
        try:
            made = message() if callable(message) else message
            response = self.client.chat_postMessage(
                channel=channel, text=made.text, blocks=made.blocks,
                thread_ts=thread_ts, unfurl_links=False,
            )
        except Exception:
            with self.db.write() as session:  # not sent: let the next flush try again
                session.query(Notification).filter(
                    Notification.card_id == card_id, Notification.key.in_(keys)
                ).delete(synchronize_session=False)
            raise
        with self.db.write() as session:
            session.query(Notification).filter(
                Notification.card_id == card_id, Notification.key.in_(keys)
            ).update({"state": "sent", "ts": response["ts"]}, synchronize_session=False)
        return True

    # --- bookkeeping --------------------------------------------------------------------

    def _mark_post_started(self, claim: Claim, channel: str) -> None:
        with self.db.write() as session:
            session.execute(update(Card).where(Card.id == claim.card_id,
                                               Card.claim_token == claim.token)
                            .values(post_started_at=self.clock(), slack_channel=channel))

    def _store_ts(self, claim: Claim) -> None:
        """Record the new message at once: everything after this is an update."""
        now = self.clock()
        with self.db.write() as session:
            session.execute(update(Card).where(Card.id == claim.card_id)
                            .values(slack_channel=claim.channel, slack_ts=claim.ts,
                                    post_started_at=None))
            # Cards this one supersedes can now link to it.
            session.execute(
                update(Card)
                .where(Card.repo == claim.repo, Card.superseded_by == claim.sha,
                       Card.slack_ts.is_not(None))
                .values(dirty=True, dirty_since=now, changed_at=now)
            )

    def _finish(self, claim: Claim, *, render_hash: str | None) -> None:
        with self.db.write() as session:
            card = session.get(Card, claim.card_id, with_for_update=True)
            if card is None or card.claim_token != claim.token:
                log.warning("lost the claim on %s@%s", claim.repo, claim.sha[:7])
                return
            card.render_hash = render_hash
            card.flush_attempts, card.next_flush_at = 0, None
            card.claimed_until, card.claim_token, card.claim_owner = None, None, None
            if card.version == claim.version:  # nothing new arrived meanwhile
                card.dirty, card.dirty_since = False, None
            else:  # what arrived meanwhile is news since the claim, not since before it
                card.dirty_since = claim.claimed_at

    def _release(self, claim: Claim, *, retry_in: float | None, failed: bool) -> None:
        now = self.clock()
        with self.db.write() as session:
            card = session.get(Card, claim.card_id, with_for_update=True)
            if card is None or card.claim_token != claim.token:
                return
            card.render_hash = claim.render_hash
            if failed:
                card.flush_attempts += 1
                backoff = min(self.policy.retry_max,
                              self.policy.retry_base * 2 ** (card.flush_attempts - 1))
                retry_in = backoff * random.uniform(0.8, 1.2)  # noqa: S311 - jitter
            card.next_flush_at = now + timedelta(seconds=retry_in or 0)
            card.claimed_until, card.claim_token, card.claim_owner = None, None, None

    def _on_slack_error(self, claim: Claim, exc: SlackApiError) -> None:
        response = exc.response
        error = error_code(exc)
        if response.status_code == 429:
            retry_after = float(response.headers.get("Retry-After", 1))
            channel = claim.channel or (claim.destination.channel if claim.destination else "")
            self.pacing.block(channel, retry_after)
            log.info("Slack rate-limited %s: retrying in %.0fs", channel, retry_after)
            self._release(claim, retry_in=retry_after, failed=False)
            return
        if error in _GONE and claim.ts:
            log.warning("message of %s@%s is gone (%s): posting it again",
                        claim.repo, claim.sha[:7], error)
            with self.db.write() as session:
                session.execute(update(Card).where(Card.id == claim.card_id)
                                .values(slack_ts=None, slack_channel=None))
            claim.render_hash = None
            self._release(claim, retry_in=0, failed=False)
            return
        if error == "not_in_channel" and claim.destination:
            try:
                channel = self.channels.id_of(claim.channel or claim.destination.channel)
                self.client.conversations_join(channel=channel)
                self._release(claim, retry_in=0, failed=False)
                return
            except SlackApiError as join_error:
                error = f"not_in_channel, and cannot join: {join_error.response.get('error')}"
        log.warning("Slack refused %s@%s: %s (HTTP %s)", claim.repo, claim.sha[:7],
                    error or "no error code", response.status_code)
        self._release(claim, retry_in=None, failed=True)


def _can_wait(card: CommitCard) -> bool:
    """Whether a later update will overtake this one: a card replaced by a newer commit, or
    one with parts still queued or running and nothing failed or waiting for a human."""
    return bool(card.superseded_by) or card.overall in (Status.PENDING, Status.RUNNING)


def _expired(card: CommitCard, deployment: DeploymentLine, config: BotConfig,
             now: datetime) -> bool:
    found = standing(card, deployment, config, now)
    return found is not None and found.state is RequestState.EXPIRED


def _ticket_update_name(kind: str, transition: str | None) -> str:
    if kind == "transition":
        return f"move to “{transition}”"
    if kind.startswith("decision:"):
        return "comment on the decision"
    return "deploy comment"


class OutboxWorker(PollingWorker):
    """Runs `Outbox.flush` in a thread: woken by ingest, and polling for other replicas."""

    def __init__(self, outbox: Outbox, *, poll: float = 0.25) -> None:
        super().__init__(outbox.flush, name="outbox", poll=poll)
        self.outbox = outbox

    def start(self) -> None:
        try:
            self.outbox.release_abandoned_claims()
        except Exception:  # the leases still run out: never keep the outbox from starting
            log.exception("could not look for claims left by a dead flusher")
        super().start()
