"""Publishing people's Slack Home tabs (`views.publish`): when they open it, when their
preferences change, and when what it shows changed: news taken in by this process wakes
`HomeTabWorker`, which looks at every open tab again within seconds, and the scheduler's
pass does the same each minute for what changes with time or on another replica. A view
that renders the same as last time is not sent again.

Refreshes coalesce per person: wanting a tab twice before it is published is one
publish, and one person's tab is published at most once per `MIN_INTERVAL`. This process
sends at most `MAX_PER_MINUTE` (views.publish is tier 4, 100+ a minute) and, on Slack's
`ratelimited`, nothing until its `Retry-After` has passed; what is left stays wanted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import or_, select, update

from correlation.home_blocks import render_home_view
from devexbot.me.facts import HomeFacts
from devexbot.polling import PollingWorker
from devexbot.slack.errors import error_code
from devexbot.store import Database
from devexbot.store.home_tabs import HomeTab
from devexbot.store.upsert import insert_for

log = logging.getLogger(__name__)

MIN_INTERVAL = timedelta(seconds=10)  # between two publishes of one person's tab
MAX_PER_PASS = 50
MAX_PER_MINUTE = 100  # views.publish, tier 4
RATE_LIMITED_PAUSE = 30.0  # seconds, when Slack's `ratelimited` names no Retry-After


class HomeTabs:
    def __init__(self, db: Database, facts: HomeFacts, client: WebClient, *,
                 clock: Callable[[], datetime]) -> None:
        self._db, self._facts, self._client, self._clock = db, facts, client, clock
        self._sent: deque[datetime] = deque()  # this process's publishes in the last minute
        self._paused_until: datetime | None = None  # Slack said `ratelimited`
        self._lock = threading.Lock()  # the worker, the pass and clicks publish

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
        self.want_all(now)
        published = self.publish_due()
        return f"{published} Home tab(s) published"

    def want_all(self, now: datetime) -> None:
        """Something any tab may show changed: every open tab is wanted."""
        with self._db.write() as session:
            session.execute(update(HomeTab).where(HomeTab.wanted_at.is_(None))
                            .values(wanted_at=now))

    def next_due(self) -> datetime | None:
        """When a wanted tab may next be published (None: none is wanted)."""
        with self._db.read() as session:
            rows = session.execute(select(HomeTab.wanted_at, HomeTab.published_at)
                                   .where(HomeTab.wanted_at.is_not(None))).all()
        moments = [max(wanted, published + MIN_INTERVAL) if published else wanted
                   for wanted, published in rows if wanted is not None]
        if moments and self._paused_until is not None:
            moments = [max(m, self._paused_until) for m in moments]
        return min(moments) if moments else None

    def publish_due(self, *, only: str | None = None, fresh: bool = False) -> int:
        """Publish the wanted tabs whose pace allows (`fresh`: the person just opened it or
        acted on it, so it goes whatever the pace); how many were sent."""
        with self._lock:
            return self._publish_due(only, fresh)

    def _publish_due(self, only: str | None, fresh: bool) -> int:
        now = self._clock()
        while self._sent and self._sent[0] <= now - timedelta(minutes=1):
            self._sent.popleft()
        if self._paused_until is not None and now < self._paused_until:
            return 0
        room = min(MAX_PER_PASS, MAX_PER_MINUTE - len(self._sent))
        if room <= 0:
            return 0
        with self._db.read() as session:
            query = select(HomeTab).where(HomeTab.wanted_at.is_not(None))
            if only is not None:
                query = query.where(HomeTab.slack_user == only)
            if not fresh:
                query = query.where(or_(HomeTab.published_at.is_(None),
                                        HomeTab.published_at <= now - MIN_INTERVAL))
            due = [(t.slack_user, t.fingerprint) for t in session.scalars(
                query.order_by(HomeTab.wanted_at).limit(room))]
        sent = 0
        cards = self._facts.recent_cards(now) if due else []  # read once for the pass
        for user, fingerprint in due:
            view = render_home_view(self._facts.model(user, cards=cards))
            found = hashlib.sha256(json.dumps(view, sort_keys=True).encode()).hexdigest()
            publish = found != fingerprint or fresh
            if publish:
                try:
                    self._client.views_publish(user_id=user, view=view)
                except SlackApiError as exc:
                    log.warning("could not publish %s's Home tab: %s", user, error_code(exc))
                    if error_code(exc) == "ratelimited":
                        self._paused_until = now + timedelta(seconds=_retry_after(exc))
                        break  # the rest stay wanted until Slack allows
                    continue
                self._sent.append(now)
                sent += 1
            with self._db.write() as session:
                session.execute(update(HomeTab).where(HomeTab.slack_user == user).values(
                    wanted_at=None, fingerprint=found,
                    published_at=now if publish else HomeTab.published_at))
        return sent


def _retry_after(exc: SlackApiError) -> float:
    try:
        return max(1.0, float(exc.response.headers.get("Retry-After", RATE_LIMITED_PAUSE)))
    except (TypeError, ValueError):
        return RATE_LIMITED_PAUSE


class HomeTabWorker(PollingWorker):
    """Refreshes the open Home tabs in a thread: woken by the news this process takes in
    (every open tab is then wanted), and polling for the tabs the pace held back."""

    def __init__(self, home_tabs: HomeTabs, *, poll: float = MIN_INTERVAL.total_seconds() / 2,
                 clock: Callable[[], datetime]) -> None:
        super().__init__(self.run_once, name="home-tabs", poll=poll)
        self.home_tabs, self._clock = home_tabs, clock
        self._news = threading.Event()

    def wake(self) -> None:
        self._news.set()
        super().wake()

    def run_once(self) -> int:
        """Want every open tab if news came since the last run, then publish what is due;
        how many were sent."""
        if self._news.is_set():
            self._news.clear()
            self.home_tabs.want_all(self._clock())
        return self.home_tabs.publish_due()
