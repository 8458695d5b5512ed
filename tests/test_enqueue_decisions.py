"""Where the base branch takes pull requests only through GitHub's merge queue, the card's
merge offer is "Add to merge queue": decided from plain data as a table, with what the
click judges of the pull request and how GitHub's GraphQL errors read."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from correlation.button_blocks import Button, ButtonRef, Confirm
from correlation.buttons import card_buttons
from correlation.card import CommitCard, MergeQueue, PullRequest, Stamp
from correlation.enqueue import claim_round, github_errors, in_queue
from correlation.merge_methods import RepoMergeSettings
from correlation.merge_verdict import PullFacts, pull_refusal
from correlation.policies import Policies
from correlation.status import Status
from tests.cards import AT, REPO, SHA, card, check

PR = PullRequest(12, "Add login page", "open", None, None, head_sha=SHA, base="main")
MENUS = ["Request review", "Add label"]
QUEUE_ON_MAIN = RepoMergeSettings(queue_branches=frozenset({"main"}))
QUEUE_ON_RELEASE = RepoMergeSettings(queue_branches=frozenset({"release"}))
SQUASH_ONLY_QUEUE = RepoMergeSettings(merge=False, rebase=False,
                                      queue_branches=frozenset({"main"}))
LATER = AT + timedelta(minutes=5)


def pr(**fields: Any) -> PullRequest:
    return replace(PR, **fields)


def queue(state: str, at: Any = AT) -> MergeQueue:
    return MergeQueue(state=state, at=at, since=at if state == "queued" else None, base="main")


def added(at: Any = AT) -> Stamp:
    return Stamp("enqueue", "Added to the merge queue by <@U0ANA>", "U0ANA", at)


CASES: list[tuple[str, CommitCard, RepoMergeSettings | None, list[str], list[str]]] = [
    # name, card, what the repository's settings and rules say, labels, notes
    ("the base takes PRs through the queue", card(pull_request=PR), QUEUE_ON_MAIN,
     ["Add to merge queue", *MENUS], []),
    ("another branch's queue: Merge as today", card(pull_request=PR), QUEUE_ON_RELEASE,
     ["Merge", *MENUS], []),
    ("rules not read yet: Merge as today", card(pull_request=PR), None, ["Merge", *MENUS], []),
    ("the queue merges by its own method", card(pull_request=PR), SQUASH_ONLY_QUEUE,
     ["Add to merge queue", *MENUS], []),
    ("in the queue: no button", card(pull_request=PR, merge_queue=queue("queued")),
     QUEUE_ON_MAIN, MENUS, []),
    ("added from here, GitHub's news not in yet",
     card(pull_request=PR, stamps=(added(),)), QUEUE_ON_MAIN, MENUS, []),
    ("dequeued after it was added: offered again",
     card(pull_request=PR, stamps=(added(),), merge_queue=queue("dequeued", LATER)),
     QUEUE_ON_MAIN, ["Add to merge queue", *MENUS], []),
    ("a draft", card(pull_request=pr(draft=True)), QUEUE_ON_MAIN, MENUS,
     ["Merge: #12 is a draft"]),
    ("a failing check", card(pull_request=PR, checks=(check("test", Status.FAILURE),)),
     QUEUE_ON_MAIN, MENUS, ["Merge unavailable: 1 check failing"]),
    ("changes requested", card(pull_request=pr(review="changes_requested")), QUEUE_ON_MAIN,
     MENUS, ["Merge unavailable: changes requested"]),
]


@pytest.mark.parametrize(("name", "c", "settings", "labels", "notes"), CASES,
                         ids=[case[0] for case in CASES])
def test_which_merge_offer_a_card_shows(name: str, c: CommitCard,
                                        settings: RepoMergeSettings | None,
                                        labels: list[str], notes: list[str]) -> None:
    shown = card_buttons(c, Policies(), AT, settings)
    assert [getattr(e, "label", None) or getattr(e, "placeholder", None)
            for e in shown.elements] == labels
    assert list(shown.notes) == notes


def test_the_queue_button_carries_the_pull_request_and_asks_first() -> None:
    button, *_ = card_buttons(card(pull_request=PR), Policies(), AT, QUEUE_ON_MAIN).elements
    assert button == Button(
        "card.enqueue:", "Add to merge queue", ButtonRef(REPO, SHA, pr=12), style="primary",
        confirm=Confirm("Add #12 to the merge queue?",
                        "Add #12 at 6dcb09b to the merge queue of main: GitHub merges it "
                        "once the queue's checks pass.", "Add to queue"))


@pytest.mark.parametrize(("c", "queued", "round_"), [
    (card(pull_request=PR), False, "first"),
    (card(pull_request=PR, merge_queue=queue("queued")), True, AT.isoformat()),
    (card(pull_request=PR, stamps=(added(LATER),), merge_queue=queue("dequeued")), True,
     AT.isoformat()),
    (card(pull_request=PR, stamps=(added(),), merge_queue=queue("dequeued", LATER)), False,
     LATER.isoformat()),
    (card(pull_request=PR, merge_queue=queue("merged")), False, AT.isoformat()),
])
def test_whether_the_card_knows_it_in_the_queue(c: CommitCard, queued: bool,
                                                round_: str) -> None:
    assert in_queue(c) is queued
    assert claim_round(c) == round_


OPEN = PullFacts(number=12, state="open", head_sha=SHA, mergeable=True,
                 mergeable_state="clean")
MOVED = "4f7e1c0d8b2a9e6f3c5d7a1b0e9f8c2d4a6b8e0f"


@pytest.mark.parametrize(("facts", "refusal"), [
    (OPEN, None),
    # The queue's own rule blocks merging directly: GitHub says at enqueue whether it takes it.
    (replace(OPEN, mergeable_state="blocked"), None),
    (replace(OPEN, head_sha=MOVED),
     "#12's head moved to 4f7e1c0: add it to the merge queue from that commit's card"),
    (replace(OPEN, state="closed"), "#12 is closed"),
    (replace(OPEN, draft=True), "#12 is a draft"),
    (replace(OPEN, mergeable=False, mergeable_state="dirty"),
     "GitHub says #12 cannot be merged (dirty: conflicts or rules)"),
])
def test_what_the_click_judges_of_the_pull_request(facts: PullFacts,
                                                   refusal: str | None) -> None:
    assert pull_refusal(facts, SHA, queue=True) == refusal


@pytest.mark.parametrize(("errors", "line"), [
    ([{"type": "UNPROCESSABLE", "message": "Pull request is in clean status"}],
     "Pull request is in clean status"),
    ([{"message": "Required status check \"build\" is expected.\n"},
      {"message": "At least 1 approving review is required."}],
     "Required status check \"build\" is expected.; At least 1 approving review is required."),
    ([{"message": "same"}, {"message": "same"}], "same"),
    ([], "GitHub gave no reason"),
    (None, "GitHub gave no reason"),
    ([{"message": "x" * 400}], "x" * 299 + "…"),
])
def test_githubs_graphql_errors_read_as_one_line(errors: Any, line: str) -> None:
    assert github_errors(errors) == line
