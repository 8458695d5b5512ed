"""Whether a pull request may be merged from a card, decided from plain facts as a table:
first the pull request itself, then (only if it may still merge) its commit's checks."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from correlation.merge_verdict import CheckFacts, PullFacts, checks_refusal, pull_refusal
from correlation.policies import MergePolicy

SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
MOVED = "4f7e1c0d8b2a9e6f3c5d7a1b0e9f8c2d4a6b8e0f"
OPEN = PullFacts(number=12, state="open", head_sha=SHA, mergeable=True,
                 mergeable_state="clean")


def pull(**fields: Any) -> PullFacts:
    return replace(OPEN, **fields)


@pytest.mark.parametrize(("facts", "refusal"), [
    (OPEN, None),
    (pull(mergeable=None, mergeable_state="unknown"), None),  # not computed: GitHub decides
    (pull(mergeable_state="unstable"), None),  # failing checks that are not required
    (pull(merged=True, merged_by="ben", state="closed"), "#12 was already merged by ben"),
    (pull(merged=True, state="closed"), "#12 was already merged by someone"),
    (pull(state="closed"), "#12 is closed"),
    (pull(draft=True), "#12 is a draft"),
    (pull(head_sha=MOVED), "#12's head moved to 4f7e1c0: merge from that commit's card"),
    (pull(mergeable=False, mergeable_state="dirty"),
     "GitHub says #12 cannot be merged (dirty: conflicts or rules)"),
    (pull(mergeable_state="blocked"),
     "#12 is blocked by branch protection (required reviews or checks)"),
    # The first reason wins: merged before closed, closed before draft, draft before moved.
    (pull(merged=True, merged_by="ben", state="closed", draft=True),
     "#12 was already merged by ben"),
    (pull(state="closed", draft=True, head_sha=MOVED), "#12 is closed"),
    (pull(draft=True, head_sha=MOVED, mergeable=False), "#12 is a draft"),
    (pull(head_sha=MOVED, mergeable_state="blocked"),
     "#12's head moved to 4f7e1c0: merge from that commit's card"),
])
def test_whether_the_pull_request_may_still_merge(facts: PullFacts, refusal: str | None) -> None:
    assert pull_refusal(facts, SHA) == refusal


GREEN_ONLY = MergePolicy(require_green=True)
ANYWAY = MergePolicy(require_green=False)
RESULTS = (("build", "success"), ("lint", "neutral"), ("e2e", "skipped"))


@pytest.mark.parametrize(("checks", "policy", "refusal"), [
    (CheckFacts(RESULTS), GREEN_ONLY, None),
    (CheckFacts(()), GREEN_ONLY, None),
    (CheckFacts((*RESULTS, ("test", "failure"))), GREEN_ONLY, "1 check not green: test"),
    (CheckFacts((("b", "pending"), ("a", "in_progress"), ("c", "failure"))), GREEN_ONLY,
     "3 checks not green: a, b, c"),
    (CheckFacts(tuple((f"c{i}", "failure") for i in range(7))), GREEN_ONLY,
     "7 checks not green: c0, c1, c2, c3, c4"),
    (CheckFacts((*RESULTS, ("test", "failure"))), ANYWAY, None),
    # Branch protection names what must be green, whatever the policy says of the rest.
    (CheckFacts((*RESULTS, ("test", "failure")), required=("build",)), GREEN_ONLY, None),
    (CheckFacts(RESULTS, required=("build", "security-scan")), ANYWAY,
     "required checks are not green: security-scan"),
    (CheckFacts((("z", "failure"), ("build", "success")), required=("z", "a")), GREEN_ONLY,
     "required checks are not green: a, z"),
    (CheckFacts(RESULTS, required=()), GREEN_ONLY, None),
    # A later result of the same name (a check run after a status) is the one that counts.
    (CheckFacts((("ci", "failure"), ("ci", "success"))), GREEN_ONLY, None),
])
def test_whether_the_checks_allow_it(checks: CheckFacts, policy: MergePolicy,
                                     refusal: str | None) -> None:
    assert checks_refusal(checks, policy) == refusal
