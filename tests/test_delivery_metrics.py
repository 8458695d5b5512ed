"""The four delivery figures, worked out from plain data as a table: the hand-built history
of tests/delivery_history.py (its arithmetic is written there), then one rule at a time."""

from __future__ import annotations

from datetime import timedelta

import pytest

from correlation.delivery_metrics import (
    Deploy,
    ShippedCommit,
    Signal,
    delivery_figures,
    is_rollback,
    parse_period,
    revert_of,
    week_start,
)
from tests.delivery_history import (
    COMMITS,
    DEPLOYS,
    EXPECTED,
    HOTFIX_AT,
    HOTFIX_PULL,
    SINCE,
    T0,
    UNTIL,
    WINDOW,
    D,
    H,
)

# Which deploy (index in DEPLOYS) first shipped each commit to production.
FIRST_SHIPPED = {"p0": 0, "a1": 2, "a2": 2, "b1": 3, "c1": 5, "r1": 6, "d1": 7, "e1": 9,
                 "h1": 10}


def history() -> dict[str, object]:
    deploys = [Deploy(i, sha, T0 + at, succeeded=ok, rollback=(i == 8))
               for i, (at, sha, env, ok) in enumerate(DEPLOYS) if env == "production"]
    shipped = [ShippedCommit(sha, T0 + COMMITS[sha][0], T0 + DEPLOYS[i][0], i,
                             title=COMMITS[sha][1]) for sha, i in FIRST_SHIPPED.items()]
    signals = [Signal("revert", "r1", T0 + COMMITS["r1"][0], reverts_sha=None,
                      reverts_title="Fix checkout"),
               Signal("hotfix", f"#{HOTFIX_PULL}", T0 + HOTFIX_AT)]
    return {"deploys": deploys, "shipped": shipped, "signals": signals}


def hours(value: timedelta | None) -> float | None:
    return None if value is None else value / H


def test_the_hand_built_history_gives_the_hand_computed_figures() -> None:
    figures = delivery_figures(since=SINCE, until=UNTIL, window=WINDOW, **history())  # type: ignore[arg-type]
    assert figures.deployments == EXPECTED["deployments"]
    assert figures.per_week == EXPECTED["per_week"]
    assert hours(figures.lead_time) == EXPECTED["lead_time_hours"]
    assert figures.change_failure_rate == EXPECTED["change_failure_rate"]
    assert hours(figures.time_to_restore) == EXPECTED["time_to_restore_hours"]
    assert {lt.sha: hours(lt.duration) for lt in figures.lead_times} == EXPECTED["lead_times"]
    assert [(f.deploy.sha, f.kind, hours(f.restore)) for f in figures.failures] == \
        EXPECTED["failures"]
    assert [(w.deployments, hours(w.lead_time), w.change_failure_rate, hours(w.time_to_restore))
            for w in figures.weeks] == EXPECTED["weeks"]
    assert figures.unrestored == 0


def test_a_revert_naming_the_sha_counts_like_one_naming_the_title() -> None:
    data = history()
    data["signals"] = [Signal("revert", "r1", T0 + 2 * D, reverts_sha="c1")]
    figures = delivery_figures(since=SINCE, until=UNTIL, window=WINDOW, **data)  # type: ignore[arg-type]
    assert ("c1", "revert") in [(f.deploy.sha, f.kind) for f in figures.failures]


@pytest.mark.parametrize(("window", "failed"), [
    # D2's failed deploy comes 2 h after it, D4's revert 14 h, D6's rollback 3 h, D8's
    # hotfix 22 h: a narrower window keeps fewer.
    (timedelta(hours=1), []),
    (timedelta(hours=2), ["b1"]),
    (timedelta(hours=3), ["b1", "d1"]),
    (timedelta(hours=14), ["b1", "c1", "d1"]),
    (timedelta(hours=22), ["b1", "c1", "d1", "e1"]),
    (timedelta(hours=47), ["b1", "c1", "d1", "e1", "h1"]),  # F10 is 47 h after D9
])
def test_only_signals_within_the_window_count(window: timedelta, failed: list[str]) -> None:
    figures = delivery_figures(since=SINCE, until=UNTIL + 3 * D, window=window,
                               **history())  # type: ignore[arg-type]
    assert [f.deploy.sha for f in figures.failures] == failed


def test_a_failure_not_yet_restored_has_no_time_to_restore() -> None:
    deploys = [Deploy(1, "a", T0), Deploy(2, "b", T0 + H, succeeded=False)]
    figures = delivery_figures(since=SINCE, until=UNTIL, deploys=deploys, shipped=[])
    assert [(f.kind, f.restored_by) for f in figures.failures] == [("failed_deploy", None)]
    assert figures.time_to_restore is None and figures.unrestored == 1


