"""A person changing their own notification preferences, wherever they do it (`/devex me`,
the Home tab's buttons, the web's `/me` page): stored, audited, and their Home tab
published again at once."""

from __future__ import annotations

from correlation.prefs import PrefChange, PrefName, Prefs
from devexbot.actions.audit import AuditLog
from devexbot.me.home_tab import HomeTabs
from devexbot.slack.time_zones import TimeZones
from devexbot.store.prefs import PrefsStore


class PrefChanges:
    """`zones` reads a person's Slack time zone when they set quiet hours (None: Slack is
    off, the zone they had is kept); `home` refreshes their Home tab (None: Slack is off)."""

    def __init__(self, prefs: PrefsStore, audit: AuditLog, *, zones: TimeZones | None,
                 home: HomeTabs | None) -> None:
        self._prefs, self._audit, self._zones, self._home = prefs, audit, zones, home

    def get(self, user: str) -> Prefs:
        return self._prefs.get(user)

    def apply(self, user: str, change: PrefChange, *, where: str) -> Prefs:
        """Change `user`'s own preferences, and audit it; the preferences now."""
        tz = (self._zones.of(user) if self._zones is not None
              and change.name is PrefName.QUIET and change.quiet else None)
        prefs = self._prefs.change(user, change, tz=tz)
        self._audit.preference(user, str(change), where=where)
        return prefs

    def refresh(self, user: str) -> None:
        """Publish `user`'s Home tab with what they just changed."""
        if self._home is not None:
            self._home.changed(user)
