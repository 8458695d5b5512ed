"""One catch-up cycle over the watched hooks, run by the scheduler on its leader.

Per hook: unless GitHub asked the bot to wait, page the delivery log back from the newest
entry to where the last complete cycle stopped, ask GitHub to redeliver each delivery
`correlation.catchup.plan_page` says is owed, and store the newest entry seen as the new
position; then ask again for what was asked long ago and never came
(`correlation.catchup.overdue_asks`). A rate limit stops the hook's cycle; the position
stays where it was, so the next cycle after the pause pages the same stretch again (asks
already made are not repeated: they are recorded as they are made).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from correlation.catchup import CatchUpPolicy, overdue_asks, pause_until, plan_page
from devexbot.catchup.discovery import HookDiscovery
from devexbot.clients.github_hooks import HookLog, HookLogError, HookRef
from devexbot.config.github import GitHubConfig
from devexbot.store.catchup import CatchUpLedger

log = logging.getLogger(__name__)


def watched_hooks(config: GitHubConfig, *, app: bool) -> list[HookRef]:
    """The hooks named in the config, and the App's own when the bot runs as an App."""
    hooks = [HookRef("repo", h.repo, h.id) if h.repo else HookRef("org", h.org or "", h.id)
             for h in config.hooks]
    if app and config.app_hook:
        hooks.append(HookRef("app"))
    return hooks


class CatchUpJob:
    """`run(now)` is the scheduler's job: one cycle over every hook, a line of what it did."""

    def __init__(self, hooks: Sequence[HookRef], deliveries: HookLog, ledger: CatchUpLedger,
                 *, policy: CatchUpPolicy, max_pages: int, ask_spacing: float = 1.0,
                 sleep: Callable[[float], None],
                 discovery: HookDiscovery | None = None) -> None:
        self.hooks = tuple(hooks)
        self._discovery = discovery
        self._log, self._ledger = deliveries, ledger
        self._policy, self._max_pages = policy, max_pages
        # GitHub asks integrations to space writes about a second apart (secondary limits).
        self._spacing, self._sleep = ask_spacing, sleep

    def run(self, now: datetime) -> str:
        hooks = {hook.key: hook for hook in self.hooks}
        if self._discovery is not None:
            for found in self._discovery.hooks(now):
                hooks.setdefault(found.key, found)
        said = [self._hook(hook, now) for hook in hooks.values()]
        return "; ".join(said) if said else "no hooks to watch"

    def _hook(self, hook: HookRef, now: datetime) -> str:
        state = self._ledger.state(hook.key)
        if state.resume_after is not None and now < state.resume_after:
            return f"{hook}: waiting for GitHub until {state.resume_after.isoformat()}"
        asked: list[str] = []  # GUIDs asked for this cycle, kept when a call fails
        try:
            self._sweep(hook, state.position, now, asked)
        except HookLogError as exc:
            until = pause_until(exc.status, exc.headers, now)
            if until is not None:
                self._ledger.paused(hook.key, until, now, str(exc))
                log.warning("catch-up: %s rate-limited; resuming after %s", hook,
                            until.isoformat())
                return (f"{hook}: {len(asked)} redelivery(ies) asked, then rate-limited "
                        f"until {until.isoformat()}")
            self._ledger.failed(hook.key, now, str(exc))
            log.warning("catch-up: %s: %s", hook, exc)
            return f"{hook}: {len(asked)} redelivery(ies) asked, then {exc}"
        except Exception as exc:  # GitHub unreachable: the next cycle tries again
            self._ledger.failed(hook.key, now, f"{type(exc).__name__}: {exc}")
            log.warning("catch-up: %s: %s", hook, type(exc).__name__)
            return f"{hook}: {len(asked)} redelivery(ies) asked, then {type(exc).__name__}"
        return f"{hook}: {len(asked)} redelivery(ies) asked"

    def _sweep(self, hook: HookRef, position: int | None, now: datetime,
               asked: list[str]) -> None:
        url: str | None = self._log.first_page(hook)
        newest = position
        for _ in range(self._max_pages):
            assert url is not None
            page, url = self._log.page(hook, url)
            guids = [d.guid for d in page]
            plan = plan_page(page, position=position, now=now,
                             stored=self._ledger.stored(guids), asked=self._ledger.asks(guids),
                             policy=self._policy, chosen=frozenset(asked))
            if plan.newest is not None:
                newest = plan.newest if newest is None else max(newest, plan.newest)
            for delivery in plan.redeliver:
                self._ask(hook, delivery.guid, delivery.id, now, asked)
            if plan.reached_end or url is None:
                break
        else:
            log.warning("catch-up: %s: stopped after %d pages; the rest next cycle", hook,
                        self._max_pages)
            return  # the position stays: the next cycle pages this stretch again
        self._ledger.finished(hook.key, newest, now)
        for ask in overdue_asks(self._ledger.unanswered(hook.key), now=now,
                                handled=frozenset(asked), policy=self._policy):
            self._ask(hook, ask.guid, ask.logged_id, now, asked)

    def _ask(self, hook: HookRef, guid: str, logged_id: int, now: datetime,
             asked: list[str]) -> None:
        if asked and self._spacing > 0:
            self._sleep(self._spacing)
        self._log.redeliver(hook, logged_id)
        self._ledger.asked(hook.key, guid, logged_id, now)
        asked.append(guid)
