"""The outbox: dirty cards become Slack messages that keep themselves current.

Each card goes claim → plan → send → finish: `claims` takes a due card for this flusher,
the card's messages and the replies it owes are planned from what the claim read, Slack
gets them (the first post, or an update of the same `ts`, in each channel the card's
routes take it to), and the claim is handed back, all outside any database transaction.
The dirty mark lives in the database, so a crash leaves the card dirty to converge after a
restart; a post or reply that may have reached Slack is found by its metadata
(`lost_posts`, `lost_replies`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from correlation.blocks import SlackMessage, card_fingerprint, render_card, render_superseded
from correlation.button_blocks import button_elements
from correlation.buttons import card_buttons
from correlation.card import CommitCard
from correlation.merge_methods import RepoMergeSettings
from correlation.policies import Policies
from correlation.pr_messages import Place, render_moved
from correlation.routing import Destination
from correlation.status import Status
from devexbot.config import BotConfig
from devexbot.errors import in_words, one_line
from devexbot.logs.context import on_card
from devexbot.lookups.log_records import LogSources
from devexbot.polling import PollingWorker
from devexbot.publish.card_extras import CardExtras
from devexbot.publish.channels import ChannelDirectory
from devexbot.publish.claims import CardClaims, CardPost, Claim, OutboxPolicy
from devexbot.publish.lost_posts import LostPosts, card_metadata
from devexbot.publish.pacing import Deferred, Pacing
from devexbot.publish.personal import PersonPrefs
from devexbot.publish.pr_posts import WAIT, PrFacts, PrPosts
from devexbot.publish.replies import ReplyPlanner, ReplySender
from devexbot.publish.routing import CardRouter
from devexbot.slack.errors import error_code
from devexbot.slack.people import People
from devexbot.store import Database
from devexbot.store.cards import CardLoader
from devexbot.store.models import utcnow
from devexbot.tracing import NULL_TRACER, Tracer

__all__ = ["Deferred", "Outbox", "OutboxPolicy", "OutboxWorker", "card_message"]

log = logging.getLogger(__name__)

_GONE = {"message_not_found", "cant_update_message", "edit_window_closed"}
LOOKUP_RETRY = 5.0  # seconds before a channel Slack failed to look up is looked up again
TRACED_CAUSES = 32  # deliveries a card's publishing span links to, at most


def card_message(card: CommitCard, policies: Policies, extra_notes: Sequence[str] = (),
                 merge_settings: RepoMergeSettings | None = None) -> SlackMessage:
    """A card's Slack message: its render, its stamps and the buttons it offers now;
    `extra_notes` (what a waiting deploy carries) come last, so they never crowd out a
    stamp or a button's reason in the notes' share of the message. `merge_settings`: what
    the repository allows merging by, as last read."""
    buttons = card_buttons(card, policies, utcnow(), merge_settings)
    notes = [*(stamp.text for stamp in card.stamps), *buttons.notes, *extra_notes]
    return render_card(card, actions=button_elements(buttons.elements), notes=notes)


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
        policy: OutboxPolicy | None = None,
        card_loader: CardLoader,
        config: BotConfig | None = None,
        policies: Policies | None = None,
        logs: LogSources | None = None,
        extras: CardExtras,
        clock: Callable[[], datetime] = utcnow,
        tracer: Tracer = NULL_TRACER,
        prefs: PersonPrefs | None = None,
    ) -> None:
        self.client = client
        self.tracer = tracer
        self.extras = extras
        self.config = config or BotConfig()
        self.policies = policies or self.config.policies()
        self.pacing = pacing or Pacing()
        self.channels = channels or ChannelDirectory(client)
        self.clock = clock
        self.claims = CardClaims(db, router, card_loader, policy=policy or OutboxPolicy(),
                                 clock=clock, causes=TRACED_CAUSES if tracer.enabled else 0)
        self.planner = ReplyPlanner(self.config, self.policies, people,
                                    logs or LogSources(jenkins=False, github=False),
                                    prefs=prefs)
        self.sender = ReplySender(db, client, self.pacing, clock=clock)
        self.lost_posts = LostPosts(client, self.pacing)
        self.pr_posts = PrPosts(db, clock)

    def release_abandoned_claims(self) -> int:
        """Free the claims of flushers on this host that died holding them."""
        return self.claims.release_abandoned()

    def reply_once(self, card_id: int, channel: str, thread_ts: str | None, keys: list[str],
                   message: SlackMessage | Callable[[], SlackMessage]) -> bool:
        """Post `message` once per card and keys, within the channel's pace (see
        `ReplySender.reply_once`)."""
        return self.sender.reply_once(card_id, channel, thread_ts, keys, message)

    # --- the loop -----------------------------------------------------------------------

    def flush(self, *, limit: int = 500) -> int:
        """Work every due card once; returns how many were claimed."""
        done = 0
        while done < limit:
            claim = self.claims.next()
            if claim is None:
                break
            done += 1
            with on_card(claim.repo, claim.sha):
                self._work(claim)
        return done

    def _work(self, claim: Claim) -> None:
        # In the trace of the first delivery Slack does not show yet (maybe stored by
        # another replica), linked to the others: one delivery, one trace, to Slack.
        causes = claim.causes
        with self.tracer.span("publish card", parent=causes[0] if causes else None,
                              links=causes[1:], attributes={
                                  "devexbot.card": f"{claim.repo}@{claim.sha}",
                                  "devexbot.card.version": claim.version,
                                  "devexbot.deliveries": len(causes)}):
            self._publish(claim)

    def _publish(self, claim: Claim) -> None:
        try:
            # No messages: no route takes it, or a newer head replaced it before anyone saw it.
            posts, wait = self._posts(claim)
            if posts:
                failed, deferred = self._send_all(claim, posts)
                wait = _sooner(wait, deferred)
                self.sender.settle_unsure(claim)
                plan = self.planner.owed(claim, self.clock())
                for reply in plan.replies:
                    self.sender.send(claim, reply)
                if failed:
                    self._release(claim, retry_in=None, failed=True)
                    return
                if plan.again_at is not None:  # a reply waits for the lookups: still dirty
                    wait = _sooner(wait, max((plan.again_at - self.clock()).total_seconds(), 0))
            if wait is not None:
                self._release(claim, retry_in=wait, failed=False)
                return
            self.claims.finish(claim)
        except Deferred as deferred:
            self.claims.release(claim, retry_in=deferred.seconds, failed=False)
        except SlackApiError as exc:
            retry_in = self._on_slack_error(claim, None, exc)
            self._release(claim, retry_in=retry_in, failed=retry_in is None)
        except OSError as exc:  # Slack unreachable, or the answer cut off: said in one line
            claim.failures.append(f"Slack is unreachable ({one_line(exc)})")
            self._release(claim, retry_in=None, failed=True)
        except Exception:
            log.exception("flushing card %s@%s failed", claim.repo, claim.sha[:7])
            self.claims.release(claim, retry_in=None, failed=True)

    def _release(self, claim: Claim, *, retry_in: float | None, failed: bool) -> None:
        """Hand the card back; what went wrong, if anything, is said in one line."""
        delay = self.claims.release(claim, retry_in=retry_in, failed=failed)
        if claim.failures:
            log.warning("card %s@%s: %s; trying again in %s", claim.repo, claim.sha[:7],
                        "; ".join(dict.fromkeys(claim.failures)), in_words(delay))

    def _send_all(self, claim: Claim, posts: list[CardPost]) -> tuple[bool, float | None]:
        """Bring each message up to the card's render, each within its channel's limits:
        whether one failed, and how soon to try again those Slack said not now."""
        # A superseded card links to the newer head's message in the same channel.
        shared = None if claim.card.superseded_by else self._render(claim, None)
        failed, wait = False, None
        for post in list(posts):  # a message Slack lost leaves the list
            try:
                message = shared or self._render(claim, post)
                self._send(claim, post, message, card_fingerprint(message))
            except Deferred as deferred:
                wait = _sooner(wait, deferred.seconds)
            except SlackApiError as exc:
                retry_in = self._on_slack_error(claim, post, exc)
                failed = failed or retry_in is None
                wait = _sooner(wait, retry_in)
        return failed, wait

    def _posts(self, claim: Claim) -> tuple[list[CardPost], float | None]:
        """The card's messages to keep current: those it has, and one for each channel its
        routes take it to that has none yet (by the channel as the route names it, or by its
        ID); and how soon to look again for a channel Slack could not look up now."""
        posts = claim.posts
        wait: float | None = None
        facts: PrFacts | None = None
        for found in claim.destinations:
            try:
                if found.route is not None and found.route.per == "pull_request":
                    facts = facts or self.pr_posts.facts(claim)
                    if self._per_pull_request(claim, facts, found, posts):
                        continue
            except Deferred as deferred:
                wait = _sooner(wait, deferred.seconds)
                continue
            except SlackApiError as exc:
                retry_in = self._on_slack_error(claim, None, exc, channel=found.channel)
                wait = _sooner(wait, LOOKUP_RETRY if retry_in is None else retry_in)
                continue
            if claim.card.superseded_by or any(p.route_channel == found.channel
                                               for p in posts):
                continue  # a newer head replaced it before it was seen there; or it is there
            own = next((p for p in posts if p.on_card), None)
            if own is not None and own.route_channel is None and found is claim.destination:
                continue  # posted before cards had several messages: it is the first route's
            try:
                # The ID from the start: a lost post is looked for by channel ID (Slack
                # reads no names there), and pacing knows the channel by the ID Slack's
                # answers carry.
                channel = self.channels.id_of(found.channel)
            except SlackApiError as exc:
                retry_in = self._on_slack_error(claim, None, exc, channel=found.channel)
                wait = _sooner(wait, LOOKUP_RETRY if retry_in is None else retry_in)
                continue
            if any(p.channel == channel for p in posts):
                continue  # there already, the channel named another way
            posts.append(CardPost(channel=channel, route_channel=found.channel,
                                  on_card=own is None))
        return posts, wait

    def _per_pull_request(self, claim: Claim, facts: PrFacts, found: Destination,
                          posts: list[CardPost]) -> bool:
        """Place the card in a channel that wants one message per PR (`pr_posts`): False
        if it is posted there as a commit."""
        def leave(post: CardPost) -> None:
            self._update(post, render_moved(claim.card), can_wait=False)

        place = self.pr_posts.place(claim, facts, found, posts, self.channels.id_of, leave=leave)
        if place is Place.WAIT:
            raise Deferred(WAIT)
        return place is not Place.COMMIT

    def _send(self, claim: Claim, post: CardPost, message: SlackMessage,
              fingerprint: str) -> None:
        """Bring one message up to `message`: post it, or update it if it shows less."""
        if post.ts is None:
            self._post(claim, post, message)
        elif fingerprint != post.render_hash:
            self._update(post, message, can_wait=_can_wait(claim.card))
        post.render_hash = fingerprint  # Slack shows this render now

    # --- rendering and sending ----------------------------------------------------------

    def _render(self, claim: Claim, post: CardPost | None) -> SlackMessage:
        """The card's message (for `post`, if it is superseded: the link differs by
        channel)."""
        card = claim.card
        if card.superseded_by and post is not None and post.thread_ts:
            # In its PR's thread, the final card stays whole: that is the history.
            return self._full(card, (f"Superseded by `{card.superseded_by[:7]}`.",))
        if card.superseded_by:
            there = claim.successors.get(post.route_channel or post.channel) \
                if post is not None and not post.on_card else None
            if there is not None:
                link = self._permalink(*there)
            else:
                if claim.successor and not claim.successor_link:
                    successor_id, channel, ts = claim.successor
                    claim.successor_link = self._permalink(channel, ts)
                    if claim.successor_link:
                        self.claims.store_permalink(successor_id, claim.successor_link)
                link = claim.successor_link
            return render_superseded(card, new_sha=card.superseded_by, new_message_link=link)
        return self._full(card)

    def _full(self, card: CommitCard, notes: Sequence[str] = ()) -> SlackMessage:
        decorated = self.extras.decorate(card)
        return card_message(decorated.card, self.policies, [*decorated.notes, *notes],
                            decorated.merge_settings)

    def _permalink(self, channel: str, ts: str) -> str | None:
        try:
            link: str = self.client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"]
        except SlackApiError as exc:
            log.warning("chat.getPermalink failed: %s", exc.response.get("error"))
            return None
        return link

    def _post(self, claim: Claim, post: CardPost, message: SlackMessage) -> None:
        # A post whose answer was lost may be in Slack: it is looked for once, when the
        # channel could take the post straight after, so waiting for a slot never
        # repeats the look (a reply in a thread, there).
        lost = post.post_started_at
        if not self.pacing.take_post(post.channel, look_first=lost is not None):
            raise Deferred(max(self.pacing.post_wait(post.channel,
                                                     look_first=lost is not None), 0.2))
        if lost is not None:
            ts = self.lost_posts.find((claim.card_id, post.route_channel or post.channel),
                                      post.channel, claim.repo, claim.sha, lost,
                                      thread_ts=post.thread_ts)
            if ts is not None:
                post.ts = ts
                self.claims.store_ts(claim, post)
                if post.pr_head:
                    self.pr_posts.store_ts(claim, post)
                # What it shows may be stale: bring it up to date now.
                self._update(post, message, can_wait=_can_wait(claim.card))
                return
        if post.pr_head:
            self.pr_posts.start_post(claim, post)
        self.claims.mark_post_started(claim, post)
        response = self.client.chat_postMessage(
            channel=post.channel,
            text=message.text,
            blocks=message.blocks,
            thread_ts=post.thread_ts,
            unfurl_links=False,
            unfurl_media=False,
            metadata=card_metadata(claim.repo, claim.sha),
        )
        post.channel, post.ts = response["channel"], response["ts"]
        self.claims.store_ts(claim, post)
        if post.pr_head:
            self.pr_posts.store_ts(claim, post)

    def _update(self, post: CardPost, message: SlackMessage, *, can_wait: bool) -> None:
        assert post.ts
        wait = self.pacing.blocked_for(post.channel)
        if wait or not self.pacing.take_update(post.channel, can_wait=can_wait):
            raise Deferred(max(wait, 0.5))
        self.client.chat_update(channel=post.channel, ts=post.ts, text=message.text,
                                blocks=message.blocks)

    def _on_slack_error(self, claim: Claim, post: CardPost | None, exc: SlackApiError, *,
                        channel: str | None = None) -> float | None:
        """What Slack's refusal of one message (or of looking up a channel) means: seconds
        to wait before trying again, or None: failed, to back off."""
        response = exc.response
        error = error_code(exc)
        channel = post.channel if post is not None else channel
        if response.status_code == 429:
            retry_after = float(response.headers.get("Retry-After", 1))
            if channel:
                self.pacing.block(channel, retry_after)
            log.info("Slack rate-limited %s: retrying in %.0fs", channel or "us", retry_after)
            return retry_after
        if post is not None and error in _GONE and post.ts:
            log.warning("message of %s@%s in %s is gone (%s): posting it again",
                        claim.repo, claim.sha[:7], post.channel, error)
            self.claims.forget_message(claim, post)
            if post.pr_head:
                self.pr_posts.forget(claim, post)
            return 0.0
        if post is not None and error == "not_in_channel":
            try:
                self.client.conversations_join(channel=post.channel)
                return 0.0
            except SlackApiError as join_error:
                error = f"not_in_channel, and cannot join: {join_error.response.get('error')}"
        claim.failures.append(f"Slack refused it in {channel or 'a channel lookup'}: "
                              f"{error or 'no error code'} (HTTP {response.status_code})")
        return None


def _sooner(wait: float | None, other: float | None) -> float | None:
    """The sooner of two waits, either of which may be none."""
    if wait is None or other is None:
        return other if wait is None else wait
    return min(wait, other)


def _can_wait(card: CommitCard) -> bool:
    """Whether a later update will overtake this one: a card replaced by a newer commit, or
    one with parts still queued or running and nothing failed or waiting for a human."""
    return bool(card.superseded_by) or card.overall in (Status.PENDING, Status.RUNNING)


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
