"""A card's message in a channel whose route posts one message per pull request (`per:
pull_request`): the shell around `correlation.pr_messages.placement`.

It reads the PR's message in the channel (`pr_messages`), asks where the card goes, and
makes the card's `CardPost` say so: the PR's message (its `ts`, updated in place), a
reply in its thread, or the commit's own message. Taking the PR's message over from an
earlier head is a compare-and-set on its row, so two flushers never both show their
card there; the head it replaces is marked dirty, so its final card goes to the thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from correlation.pr_messages import Place, PrMessage, Shown, placement
from correlation.routing import Destination
from devexbot.publish.claims import CardPost, Claim, message_row
from devexbot.publish.pacing import Deferred
from devexbot.store import Card, CardMessage, Database, PullRequestMessage
from devexbot.store.models import utcnow

WAIT = 2.0  # seconds before a card that waits (for its PR's message, or its PR) looks again


@dataclass(frozen=True)
class StoredPrMessage:
    channel: str
    ts: str | None
    head_sha: str
    head_at: datetime | None

    def decided(self) -> PrMessage:
        return PrMessage(self.ts, self.head_sha, self.head_at)


@dataclass
class PrFacts:
    """What the placement needs besides the card: its PR's messages by the channel as
    routes name it, whether an open PR's head is on its branch, and its age."""

    messages: dict[str, StoredPrMessage] = field(default_factory=dict)
    open_pr_on_branch: bool = False
    waited: timedelta = timedelta(0)


class PrPosts:
    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db, self.clock = db, clock

    def facts(self, claim: Claim) -> PrFacts:
        """Read once per claim, and only for a card that a `per: pull_request` route takes."""
        card, pr = claim.card, claim.card.pull_request
        with self.db.read() as session:
            row = session.get(Card, claim.card_id)
            facts = PrFacts(waited=self.clock() - row.created_at if row else timedelta(0))
            if pr is not None:
                facts.messages = {m.route_channel: StoredPrMessage(
                    m.channel, m.ts, m.head_sha, m.head_at) for m in session.scalars(
                        select(PullRequestMessage).where(PullRequestMessage.repo == claim.repo,
                                                         PullRequestMessage.number == pr.number))}
            elif card.branch:
                facts.open_pr_on_branch = _open_pr_on(session, claim.repo, card.branch,
                                                      claim.sha)
        return facts

    def place(self, claim: Claim, facts: PrFacts, found: Destination, posts: list[CardPost],
              channel_id: Callable[[str], str], *,
              leave: Callable[[CardPost], None]) -> Place:
        """Make the card's post for `found` what the placement says (adding it to `posts`
        if new); the placement. `leave` collapses a message of the card's own that it
        leaves for the PR's. Raises `Deferred` when another flusher changed the PR's
        message meanwhile, or Slack's pace says not now."""
        card, route_channel = claim.card, found.channel
        stored = facts.messages.get(route_channel)
        post = next((p for p in posts if p.route_channel == route_channel), None)
        shown = Shown(post.ts, post.thread_ts) if post is not None else None
        decided = placement(card, "pull_request", stored.decided() if stored else None, shown,
                            open_pr_on_branch=facts.open_pr_on_branch, waited=facts.waited)
        if decided.place is Place.HEAD:
            if stored is None and decided.adopt and post is not None and post.ts:
                self._create(claim, route_channel, post.channel, post.ts)
            elif stored is not None and stored.ts is not None:
                if decided.leaves and post is not None:
                    leave(post)  # first: if Slack says not now, nothing has moved yet
                if decided.replaces:
                    if not self._take(claim, route_channel, stored):
                        raise Deferred(0.5)  # another head took it meanwhile: decide again
                    self._touch(claim.repo, decided.replaces)
                if post is None or post.ts != stored.ts or decided.replaces:
                    post = post or _new_post(posts, stored.channel, route_channel)
                    post.channel, post.ts, post.thread_ts = stored.channel, stored.ts, None
                    post.render_hash = post.post_started_at = None  # it shows another card
                    self._save(claim, post)
            elif post is None:
                post = _new_post(posts, channel_id(route_channel), route_channel)
            post.pr_head = True
        elif decided.place is Place.REPLY:
            assert stored is not None and stored.ts is not None
            if post is not None and post.ts == stored.ts:  # it leaves the PR's message
                post.ts = post.render_hash = post.post_started_at = None
                post.thread_ts, post.channel = stored.ts, stored.channel
                self._save(claim, post)
                if stored.head_sha != claim.sha:
                    # It may have shown itself over the head that took the message from
                    # it (another flusher, at the same moment): that head shows again.
                    self._touch(claim.repo, stored.head_sha, forget=route_channel)
            elif post is None:
                post = _new_post(posts, stored.channel, route_channel)
                post.thread_ts = stored.ts
        return decided.place

    # --- the PR's message's row ---------------------------------------------------------

    def start_post(self, claim: Claim, post: CardPost) -> None:
        """The PR's message is about to be posted with this card: other heads wait for it.
        Raises `Deferred` when another card of the PR made it since the placement."""
        stored = self._stored(claim, post)
        if stored is None:
            self._create(claim, post.route_channel or post.channel, post.channel, None)
        elif stored.ts is not None or stored.head_sha != claim.sha:
            raise Deferred(0.5)  # not this card's to post (any more): decide again

    def store_ts(self, claim: Claim, post: CardPost) -> None:
        """The PR's message is posted: record it, and let the PR's other cards (earlier
        heads, the merge commit) go to its thread."""
        with self.db.write() as session:
            session.execute(update(PullRequestMessage).where(*self._key(claim, post))
                            .values(ts=post.ts, channel=post.channel))
            self._touch_others(session, claim)

    def forget(self, claim: Claim, post: CardPost) -> None:
        """Slack lost the PR's message: the next head to flush posts it anew."""
        with self.db.write() as session:
            session.query(PullRequestMessage).filter(*self._key(claim, post)).delete(
                synchronize_session=False)

    def _stored(self, claim: Claim, post: CardPost) -> PullRequestMessage | None:
        with self.db.read() as session:
            return session.scalar(select(PullRequestMessage).where(*self._key(claim, post)))

    @staticmethod
    def _key(claim: Claim, post: CardPost) -> tuple[Any, ...]:
        pr = claim.card.pull_request
        assert pr is not None
        return (PullRequestMessage.repo == claim.repo, PullRequestMessage.number == pr.number,
                PullRequestMessage.route_channel == (post.route_channel or post.channel))

    def _create(self, claim: Claim, route_channel: str, channel: str, ts: str | None) -> None:
        pr = claim.card.pull_request
        assert pr is not None
        try:
            with self.db.write() as session:
                session.add(PullRequestMessage(
                    repo=claim.repo, number=pr.number, route_channel=route_channel,
                    channel=channel, ts=ts, head_sha=claim.sha, head_at=pr.at))
                if ts is not None:  # a message adopted: the others can reply to it now
                    session.flush()
                    self._touch_others(session, claim)
        except IntegrityError:
            raise Deferred(0.5) from None  # another head of the PR made it: decide again

    def _touch_others(self, session: Session, claim: Claim) -> None:
        """The PR's other cards (earlier heads, the merge commit) look again: their place
        is in the PR's message's thread now."""
        pr = claim.card.pull_request
        assert pr is not None
        others = session.scalars(select(Card.sha).where(
            Card.repo == claim.repo, Card.pr_number == pr.number, Card.sha != claim.sha))
        for sha in sorted(others):  # in the order ingest locks cards
            _touch(session, claim.repo, sha, self.clock())

    def _take(self, claim: Claim, route_channel: str, stored: StoredPrMessage) -> bool:
        """Show this card in the PR's message, unless another flusher changed its head
        since it was read."""
        pr = claim.card.pull_request
        assert pr is not None
        with self.db.write() as session:
            taken = session.query(PullRequestMessage).filter(
                PullRequestMessage.repo == claim.repo, PullRequestMessage.number == pr.number,
                PullRequestMessage.route_channel == route_channel,
                PullRequestMessage.head_sha == stored.head_sha,
            ).update({"head_sha": claim.sha, "head_at": pr.at}, synchronize_session=False)
        return bool(taken)

    def _save(self, claim: Claim, post: CardPost) -> None:
        """Record where the card's post is now (it moved into or out of the PR's message)."""
        values: dict[Any, Any] = {"ts": post.ts, "thread_ts": post.thread_ts,
                                  "channel": post.channel, "render_hash": None,
                                  "post_started_at": None}
        with self.db.write() as session:
            if post.on_card:
                session.execute(update(Card).where(Card.id == claim.card_id).values(
                    slack_ts=post.ts, slack_thread_ts=post.thread_ts,
                    slack_channel=post.channel, slack_route_channel=post.route_channel,
                    render_hash=None, post_started_at=None, slack_permalink=None))
            elif not session.query(CardMessage).filter(*message_row(claim, post)).update(
                    values, synchronize_session=False):
                session.add(CardMessage(card_id=claim.card_id,
                                        route_channel=post.route_channel or post.channel,
                                        **values))
        post.stored = not post.on_card

    def _touch(self, repo: str, sha: str, *, forget: str | None = None) -> None:
        with self.db.write() as session:
            _touch(session, repo, sha, self.clock(), forget=forget)


