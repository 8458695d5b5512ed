"""The issue tracker keeps itself current: a commit naming a ticket comments on it and moves
it when it reaches an environment, once whatever the deliveries, through Jira outages; a
transition Jira cannot make is said once in the card's thread. Real app, signed webhooks,
fake Jira, Slack and GitHub as local HTTP servers."""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import select

from devexbot.clients.jira import JiraClient, JiraError
from devexbot.store import TicketUpdate
from tests.bot import BotFactory, TestBot
from tests.deploy_sender import load_deploy
from tests.fakes.jira_api import FakeJira, adf
from tests.fakes.slack_api import FakeSlack
from tests.github_sender import load_fixture
from tests.scenario import HEAD, REPO
from tests.slack_signing import block_actions_payload, clicked_again

CONFIG = """\
people:
  ana: U0ANA
  olivia: U0PO
environments: [test, staging, production]
tickets:
  projects: [ABC]
  url: https://jira.example.com
  on_deploy:
    test: {comment: true, transition: In QA}
    production: {comment: true, transition: Done}
"""
JIRA_TIMEOUT = 0.2  # seconds: the client's, shortened so that a held answer times out soon
TEST_COMMENT = (f"Deployed to test in 6dcb09b — try it: https://test.octo-app.example.com\n"
                f"{REPO}: ABC-123 Add login page (https://github.com/{REPO}/commit/{HEAD})")


class Bot:
    """The test bot with Jira configured, and what the deploy tools and GitHub tell it."""

    def __init__(self, bot: TestBot) -> None:
        self.bot, self.services, self.client = bot, bot.services, bot.client
        self.github = bot.github
        assert self.services.jira is not None
        self.services.jira.timeout = JIRA_TIMEOUT

    def push(self, message: str = "ABC-123 Add login page") -> None:
        payload = copy.deepcopy(load_fixture("push"))
        payload["head_commit"]["message"] = message
        assert self.github.deliver("push", payload).status_code in (200, 202)

    def deploy(self, environment: str, status: str = "success", **fields: Any) -> Any:
        event = {**load_deploy("test.success"), "environment": environment, "status": status,
                 "url": f"https://{environment}.octo-app.example.com", **fields}
        response = self.bot.deploy.send(event)
        assert response.status_code in (200, 202), response.text
        return response

    def updates(self) -> list[TicketUpdate]:
        with self.services.db.read() as session:
            return list(session.scalars(select(TicketUpdate).order_by(TicketUpdate.id)))

    def settle(self) -> None:
        """Step the clock until every ticket update is done or failed for good (and the
        card, with Slack on, shows it)."""
        self.bot.settle()
        rows = self.updates()
        assert all(r.state != "pending" for r in rows), rows


def start(make_bot: BotFactory, jira: FakeJira, *, slack_on: bool = False,
          config: str = CONFIG) -> Bot:
    return Bot(make_bot(config=config, slack_on=slack_on, jira_url=jira.base_url,
                        jira_user=jira.user, jira_api_token=jira.token))


@pytest.fixture
def fake_jira() -> Iterator[FakeJira]:
    with FakeJira() as jira:
        jira.add_issue("ABC-123", "Login page", status="To Do")
        yield jira


@pytest.fixture
def bot(make_bot: BotFactory, fake_jira: FakeJira) -> Bot:
    """The bot with Jira, Slack off."""
    return start(make_bot, fake_jira)


def test_duplicated_deliveries_comment_and_transition_once(bot: Bot, fake_jira: FakeJira) -> None:
    bot.push()
    for _ in range(3):
        bot.deploy("test")  # the same event: duplicates
    bot.deploy("test", timestamp="2026-11-20T10:12:00Z", deployment_id="312")  # a redeploy
    deployment = load_fixture("deployment_status.success")  # GitHub says so too
    deployment["deployment"]["environment"] = deployment["deployment_status"]["environment"] = \
        "test"
    for _ in range(2):
        bot.github.deliver("deployment_status", deployment)
    bot.push()  # a redelivered push of the same commit
    bot.settle()
    assert bot.bot.flush() == 0  # a second pass of the worker finds nothing more to do
    assert fake_jira.comments("ABC-123") == [TEST_COMMENT]
    assert fake_jira.transitions_made("ABC-123") == [("To Do", "In QA")]
    assert [(r.kind, r.environment, r.state, r.attempts) for r in bot.updates()] == [
        ("comment", "test", "done", 1), ("transition", "test", "done", 1)]