def test_putting_the_failed_commit_back_does_not_restore() -> None:
    deploys = [Deploy(1, "good", T0), Deploy(2, "bad", T0 + H),
               Deploy(3, "good", T0 + 2 * H, rollback=True),
               Deploy(4, "bad", T0 + 3 * H),  # the failed state again
               Deploy(5, "fixed", T0 + 5 * H)]
    figures = delivery_figures(since=SINCE, until=UNTIL, deploys=deploys, shipped=[])
    failure = figures.failures[0]
    assert (failure.deploy.id, failure.kind, failure.restored_by) == (2, "rollback", deploys[4])
    assert hours(failure.restore) == 3


def test_a_deploy_told_twice_by_two_tools_counts_once() -> None:
    """GitHub's deployment status and the deploy script's own webhook report the same
    deploy, minutes apart; a later deploy of the commit already live changes nothing."""
    deploys = [Deploy(1, "a", T0), Deploy(2, "a", T0 + H / 15),
               Deploy(3, "b", T0 + H), Deploy(4, "b", T0 + 2 * H, succeeded=False),
               Deploy(5, "b", T0 + 3 * H),  # b was live all along: a re-run
               Deploy(6, "a", T0 + 4 * H, rollback=True), Deploy(7, "a", T0 + 4 * H + H / 10)]
    figures = delivery_figures(since=SINCE, until=UNTIL, deploys=deploys, shipped=[])
    assert [d.id for d in figures.deploys] == [1, 3, 6]
    assert figures.deployments == 3
    # b's failure is charged once, to b's deploy: the failed attempt, then the rollback.
    assert [(f.deploy.id, f.kind) for f in figures.failures] == [(3, "failed_deploy")]


def test_an_empty_period_has_no_figures_but_its_weeks() -> None:
    figures = delivery_figures(since=SINCE, until=UNTIL, deploys=[], shipped=[])
    assert (figures.deployments, figures.lead_time, figures.change_failure_rate,
            figures.time_to_restore) == (0, None, None, None)
    assert [w.start for w in figures.weeks] == [T0, T0 + 7 * D]


def test_weeks_start_on_monday() -> None:
    assert week_start(T0 + 3 * D + 5 * H) == T0
    assert week_start(T0 - H) == T0 - 7 * D


@pytest.mark.parametrize(("message", "reverts"), [
    ('Revert "Fix checkout"\n\nThis reverts commit '
     'ABCDEF0123456789abcdef0123456789abcdef01.',
     ("abcdef0123456789abcdef0123456789abcdef01", "Fix checkout")),
    ('Revert "Fix checkout"', (None, "Fix checkout")),
    ("Undo it\n\nThis reverts commit 1234567.", ("1234567", None)),
    ("Fix checkout", None),
    ("Revert the cache change", None),
    ("", None),
])
def test_what_a_commit_reverts(message: str, reverts: tuple[str | None, str | None] | None
                               ) -> None:
    assert revert_of(message) == reverts


@pytest.mark.parametrize(("facts", "rollback"), [
    ({"sha": "a", "live_sha": None, "shipped_before": True}, False),  # nothing was live
    ({"sha": "a", "live_sha": "a", "shipped_before": True}, False),  # the same again
    ({"sha": "a", "live_sha": "b", "shipped_before": True}, True),
    ({"sha": "a", "live_sha": "b", "shipped_before": False}, False),
    ({"sha": "a", "live_sha": "b", "shipped_before": False, "compare_status": "behind"}, True),
    ({"sha": "a", "live_sha": "b", "shipped_before": False, "compare_status": "ahead"}, False),
])
def test_what_is_a_rollback(facts: dict[str, object], rollback: bool) -> None:
    assert is_rollback(**facts) is rollback  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "period"), [
    ("7d", timedelta(days=7)), ("30d", timedelta(days=30)), ("12w", timedelta(weeks=12)),
    ("48h", timedelta(hours=48)), ("1W", timedelta(weeks=1)),
])
def test_periods(text: str, period: timedelta) -> None:
    assert parse_period(text) == period


@pytest.mark.parametrize(("text", "error"), [
    ("", "a period is a number and d, w or h (7d, 30d, 12w), not ''"),
    ("7", "a period is a number and d, w or h (7d, 30d, 12w), not '7'"),
    ("0d", "a period must be at least an hour, not '0d'"),
    ("2000w", "a period may be at most 400 days, not '2000w'"),
    ("1y", "a period is a number and d, w or h (7d, 30d, 12w), not '1y'"),
])
def test_bad_periods_say_why_in_one_line(text: str, error: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_period(text)
    assert str(caught.value) == error
