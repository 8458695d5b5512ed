"""A hand-built delivery history of two weeks whose four figures are worked out by hand
below; the pure table test and the end-to-end tests (webhooks → API, Slack, page) share it.

Production, failure window 24 h; the period is [T0, T0 + 14 d), T0 a Monday. Commits come
in one line on main: p0 a1 a2 b1 c1 r1 d1 e1 h1 x1 ("seen" is when the bot first hears
of each; each deploy carries the commits between what was live and it).

    when (from T0)  what
    -1 d            p0 deployed (before the period: not counted)
    1 h, 3 h        a1, a2 seen
    4 h             a2 deployed to staging (another environment: not counted)
    5 h             D1 ships a2, carrying a1 and a2
    1 d             b1 seen
    1 d 6 h         D2 ships b1
    1 d 7 h         c1 "Fix checkout" seen
    1 d 8 h         F3: deploying c1 fails               → D2 failed (2 h after it)
    1 d 10 h        D4 ships c1                          → restores D2's failure: 2 h
    2 d             r1 'Revert "Fix checkout"' seen      → D4 failed (14 h after it)
    2 d 4 h         D5 ships r1                          → restores D4's failure: 4 h
    7 d 1 h         d1 seen
    7 d 2 h         D6 ships d1
    7 d 5 h         D7 rolls back to r1 (shipped by D5)  → D6 failed (3 h after it)
    8 d             e1 seen
    8 d 2 h         D8 ships e1, carrying d1 (shipped by D6 already) and e1
                                                         → restores D6's failure: 21 h
    9 d             h1 seen, pull request #9 labelled hotfix → D8 failed (22 h after it)
    9 d 1 h         D9 ships h1                          → restores D8's failure: 1 h
    11 d            x1 seen; F10: deploying x1 fails     → 47 h after D9: outside the window

Deployment frequency: D1 D2 D4 D5 D6 D7 D8 D9 = 8 in 14 days = 8 * 7 / 14 = 4 a week;
week 1 (D1 D2 D4 D5) = 4, week 2 (D6 D7 D8 D9) = 4.
Lead times (shipped at - seen): a1 5-1 = 4 h, a2 5-3 = 2 h, b1 30-24 = 6 h,
c1 34-31 = 3 h, r1 52-48 = 4 h, d1 170-169 = 1 h, e1 194-192 = 2 h, h1 217-216 = 1 h.
Sorted 1 1 2 2 3 4 4 6: median (2 + 3) / 2 = 2.5 h; week 1: 2 3 4 4 6 → 4 h; week 2:
1 1 2 → 1 h.
Change failure rate: D2 D4 D6 D8 failed = 4 / 8 = 0.5; week 1: 2 / 4, week 2: 2 / 4.
Time to restore: 2 h, 4 h, 21 h, 1 h; median (2 + 4) / 2 = 3 h; week 1: (2 + 4) / 2 = 3 h,
week 2: (21 + 1) / 2 = 11 h.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

H = timedelta(hours=1)
D = timedelta(days=1)
T0 = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday
SINCE, UNTIL = T0, T0 + 14 * D
WINDOW = 24 * H

# Commit → (when seen, message); in this order on main.
COMMITS: dict[str, tuple[timedelta, str]] = {
    "p0": (-2 * D, "What production ran before"),
    "a1": (1 * H, "Add search box"),
    "a2": (3 * H, "Search results page"),
    "b1": (1 * D, "Faster cart"),
    "c1": (1 * D + 7 * H, "Fix checkout"),
    "r1": (2 * D, 'Revert "Fix checkout"'),  # its body names c1's SHA
    "d1": (7 * D + 1 * H, "New pricing"),
    "e1": (8 * D, "Pricing copy"),
    "h1": (9 * D, "Hotfix pricing rounding"),
    "x1": (11 * D, "Big refactor"),
}
# (when, commit, environment, succeeded); deploy ids in the pure test are the list index.
DEPLOYS: list[tuple[timedelta, str, str, bool]] = [
    (-1 * D, "p0", "production", True),
    (4 * H, "a2", "staging", True),
    (5 * H, "a2", "production", True),  # D1
    (1 * D + 6 * H, "b1", "production", True),  # D2
    (1 * D + 8 * H, "c1", "production", False),  # F3
    (1 * D + 10 * H, "c1", "production", True),  # D4
    (2 * D + 4 * H, "r1", "production", True),  # D5
    (7 * D + 2 * H, "d1", "production", True),  # D6
    (7 * D + 5 * H, "r1", "production", True),  # D7, a rollback
    (8 * D + 2 * H, "e1", "production", True),  # D8
    (9 * D + 1 * H, "h1", "production", True),  # D9
    (11 * D, "x1", "production", False),  # F10
]
HOTFIX_PULL = 9
HOTFIX_AT = 9 * D

EXPECTED = {
    "deployments": 8,
    "per_week": 4.0,
    "lead_time_hours": 2.5,
    "change_failure_rate": 0.5,
    "time_to_restore_hours": 3.0,
    "lead_times": {"a1": 4, "a2": 2, "b1": 6, "c1": 3, "r1": 4, "d1": 1, "e1": 2, "h1": 1},
    "failures": [("b1", "failed_deploy", 2), ("c1", "revert", 4), ("d1", "rollback", 21),
                 ("e1", "hotfix", 1)],  # (the failed deploy's commit, signal, hours to restore)
    "weeks": [(4, 4.0, 0.5, 3.0), (4, 1.0, 0.5, 11.0)],  # deploys, lead h, rate, restore h
}
