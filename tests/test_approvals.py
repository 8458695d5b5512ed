"""Approve / Reject under approval policies, end to end: signed Slack clicks and form
submissions, the real PyGithub and python-jenkins against the fakes, a local receiver for
callbacks, and the card's own Slack message as the UI."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from devexbot.store import ApprovalDecision
from tests.bot import BotFactory, TestBot
from tests.conftest import DEPLOY_SECRET
from tests.fakes.github_api import FakeGitHub
from tests.fakes.jenkins_api import FakeJenkins
from tests.fakes.slack_api import FakeSlack
from tests.github_sender import load_fixture
from tests.scenario import HEAD, REPO
from tests.slack_signing import block_actions_payload, clicked_again, view_submission_payload
from tests.test_actions import Bot, fakes_settings

RUN_ID = 30433642
PEOPLE = ("people:\n  ana: U0ANA\n  ben: U0BEN\n  carol: U0CAROL\n  dan: U0DAN\n")
TWO_OF_THREE = PEOPLE + """
approvals:
  production:
    approvers: [U0ANA, U0BEN, U0CAROL]
    required: 2
    on_approve: github
"""


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        fake.add_repo(REPO)
        yield fake


@pytest.fixture
def fake_jenkins() -> Iterator[FakeJenkins]:
    with FakeJenkins() as fake:
        yield fake


class Approvals(Bot):
    """The bot, the people deciding, and the deploy tools telling it what waits."""

    def __init__(self, bot: TestBot) -> None:
        super().__init__(bot)
        self.deploy = bot.deploy

    def open_pr(self, labels: tuple[str, ...] = ()) -> None:
        payload = load_fixture("pull_request.opened")
        payload["pull_request"]["labels"] = [{"name": name} for name in labels]
        self.github.deliver("pull_request", payload)

    def waiting_on_github(self, fake: FakeGitHub, *, since: datetime | None = None,
                          reviewers: tuple[str, ...] = ("devexbot",)) -> None:
        """Run 30433642 waits for a reviewer of production, on GitHub and on the card."""
        github_knows_the_commit(fake)
        fake.add_workflow_run(REPO, head_sha=HEAD, run_id=RUN_ID, status="in_progress",
                              jobs={"deploy-production": None})
        fake.add_pending_deployment(REPO, RUN_ID, "production", reviewers=list(reviewers))
        payload = load_fixture("deployment_review.requested")
        when = iso(since or self.bot.clock.now())
        payload["since"] = payload["workflow_run"]["updated_at"] = when
        payload["workflow_job_run"]["created_at"] = payload["workflow_job_run"]["updated_at"] = when
        self.github.deliver("deployment_review", payload)

    def deployed(self, environment: str, status: str, *, at: datetime | None = None,
                 **fields: Any) -> None:
        event = {"repository": REPO, "sha": HEAD, "environment": environment,
                 "status": status, "timestamp": iso(at or self.bot.clock.now()), **fields}
        response = self.deploy.send(event)
        assert response.status_code in (200, 202), response.text

    def submit_form(self, user: str, reason: str) -> Any:
        view = self.slack.wait_until(self.slack.views, what="the form")[-1]
        payload = view_submission_payload(view, {"reason": {"reason": reason}}, user_id=user)
        response = self.clicker.interaction(payload)
        assert response.status_code == 200, response.text
        return response

    def ephemeral(self, user: str, having: str) -> str:
        def found() -> str | None:
            texts = [e.text for e in self.slack.ephemerals(user=user) if having in e.text]
            return texts[-1] if texts else None

        return self.slack.wait_until(found, what=f"an ephemeral reply to {user} with {having!r}")

    def audit(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.client.get("/api/audit").json()["audit"]
        return entries

    def card(self) -> dict[str, Any]:
        card: dict[str, Any] = self.client.get(f"/api/cards/{REPO}/{HEAD}").json()
        return card

    def deployment(self, environment: str) -> dict[str, Any]:
        return next(d for d in self.card()["deployments"] if d["environment"] == environment)


def github_knows_the_commit(fake: FakeGitHub, *, author: str = "ana") -> None:
    """GitHub has HEAD, written by `author` (who wrote a deploy-only card's commit)."""
    with fake.state.lock:
        known = HEAD in fake.state.commits[REPO]
    if not known:
        fake.add_commit(REPO, "Add login page", sha=HEAD, branch="feature/login",
                        author=author)


def start(make_bot: BotFactory, github: FakeGitHub, config: str,
          jenkins: FakeJenkins | None = None) -> Approvals:
    return Approvals(make_bot(config=config, **fakes_settings(github, jenkins)))


@pytest.fixture
def bot(make_bot: BotFactory, fake_github: FakeGitHub) -> Approvals:
    return start(make_bot, fake_github, TWO_OF_THREE)


# --- GitHub Actions: N of M, the author, exactly once ------------------------------------


def test_two_of_three_approve_on_github_once_and_the_author_is_refused(
    bot: Approvals, fake_github: FakeGitHub
) -> None:
    bot.open_pr()
    bot.waiting_on_github(fake_github)
    bot.bot.settle()
    thread = [m for m in bot.slack.messages("C0DEPLOYS", include_replies=True)
              if "waiting for your approval" in m.text]  # the request
    assert "<@U0BEN>" in thread[0].text or "<@U0BEN>" in str(thread[0].blocks)

    _, url = bot.click("card.approve", user="U0ANA")  # ana wrote #12
    assert bot.reply(url) == (
        "Not done: #12 is your own change, and `approvals.production` does not let authors "
        "approve their own changes: someone else has to")

    ben, url = bot.click("card.approve", user="U0BEN")
    assert bot.reply(url) == "Approved production (1 of 2); waiting for 1 more approver."
    bot.card_message(having="approved by <@U0BEN> (1 of 2)")
    assert fake_github.deployment_reviews(REPO) == []

    # A double click: counted once.
    assert bot.clicker.interaction(clicked_again(ben)).status_code == 200
    assert bot.reply(url, count=2) == ("You already approved production (1 of 2); waiting "
                                       "for 1 more approver.")
    assert fake_github.deployment_reviews(REPO) == []

    carol, url = bot.click("card.approve", user="U0CAROL")
    assert bot.reply(url) == ("Approved production (2 of 2): approved on GitHub "
                              f"(run {RUN_ID}).")
    assert bot.clicker.interaction(clicked_again(carol)).status_code == 200  # once more
    assert bot.reply(url, count=2) == ("Not done: you already approved production (with "
                                       "<@U0BEN>)")

    (review,) = fake_github.deployment_reviews(REPO, RUN_ID)
    assert (review.environments, review.state, review.comment, review.by) == (
        ("production",), "approved", "Approved in Slack by ben, carol", "devexbot")
    message = bot.card_message(having="approved by <@U0BEN>, <@U0CAROL>")
    assert "card.approve" not in str(message.blocks)
    assert "approved by <@U0CAROL> (2 of 2)" in str(message.blocks)
    approval = bot.deployment("production")["approval"]
    assert (approval["state"], approval["by"], approval["run_id"]) == (
        "approved", ["U0BEN", "U0CAROL"], RUN_ID)
    results = sorted((e["slack_user"], e["result"]) for e in bot.audit())
    assert results == [("U0ANA", "refused"), ("U0BEN", "ok"), ("U0BEN", "ok"),
                       ("U0CAROL", "ok"), ("U0CAROL", "refused")]
    with bot.services.db.read() as session:
        rows = session.execute(select(ApprovalDecision.slack_user, ApprovalDecision.decision)
                               .order_by(ApprovalDecision.id)).all()
    assert [tuple(r) for r in rows] == [("U0BEN", "approved"), ("U0CAROL", "approved")]


@pytest.mark.sqlite_only
def test_people_who_are_no_approvers_are_told_who_is(bot: Approvals,
                                                     fake_github: FakeGitHub) -> None:
    bot.open_pr()
    bot.waiting_on_github(fake_github)
    _, url = bot.click("card.approve", user="U0DAN")
    assert bot.reply(url) == (
        "Not done: you are not an approver for production: `approvals.production.approvers` "
        "in the bot's config lists `U0ANA`, `U0BEN`, `U0CAROL`")
    assert fake_github.deployment_reviews(REPO) == []


def test_reject_asks_why_in_a_form_and_rejects_on_github_with_the_reason(
    bot: Approvals, fake_github: FakeGitHub, slack: FakeSlack
) -> None:
    bot.open_pr()
    bot.waiting_on_github(fake_github)
    click, _ = bot.click("card.reject", user="U0BEN")
    (opened,) = slack.wait_for_calls("views.open", timeout=3.0)
    assert opened.params["trigger_id"] == click["trigger_id"]  # opened within its 3 s life
    (form,) = slack.views()
    assert form["title"]["text"] == "Reject deployment"

    refused = bot.submit_form("U0BEN", "   ")
    assert refused.json() == {"response_action": "errors",
                              "errors": {"reason": "Say why, so whoever deploys knows what to "
                                                   "change."}}
    bot.submit_form("U0BEN", "The login page 500s on Safari")
    reply = bot.ephemeral("U0BEN", "Rejected production")
    assert reply == ("Rejected production: rejected on GitHub (run 30433642). Reason "
                     "recorded: The login page 500s on Safari")
    (review,) = fake_github.deployment_reviews(REPO, RUN_ID)
    assert (review.state, review.comment) == (
        "rejected", "Rejected in Slack by ben: The login page 500s on Safari")
    message = bot.card_message(having="rejected by <@U0BEN>: The login page 500s on Safari")
    assert "card.reject" not in str(message.blocks)
    deployment = bot.deployment("production")
    assert (deployment["status"], deployment["approval"]["state"]) == ("cancelled", "rejected")
    (entry, *_) = bot.audit()
    assert (entry["action"], entry["result"], entry["environment"]) == (
        "card.reject", "ok", "production")
    assert "The login page 500s on Safari" in entry["detail"]
    with bot.services.db.read() as session:
        row = session.scalar(select(ApprovalDecision))
    assert row is not None and (row.decision, row.reason) == (
        "rejected", "The login page 500s on Safari")

    # Submitting the same form again (a double submit) decides nothing more.
    bot.submit_form("U0BEN", "The login page 500s on Safari")
    bot.ephemeral("U0BEN", "already rejected")
    assert len(fake_github.deployment_reviews(REPO)) == 1


@pytest.mark.sqlite_only
def test_an_expired_request_refuses_clicks_and_the_card_says_so(
    make_bot: BotFactory, slack: FakeSlack, fake_github: FakeGitHub
) -> None:
    config = TWO_OF_THREE + "    expires_after: 1h\n"
    bot = start(make_bot, fake_github, config)
    bot.open_pr()
    bot.waiting_on_github(fake_github, since=bot.bot.clock.now() - timedelta(hours=2))
    message = bot.card_message(having="the approval request expired")
    assert "card.approve" not in str(message.blocks)
    # A button on an older rendering of the card, clicked now.
    value = json.dumps({"r": REPO, "s": HEAD, "t": "production"})
    url = slack.new_response_url(message.channel, user="U0BEN", message_ts=message.ts)
    payload = block_actions_payload("card.approve:production", value, message=None,
                                    channel_id=message.channel, message_ts=message.ts,
                                    user_id="U0BEN", response_url=url)
    assert bot.clicker.interaction(payload).status_code == 200
    assert bot.reply(url).startswith(
        "Not done: this request expired: production waited 2h")
    bot.card_message(having="approval request expired")
    assert bot.deployment("production")["approval"]["state"] == "expired"
    assert fake_github.deployment_reviews(REPO) == []


# --- the scheduler's expiry and the buttons agree ----------------------------------------

# Only the scheduler's old key sets the expiry: the buttons must follow it as the card does.
EXPIRES_BY_SCHEDULE = PEOPLE + """
schedule: {approval_expires_after_hours: 2}
approvals:
  production:
    approvers: [U0BEN]
    on_approve: github
"""


def click_approve_on(bot: Approvals, message: Any, user: str) -> str:
    """Click Approve production on `message` (a rendering that may no longer show it, as a
    Slack client can still hold); returns the response_url the reply goes to."""
    value = json.dumps({"r": REPO, "s": HEAD, "t": "production"})
    url = bot.slack.new_response_url(message.channel, user=user, message_ts=message.ts)
    payload = block_actions_payload("card.approve:production", value, message=None,
                                    channel_id=message.channel, message_ts=message.ts,
                                    user_id=user, response_url=url)
    assert bot.clicker.interaction(payload).status_code == 200
    return url


def web_card_page(bot: Approvals) -> str:
    """The card's page on the web workspace as an approver sees it, with its buttons."""
    from tests.web_client import OUTSIDE, sign_in_with_slack

    with bot.bot.web(client=OUTSIDE) as web:
        sign_in_with_slack(web, "U0BEN", "Ben")
        page = web.get(f"/cards/{REPO}/{HEAD}")
    assert page.status_code == 200, page.text
    return page.text


@pytest.mark.sqlite_only
def test_a_deploy_the_scheduler_calls_expired_has_no_buttons_and_refuses_approval(
    make_bot: BotFactory, fake_github: FakeGitHub
) -> None:
    bot = start(make_bot, fake_github, EXPIRES_BY_SCHEDULE)
    bot.waiting_on_github(fake_github, since=bot.bot.clock.now() - timedelta(hours=3))
    assert "expired approval requests: 1" in bot.bot.run_job("nudges")
    message = bot.card_message(having="expired after 2 h without a decision")
    assert "card.approve" not in str(message.blocks)
    assert "card.reject" not in str(message.blocks)
    assert "card.approve" not in web_card_page(bot)

    url = click_approve_on(bot, message, "U0BEN")
    assert bot.reply(url) == (
        "Not done: this request expired: production waited 3h and requests to "
        "production stay open 2h (`approvals.production.expires_after`). Deploy again "
        "to ask anew")
    assert fake_github.deployment_reviews(REPO) == []
    assert bot.deployment("production")["approval"]["state"] == "expired"
    assert [(e["action"], e["result"]) for e in bot.audit()] == [
        ("card.approve", "refused")]


@pytest.mark.sqlite_only
def test_once_the_card_says_expired_the_buttons_go_and_clicks_are_refused(
    make_bot: BotFactory, fake_github: FakeGitHub
) -> None:
    bot = start(make_bot, fake_github, EXPIRES_BY_SCHEDULE)
    since = bot.bot.clock.now().replace(microsecond=0)
    bot.waiting_on_github(fake_github, since=since)
    before = bot.card_message(having="card.approve")
    assert "card.approve" in web_card_page(bot)

    # The scheduler's clock says three hours later: the card says the request expired,
    # and from then on every rendering and every click agrees with it.
    summary = bot.services.scheduler.specs["nudges"].run(since + timedelta(hours=3))
    assert "expired approval requests: 1" in summary
    after = bot.card_message(having="expired after 2 h without a decision")
    assert "card.approve" not in str(after.blocks)
    assert "card.reject" not in str(after.blocks)
    assert "card.approve" not in web_card_page(bot)

    url = click_approve_on(bot, before, "U0BEN")
    assert bot.reply(url) == (
        "Not done: this request expired: the card says so; requests to production stay "
        "open 2h (`approvals.production.expires_after`). Deploy again to ask anew")
    assert fake_github.deployment_reviews(REPO) == []
    assert bot.deployment("production")["approval"]["state"] == "expired"


# --- generic deploys: a promotion job, or a callback -------------------------------------


@pytest.mark.sqlite_only
def test_a_generic_deploy_waiting_for_approval_starts_the_promotion_job(
    make_bot: BotFactory, slack: FakeSlack, fake_github: FakeGitHub,
    fake_jenkins: FakeJenkins
) -> None:
    fake_jenkins.add_job("promote-prod", parameters={"SHA": "", "ENV": "", "PR": "",
                                                     "TAG": ""})
    config = PEOPLE + """
approvals:
  production:
    approvers: ["*"]
    on_approve:
      jenkins:
        job: promote-prod
        parameters: {SHA: "{sha}", ENV: "{environment}", PR: "{pr}", TAG: "v-{short_sha}-{{x}}"}
"""
    bot = start(make_bot, fake_github, config, jenkins=fake_jenkins)
    bot.open_pr()
    bot.deployed("production", "waiting", deployment_id="deploy-77")
    payload, url = bot.click("card.approve", user="U0BEN")
    reply = bot.reply(url)
    assert reply.startswith("Approved production (1 of 1): Jenkins is starting promote-prod "
                            "(queue item")
    bot.clicker.interaction(clicked_again(payload))  # a double click
    bot.reply(url, count=2)  # the second click's
    (trigger,) = fake_jenkins.triggered("promote-prod")
    assert trigger.parameters == {"SHA": HEAD, "ENV": "production", "PR": "12",
                                  "TAG": "v-6dcb09b-{x}"}
    bot.card_message(having="Jenkins is starting promote-prod")
    assert bot.deployment("production")["status"] == "pending"


class Receiver:
    """A deploy tool's callback endpoint: records what it is sent, answers 200."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.received.append((dict(self.headers.items()), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/approve"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.sqlite_only
def test_a_generic_deploy_is_approved_or_rejected_through_a_signed_callback(
    make_bot: BotFactory, slack: FakeSlack, fake_github: FakeGitHub
) -> None:
    with Receiver() as receiver:
        config = PEOPLE + f"""
approvals:
  staging:
    approvers: [U0BEN]
    on_approve: {{callback: "{receiver.url}"}}
  production:
    approvers: [U0BEN]
    on_approve: {{callback: "{receiver.url}"}}
"""
        bot = start(make_bot, fake_github, config)
        github_knows_the_commit(fake_github)  # ana wrote it; ben approves
        bot.deployed("staging", "waiting", deployment_id="s-1")
        bot.deployed("production", "waiting", deployment_id="p-1")
        payload, url = bot.click("card.approve:staging", user="U0BEN")
        assert bot.reply(url) == "Approved staging (1 of 1): the deploy tool was told."
        bot.clicker.interaction(clicked_again(payload))  # a double click
        bot.reply(url, count=2)  # the second click's

        bot.click("card.reject:production", user="U0BEN")
        bot.submit_form("U0BEN", "Change freeze until Monday")
        bot.ephemeral("U0BEN", "Rejected production")

    assert len(receiver.received) == 2
    decisions = []
    for headers, body in receiver.received:
        expected = hmac.new(DEPLOY_SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Devexbot-Signature-256"] == f"sha256={expected}"
        sent = json.loads(body)
        decisions.append((sent["environment"], sent["decision"], sent["reason"],
                          sent["deployment_id"], sent["by"], sent["sha"]))
    assert decisions == [
        ("staging", "approved", None, "s-1", [{"slack": "U0BEN", "github": "ben"}], HEAD),
        ("production", "rejected", "Change freeze until Monday", "p-1",
         [{"slack": "U0BEN", "github": "ben"}], HEAD),
    ]


# --- GitHub teams through the identity map -----------------------------------------------


@pytest.mark.sqlite_only
def test_github_team_members_approve_through_the_people_map(
    make_bot: BotFactory, slack: FakeSlack, fake_github: FakeGitHub
) -> None:
    fake_github.add_team("octo-org", "sre", members=["ben"])
    slack.add_usergroup("S0REL", "release-managers", ["U0FAY"])
    config = PEOPLE + """
approvals:
  production:
    approvers: ["github-team:octo-org/sre", "@release-managers"]
    required: 2
"""
    bot = start(make_bot, fake_github, config)
    bot.waiting_on_github(fake_github)
    _, url = bot.click("card.approve", user="U0DAN")  # dan is in neither
    assert bot.reply(url).startswith("Not done: you are not an approver for production")
    _, url = bot.click("card.approve", user="U0EVE")  # nobody knows eve's GitHub login
    assert bot.reply(url).endswith("GitHub teams count through the `people:` map, which "
                                   "does not give your GitHub login")
    _, url = bot.click("card.approve", user="U0BEN")  # ben is in octo-org/sre
    assert bot.reply(url) == "Approved production (1 of 2); waiting for 1 more approver."
    _, url = bot.click("card.approve", user="U0FAY")  # fay is a release manager
    assert bot.reply(url) == f"Approved production (2 of 2): approved on GitHub (run {RUN_ID})."
    (review,) = fake_github.deployment_reviews(REPO, RUN_ID)
    assert review.comment == "Approved in Slack by ben, U0FAY"


# --- the product owner tries the change on test ------------------------------------------


PRODUCT_OWNER = PEOPLE + """
approvals:
  test:
    approvers: ["*"]
    notify: pr_author
"""


def dm(bot: Approvals, user: str) -> Any:
    """The direct messages to `user`, once Slack shows every card."""
    bot.bot.settle()
    return bot.slack.messages(f"D{user[1:]}")


@pytest.mark.sqlite_only
def test_the_person_who_asked_gets_a_message_to_try_it_when_it_reaches_test(
    make_bot: BotFactory, slack: FakeSlack, fake_github: FakeGitHub
) -> None:
    bot = start(make_bot, fake_github, PRODUCT_OWNER)
    bot.open_pr()
    start_at = bot.bot.clock.now() - timedelta(minutes=5)
    bot.deployed("test", "in_progress", at=start_at, url="https://test.octo-app.example")
    bot.deployed("test", "success", at=start_at + timedelta(minutes=1),
                 url="https://test.octo-app.example")
    (message,) = dm(bot, "U0ANA")
    text = str(message.blocks)
    assert "https://test.octo-app.example" in text and "#12 Add login page" in text
    buttons = [e["text"]["text"] for b in message.blocks if b["type"] == "actions"
               for e in b["elements"]]
    assert buttons == ["Approve", "Request changes"]
    # More news of the same deployment sends no second message.
    bot.deployed("test", "success", at=start_at + timedelta(minutes=2),
                 url="https://test.octo-app.example")
    bot.card_message()
    assert len(slack.messages("D0ANA")) == 1

    _, url = bot.click("card.approve", user="U0ANA", message=message)
    assert bot.reply(url) == "Approved test (1 of 1): recorded."
    bot.card_message(having="deployed · approved by <@U0ANA>")
    _, url = bot.click("card.approve", user="U0ANA", message=message)
    assert bot.reply(url) == "Not done: you already approved test"


@pytest.mark.sqlite_only
def test_request_changes_from_the_message_asks_why_and_records_it(
    make_bot: BotFactory, slack: FakeSlack, fake_github: FakeGitHub
) -> None:
    bot = start(make_bot, fake_github, PRODUCT_OWNER)
    bot.open_pr(labels=("requested-by:carol",))  # carol asked for it; ana wrote it
    bot.deployed("test", "success", url="https://test.octo-app.example")
    (message,) = dm(bot, "U0CAROL")
    assert slack.messages("D0ANA") == []
    bot.click("card.reject", user="U0CAROL", message=message)
    (form,) = slack.wait_until(slack.views, what="the form")
    assert form["title"]["text"] == "Request changes"
    bot.submit_form("U0CAROL", "The button should say Sign in")
    assert bot.ephemeral("U0CAROL", "Requested changes on test") == (
        "Requested changes on test: recorded. Reason recorded: The button should say "
        "Sign in")
    bot.card_message(having="changes requested by <@U0CAROL>: The button should say "
                            "Sign in")


def test_a_failed_approval_on_github_is_carried_out_when_clicked_again(
    make_bot: BotFactory, slack: FakeSlack, fake_github: FakeGitHub
) -> None:
    config = PEOPLE + "approvals:\n  production:\n    approvers: [U0BEN, U0CAROL]\n"
    bot = start(make_bot, fake_github, config)
    bot.waiting_on_github(fake_github, reviewers=("ben",))  # the bot may not review
    message = bot.card_message(having="card.approve")
    _, url = bot.click("card.approve", user="U0BEN", message=message)
    assert bot.reply(url) == (
        "Not done: your approval counts (1 of 1), but GitHub refused to approve the "
        "deployment: devexbot is not a required reviewer for environment(s): production "
        "(the bot's GitHub account must be a required reviewer of production)")
    fake_github.add_pending_deployment(REPO, RUN_ID, "production", reviewers=["devexbot"])
    fake_github.fail_next("POST */pending_deployments", status=502, times=3)  # retries too
    _, url = bot.click("card.approve", user="U0BEN", message=message)
    assert "(error id `" in bot.reply(url)
    _, url = bot.click("card.approve", user="U0BEN", message=message)
    assert bot.reply(url) == f"Approved production (1 of 1): approved on GitHub (run {RUN_ID})."
    assert [r.state for r in fake_github.deployment_reviews(REPO)] == ["approved"]
    results = [e["result"] for e in reversed(bot.audit())]
    assert results == ["refused", "failed", "ok"]


@pytest.mark.sqlite_only
def test_after_a_failed_decision_another_approver_carries_it_out_without_counting_twice(
    make_bot: BotFactory, slack: FakeSlack, fake_github: FakeGitHub
) -> None:
    config = PEOPLE + "approvals:\n  production:\n    approvers: [U0BEN, U0CAROL]\n"
    bot = start(make_bot, fake_github, config)
    bot.waiting_on_github(fake_github, reviewers=("ben",))  # the bot may not review
    message = bot.card_message(having="card.approve")
    _, url = bot.click("card.approve", user="U0BEN", message=message)
    assert bot.reply(url).startswith("Not done: your approval counts (1 of 1), but GitHub "
                                     "refused to approve the deployment")
    fake_github.add_pending_deployment(REPO, RUN_ID, "production", reviewers=["devexbot"])
    _, url = bot.click("card.approve", user="U0CAROL", message=message)
    assert bot.reply(url) == (f"Carried out now: approved on GitHub (run {RUN_ID}); "
                              "production was already approved by <@U0BEN> (1 of 1).")
    (review,) = fake_github.deployment_reviews(REPO)
    assert review.comment == "Approved in Slack by ben"  # carol's click did not count
    assert bot.deployment("production")["approval"]["by"] == ["U0BEN"]


@pytest.mark.sqlite_only
def test_github_is_not_asked_before_it_says_which_run_waits(
    make_bot: BotFactory, slack: FakeSlack, fake_github: FakeGitHub
) -> None:
    config = PEOPLE + "approvals:\n  production:\n    approvers: [U0BEN]\n"
    bot = start(make_bot, fake_github, config)
    job = load_fixture("workflow_job.waiting")
    job["workflow_job"]["created_at"] = job["workflow_job"]["started_at"] = iso(
        bot.bot.clock.now())  # waiting now, not since the fixture's day
    bot.github.deliver("workflow_job", job)
    _, url = bot.click("card.approve", user="U0BEN")
    assert bot.reply(url) == (
        "Not done: your approval counts (1 of 1), but GitHub has not said yet which "
        "workflow run waits for this deployment (its deployment_review webhook): try "
        "again in a moment")
    bot.waiting_on_github(fake_github)
    bot.card_message(having="waiting for approval by ben")
    _, url = bot.click("card.approve", user="U0BEN")
    assert bot.reply(url) == f"Approved production (1 of 1): approved on GitHub (run {RUN_ID})."
    assert len(fake_github.deployment_reviews(REPO)) == 1


@pytest.mark.sqlite_only
def test_expire_requests_marks_what_nobody_decided_in_time(
    database_url: str, tmp_path: Path
) -> None:
    from correlation import Event, Status
    from devexbot.approvals.card_events import ApprovalEvents
    from devexbot.approvals.expiry import RequestExpiry
    from devexbot.wiring import build_services
    from tests.conftest import make_settings
    from tests.db_template import migrate

    (tmp_path / "devexbot.yaml").write_text("""
approvals:
  production:
    approvers: ["*"]
    expires_after: 1h
  test:
    approvers: ["*"]
    notify: pr_author
    expires_after: 2d
  staging:
    approvers: ["*"]
    expires_after: never
  qa:
    approvers: ["*"]
""")
    services = build_services(make_settings(database_url, tmp_path))
    migrate(services.db.engine)
    expiry = RequestExpiry(services.config, services.db, services.card_loader,
                           ApprovalEvents(services.ingest))
    now = datetime.now(UTC)
    old, fresh = "a" * 40, "b" * 40

    def deploy(sha: str, environment: str, status: Status, at: datetime) -> None:
        event = Event(REPO, sha, "deploy", "deployment", environment, at, status,
                      {"deployment_id": f"{environment}-{sha[:1]}"})
        services.ingest.record(source="deploy", delivery_id=f"{sha}{environment}",
                               event_type="deployment", events=[event])

    deploy(old, "production", Status.WAITING, now - timedelta(hours=2))
    deploy(old, "staging", Status.WAITING, now - timedelta(days=3))  # no expiry
    deploy(old, "qa", Status.WAITING, now - timedelta(hours=25))  # the default: 24 h
    deploy(old, "test", Status.SUCCESS, now - timedelta(days=3))  # nobody tried it
    deploy(fresh, "production", Status.WAITING, now - timedelta(minutes=10))

    expired = expiry.expire(now)
    assert sorted(expired) == [f"{REPO}@{old}:production:deployment-production-a",
                               f"{REPO}@{old}:qa:deployment-qa-a",
                               f"{REPO}@{old}:test:deployment-test-a:signoff"]
    assert expiry.expire(now) == []  # once

    def approval(sha: str, environment: str) -> Any:
        from devexbot.store.cards import card_json, get_card

        with services.db.read() as session:
            card = get_card(session, REPO, sha)
            assert card is not None
            doc = card_json(card)
        line = next(d for d in doc["deployments"] if d["environment"] == environment)
        return (line["status"], (line["approval"] or {}).get("state"))

    assert approval(old, "production") == ("waiting", "expired")
    assert approval(old, "test") == ("success", "expired")
    assert approval(old, "staging") == ("waiting", None)
    assert approval(old, "qa") == ("waiting", "expired")
    assert approval(fresh, "production") == ("waiting", None)
    assert expiry.expire(now + timedelta(hours=1)) == [
        f"{REPO}@{fresh}:production:deployment-production-b"]
    services.db.dispose()


@pytest.mark.sqlite_only
def test_reject_on_the_web_asks_why_in_the_form_and_rejects_as_the_signed_in_user(
    bot: Approvals, fake_github: FakeGitHub
) -> None:
    import re

    from tests.web_client import OUTSIDE, sign_in_with_slack

    bot.open_pr()
    bot.waiting_on_github(fake_github)
    bot.card_message(having="card.reject")
    with bot.bot.web(client=OUTSIDE, follow_redirects=False) as web:
        sign_in_with_slack(web, "U0BEN", "Ben")
        page = web.get(f"/cards/{REPO}/{HEAD}").text
        form = re.search(r'<form method="post" action="([^"]*card\.reject[^"]*)" '
                         r'class="asks-why">(.*?)</form>', page, re.S)
        assert form is not None, "the card page has a Reject form"
        assert 'name="reason" required' in form.group(2)
        action = form.group(1).replace("&amp;", "&")

        unexplained = web.post(action, data={"reason": "  "})
        assert "Say+why" in unexplained.headers["location"]
        assert fake_github.deployment_reviews(REPO) == []

        done = web.post(action, data={"reason": "The login page 500s on Safari"})
        assert done.status_code == 303
        assert "Rejected production" in web.get(done.headers["location"]).text
        too_long = web.post(action, content=b"reason=" + b"x" * 20000,
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert too_long.status_code == 413
        bot.card_message(having="rejected by <@U0BEN>: The login page 500s on Safari")
    (review,) = fake_github.deployment_reviews(REPO, RUN_ID)
    assert (review.state, review.comment) == (  # GitHub's reviewers read where it was decided
        "rejected",
        "Rejected in devexbot's web workspace by ben: The login page 500s on Safari")
    deployment = bot.deployment("production")
    assert (deployment["status"], deployment["approval"]["state"]) == ("cancelled", "rejected")
    (entry, *_) = bot.audit()
    assert (entry["action"], entry["slack_user"], entry["result"]) == (
        "card.reject", "U0BEN", "ok")
    assert "The login page 500s on Safari" in entry["detail"]
