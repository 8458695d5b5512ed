"""Catch-up from GitHub's webhook delivery log: which logged deliveries the bot asks GitHub
to redeliver, where it stops paging back, and how long GitHub asked it to wait.

GitHub keeps a log of each hook's recent deliveries (newest first, paged) and redelivers
one on request, with the same GUID. The bot's own deliveries table is the truth of what
it has: a logged delivery is owed when the bot has no record of its GUID, whatever status
GitHub logged (a failure: the bot was down; a 2xx: answered by a bot whose database has
since lost it, say a restored backup). A delivery the bot already asked for is not asked
again until GitHub logs that redelivery as failed, or it stayed unanswered too long.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = ["Ask", "CatchUpPolicy", "LoggedDelivery", "PagePlan", "next_link", "our_hooks",
           "overdue_asks", "pause_until", "plan_page", "read_logged_delivery"]

DEFAULT_PAUSE = timedelta(seconds=60)  # a 429 that says not how long to wait
HTTP_DATE = "%a, %d %b %Y %H:%M:%S GMT"


@dataclass(frozen=True)
class LoggedDelivery:
    """One entry of a hook's delivery log, as GitHub lists it."""

    id: int  # the log entry's id (grows with time); a redelivery gets a new one
    guid: str  # the X-GitHub-Delivery header, the same for a redelivery
    delivered_at: datetime
    status_code: int  # the bot's answer; 0 or 5xx when GitHub could not reach it
    redelivery: bool = False
    event: str = ""

    @property
    def succeeded(self) -> bool:
        return 200 <= self.status_code < 300


@dataclass(frozen=True)
class Ask:
    """A redelivery the bot asked GitHub for: when, and how many times so far."""

    guid: str
    asked_at: datetime
    attempts: int = 1
    logged_id: int = 0  # the log entry it asked for last


@dataclass(frozen=True)
class CatchUpPolicy:
    """How far back a hook's first cycle looks (GitHub redelivers the last 3 days), how
    long an ask may stay unanswered before it is asked again, and how often at most."""

    lookback: timedelta = timedelta(days=3)
    patience: timedelta = timedelta(minutes=15)
    max_attempts: int = 3


@dataclass(frozen=True)
class PagePlan:
    """What to do with one page: the deliveries to redeliver (newest first, one per GUID),
    the newest entry seen, and whether paging stops here."""

    redeliver: tuple[LoggedDelivery, ...]
    newest: int | None
    reached_end: bool


def plan_page(
    page: Sequence[LoggedDelivery],
    *,
    position: int | None,
    now: datetime,
    stored: AbstractSet[str],
    asked: Mapping[str, Ask],
    policy: CatchUpPolicy = CatchUpPolicy(),
    chosen: AbstractSet[str] = frozenset(),
) -> PagePlan:
    """The owed deliveries of one page of the log (newest first). `position` is the newest
    entry the last complete cycle saw (None: never; look back `policy.lookback`), `stored`
    the page's GUIDs the bot has, `asked` its asks so far, `chosen` GUIDs newer pages chose
    this cycle. Paging stops at the position or at the lookback's edge."""
    picked: list[LoggedDelivery] = []
    taken = set(chosen)
    reached_end = False
    oldest_wanted = now - policy.lookback
    for delivery in page:
        if (position is not None and delivery.id <= position) \
                or delivery.delivered_at < oldest_wanted:
            reached_end = True
            continue
        if delivery.guid in stored or delivery.guid in taken:
            continue
        ask = asked.get(delivery.guid)
        if ask is not None and not _ask_again(ask, delivery, now, policy):
            continue
        taken.add(delivery.guid)
        picked.append(delivery)
    newest = max((d.id for d in page), default=None)
    return PagePlan(tuple(picked), newest, reached_end)


def _ask_again(ask: Ask, delivery: LoggedDelivery, now: datetime,
               policy: CatchUpPolicy) -> bool:
    if ask.attempts >= policy.max_attempts:
        return False
    failed_since = (delivery.redelivery and not delivery.succeeded
                    and delivery.delivered_at >= ask.asked_at)
    return failed_since or now - ask.asked_at >= policy.patience


