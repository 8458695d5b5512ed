""""Me" assembled for the composition root: preferences, the Home tab, the `/devex me`
commands and the quiet-hours digest."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC

from apscheduler.triggers.interval import IntervalTrigger
from slack_sdk import WebClient

from correlation.policies import Policies
from devexbot.actions.audit import AuditLog
from devexbot.clock import Clock
from devexbot.config import BotConfig
from devexbot.me.changes import PrefChanges
from devexbot.me.digest import QuietDigest
from devexbot.me.facts import HomeFacts
from devexbot.me.home_tab import HomeTabs, HomeTabWorker
from devexbot.scheduler.service import JobSpec
from devexbot.slack.authz import Authorizer
from devexbot.slack.people import People
from devexbot.slack.time_zones import TimeZones
from devexbot.store import Database
from devexbot.store.cards import CardLoader
from devexbot.store.prefs import PrefsStore
from handlers.slack.me import MeCommands


@dataclass(frozen=True)
class MeParts:
    prefs: PrefsStore
    facts: HomeFacts  # what the Home tab and the web's /me page show
    changes: PrefChanges  # a person changing their own preferences (Slack, the web)
    commands: MeCommands | None = None  # `/devex me` and the Home tab's listeners (Slack on)
    home_tabs: HomeTabs | None = None
    worker: HomeTabWorker | None = None  # refreshes the open tabs on this process's news
    jobs: tuple[JobSpec, ...] = field(default_factory=tuple)  # the digest, the tabs' pass


def build_me(db: Database, card_loader: CardLoader, config: BotConfig, policies: Policies,
             people: People, authorizer: Authorizer, audit: AuditLog,
             client: WebClient | None, *, clock: Clock) -> MeParts:
    prefs = PrefsStore(db, clock=clock.now)
    facts = HomeFacts(db, card_loader, config, policies, people, authorizer, prefs,
                      clock=clock.now)
    if client is None:
        return MeParts(prefs, facts, PrefChanges(prefs, audit, zones=None, home=None))
    home_tabs = HomeTabs(db, facts, client, clock=clock.now)
    changes = PrefChanges(prefs, audit, zones=TimeZones(client), home=home_tabs)
    every_minute = IntervalTrigger(minutes=1, timezone=UTC)
    jobs = (
        JobSpec("quiet-digest", every_minute, QuietDigest(prefs, client).run,
                "send what quiet hours held, as one DM, once they end"),
        JobSpec("home-tabs", every_minute, home_tabs.refresh_all,
                "publish the Home tabs whose contents changed"),
    )
    return MeParts(prefs, facts, changes, MeCommands(changes, home_tabs), home_tabs,
                   HomeTabWorker(home_tabs, clock=clock.now), jobs)
