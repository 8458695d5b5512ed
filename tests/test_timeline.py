"""A card's history in people's words: which events are headlines and which bookkeeping the
page folds away, and what each says (`correlation.timeline`, a table)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from correlation.events import Event
from correlation.status import Status
from correlation.timeline import moments

AT = datetime(2026, 11, 20, 10, 5, tzinfo=UTC)
S = Status


def event(kind: str, name: str, status: Status | None = None, source: str = "github",
          at: datetime = AT, **data: Any) -> Event:
    return Event(repo="octo-org/octo-app", sha="6" * 40, source=source, kind=kind, name=name,
                 at=at, status=status, data=data)


@pytest.mark.parametrize(("given", "headline", "what"), [
    # What a person cares about.
    (event("commit", "message:push", value="Add login page\n\nBody"), True,
     "pushed *Add login page*"),
    (event("pr", "12", S.PENDING, number=12, title="Add login page", state="open"), True,
     "pull request *#12 Add login page* is open"),
    (event("pr", "12", S.PENDING, number=12, title="WIP", state="open", draft=True), True,
     "pull request *#12 WIP* is open as a draft"),
    (event("pr", "12", S.SUCCESS, number=12, title="Add login page", state="merged"), True,
     "pull request *#12 Add login page* merged"),
    (event("merged_pr", "12", S.SUCCESS, number=12, title="Add login page"), True,
     "merged from pull request *#12 Add login page*"),
    (event("pr_ready", "12", number=12), True, "pull request *#12* ready for review"),
    (event("review", "12:ben", number=12, login="ben", state="approved"), True,
     "ben approved pull request #12"),
    (event("review", "12:ben", number=12, login="ben", state="changes_requested"), True,
     "ben requested changes on pull request #12"),
    (event("job", "CI / test", S.RUNNING, display_name="CI / test"), True,
     "job *CI / test* started"),
    (event("check", "build", S.SUCCESS), True, "check *build* passed"),
    # A workflow that runs for a push and for a pull request: which run it is.
    (event("workflow", "161335#901", S.FAILURE, display_name="CI", trigger="pull_request"),
     True, "workflow *CI (pull_request)* failed"),
    (event("build", "octo-app/feature%2Flogin", S.FAILURE, source="jenkins",
           display_name="octo-app/feature/login"), True, "build *octo-app/feature/login* failed"),
    (event("job", "Deploy / deploy-test", S.WAITING), True,
     "job *Deploy / deploy-test* waiting for approval"),
    (event("deployment", "staging", S.RUNNING), True, "deploy to *staging* started"),
    (event("deployment", "staging", S.SUCCESS), True, "deployed to *staging*"),
    (event("deployment", "production", S.FAILURE, source="deploy"), True,
     "deploy to *production* failed"),
    (event("approval", "test", S.WAITING, state="waiting", reviewers=["carla"]), True,
     "approval to deploy to *test* requested from carla"),
    (event("approval", "test", S.FAILURE, state="expired"), True,
     "approval request for *test* expired"),
    (event("stamp", "merge::x", source="devexbot", text="Merged by <@U0BEN>"), True,
     "Merged by <@U0BEN>"),
    # Bookkeeping.
    (event("commit", "branch:workflow_job", value="main"), False,
     "branch from workflow_job: main"),
    (event("commit", "author:push", value={"name": "Ana Lima", "login": "ana"}), False,
     "author from push: Ana Lima · ana"),
    (event("job", "CI / test", S.PENDING), False, "job *CI / test* queued"),
    (event("deployment", "test", S.PENDING), False, "deploy to *test* queued"),
    (event("log", "jenkins:octo-app/main", source="devexbot"), False,
     "log excerpt of *jenkins:octo-app/main* read"),
    # User text stays text.
    (event("check", "<!channel> *x*", S.FAILURE), True, "check *&lt;!channel&gt; *x** failed"),
])
def test_what_an_event_says_and_whether_it_is_a_headline(given: Event, headline: bool,
                                                         what: str) -> None:
    (moment,) = moments([given])
    assert (moment.headline, moment.what) == (headline, what)


def test_a_slot_saying_again_what_it_said_is_bookkeeping() -> None:
    later = AT + timedelta(seconds=30)
    said = moments([
        event("pr", "12", S.PENDING, number=12, title="Add login page", state="open"),
        event("job", "CI / test", S.RUNNING),
        event("pr", "12", S.PENDING, number=12, title="Add login page", state="open",
              at=later),  # labelled, edited: still open
        event("job", "CI / test", S.RUNNING, at=later),
        event("job", "CI / test", S.SUCCESS, at=later),
    ])
    assert [m.headline for m in said] == [True, True, False, False, True]


def test_a_decision_names_who_made_it_and_its_approvers_fold() -> None:
    said = moments([
        event("approval", "test", S.SUCCESS, state="approved", comment="Ready for QA."),
        event("approver", "test:carla", S.SUCCESS, environment="test", login="carla",
              state="approved"),
        event("approval", "production", S.SUCCESS, source="devexbot", state="approved"),
        event("approver", "production:U0BEN", S.SUCCESS, source="devexbot",
              environment="production", login="U0BEN", state="approved"),
    ])
    assert [(m.headline, m.what) for m in said] == [
        (True, "deploy to *test* approved by carla"),
        (False, "carla approved the deploy to test"),
        (True, "deploy to *production* approved by <@U0BEN>"),  # the page shows the name
        (False, "<@U0BEN> approved the deploy to production"),
    ]


def test_only_outcomes_carry_a_status() -> None:
    said = moments([
        event("pr", "12", S.PENDING, number=12, title="t", state="open"),
        event("job", "CI / test", S.FAILURE),
        event("deployment", "test", S.WAITING),
        event("commit", "branch:push", value="main"),
    ])
    assert [m.status for m in said] == [None, S.FAILURE, S.WAITING, None]
