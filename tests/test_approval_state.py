"""Where an approval request stands, decided once from plain facts; and where its expiry span
comes from in the config."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from correlation.approval_state import RequestFacts, RequestState, request_state
from correlation.approval_votes import Ballot, cast, decided_before
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


# --- counting approvals, decided under the request's lock ---------------------------------

A, R = "approved", "rejected"


@pytest.mark.parametrize(
    ("ballots", "user", "decision", "required", "outcome", "approvers", "position"),
    [
        ((), "U1", A, 1, "counted", ("U1",), 1),
        ((("U1", A),), "U2", A, 2, "counted", ("U1", "U2"), 2),
        # Once enough have approved, another approval is late: not counted, never "2 of 1".
        ((("U1", A),), "U2", A, 1, "late", ("U1",), 0),
        ((("U1", A), ("U2", A)), "U3", A, 2, "late", ("U1", "U2"), 0),
        # The same decision again (a double click, Slack's retry) changes nothing.
        ((("U1", A),), "U1", A, 1, "repeated", ("U1",), 1),
        ((("U1", A), ("U2", A)), "U2", A, 2, "repeated", ("U1", "U2"), 2),
        ((("U1", R),), "U1", R, 1, "repeated", (), 0),
        # A changed mind replaces the earlier decision; an approval counts from then.
        ((("U1", R), ("U2", A)), "U1", A, 2, "counted", ("U2", "U1"), 2),
        ((("U1", A), ("U2", A)), "U1", R, 3, "counted", ("U2",), 0),
        # A rejection is always recorded: it decides at once.
        ((("U1", A),), "U2", R, 1, "counted", ("U1",), 0),
    ],
)
def test_an_approval_counts_until_the_policy_is_met_and_never_past_it(
    ballots: tuple[tuple[str, str], ...], user: str, decision: str, required: int,
    outcome: str, approvers: tuple[str, ...], position: int,
) -> None:
    vote = cast([Ballot(u, d) for u, d in ballots], user, decision, required)
    assert (vote.outcome, vote.approvers, vote.position) == (outcome, approvers, position)
    assert vote.count <= max(required, len([b for b in ballots if b[1] == A]))


@pytest.mark.parametrize(
    ("state", "by", "user", "signoff", "said"),
    [
        (A, ("U0ANA",), "U0ANA", False, "you already approved test"),
        (A, ("U0ANA", "U0BEN"), "U0BEN", False, "you already approved test (with <@U0ANA>)"),
        (A, ("U0ANA", "U0BEN"), "U0CAROL", False,
         "test was already approved by <@U0ANA>, <@U0BEN>"),
        (R, ("U0ANA",), "U0ANA", False, "you already rejected test"),
        (R, ("U0ANA",), "U0BEN", False, "test was already rejected by <@U0ANA>"),
        (R, ("U0ANA",), "U0ANA", True, "you already requested changes on test"),
        (R, ("U0ANA",), "U0BEN", True, "<@U0ANA> already requested changes on test"),
        (A, ("ben",), "U0BEN", False, "test was already approved by ben"),  # GitHub's own
    ],
)
def test_a_click_on_a_decided_request_is_told_who_decided_in_the_second_person(
    state: str, by: tuple[str, ...], user: str, signoff: bool, said: str
) -> None:
    assert decided_before("test", state, by, user=user, signoff=signoff) == said
