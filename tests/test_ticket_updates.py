"""The issue tracker keeps itself current: a commit naming a ticket comments on it and moves
it when it reaches an environment, once whatever the deliveries, through Jira outages; a
transition Jira cannot make is said once in the card's thread. Real app, signed webhooks,
fake Jira, Slack and GitHub as local HTTP servers."""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from fastapi.testclient import TestClient
from sqlalchemy import select

from devexbot.app import create_app
from devexbot.clients.jira import JiraClient, JiraError
from devexbot.publish.outbox import OutboxPolicy
from devexbot.services import Services, build_services
from devexbot.store import TicketUpdate
from devexbot.store.cards import get_card
from devexbot.tickets.updates import ticket_comment_for_decision
from devexbot.tickets.worker import TicketPolicy
from tests.conftest import DEPLOY_SECRET, GITHUB_SECRET, make_settings
from tests.db_template import migrate
from tests.deploy_sender import DeploySender, load_deploy
from tests.fakes.jira_api import FakeJira, adf
from tests.fakes.slack_api import DEFAULT_TOKEN as BOT_TOKEN
from tests.fakes.slack_api import FakeSlack
from tests.github_sender import GitHubSender, load_fixture
from tests.scenario import HEAD, REPO
from tests.slack_app import DEFAULT_CHANNEL, SIGNING_SECRET, wait_for

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
FAST_TICKETS = TicketPolicy(poll=0.05, lease=5.0, retry_base=0.2, retry_max=0.5)
FAST_OUTBOX = OutboxPolicy(quiet=0.2, max_delay=0.5, retry_base=0.2, retry_max=1.0)
TEST_COMMENT = (f"Deployed to test in 6dcb09b — try it: https://test.octo-app.example.com\n"
                f"{REPO}: ABC-123 Add login page (https://github.com/{REPO}/commit/{HEAD})")


def bot_services(database_url: str, tmp_path: Path, jira: FakeJira, slack: FakeSlack | None,
                 config: str = CONFIG) -> Services:
    (tmp_path / "devexbot.yaml").write_text(config)
    values: dict[str, Any] = {"jira_url": jira.base_url, "jira_user": jira.user,
                              "jira_api_token": jira.token}
    if slack is not None:
        values.update(slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET,
                      slack_api_url=slack.base_url, slack_default_channel=DEFAULT_CHANNEL)
    services = build_services(make_settings(database_url, tmp_path, **values),
                              outbox_policy=FAST_OUTBOX, ticket_policy=FAST_TICKETS)
    assert services.jira is not None
    services.jira.timeout = 1.0
    migrate(services.db.engine)
    return services


class Bot:
    def __init__(self, services: Services, client: TestClient) -> None:
        self.services, self.client = services, client
        self.github = GitHubSender(client, GITHUB_SECRET)
        self.deploys = DeploySender(client, DEPLOY_SECRET)

    def push(self, message: str = "ABC-123 Add login page") -> None:
        payload = copy.deepcopy(load_fixture("push"))
        payload["head_commit"]["message"] = message
        assert self.github.deliver("push", payload).status_code in (200, 202)

    def deploy(self, environment: str, status: str = "success", **fields: Any) -> Any:
        event = {**load_deploy("test.success"), "environment": environment, "status": status,
                 "url": f"https://{environment}.octo-app.example.com", **fields}
        response = self.deploys.send(event)
        assert response.status_code in (200, 202), response.text
        return response

    def updates(self) -> list[TicketUpdate]:
        with self.services.db.read() as session:
            return list(session.scalars(select(TicketUpdate).order_by(TicketUpdate.id)))

    def settled(self) -> bool:
        """Every ticket update is done or failed for good."""
        rows = self.updates()
        return bool(rows) and all(r.state != "pending" for r in rows)


@pytest.fixture
def fake_jira() -> Iterator[FakeJira]:
    with FakeJira() as jira:
        jira.add_issue("ABC-123", "Login page", status="To Do")
        yield jira


