"""GitHub's merge queue on the pull request's card: the queue branch read as a table, the
queue commit's events moved onto the pull request, and a queued pull request delivered as
GitHub sends it (signed), seen in the fake Slack."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from correlation.events import Event
from correlation.fold import fold
from correlation.github import parse_github
from correlation.merge_queue import QueueRef, onto_pull, queue_commits, queue_ref
from correlation.status import Status
from tests.bot import BotFactory, TestBot
from tests.fakes.github_api import FakeGitHub
from tests.fakes.slack_api import FakeSlack
from tests.github_sender import load_fixture
from tests.scenario import HEAD, REPO
from tests.test_actions import PEOPLE, fakes_settings
from tests.test_failure_replies import LOG

PARENT = "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"
NEXT = "4f7e1c0d8b2a9e6f3c5d7a1b0e9f8c2d4a6b8e0f"
QUEUE_SHA = "a3b1c2d4e5f60718293a4b5c6d7e8f9012345678"
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


@pytest.mark.parametrize(("ref", "expected"), [
    (f"refs/heads/gh-readonly-queue/main/pr-12-{PARENT}", QueueRef("main", 12, PARENT)),
    (f"gh-readonly-queue/release/2.x/pr-7-{PARENT.upper()}",
     QueueRef("release/2.x", 7, PARENT)),
    ("gh-readonly-queue/main/pr-12", None),
    (f"feature/gh-readonly-queue/main/pr-12-{PARENT}", None),
    ("main", None),
    (None, None),
])
def test_a_queue_branch_names_the_base_and_the_pull_request(
    ref: object, expected: QueueRef | None
) -> None:
    assert queue_ref(ref) == expected


def parsed(name: str, event: str) -> list[Event]:
    return parse_github(event, load_fixture(name), received_at=NOW)


def test_a_queue_commit_is_known_by_the_branch_its_events_name() -> None:
    assert queue_commits(parsed("check_run.completed.merge_queue.failure", "check_run")) \
        == {(REPO, QUEUE_SHA): 12}
    assert queue_commits(parsed("merge_group.checks_requested", "merge_group")) \
        == {(REPO, QUEUE_SHA): 12}
    assert queue_commits(parsed("check_run.completed.failure", "check_run")) == {}


def pull_card(*deliveries: tuple[str, str]) -> object:
    events = parsed("pull_request.opened", "pull_request")
    for name, event in deliveries:
        events += onto_pull(parsed(name, event), HEAD)
    return fold(events)


QUEUED = ("merge_group.checks_requested", "merge_group")
FAILED = ("check_run.completed.merge_queue.failure", "check_run")
DEQUEUED = ("merge_group.destroyed.dequeued", "merge_group")
MERGED = ("merge_group.destroyed.merged", "merge_group")


@pytest.mark.parametrize(("deliveries", "state", "since"), [
    ([QUEUED], "queued", datetime(2026, 11, 20, 11, tzinfo=UTC)),
    ([QUEUED, FAILED, DEQUEUED], "dequeued", None),
    ([DEQUEUED, FAILED, QUEUED], "dequeued", None),  # in any order
    ([MERGED, QUEUED], "merged", None),
])
def test_the_pull_request_card_says_where_it_stands_in_the_queue(
    deliveries: list[tuple[str, str]], state: str, since: datetime | None
) -> None:
    card = pull_card(*deliveries)
    assert card.sha == HEAD and card.branch == "feature/login"  # the queue's branch stays
    assert card.merge_queue is not None
    assert (card.merge_queue.state, card.merge_queue.since) == (state, since)
    assert card.merge_queue.queue_sha == QUEUE_SHA and card.merge_queue.base == "main"


def test_a_queue_check_is_a_line_of_its_own_beside_the_pull_requests_check() -> None:
    card = pull_card(FAILED, ("check_run.completed", "check_run"))
    names = {c.name: c.status for c in card.checks}
    assert names["merge queue: test"] is Status.FAILURE
    assert card.overall is Status.FAILURE


def test_a_merge_group_on_another_branch_is_refused() -> None:
    payload = load_fixture("merge_group.checks_requested")
    payload["merge_group"]["head_ref"] = "refs/heads/main"
    with pytest.raises(ValueError, match="not a merge queue branch"):
        parse_github("merge_group", payload, received_at=NOW)


def top_level_posts(slack: FakeSlack) -> list[object]:
    return [c for c in slack.calls("chat.postMessage") if c.ok and not c.params.get("thread_ts")]


DM_ON_FAILURE = ("people:\n  ana: U0ANA\nroutes:\n  - repos: [octo-org/*]\n"
                 "    channel: '#deploys'\n    dm_author_on_failure: true\n")


def test_a_pull_request_dequeued_for_a_failed_queue_check_shows_it_on_its_own_card(
    make_bot: BotFactory, slack: FakeSlack
) -> None:
    bot = make_bot(config=DM_ON_FAILURE)
    assert bot.deliver("push", load_fixture("push")).status_code == 202
    assert bot.deliver("pull_request", load_fixture("pull_request.opened")).status_code == 202
    bot.settle()
    for event, name in [("merge_group", "merge_group.checks_requested"),
                        ("check_run", "check_run.completed.merge_queue.failure")]:
        assert bot.deliver(event, load_fixture(name)).status_code == 202
    bot.settle()
    text = str(bot.message().blocks)
    assert "In the merge queue since" in text
    assert "merge queue: test" in text
    replies = bot.thread()
    assert len(replies) == 1 and replies[0].text.startswith("<@U0ANA>")
    assert "merge queue: test" in str(replies[0].blocks)
    assert "2 tests failed" in str(replies[0].blocks)
    dms = [c for c in slack.calls("chat.postMessage") if c.ok and c.params["channel"] == "U0ANA"]
    assert len(dms) == 1 and "merge queue: test" in str(dms[0].params["blocks"])

    assert bot.deliver("merge_group", load_fixture("merge_group.destroyed.dequeued")) \
        .status_code == 202
    bot.settle()
    assert "Removed from the merge queue" in str(bot.message().blocks)
    # The queue commit got no message of its own: one card, and the DM.
    assert [c.params["channel"] for c in top_level_posts(slack)] == ["#deploys", "U0ANA"]
    assert bot.card().slack_ts is not None
    assert len(bot.thread()) == 1  # the failure was told once


def test_a_merged_queue_entry_says_so(bot: TestBot) -> None:
    bot.deliver("pull_request", load_fixture("pull_request.opened"))
    bot.deliver("merge_group", load_fixture("merge_group.checks_requested"))
    bot.deliver("merge_group", load_fixture("merge_group.destroyed.merged"))
    bot.settle()
    assert "Merged by the merge queue" in str(bot.message().blocks)


def test_a_failed_queue_job_is_told_in_the_pull_requests_thread_with_its_log(
    make_bot: BotFactory, fake_github: FakeGitHub, slack: FakeSlack
) -> None:
    bot = make_bot(config=PEOPLE, **fakes_settings(fake_github))
    run_id = fake_github.add_workflow_run(REPO, head_sha=QUEUE_SHA, run_id=30433777,
                                          conclusion="failure")
    job_id = fake_github.add_job(REPO, run_id, "test", conclusion="failure", log=LOG)
    job = load_fixture("workflow_job.completed")
    job["workflow_job"].update(
        id=job_id, run_id=run_id, head_sha=QUEUE_SHA,
        head_branch=f"gh-readonly-queue/main/pr-12-{PARENT}",
        check_run_url=f"https://api.github.com/repos/{REPO}/check-runs/{job_id}")
    for event, payload in [("push", load_fixture("push")),
                           ("pull_request", load_fixture("pull_request.opened")),
                           ("merge_group", load_fixture("merge_group.checks_requested")),
                           ("workflow_job", job)]:
        assert bot.deliver(event, payload).status_code == 202
    bot.settle()
    (reply,) = bot.thread()
    assert reply.text.startswith("<@U0ANA>") and "CI / test" in reply.text
    assert "test_remember_me - AssertionError: expected a cookie" in str(reply.blocks)
    assert len(top_level_posts(slack)) == 1


def test_queue_news_goes_to_the_pull_requests_latest_head(bot: TestBot) -> None:
    bot.deliver("pull_request", load_fixture("pull_request.opened"))
    bot.deliver("pull_request", load_fixture("pull_request.synchronize"))  # a new head: NEXT
    bot.deliver("merge_group", load_fixture("merge_group.checks_requested"))
    bot.settle()
    assert "In the merge queue since" in str(bot.message(NEXT).blocks)
    assert bot.card().doc["merge_queue"] is None


def test_queue_news_of_a_pull_request_not_heard_of_gets_no_message(
    bot: TestBot, slack: FakeSlack
) -> None:
    bot.deliver("merge_group", load_fixture("merge_group.checks_requested"))
    bot.deliver("check_run", load_fixture("check_run.completed.merge_queue.failure"))
    bot.settle()
    assert top_level_posts(slack) == []
    assert bot.card(QUEUE_SHA).doc["merge_queue"]["state"] == "queued"