def overdue_asks(unanswered: Sequence[Ask], *, now: datetime, handled: AbstractSet[str],
                 policy: CatchUpPolicy = CatchUpPolicy()) -> tuple[Ask, ...]:
    """Asks whose redelivery has not arrived after `policy.patience`, to ask again (GitHub
    accepted them but never logged an attempt, so paging the log does not find them):
    not those asked again this cycle (`handled`), not past the attempts allowed, not older
    than GitHub redelivers."""
    return tuple(sorted(
        (a for a in unanswered
         if a.guid not in handled and a.attempts < policy.max_attempts
         and policy.patience <= now - a.asked_at <= policy.lookback),
        key=lambda a: a.asked_at))


def pause_until(status: int, headers: Mapping[str, str], now: datetime) -> datetime | None:
    """When to call GitHub again after an answer of `status` (None: not a rate limit).
    `Retry-After` (seconds or an HTTP date) wins; else a spent primary limit's
    `X-RateLimit-Reset` (epoch seconds); a bare 429 waits a minute."""
    if status not in (403, 429):
        return None
    lower = {k.lower(): v for k, v in headers.items()}
    retry_after = (lower.get("retry-after") or "").strip()
    if retry_after:
        if retry_after.isdigit():
            return now + timedelta(seconds=int(retry_after))
        try:  # an HTTP date (email.utils would import the socket module)
            when = datetime.strptime(retry_after, HTTP_DATE).replace(tzinfo=UTC)
        except ValueError:
            when = None
        if when is not None:
            return max(when, now)
    reset = (lower.get("x-ratelimit-reset") or "").strip()
    if lower.get("x-ratelimit-remaining", "").strip() == "0" and reset.isdigit():
        return max(datetime.fromtimestamp(int(reset), UTC), now)
    return now + DEFAULT_PAUSE if status == 429 else None


def next_link(link: str | None) -> str | None:
    """The `rel="next"` URL of a `Link` header, if any."""
    for part in (link or "").split(","):
        url, _, params = part.partition(";")
        rels = {p.strip() for p in params.split(";")}
        if 'rel="next"' in rels or "rel=next" in rels:
            return url.strip().strip("<>") or None
    return None


def read_logged_delivery(raw: object) -> LoggedDelivery | None:
    """One entry of GitHub's list (None when it is not one: the bot skips it)."""
    if not isinstance(raw, Mapping):
        return None
    ident, guid, at = raw.get("id"), raw.get("guid"), raw.get("delivered_at")
    code = raw.get("status_code")
    if not isinstance(ident, int) or not isinstance(guid, str) or not guid \
            or not isinstance(at, str):
        return None
    try:
        delivered_at = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        return None
    if delivered_at.tzinfo is None:
        delivered_at = delivered_at.replace(tzinfo=UTC)
    return LoggedDelivery(id=ident, guid=guid, delivered_at=delivered_at,
                          status_code=code if isinstance(code, int) else 0,
                          redelivery=raw.get("redelivery") is True,
                          event=str(raw.get("event") or ""))


def our_hooks(listing: object, bot_url: str) -> tuple[int, ...]:
    """The ids of the active hooks in GitHub's list of a repository's hooks whose payload
    URL is `bot_url` (scheme and host without case, a trailing slash either way)."""
    wanted = _comparable(bot_url)
    found = []
    for hook in listing if isinstance(listing, list) else []:
        if not isinstance(hook, Mapping) or hook.get("active") is False:
            continue
        config, ident = hook.get("config"), hook.get("id")
        url = config.get("url") if isinstance(config, Mapping) else None
        if isinstance(ident, int) and isinstance(url, str) and _comparable(url) == wanted:
            found.append(ident)
    return tuple(sorted(found))


def _comparable(url: str) -> str:
    scheme, _, rest = url.strip().partition("://")
    host, slash, path = rest.partition("/")
    return f"{scheme.lower()}://{host.lower()}{slash}{path}".rstrip("/")