@pytest.fixture
def bot(database_url: str, tmp_path: Path, fake_jira: FakeJira) -> Iterator[Bot]:
    """The running bot (its ticket worker on), Slack off."""
    services = bot_services(database_url, tmp_path, fake_jira, None)
    with TestClient(create_app(services=services)) as client:
        yield Bot(services, client)
    services.db.dispose()


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
    wait_for(bot.settled, what="the ticket updates")
    time.sleep(0.3)  # a second pass of the worker finds nothing more to do
    assert fake_jira.comments("ABC-123") == [TEST_COMMENT]
    assert fake_jira.transitions_made("ABC-123") == [("To Do", "In QA")]
    assert [(r.kind, r.environment, r.state, r.attempts) for r in bot.updates()] == [
        ("comment", "test", "done", 1), ("transition", "test", "done", 1)]


def test_environments_without_a_rule_and_failed_deploys_owe_nothing(
        bot: Bot, fake_jira: FakeJira) -> None:
    bot.push()
    bot.deploy("staging")  # no rule for staging
    bot.deploy("production", status="failure")
    bot.deploy("production", status="in_progress", timestamp="2026-11-20T10:20:00Z")
    time.sleep(0.5)
    assert bot.updates() == []
    assert fake_jira.comments("ABC-123") == []


def test_a_ticket_named_after_the_deploy_is_still_updated(bot: Bot, fake_jira: FakeJira) -> None:
    bot.push(message="Add login page")
    bot.deploy("test")
    time.sleep(0.3)
    assert bot.updates() == []
    pull = copy.deepcopy(load_fixture("pull_request.opened"))
    pull["pull_request"]["body"] = "Implements ABC-123."
    bot.github.deliver("pull_request", pull)
    wait_for(bot.settled, what="the ticket updates")
    assert len(fake_jira.comments("ABC-123")) == 1
    assert fake_jira.status("ABC-123") == "In QA"


def test_jira_failing_then_recovering_loses_nothing_and_never_blocks_ingest(
        bot: Bot, fake_jira: FakeJira) -> None:
    fake_jira.fail_next("*", status=503, times=4)
    fake_jira.fail_next("*", status=429, times=1)
    fake_jira.delay = 0.5
    # Jira answers nothing for now, and the bot would wait 30 s for an answer: had ingest
    # waited on Jira, the deliveries would take that long. (A bound of a few seconds, not a
    # speed target: a busy machine answers two deliveries in well under one.)
    assert bot.services.jira is not None
    bot.services.jira.timeout = 30.0
    fake_jira.hold_answers()
    started = time.monotonic()
    bot.push()
    bot.deploy("test")
    answered_in = time.monotonic() - started
    fake_jira.release_answers()
    bot.services.jira.timeout = 1.0
    assert answered_in < 10.0, f"the deliveries waited {answered_in:.1f} s: on Jira?"
    wait_for(bot.settled, what="the updates, once Jira is back")
    assert fake_jira.comments("ABC-123") == [TEST_COMMENT]
    assert fake_jira.status("ABC-123") == "In QA"
    attempts = sum(r.attempts for r in bot.updates())
    assert attempts >= 4  # the failures were retried, from the database
    assert all(r.last_error is None for r in bot.updates())
    faults = [c for c in fake_jira.calls() if c.fault]
    assert sorted(c.status or 0 for c in faults) == [429, 503, 503, 503, 503]


def test_a_comment_whose_answer_was_lost_is_not_made_twice(bot: Bot, fake_jira: FakeJira) -> None:
    # The comment is made, but its answer comes after the client gave up (a timeout).
    fake_jira.slow_next("POST /rest/api/2/issue/ABC-123/comment", seconds=2.0)
    bot.push()
    bot.deploy("test")
    wait_for(bot.settled, what="the ticket updates")
    assert fake_jira.comments("ABC-123") == [TEST_COMMENT]
    comment = next(r for r in bot.updates() if r.kind == "comment")
    assert comment.attempts == 2