@pytest.mark.sqlite_only
def test_environments_without_a_rule_and_failed_deploys_owe_nothing(
        bot: Bot, fake_jira: FakeJira) -> None:
    bot.push()
    bot.deploy("staging")  # no rule for staging
    bot.deploy("production", status="failure")
    bot.deploy("production", status="in_progress", timestamp="2026-11-20T10:20:00Z")
    bot.settle()
    assert bot.updates() == []
    assert fake_jira.comments("ABC-123") == []


@pytest.mark.sqlite_only
def test_a_ticket_named_after_the_deploy_is_still_updated(bot: Bot, fake_jira: FakeJira) -> None:
    bot.push(message="Add login page")
    bot.deploy("test")
    bot.settle()
    assert bot.updates() == []
    pull = copy.deepcopy(load_fixture("pull_request.opened"))
    pull["pull_request"]["body"] = "Implements ABC-123."
    bot.github.deliver("pull_request", pull)
    bot.settle()
    assert len(fake_jira.comments("ABC-123")) == 1
    assert fake_jira.status("ABC-123") == "In QA"


@pytest.mark.sqlite_only
def test_jira_failing_then_recovering_loses_nothing_and_never_blocks_ingest(
        bot: Bot, fake_jira: FakeJira) -> None:
    fake_jira.fail_next("*", status=503, times=4)
    fake_jira.fail_next("*", status=429, times=1)
    bot.push()
    bot.deploy("test")
    # Jira answers nothing for now, and the bot would wait 30 s for an answer, while the
    # ticket updates' pass calls it: the deliveries meanwhile must not wait on it.
    assert bot.services.jira is not None
    bot.services.jira.timeout = 30.0
    fake_jira.hold_answers()
    updates = threading.Thread(target=bot.bot.flush)
    try:
        updates.start()
        fake_jira.wait_for_received()  # the pass is waiting on Jira
        redeploy = bot.deploy("test", timestamp="2026-11-20T10:12:00Z", deployment_id="312")
        bot.push(message="ABC-123 Add login page (again)")
        assert redeploy.status_code == 202 and updates.is_alive()  # answered, Jira still not
    finally:
        fake_jira.release_answers()
        updates.join()
    bot.services.jira.timeout = JIRA_TIMEOUT
    bot.settle()  # the updates, once Jira is back
    assert fake_jira.comments("ABC-123") == [TEST_COMMENT]
    assert fake_jira.status("ABC-123") == "In QA"
    attempts = sum(r.attempts for r in bot.updates())
    assert attempts >= 4  # the failures were retried, from the database
    assert all(r.last_error is None for r in bot.updates())
    faults = [c for c in fake_jira.calls() if c.fault]
    assert sorted(c.status or 0 for c in faults) == [429, 503, 503, 503, 503]


@pytest.mark.sqlite_only
def test_a_comment_whose_answer_was_lost_is_not_made_twice(bot: Bot, fake_jira: FakeJira) -> None:
    # The comment is made, but its answer comes after the client gave up (a timeout).
    fake_jira.slow_next("POST /rest/api/2/issue/ABC-123/comment", seconds=3 * JIRA_TIMEOUT)
    bot.push()
    bot.deploy("test")
    bot.settle()
    assert fake_jira.comments("ABC-123") == [TEST_COMMENT]
    comment = next(r for r in bot.updates() if r.kind == "comment")
    assert comment.attempts == 2


@pytest.mark.sqlite_only
def test_an_unreachable_jira_is_retried(bot: Bot, fake_jira: FakeJira) -> None:
    services = bot.services
    assert services.jira is not None and services.ticket_worker is not None
    services.jira.url = "http://127.0.0.1:9"  # nothing listens there
    bot.push()
    bot.deploy("test")
    updater = services.ticket_worker.updater
    assert updater.run_due() == 2
    (comment, transition) = bot.updates()
    assert comment.state == transition.state == "pending"
    assert comment.attempts == transition.attempts == 1
    assert "Jira is unreachable" in (comment.last_error or "")
    assert comment.next_attempt_at > comment.created_at
    assert updater.run_due() == 0  # not due yet
    services.jira.url = fake_jira.base_url
    bot.settle()  # the retries come due, and succeed
    assert fake_jira.comments("ABC-123") == [TEST_COMMENT]


