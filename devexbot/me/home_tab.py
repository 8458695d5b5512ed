"""Publishing people's Slack Home tabs (`views.publish`): when they open it, when their
preferences change, and when what it shows changed (a pass of the scheduler marks every
open tab wanted; a view that renders the same as last time is not sent again).

Refreshes coalesce per person: wanting a tab twice before it is published is one
publish, and one person's tab is published at most once per `MIN_INTERVAL`. A pass sends
at most `MAX_PER_PASS` (views.publish is tier 4, 100+ a minute), and stops at Slack's
`ratelimited`; what it left stays wanted for the next pass.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import or_, select, update

from correlation.home_blocks import render_home_view
from devexbot.me.facts import HomeFacts
from devexbot.slack.errors import error_code
from devexbot.store import Database
from devexbot.store.home_tabs import HomeTab
from devexbot.store.upsert import insert_for

log = logging.getLogger(__name__)

MIN_INTERVAL = timedelta(seconds=10)  # between two publishes of one person's tab
MAX_PER_PASS = 50


class HomeTabs:
    def __init__(self, db: Database, facts: HomeFacts, client: WebClient, *,
                 clock: Callable[[], datetime]) -> None:
        self._db, self._facts, self._client, self._clock = db, facts, client, clock

    def opened(self, user: str) -> None:
        """`user` opened the bot's Home tab: publish it now (their first look waits for
        no pass)."""
        now = self._clock()
        with self._db.write() as session:
            stmt = insert_for(session, HomeTab).values(slack_user=user, opened_at=now,
                                                       wanted_at=now)
            session.execute(stmt.on_conflict_do_update(
                index_elements=["slack_user"], set_={"opened_at": now, "wanted_at": now}))
        self.publish_due(only=user, fresh=True)

    def want(self, users: Iterable[str]) -> None:
        """What these people's tabs show changed: publish them at the next chance."""
        wanted = sorted(set(users))
        if not wanted:
            return
        with self._db.write() as session:
            session.execute(update(HomeTab).where(HomeTab.slack_user.in_(wanted),
                                                  HomeTab.wanted_at.is_(None))
                            .values(wanted_at=self._clock()))

    def changed(self, user: str) -> None:
        """`user` changed what their tab shows (their preferences): publish it now, as a
        click is answered, whatever the pace of the automatic refreshes."""
        self.want([user])
        self.publish_due(only=user, fresh=True)

    def refresh_all(self, now: datetime) -> str:
        """The scheduler's pass: every open tab is looked at again."""
        with self._db.write() as session:
            session.execute(update(HomeTab).where(HomeTab.wanted_at.is_(None))
                            .values(wanted_at=now))
        published = self.publish_due()
        return f"{published} Home tab(s) published"

    def publish_due(self, *, only: str | None = None, fresh: bool = False) -> int:
        """Publish the wanted tabs whose pace allows (`fresh`: the person just opened it or
        acted on it, so it goes whatever the pace); how many were sent."""
        now = self._clock()
        with self._db.read() as session:
            query = select(HomeTab).where(HomeTab.wanted_at.is_not(None))
            if only is not None:
                query = query.where(HomeTab.slack_user == only)
            if not fresh:
                query = query.where(or_(HomeTab.published_at.is_(None),
                                        HomeTab.published_at <= now - MIN_INTERVAL))
            due = [(t.slack_user, t.fingerprint) for t in session.scalars(
                query.order_by(HomeTab.wanted_at).limit(MAX_PER_PASS))]
        sent = 0
        cards = self._facts.recent_cards(now) if due else []  # read once for the pass
        for user, fingerprint in due:
            view = render_home_view(self._facts.model(user, cards=cards))
            found = hashlib.sha256(json.dumps(view, sort_keys=True).encode()).hexdigest()
            if found != fingerprint or fresh:
                try:
                    self._client.views_publish(user_id=user, view=view)
                except SlackApiError as exc:
                    log.warning("could not publish %s's Home tab: %s", user, error_code(exc))
                    if error_code(exc) == "ratelimited":
                        break  # the rest stay wanted for the next pass
                    continue
                sent += 1
            with self._db.write() as session:
                session.execute(update(HomeTab).where(HomeTab.slack_user == user).values(
                    wanted_at=None, fingerprint=found,
                    published_at=now if found != fingerprint or fresh else HomeTab.published_at))
        return sent
