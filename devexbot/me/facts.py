"""The facts the Home tab and the `/me` page are built from: the recent cards, the
person's GitHub login and preferences, the environments they may approve; the decision of
what to show is `correlation.home.home_model`'s."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select

from correlation.card import CommitCard
from correlation.home import HomeModel, Me, home_model
from correlation.policies import Policies
from correlation.status import Status
from devexbot.config import BotConfig
from devexbot.slack.authz import Authorizer
from devexbot.slack.people import People
from devexbot.store import Card, Database
from devexbot.store.cards import CardLoader
from devexbot.store.prefs import PrefsStore

LOOKBACK = timedelta(days=14)  # cards older than this are not "mine" any more
MAX_CARDS = 500  # the newest cards looked at


class HomeFacts:
    """Builds a person's `HomeModel` from the database as it stands."""

    def __init__(self, db: Database, card_loader: CardLoader, config: BotConfig,
                 policies: Policies, people: People, authorizer: Authorizer,
                 prefs: PrefsStore, *, clock: Callable[[], datetime]) -> None:
        self._db, self._loader, self._config, self._policies = db, card_loader, config, policies
        self._people, self._authorizer, self._prefs = people, authorizer, prefs
        self._clock = clock

    def model(self, user: str, *, name: str | None = None,
              cards: list[CommitCard] | None = None) -> HomeModel:
        """`user`'s model; `cards`: the recent cards, when the caller read them already
        (a pass over many people's tabs reads and folds them once)."""
        now = self._clock()
        cards = cards if cards is not None else self.recent_cards(now)
        me = Me(user, self._people.github_login(user), name)
        approver_of = self._approver_of(user, cards)
        own = [env for env in approver_of
               if (policy := self._config.approval_policy(env)) and policy.authors_may_approve]
        return home_model(me, cards, policies=self._policies, prefs=self._prefs.get(user),
                          approver_of=approver_of, own_approvable=own, now=now)

    def recent_cards(self, now: datetime) -> list[CommitCard]:
        with self._db.read() as session:
            rows = session.scalars(
                select(Card).where(Card.updated_at >= now - LOOKBACK)
                .order_by(Card.updated_at.desc(), Card.id.desc()).limit(MAX_CARDS))
            return [self._loader.load(row) for row in rows if row.doc]

    def _approver_of(self, user: str, cards: list[CommitCard]) -> frozenset[str]:
        """The environments some card waits in whose approval policy lists `user`."""
        waiting = {d.environment for card in cards for d in card.deployments
                   if d.status is Status.WAITING}
        mine = set()
        for env in waiting:
            policy = self._config.approval_policy(env)
            if policy is not None and self._authorizer.allows(user, policy.approvers):
                mine.add(env)
        return frozenset(mine)
