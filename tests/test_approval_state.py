"""Where an approval request stands, decided once from plain facts; and where its expiry span
comes from in the config."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from correlation.approval_state import RequestFacts, RequestState, request_state
from devexbot.config import parse_config

SINCE = datetime(2026, 11, 20, 10, tzinfo=UTC)
H = timedelta(hours=1)
WAITING, EXPIRED, DECIDED = RequestState.WAITING, RequestState.EXPIRED, RequestState.DECIDED


@pytest.mark.parametrize(
    ("waited", "expires_after", "marked_expired", "decided", "state"),
    [
        (1 * H, 2 * H, False, False, WAITING),
        (2 * H - timedelta(seconds=1), 2 * H, False, False, WAITING),
        (2 * H, 2 * H, False, False, EXPIRED),  # the span is all it gets
        (3 * H, 2 * H, False, False, EXPIRED),
        (300 * H, None, False, False, WAITING),  # never expires
        (300 * H, timedelta(0), False, False, WAITING),  # 0 is never, as `never` is
        (-1 * H, 2 * H, False, False, WAITING),  # a clock behind the card's
        # The card says it expired: so it is, whatever the clock or a longer span says.
        (0 * H, 2 * H, True, False, EXPIRED),
        (1 * H, 48 * H, True, False, EXPIRED),
        (1 * H, None, True, False, EXPIRED),
        # A decision stands, in time or not.
        (1 * H, 2 * H, False, True, DECIDED),
        (3 * H, 2 * H, False, True, DECIDED),
        (3 * H, 2 * H, True, True, DECIDED),
    ],
)
def test_a_request_is_waiting_expired_or_decided(
    waited: timedelta, expires_after: timedelta | None, marked_expired: bool, decided: bool,
    state: RequestState,
) -> None:
    facts = RequestFacts(since=SINCE, expires_after=expires_after,
                         marked_expired=marked_expired, decided=decided)
    assert request_state(facts, SINCE + waited) is state


@pytest.mark.parametrize(
    ("waited", "expires_after", "expires_in"),
    [(30 * H / 60, 2 * H, 90 * H / 60), (3 * H, 2 * H, timedelta(0)), (1 * H, None, None),
     (-1 * H, 2 * H, 2 * H)],
)
def test_how_long_a_request_has_left(waited: timedelta, expires_after: timedelta | None,
                                     expires_in: timedelta | None) -> None:
    facts = RequestFacts(since=SINCE, expires_after=expires_after)
    assert facts.expires_in(SINCE + waited) == expires_in


POLICY = "approvals:\n  production:\n    approvers: ['*']\n    notify: pr_author\n"


@pytest.mark.parametrize(
    ("yaml_text", "deploy", "signoff"),
    [
        ("", 24 * H, None),  # neither key: a day for a deploy, as the scheduler always said
        (POLICY + "    expires_after: 90m\n", 90 * H / 60, 90 * H / 60),
        (POLICY + "    expires_after: never\n", None, None),
        (POLICY + "    expires_after: 0\n", None, None),
        # The old key is the default of environments whose policy sets none.
        ("schedule: {approval_expires_after_hours: 2}\n" + POLICY, 2 * H, None),
        ("schedule: {approval_expires_after_hours: 0}\n" + POLICY, None, None),
        ("schedule: {approval_expires_after_hours: 2}\n" + POLICY + "    expires_after: 1d\n",
         24 * H, 24 * H),
        # A route's old key is no longer read: the span is the environment's.
        ("routes:\n  - repos: ['*']\n    channel: '#deploys'\n"
         "    schedule: {approval_expires_after_hours: 1}\n" + POLICY, 24 * H, None),
    ],
)
def test_the_span_comes_from_the_environments_policy(
    yaml_text: str, deploy: timedelta | None, signoff: timedelta | None
) -> None:
    config = parse_config(yaml_text)
    assert config.approval_expiry("Production") == deploy
    assert config.approval_expiry("production", signoff=True) == signoff


def test_the_old_keys_are_named_as_deprecated_with_their_lines() -> None:
    config = parse_config("schedule:\n  timezone: UTC\n  approval_expires_after_hours: 2\n"
                          "routes:\n  - repos: ['*']\n    channel: '#deploys'\n"
                          "    schedule: {approval_expires_after_hours: 1}\n",
                          source="devexbot.yaml")
    assert config.deprecations() == [
        "devexbot.yaml:3: schedule.approval_expires_after_hours: deprecated: set "
        "approvals.<environment>.expires_after instead (until then it is the expiry of "
        "environments that set none)",
        "devexbot.yaml:7: routes[0].schedule.approval_expires_after_hours: no longer read: "
        "set approvals.<environment>.expires_after instead",
    ]
    assert parse_config("schedule: {timezone: UTC}\n").deprecations() == []