def test_an_unreachable_jira_is_retried(database_url: str, tmp_path: Path,
                                        fake_jira: FakeJira) -> None:
    services = bot_services(database_url, tmp_path, fake_jira, None)
    assert services.jira is not None and services.ticket_worker is not None
    services.jira.url = "http://127.0.0.1:9"  # nothing listens there
    client = TestClient(create_app(services=services))  # no lifespan: the test runs the worker
    bot = Bot(services, client)
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
    wait_for(lambda: updater.run_due() == 0 and bot.settled(), timeout=5,
             what="the retries to be due and succeed")
    assert fake_jira.comments("ABC-123") == [TEST_COMMENT]
    services.db.dispose()


def test_a_decision_from_slack_comments_once(bot: Bot, fake_jira: FakeJira) -> None:
    bot.push()
    for _ in range(2):  # a double click
        ticket_comment_for_decision(bot.services, REPO, HEAD, "production", "approved", "U0PO",
                                    None)
    assert ticket_comment_for_decision(bot.services, REPO, HEAD, "staging",
                                       "changes_requested", "Olivia", "The button is hidden") == 1
    assert ticket_comment_for_decision(bot.services, REPO, "f" * 40, "test", "approved",
                                       "U0PO", None) == 0  # no such card
    wait_for(lambda: len(fake_jira.comments("ABC-123")) == 2 and bot.settled(),
             what="the decision comments")
    time.sleep(0.2)
    assert fake_jira.comments("ABC-123") == [
        f"Approved for production by olivia (6dcb09b).\n{REPO}: ABC-123 Add login page "
        f"(https://github.com/{REPO}/commit/{HEAD})",
        f"Changes requested before staging by Olivia (6dcb09b): The button is hidden\n{REPO}: "
        f"ABC-123 Add login page (https://github.com/{REPO}/commit/{HEAD})",
    ]
    with pytest.raises(ValueError, match="decision must be one of"):
        ticket_comment_for_decision(bot.services, REPO, HEAD, "test", "maybe", "U0PO", None)


def test_deployed_to_test_approved_then_production(bot: Bot, fake_jira: FakeJira) -> None:
    """The issue's "done when": exactly the right comments and transitions."""
    bot.push()
    bot.deploy("test")
    wait_for(lambda: fake_jira.status("ABC-123") == "In QA", what="In QA")
    ticket_comment_for_decision(bot.services, REPO, HEAD, "production", "approved", "U0PO",
                                "Works on test")
    bot.deploy("production", status="waiting", timestamp="2026-11-20T10:15:00Z")
    bot.deploy("production", timestamp="2026-11-20T10:20:00Z")
    bot.deploy("production", timestamp="2026-11-20T10:20:00Z")  # delivered twice
    wait_for(lambda: fake_jira.status("ABC-123") == "Done" and bot.settled(), what="Done")
    time.sleep(0.2)
    commit = f"\n{REPO}: ABC-123 Add login page (https://github.com/{REPO}/commit/{HEAD})"
    assert fake_jira.comments("ABC-123") == [
        TEST_COMMENT,
        "Approved for production by olivia (6dcb09b): Works on test" + commit,
        "Deployed to production in 6dcb09b — try it: https://production.octo-app.example.com"
        + commit,
    ]
    assert fake_jira.transitions_made("ABC-123") == [("To Do", "In QA"), ("In QA", "Done")]


def test_a_ticket_already_in_the_status_is_not_moved(bot: Bot, fake_jira: FakeJira) -> None:
    fake_jira.set_status("ABC-123", "In QA")
    bot.push()
    bot.deploy("test")
    wait_for(bot.settled, what="the ticket updates")
    assert fake_jira.transitions_made("ABC-123") == []
    assert len(fake_jira.comments("ABC-123")) == 1


# ---- with Slack: the card shows the ticket; a permanent error is said once ---------------


@pytest.fixture
def slack_bot(database_url: str, tmp_path: Path, fake_jira: FakeJira,
              fake_slack: FakeSlack) -> Iterator[Bot]:
    services = bot_services(database_url, tmp_path, fake_jira, fake_slack)
    with TestClient(create_app(services=services)) as client:
        yield Bot(services, client)
    services.db.dispose()