def test_a_decision_from_slack_comments_once(bot: Bot, fake_jira: FakeJira) -> None:
    bot.push()
    for _ in range(2):  # a double click
        bot.services.decision_comments.comment(REPO, HEAD, "production", "approved", "U0PO",
                                    None)
    assert bot.services.decision_comments.comment(REPO, HEAD, "staging",
                                       "changes_requested", "Olivia", "The button is hidden") == 1
    assert bot.services.decision_comments.comment(REPO, "f" * 40, "test", "approved",
                                       "U0PO", None) == 0  # no such card
    bot.settle()  # the decision comments
    assert bot.bot.flush() == 0
    assert fake_jira.comments("ABC-123") == [
        f"Approved for production by olivia (6dcb09b).\n{REPO}: ABC-123 Add login page "
        f"(https://github.com/{REPO}/commit/{HEAD})",
        f"Changes requested before staging by Olivia (6dcb09b): The button is hidden\n{REPO}: "
        f"ABC-123 Add login page (https://github.com/{REPO}/commit/{HEAD})",
    ]
    with pytest.raises(ValueError, match="decision must be one of"):
        bot.services.decision_comments.comment(REPO, HEAD, "test", "maybe", "U0PO", None)


@pytest.mark.sqlite_only
def test_deployed_to_test_approved_then_production(bot: Bot, fake_jira: FakeJira) -> None:
    """The issue's "done when": exactly the right comments and transitions."""
    bot.push()
    bot.deploy("test")
    bot.settle()
    assert fake_jira.status("ABC-123") == "In QA"
    bot.services.decision_comments.comment(REPO, HEAD, "production", "approved", "U0PO",
                                "Works on test")
    bot.deploy("production", status="waiting", timestamp="2026-11-20T10:15:00Z")
    bot.deploy("production", timestamp="2026-11-20T10:20:00Z")
    bot.deploy("production", timestamp="2026-11-20T10:20:00Z")  # delivered twice
    bot.settle()
    assert fake_jira.status("ABC-123") == "Done"
    assert bot.bot.flush() == 0
    commit = f"\n{REPO}: ABC-123 Add login page (https://github.com/{REPO}/commit/{HEAD})"
    assert fake_jira.comments("ABC-123") == [
        TEST_COMMENT,
        "Approved for production by olivia (6dcb09b): Works on test" + commit,
        "Deployed to production in 6dcb09b — try it: https://production.octo-app.example.com"
        + commit,
    ]
    assert fake_jira.transitions_made("ABC-123") == [("To Do", "In QA"), ("In QA", "Done")]


@pytest.mark.sqlite_only
def test_a_ticket_already_in_the_status_is_not_moved(bot: Bot, fake_jira: FakeJira) -> None:
    fake_jira.set_status("ABC-123", "In QA")
    bot.push()
    bot.deploy("test")
    bot.settle()
    assert fake_jira.transitions_made("ABC-123") == []
    assert len(fake_jira.comments("ABC-123")) == 1


# ---- with Slack: the card shows the ticket; a permanent error is said once ---------------


@pytest.fixture
def slack_bot(make_bot: BotFactory, fake_jira: FakeJira) -> Bot:
    return start(make_bot, fake_jira, slack_on=True)


def card_message(bot: Bot, having: str) -> Any:
    """The card's message once Slack shows the card as it stands; it has `having`."""
    bot.settle()
    message = bot.bot.message()
    assert having in str(message.blocks), f"no {having!r} in {message.blocks}"
    return message


@pytest.mark.sqlite_only
def test_the_card_shows_the_tickets_title_and_status(slack_bot: Bot, fake_jira: FakeJira) -> None:
    slack_bot.push()
    card_message(slack_bot, "🎫 <https://jira.example.com/browse/ABC-123|ABC-123> Login page "
                            "(To Do)")
    slack_bot.deploy("test")
    # The transition refreshes the cached status, and the card follows.
    card_message(slack_bot, "Login page (In QA)")
    card = slack_bot.client.get(f"/api/cards/{REPO}/{HEAD}").json()
    assert card["tickets"] == [{"key": "ABC-123", "url": "https://jira.example.com/browse/ABC-123",
                                "title": "Login page", "status": "In QA"}]


