"""What people's own preferences add to a card's replies: the direct message to a pull
request's author when it is approved or changes are requested (`dm-reviews`), and holding
a direct message for the digest while the person's quiet hours last."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.exc import IntegrityError

from correlation.blocks import SlackMessage
from correlation.card import CommitCard
from correlation.prefs import Prefs
from correlation.recipients import Notice, NoticeKind, who_hears
from correlation.review_dms import owed_review_dms
from devexbot.slack.people import People
from devexbot.store import Database, Notification
from devexbot.store.models import utcnow
from devexbot.store.prefs import HeldDm


class PersonPrefs(Protocol):
    """People's preferences (`devexbot.store.prefs.PrefsStore`)."""

    def get_many(self, users: Iterable[str]) -> dict[str, Prefs]: ...


class NoPrefs:
    """Nobody chose anything: everyone hears as the routes say."""

    def get_many(self, users: Iterable[str]) -> dict[str, Prefs]:
        return {}


@dataclass(frozen=True)
class PersonalDm:
    """A direct message to `user`; None: nobody asked for it, and the review is recorded
    as told all the same, so that turning `dm-reviews` on later brings no old news."""

    key: str
    message: SlackMessage
    user: str | None
    held: bool = False  # quiet hours: for the digest


class ReviewDms:
    """The review direct messages a card owes its pull request's author."""

    def __init__(self, people: People, prefs: PersonPrefs) -> None:
        self._people, self._prefs = people, prefs

    def owed(self, card: CommitCard, sent: Collection[str], now: datetime) -> list[PersonalDm]:
        pr = card.pull_request
        author = self._people.slack_id(login=pr.author) if pr and pr.author else None
        if author is None:
            return []
        owed = owed_review_dms(card, sent, now)
        if not owed:
            return []
        reviewers = {r.login: self._people.slack_id(login=r.login) for r in owed}
        prefs = self._prefs.get_many([author, *(r for r in reviewers.values() if r)])
        dms = []
        for review in owed:
            notice = Notice(NoticeKind.REVIEW, about=author, actor=reviewers[review.login])
            heard = who_hears(notice, prefs, now)
            dms += [PersonalDm(review.key, review.message, user, held)
                    for user, held in heard.direct()] or [
                PersonalDm(review.key, review.message, None)]
        return dms


def hold_once(db: Database, card_id: int, user: str | None, keys: list[str],
              message: SlackMessage | Callable[[], SlackMessage]) -> bool:
    """Keep a direct message for `user`'s quiet-hours digest, once per card and keys
    (`user` None: only record the keys, nobody is told); True if this call did."""
    try:
        with db.write() as session:
            session.add_all([Notification(card_id=card_id, key=k, channel=user,
                                          state="held" if user else "unheard")
                             for k in keys])
            if user:
                made = message() if callable(message) else message
                session.add(HeldDm(slack_user=user, text=made.text, held_at=utcnow()))
    except IntegrityError:
        return False  # another flusher kept it
    return True
