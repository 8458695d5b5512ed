"""`/devex me …`: a person's own notification preferences, shown and changed; and the Home
tab's listeners: `app_home_opened` publishes the tab, its preference buttons change them.

Anyone may change their own preferences, and only their own: the user is the one Slack
signed the request for. Every change is audited.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from slack_bolt import Ack, App

from correlation.home_blocks import PREF_ACTION
from correlation.prefs import (
    PrefError,
    PrefName,
    Prefs,
    describe,
    parse_pref_change,
)
from devexbot.me.changes import PrefChanges
from devexbot.me.home_tab import HomeTabs
from handlers.slack.commands import CommandGroup, Invocation, Reply, Subcommand

log = logging.getLogger(__name__)


class MeCommands(CommandGroup):
    """`/devex me`, and what the Home tab's preference buttons do."""

    def __init__(self, changes: PrefChanges, home: HomeTabs) -> None:
        self._changes, self._home = changes, home

    def subcommands(self) -> Sequence[Subcommand]:
        return (Subcommand("me", "me [dm-failures|dm-reviews|mute-own on|off] "
                                 "[quiet 22:00-08:00|off]",
                           "your own notifications: DMs, muting your own actions, quiet hours",
                           self.me),)

    def me(self, inv: Invocation) -> Reply:
        try:
            change = parse_pref_change(inv.words)
        except PrefError as exc:
            return Reply(str(exc))
        if change is None:
            return Reply(_shown(self._changes.get(inv.user_id)))
        prefs = self._changes.apply(inv.user_id, change, where="slash command")
        return Reply(f"Done: `{change}`.\n{_shown(prefs)}",
                     after=lambda: self._changes.refresh(inv.user_id))

    def register(self, app: App) -> None:
        """The Home tab's listeners."""

        @app.event("app_home_opened")
        def _opened(event: dict[str, Any]) -> None:
            if event.get("tab", "home") != "home":
                return  # the Messages tab
            self._home.opened(str(event["user"]))

        def acknowledge(ack: Ack) -> None:
            ack()

        def toggle(body: dict[str, Any]) -> None:
            user = str(body["user"]["id"])
            action = body["actions"][0]
            name = str(action["action_id"]).removeprefix(f"{PREF_ACTION}.")
            try:
                change = parse_pref_change([name, str(action.get("value") or "")])
            except PrefError as exc:
                log.warning("a Home tab button %s by %s: %s", name, user, exc)
                return
            if change is not None:
                self._changes.apply(user, change, where="Home tab")
                self._changes.refresh(user)

        for name in PrefName:
            app.action(f"{PREF_ACTION}.{name.value}")(ack=acknowledge, lazy=[toggle])


def _shown(prefs: Prefs) -> str:
    return "*Your notifications*\n" + "\n".join(f"• {line}" for line in describe(prefs)) + \
        "\nChange one with e.g. `/devex me dm-failures on`; see `/devex help me`."