def card_message(bot: Bot, slack: FakeSlack, having: str) -> Any:
    def found() -> Any:
        with bot.services.db.read() as session:
            card = get_card(session, REPO, HEAD)
            if not (card and card.slack_ts and not card.dirty):
                return None
        message = slack.final_message(card.slack_channel, card.slack_ts)
        return message if having in str(message.blocks) else None

    return wait_for(found, what=f"the card showing {having!r}")


def test_the_card_shows_the_tickets_title_and_status(
        slack_bot: Bot, fake_jira: FakeJira, fake_slack: FakeSlack) -> None:
    slack_bot.push()
    card_message(slack_bot, fake_slack,
                 "🎫 <https://jira.example.com/browse/ABC-123|ABC-123> Login page (To Do)")
    slack_bot.deploy("test")
    # The transition refreshes the cached status, and the card follows.
    card_message(slack_bot, fake_slack, "Login page (In QA)")
    card = slack_bot.client.get(f"/api/cards/{REPO}/{HEAD}").json()
    assert card["tickets"] == [{"key": "ABC-123", "url": "https://jira.example.com/browse/ABC-123",
                                "title": "Login page", "status": "In QA"}]


def test_a_permanent_transition_error_is_reported_once_in_the_thread(
        slack_bot: Bot, fake_jira: FakeJira, fake_slack: FakeSlack) -> None:
    fake_jira.add_issue("ABC-123", "Login page", status="To Do",
                        workflow={"To Do": ["In Progress"]})  # no way to In QA from here
    slack_bot.push()
    slack_bot.deploy("test")
    wait_for(slack_bot.settled, what="the ticket updates")
    message = card_message(slack_bot, fake_slack, "ABC-123")

    def reports() -> list[Any]:
        thread = fake_slack.thread(message.channel, message.ts)
        return [m for m in thread if "move to “In QA”" in str(m.blocks)]

    (report,) = wait_for(reports, what="the report in the thread")
    assert "no transition to “In QA” from “To Do”" in str(report.blocks)
    assert "Start progress → In Progress" in str(report.blocks)
    assert fake_jira.comments("ABC-123") == [TEST_COMMENT]  # the comment still went
    (_, transition) = slack_bot.updates()
    assert (transition.state, transition.attempts) == ("failed_permanent", 1)
    # More news for the card, and the same deploy again: no second report, no retry.
    slack_bot.deploy("test")
    slack_bot.github.deliver("check_run", load_fixture("check_run.completed"))
    card_message(slack_bot, fake_slack, "build")
    time.sleep(1.0)
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


def test_approving_from_slack_comments_on_the_ticket(
    database_url: str, tmp_path: Path, fake_jira: FakeJira, fake_slack: FakeSlack
) -> None:
    """A product owner's Approve click on the card reaches the ticket, once."""
    from tests.slack_signing import SlackSender, block_actions_payload

    # A fixed date: the request must not expire before the click.
    config = CONFIG + "approvals:\n  production:\n    approvers: [U0PO]\n    expires_after: never\n"
    services = bot_services(database_url, tmp_path, fake_jira, fake_slack, config=config)
    with TestClient(create_app(services=services)) as client:
        bot = Bot(services, client)
        bot.push()
        bot.deploy("production", status="waiting", timestamp="2026-11-20T10:15:00Z")
        message = card_message(bot, fake_slack, "card.approve:production")
        payload = block_actions_payload("card.approve:production", message=message,
                                        user_id="U0PO", user_name="olivia")
        clicker = SlackSender(client, SIGNING_SECRET)
        for _ in range(2):  # a double click
            assert clicker.interaction(payload).status_code == 200
        wait_for(lambda: any(c.startswith("Approved for production by olivia")
                             for c in fake_jira.comments("ABC-123")), what="the comment")
        wait_for(bot.settled, what="the ticket updates")
    approved = [c for c in fake_jira.comments("ABC-123") if c.startswith("Approved")]
    assert len(approved) == 1
    services.db.dispose()
