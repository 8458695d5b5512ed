"""Which buttons a card shows, decided once from plain data (the card, the policies, the
time) as a table; and how the decided buttons are drawn as Block Kit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from correlation.button_blocks import Button, ButtonRef, Confirm, Menu, button_elements
from correlation.buttons import card_buttons, decision_buttons
from correlation.card import Approval, CommitCard, PullRequest, Stamp
from correlation.merge_methods import RepoMergeSettings
from correlation.policies import ApprovalPolicy, ButtonPolicy, MergePolicy, Policies, RetryPolicy
from correlation.status import Status
from devexbot.actions.ids import ButtonValue
from tests.cards import AT, NEW_SHA, REPO, SHA, card, check, deployment

FAILED = Status.FAILURE
PR = PullRequest(12, "Add login page", "open", None, None, head_sha=SHA, base="main")
MENUS = ["Request review", "Add label"]
PROD = ApprovalPolicy("production", required=2, expires_after=timedelta(hours=1))
NO_POLICY = "staging: decide where it waits (the bot has no approval policy for it)"


def pr(**fields: Any) -> PullRequest:
    return PullRequest(**{**PR.__dict__, **fields})


def jenkins_build(name: str, status: Status = FAILED) -> Any:
    return check(name, status, source="jenkins", kind="build", details={"job": name})


def workflow(name: str, status: Status = FAILED) -> Any:
    return check(name, status, kind="workflow", details={"run_id": 7})


def waiting(env: str, **fields: Any) -> Any:
    return deployment(env, Status.WAITING, source="deploy", **fields)


def custom(label: str, **fields: Any) -> ButtonPolicy:
    fields.setdefault("templates", ("deploy-{sha}",))
    return ButtonPolicy(label=label, key=label.lower().replace(" ", "-"),
                        kind=fields.pop("kind", "jenkins"), **fields)


def merged_stamp() -> Stamp:
    return Stamp("merge", "Merged by <@U0ANA>", "U0ANA", AT)


CASES: list[tuple[str, CommitCard, Policies, timedelta, list[str], list[str]]] = [
    # name, card, policies, time since AT, button and menu labels, notes
    ("a plain commit", card(), Policies(), timedelta(0), [], []),
    ("an open PR's head, green", card(pull_request=PR), Policies(), timedelta(0),
     ["Merge", *MENUS], []),
    ("several methods: one button, the preferred", card(pull_request=PR),
     Policies(merge=MergePolicy(("squash", "rebase"))), timedelta(0),
     ["Squash and merge", *MENUS], []),
    ("a draft", card(pull_request=pr(draft=True)), Policies(), timedelta(0),
     MENUS, ["Merge: #12 is a draft"]),
    ("a failing check", card(pull_request=PR, checks=(check("test", FAILED),)), Policies(),
     timedelta(0), MENUS, ["Merge unavailable: 1 check failing"]),
    ("failing checks and changes requested",
     card(pull_request=pr(review="changes_requested"),
          checks=(check("test", FAILED), check("lint", FAILED))), Policies(), timedelta(0),
     MENUS, ["Merge unavailable: 2 checks failing, changes requested"]),
    ("merged from here already", card(pull_request=PR, stamps=(merged_stamp(),)),
     Policies(), timedelta(0), MENUS, []),
    ("not the PR's head", card(pull_request=pr(head_sha=NEW_SHA)), Policies(), timedelta(0),
     [], []),
    ("a closed PR", card(pull_request=pr(state="closed")), Policies(), timedelta(0), [], []),
    ("superseded: nothing at all",
     card(pull_request=PR, superseded_by=NEW_SHA, checks=(jenkins_build("build"),)),
     Policies(buttons=(custom("Rebuild"),)), timedelta(0), [], []),
    # Retry: failed or cancelled builds and workflows that say how to start them again.
    ("retries", card(checks=(jenkins_build("build"), workflow("CI", Status.CANCELLED),
                             check("lint", FAILED), jenkins_build("ok", Status.SUCCESS))),
     Policies(), timedelta(0), ["Retry build", "Retry CI"], []),
    ("retry.jobs: only the listed Jenkins jobs",
     card(checks=(jenkins_build("octo-app-ci"), jenkins_build("deploy-production"),
                  workflow("CI"))),
     Policies(retry=RetryPolicy(repos=((REPO, ("octo-app-*",)),))), timedelta(0),
     ["Retry octo-app-ci", "Retry CI"], []),
    ("at most five retries", card(checks=tuple(workflow(f"w{i}") for i in range(7))),
     Policies(), timedelta(0), [f"Retry w{i}" for i in range(5)], []),
    # Approvals: by the environment's policy, while the request is open.
    ("a waiting deploy without a policy", card(deployments=(waiting("staging"),)),
     Policies(), timedelta(0), [], [NO_POLICY]),
    ("a waiting deploy with a policy",
     card(deployments=(waiting("Production"), waiting("staging"))),
     Policies(approvals=(PROD,)), timedelta(minutes=30),
     ["Approve Production", "Reject Production"], ["Production needs 2 approvals", NO_POLICY]),
    ("one approval is all it takes", card(deployments=(waiting("production"),)),
     Policies(approvals=(ApprovalPolicy("production"),)), timedelta(hours=23),
     ["Approve production", "Reject production"], []),
    ("expired by the clock", card(deployments=(waiting("production"),)),
     Policies(approvals=(PROD,)), timedelta(hours=2),
     [], ["⌛ production: the approval request expired"]),
    ("expired by the default span", card(deployments=(waiting("production"),)),
     Policies(approvals=(ApprovalPolicy("production"),), default_expiry=timedelta(hours=3)),
     timedelta(hours=3), [], ["⌛ production: the approval request expired"]),
    ("the card says it expired already",
     card(deployments=(waiting("production", approval=Approval(
         "expired", request=f"{REPO}@{SHA}:production")),)),
     Policies(approvals=(PROD,)), timedelta(0), [], []),
    ("decided", card(deployments=(waiting("production", approval=Approval(
        "approved", request=f"{REPO}@{SHA}:production")),)),
     Policies(approvals=(PROD,)), timedelta(0), [], []),
    ("deployed: nothing to decide", card(deployments=(deployment("production"),)),
     Policies(approvals=(PROD,)), timedelta(0), [], []),
    # The team's own buttons.
    ("about the card, in its status", card(checks=(check("test", FAILED),)),
     Policies(buttons=(custom("Rebuild", statuses=(FAILED,)),
                       custom("Celebrate", statuses=(Status.SUCCESS,)))),
     timedelta(0), ["Rebuild"], []),
    ("once per matching check",
     card(checks=(jenkins_build("build-a"), jenkins_build("build-b"), check("lint", FAILED))),
     Policies(buttons=(custom("No tests", statuses=(FAILED,), checks=("build-*",),
                              templates=("{job}",)),)),
     timedelta(0), ["Retry build-a", "Retry build-b", "No tests: build-a", "No tests: build-b"],
     []),
    ("a workflow run twice: the same buttons for each run, named apart",
     card(checks=(workflow("CI (pull_request)"), workflow("CI (push)"),
                  check("CI (push) / test", FAILED, kind="job",
                        details={"display_name": "CI / test", "run_id": 8}))),
     Policies(buttons=(custom("Logs", statuses=(FAILED,), checks=("CI / test",),
                              templates=("{check}",)),)),
     timedelta(0), ["Retry CI (pull_request)", "Retry CI (push)", "Logs: CI (push) / test"],
     []),
    ("other repos' buttons", card(), Policies(buttons=(custom("Theirs", repos=("other/*",)),)),
     timedelta(0), [], []),
    ("a placeholder the card cannot fill", card(),
     Policies(buttons=(custom("Preview", templates=("pr-{pr}",)),)), timedelta(0), [], []),
    ("a link", card(pull_request=pr(head_sha=NEW_SHA)),
     Policies(buttons=(custom("Preview", kind="link", link="https://pr-{pr}.example.com",
                              templates=("https://pr-{pr}.example.com",)),)),
     timedelta(0), ["Preview"], []),
    ("two buttons with one id show once", card(),
     Policies(buttons=(custom("Go"), custom("Go"))), timedelta(0), ["Go"], []),
]


@pytest.mark.parametrize(("name", "c", "policies", "later", "labels", "notes"), CASES,
                         ids=[case[0] for case in CASES])
def test_which_buttons_a_card_shows(name: str, c: CommitCard, policies: Policies,
                                    later: timedelta, labels: list[str],
                                    notes: list[str]) -> None:
    shown = card_buttons(c, policies, AT + later)
    assert [e.placeholder if isinstance(e, Menu) else e.label for e in shown.elements] \
        == labels
    assert list(shown.notes) == notes


def test_the_merge_button_carries_the_card_and_asks_first() -> None:
    merge, review, _ = card_buttons(card(pull_request=PR), Policies(), AT).elements
    assert merge == Button(
        "card.merge:merge", "Merge", ButtonRef(REPO, SHA, pr=12, method="merge"),
        style="primary", confirm=Confirm("Merge #12?", "Merge #12 into main at 6dcb09b.",
                                         "Merge"))
    assert button_elements([merge, review]) == [
        {"type": "button", "text": {"type": "plain_text", "text": "Merge", "emoji": True},
         "action_id": "card.merge:merge",
         "value": f'{{"r":"{REPO}","s":"{SHA}","n":12,"m":"merge"}}',
         "style": "primary",
         "confirm": {"title": {"type": "plain_text", "text": "Merge #12?"},
                     "text": {"type": "plain_text", "text": "Merge #12 into main at 6dcb09b."},
                     "confirm": {"type": "plain_text", "text": "Merge"},
                     "deny": {"type": "plain_text", "text": "Cancel"}}},
        {"type": "external_select",
         "action_id": f'card.request_review:{{"r":"{REPO}","s":"{SHA}","n":12}}',
         "placeholder": {"type": "plain_text", "text": "Request review"},
         "min_query_length": 0},
    ]


def test_the_merge_button_says_how_the_repository_merges() -> None:
    squash_only = RepoMergeSettings(merge=False, squash=True, rebase=False)
    merge, *_ = card_buttons(card(pull_request=PR), Policies(), AT, squash_only).elements
    assert merge == Button(
        "card.merge:squash", "Squash and merge", ButtonRef(REPO, SHA, pr=12, method="squash"),
        style="primary", confirm=Confirm("Merge #12?",
                                         "Squash and merge #12 into main at 6dcb09b.",
                                         "Squash and merge"))
    shown = card_buttons(card(pull_request=PR), Policies(merge=MergePolicy(("merge",))), AT,
                         squash_only)
    assert [e.placeholder for e in shown.elements if isinstance(e, Menu)] == MENUS
    assert not any(isinstance(e, Button) for e in shown.elements)
    assert shown.notes == ("Merge unavailable: octo-org/octo-app allows only squash merging "
                           "on GitHub, and the bot's config only merge commits "
                           "(`merge.methods`)",)


def test_a_link_button_opens_its_page_and_a_custom_one_confirms() -> None:
    c = card(pull_request=pr(number=7))
    link, job = card_buttons(c, Policies(buttons=(
        custom("Preview", kind="link", link="https://pr-{pr}.example.com",
               templates=("https://pr-{pr}.example.com",)),
        custom("Ship", confirm="Ship it?"))), AT).elements[1:3]
    assert button_elements([link, job]) == [
        {"type": "button", "text": {"type": "plain_text", "text": "Preview", "emoji": True},
         "action_id": "card.link:preview:", "url": "https://pr-7.example.com"},
        {"type": "button", "text": {"type": "plain_text", "text": "Ship", "emoji": True},
         "action_id": "card.custom:ship:", "value": f'{{"r":"{REPO}","s":"{SHA}","b":"ship"}}',
         "confirm": {"title": {"type": "plain_text", "text": "Ship?"},
                     "text": {"type": "plain_text", "text": "Ship it?"},
                     "confirm": {"type": "plain_text", "text": "Go"},
                     "deny": {"type": "plain_text", "text": "Cancel"}}},
    ]


def test_the_product_owners_buttons() -> None:
    approve, changes = decision_buttons(card(), "test")
    assert (approve.label, approve.style, changes.label, changes.style) == (
        "Approve", "primary", "Request changes", None)
    assert approve.action_id == changes.action_id.replace("reject", "approve") \
        == "card.approve:test"


@pytest.mark.parametrize("ref", [
    ButtonRef(REPO, SHA),
    ButtonRef(REPO, SHA, target="CI / test", pr=12, method="squash", button="ship"),
    ButtonRef("ünïcode/répo", SHA, target='quo"te \\ back\nline 😀 \u2028'),
])
def test_a_value_reads_back_as_the_click_reads_it(ref: ButtonRef) -> None:
    value = ButtonValue.decode(ref.encode())
    assert (value.repo, value.sha, value.target, value.pr, value.method, value.button) == (
        ref.repo, ref.sha, ref.target, ref.pr, ref.method, ref.button)
    assert ref.encode() == value.model_dump_json(by_alias=True, exclude_none=True)
