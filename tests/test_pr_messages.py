"""Where a card goes in a channel that wants one message per pull request, as a table: the
current head's card is the PR's message, earlier heads' and the merge commit's cards are
replies in its thread, and an older head's late news never takes the message back."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from correlation.card import CommitCard, PullRequest
from correlation.pr_messages import (
    HOLD,
    Place,
    Placement,
    PrMessage,
    Shown,
    placement,
    render_moved,
)

A, B, C, MERGE = "a" * 40, "b" * 40, "c" * 40, "e" * 40
T0 = datetime(2026, 11, 20, 10, tzinfo=UTC)
T1, T2 = T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)


def head(sha: str, at: datetime, *, state: str = "open",
         superseded_by: str | None = None) -> CommitCard:
    """A card of PR #12 whose own PR event names `superseded_by or sha` its head at `at`."""
    pr = PullRequest(number=12, title="Add login", state=state, url=None, review=None,
                     head_sha=superseded_by or sha, at=at)
    return CommitCard(repo="octo/app", sha=sha, branch="feature/login", pull_request=pr,
                      superseded_by=superseded_by)


SHOWS_B = PrMessage(ts="100.1", head_sha=B, head_at=T1)
POSTING_B = PrMessage(ts=None, head_sha=B, head_at=T1)
IN_MESSAGE = Shown("100.1")
IN_THREAD = Shown("100.7", thread_ts="100.1")
OWN = Shown("99.5")  # a top-level message of its own
MERGED = CommitCard(repo="octo/app", sha=MERGE, branch="main", pull_request=PullRequest(
    number=12, title="Add login", state="merged", url=None, review=None, head_sha=C, at=T2))
PLAIN = CommitCard(repo="octo/app", sha=A, branch="feature/login")


@pytest.mark.parametrize(("card", "message", "shown", "expected"), [
    # The first head posts the PR's message; a head posted as a commit before its PR was
    # known makes its own message the PR's.
    (head(A, T0), None, None, Placement(Place.HEAD)),
    (head(A, T0), None, OWN, Placement(Place.HEAD, adopt=True)),
    # The head it shows keeps it; a newer head takes it over from the one it showed.
    (head(B, T1), SHOWS_B, IN_MESSAGE, Placement(Place.HEAD)),
    (head(C, T2), SHOWS_B, None, Placement(Place.HEAD, replaces=B)),
    (head(C, T2, state="merged"), replace(SHOWS_B, head_sha=C, head_at=T2), IN_MESSAGE,
     Placement(Place.HEAD)),  # merge and close update the message
    # A superseded head leaves the message for the thread; one never posted goes there too.
    (head(B, T2, superseded_by=C), SHOWS_B, IN_MESSAGE, Placement(Place.REPLY)),
    (head(A, T1, superseded_by=B), SHOWS_B, None, Placement(Place.REPLY)),
    (head(A, T1, superseded_by=B), SHOWS_B, IN_THREAD, Placement(Place.REPLY)),
    # Out of order: an older head whose supersession has not arrived yet, but which GitHub
    # named before the message's head, goes to the thread, never over the newer head.
    (head(A, T0), SHOWS_B, None, Placement(Place.REPLY)),
    (head(A, T0), SHOWS_B, IN_THREAD, Placement(Place.REPLY)),
    (replace(head(A, T0), pull_request=replace(head(A, T0).pull_request, at=None)), SHOWS_B,
     None, Placement(Place.REPLY)),
    # ... and one GitHub named later (a force-push back) takes it.
    (head(A, T2), SHOWS_B, IN_THREAD, Placement(Place.HEAD, replaces=B)),
    # A head posted as a commit before its PR was known (its PR's event came late) takes
    # the message and leaves its own behind.
    (head(C, T2), SHOWS_B, OWN, Placement(Place.HEAD, replaces=B, leaves=True)),
    # Replaced before the PR had a message here: nobody saw it.
    (head(A, T1, superseded_by=B), None, None, Placement(Place.NONE)),
    # The merge commit's card links the PR: a reply in its thread, or a commit's message
    # where the PR has none.
    (MERGED, SHOWS_B, None, Placement(Place.REPLY)),
    (MERGED, None, None, Placement(Place.COMMIT)),
    # The PR's message is being posted: its poster goes on, the others wait for it.
    (head(B, T1), POSTING_B, Shown(None), Placement(Place.HEAD)),
    (head(C, T2), POSTING_B, None, Placement(Place.WAIT)),
    (head(A, T1, superseded_by=B), POSTING_B, None, Placement(Place.WAIT)),
    # A message of its own posted before the PR was known stays where it is.
    (head(A, T1, superseded_by=B), SHOWS_B, OWN, Placement(Place.COMMIT)),
    # No pull request: a commit.
    (PLAIN, None, None, Placement(Place.COMMIT)),
    (PLAIN, SHOWS_B, None, Placement(Place.COMMIT)),
])
def test_where_a_card_goes_in_a_per_pull_request_channel(
        card: CommitCard, message: PrMessage | None, shown: Shown | None,
        expected: Placement) -> None:
    assert placement(card, "pull_request", message, shown) == expected


@pytest.mark.parametrize("card", [head(A, T0), head(B, T2, superseded_by=C), MERGED, PLAIN])
def test_a_per_commit_channel_posts_every_card_as_a_commit(card: CommitCard) -> None:
    assert placement(card, "commit", SHOWS_B, IN_MESSAGE) == Placement(Place.COMMIT)


@pytest.mark.parametrize(("on_branch", "shown", "waited", "expected"), [
    # A push to a branch with an open PR waits a little for the PR's event...
    (True, None, timedelta(0), Place.WAIT),
    (True, None, HOLD - timedelta(seconds=1), Place.WAIT),
    # ... not for ever, nor where nobody waits for it.
    (True, None, HOLD, Place.COMMIT),
    (False, None, timedelta(0), Place.COMMIT),
    (True, OWN, timedelta(0), Place.COMMIT),
])
def test_a_push_to_a_pull_requests_branch_waits_for_its_pr_event(
        on_branch: bool, shown: Shown | None, waited: timedelta, expected: Place) -> None:
    found = placement(PLAIN, "pull_request", None, shown, open_pr_on_branch=on_branch,
                      waited=waited)
    assert found.place is expected


def test_a_message_left_behind_says_where_the_card_went() -> None:
    moved = render_moved(replace(head(C, T2), message="Fix the login <form>\nmore",
                                 url="https://github.com/octo/app/commit/c"))
    assert moved.text == "⏩ octo/app ccccccc is now in #12's message"
    assert moved.blocks == [{"type": "context", "elements": [{
        "type": "mrkdwn", "text": "⏩ <https://github.com/octo/app/commit/c|ccccccc> Fix the "
        "login &lt;form&gt; · now in #12's message", "verbatim": True}]}]