@pytest.mark.sqlite_only
def test_a_permanent_transition_error_is_reported_once_in_the_thread(
        slack_bot: Bot, fake_jira: FakeJira, slack: FakeSlack) -> None:
    fake_jira.add_issue("ABC-123", "Login page", status="To Do",
                        workflow={"To Do": ["In Progress"]})  # no way to In QA from here
    slack_bot.push()
    slack_bot.deploy("test")
    message = card_message(slack_bot, "ABC-123")

    def reports() -> list[Any]:
        thread = slack.thread(message.channel, message.ts)
        return [m for m in thread if "move to “In QA”" in str(m.blocks)]

    (report,) = reports()  # the report in the thread
    assert "no transition to “In QA” from “To Do”" in str(report.blocks)
    assert "Start progress → In Progress" in str(report.blocks)
    assert fake_jira.comments("ABC-123") == [TEST_COMMENT]  # the comment still went
    (_, transition) = slack_bot.updates()
    assert (transition.state, transition.attempts) == ("failed_permanent", 1)
    # More news for the card, and the same deploy again: no second report, no retry.
    slack_bot.deploy("test")
    slack_bot.github.deliver("check_run", load_fixture("check_run.completed"))
    card_message(slack_bot, "build")
    slack_bot.bot.clock.advance(3600)
    slack_bot.settle()
    assert len(reports()) == 1
    assert len([c for c in fake_jira.calls("POST", "*/transitions")]) == 0


def test_the_jira_client_speaks_to_the_fake(fake_jira: FakeJira) -> None:
    jira = JiraClient(fake_jira.base_url, user=fake_jira.user, token=fake_jira.token)
    issue = jira.issue("ABC-123")
    assert issue is not None and (issue.title, issue.status) == ("Login page", "To Do")
    assert jira.issue("ABC-999") is None
    jira.add_comment("ABC-123", "hello")
    assert jira.comment_bodies("ABC-123") == ["hello"]
    (qa,) = [t for t in jira.transitions("ABC-123") if t.to == "In QA"]
    assert qa.name == "Ready for QA"
    jira.transition("ABC-123", qa.id)
    assert fake_jira.status("ABC-123") == "In QA"
    with pytest.raises(JiraError) as refused:
        jira.transition("ABC-123", "424242")
    assert refused.value.permanent and "is not valid for this issue" in refused.value.message
    with pytest.raises(JiraError) as denied:
        JiraClient(fake_jira.base_url, user=fake_jira.user, token="wrong").issue("ABC-123")
    assert denied.value.status == 401 and not denied.value.permanent
    pat = JiraClient(fake_jira.base_url, user=None, token=fake_jira.pat)
    assert pat.issue("ABC-123") is not None  # Data Center's bearer personal access token
    # v3 speaks Atlassian Document Format, and the fake reads it as text.
    v3 = requests.post(f"{fake_jira.base_url}/rest/api/3/issue/ABC-123/comment",
                       json={"body": adf("in v3")}, auth=(fake_jira.user, fake_jira.token),
                       timeout=5)
    assert v3.status_code == 201 and v3.json()["body"]["type"] == "doc"
    assert fake_jira.comments("ABC-123") == ["hello", "in v3"]
    fake_jira.fail_next("GET", status=502)
    with pytest.raises(JiraError) as down:
        jira.issue("ABC-123")
    assert down.value.status == 502 and not down.value.permanent


@pytest.mark.sqlite_only
def test_approving_from_slack_comments_on_the_ticket(
    make_bot: BotFactory, fake_jira: FakeJira, slack: FakeSlack
) -> None:
    """A product owner's Approve click on the card reaches the ticket, once."""
    # A fixed date: the request must not expire before the click.
    config = CONFIG + "approvals:\n  production:\n    approvers: [U0PO]\n    expires_after: never\n"
    bot = start(make_bot, fake_jira, slack_on=True, config=config)
    bot.push()
    bot.deploy("production", status="waiting", timestamp="2026-11-20T10:15:00Z")
    message = card_message(bot, "card.approve:production")
    url = slack.new_response_url(message.channel, user="U0PO", message_ts=message.ts)
    payload = block_actions_payload("card.approve:production", message=message,
                                    user_id="U0PO", user_name="olivia", response_url=url)
    for click in (payload, clicked_again(payload)):  # a double click
        assert bot.bot.slack_sender.interaction(click).status_code == 200
    slack.wait_for_response_url_posts(url, 2)  # both clicks answered
    bot.settle()
    approved = [c for c in fake_jira.comments("ABC-123") if c.startswith("Approved")]
    assert len(approved) == 1