def _touch(session: Session, repo: str, sha: str, now: datetime, *,
           forget: str | None = None) -> None:
    """Mark a card dirty, as news would (its version moves, so a flush holding it now
    does not clear the mark); `forget`: what its message in that channel shows."""
    card = session.scalar(select(Card).where(Card.repo == repo, Card.sha == sha)
                          .with_for_update())
    if card is None:
        return
    card.version = (card.version or 0) + 1
    card.changed_at = now
    if not card.dirty:
        card.dirty, card.dirty_since = True, now
    if forget is not None:
        if card.slack_route_channel == forget:
            card.render_hash = None
        session.execute(update(CardMessage).where(
            CardMessage.card_id == card.id, CardMessage.route_channel == forget)
            .values(render_hash=None))


def _new_post(posts: list[CardPost], channel: str, route_channel: str) -> CardPost:
    post = CardPost(channel=channel, route_channel=route_channel,
                    on_card=not any(p.on_card for p in posts))
    posts.append(post)
    return post


def _open_pr_on(session: Session, repo: str, branch: str, sha: str) -> bool:
    """Whether an open PR's head commit (another card) is on `branch`."""
    for doc in session.scalars(select(Card.doc).where(
            Card.repo == repo, Card.branch == branch, Card.sha != sha,
            Card.pr_number.is_not(None), Card.superseded_by.is_(None))
            .order_by(Card.updated_at.desc()).limit(3)):
        pull = (doc or {}).get("pull_request") or {}
        if pull.get("state") == "open":
            return True
    return False
