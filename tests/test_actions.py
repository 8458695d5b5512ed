"""Merge and Retry from the card: signed Slack clicks, real PyGithub and python-jenkins
against local fakes of GitHub and Jenkins, the card's own Slack message as the UI."""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from devexbot.app import create_app
from devexbot.services import Services
from tests.conftest import GITHUB_SECRET, JENKINS_TOKEN
from tests.fakes.github_api import FakeGitHub
from tests.fakes.jenkins_api import FakeJenkins
from tests.fakes.slack_api import FakeSlack
from tests.github_sender import GitHubSender, load_fixture
from tests.jenkins_sender import JenkinsSender
from tests.scenario import HEAD, REPO
from tests.slack_app import SIGNING_SECRET, slack_services, wait_for
from tests.slack_signing import SlackSender, block_actions_payload

PEOPLE = "people:\n  ana: U0ANA\n  ben: U0BEN\n"


def make_bot(database_url: str, tmp_path: Path, slack: FakeSlack, github: FakeGitHub,
             jenkins: FakeJenkins | None = None, config: str = PEOPLE) -> Services:
    extra: dict[str, Any] = {"github_token": github.token, "github_api_url": github.base_url}
    if jenkins is not None:
        extra.update(jenkins_url=jenkins.base_url, jenkins_user=jenkins.user,
                     jenkins_api_token=jenkins.token, jenkins_webhook_token=JENKINS_TOKEN)
    return slack_services(database_url, tmp_path, slack.base_url, config=config, **extra)


class Bot:
    """The running bot and the people clicking its buttons."""

    def __init__(self, services: Services, client: TestClient, slack: FakeSlack) -> None:
        self.services, self.client, self.slack = services, client, slack
        self.github = GitHubSender(client, GITHUB_SECRET)
        self.clicker = SlackSender(client, SIGNING_SECRET)

    def card_message(self, sha: str = HEAD, *, having: str = "") -> Any:
        def posted() -> Any:
            from devexbot.store.cards import get_card

            with self.services.db.read() as session:
                card = get_card(session, REPO, sha)
                if not (card and card.slack_ts and not card.dirty):
                    return None
                message = self.slack.final_message(card.slack_channel, card.slack_ts)
            return message if having in str(message.blocks) else None

        return wait_for(posted, what=f"the card message with {having!r}")

    def click(self, action_prefix: str, *, user: str = "U0ANA", sha: str = HEAD,
              message: Any = None) -> tuple[dict[str, Any], str]:
        """Click the first button whose action_id starts with the prefix; returns the
        payload sent and the response_url the reply goes to."""
        message = message or self.card_message(sha, having=action_prefix)
        action_id = next(
            e["action_id"] for b in message.blocks if b["type"] == "actions"
            for e in b["elements"] if e["action_id"].startswith(action_prefix)
        )
        url = self.slack.new_response_url(message.channel, user=user, message_ts=message.ts)
        payload = block_actions_payload(action_id, message=message, user_id=user,
                                        response_url=url)
        response = self.clicker.interaction(payload)
        assert response.status_code == 200, response.text
        return payload, url

    def reply(self, url: str) -> str:
        posts = wait_for(lambda: self.slack.response_url_posts(url), what="the reply")
        return str(posts[-1]["text"])


@pytest.fixture
def bot(database_url: str, tmp_path: Path, fake_slack: FakeSlack,
        fake_github: FakeGitHub) -> Iterator[Bot]:
    services = make_bot(database_url, tmp_path, fake_slack, fake_github)
    with TestClient(create_app(services=services)) as client:
        yield Bot(services, client, fake_slack)
    services.db.dispose()


def open_pr(bot: Bot, github: FakeGitHub, **pull: Any) -> None:
    """PR #12 at HEAD, green, on GitHub and on the card."""
    github.add_pull(REPO, head="feature/login", head_sha=HEAD, number=12,
                    title="Add login page", **pull)
    github.add_check_run(REPO, HEAD, "build", conclusion="success")
    bot.github.deliver("pull_request", load_fixture("pull_request.opened"))
    bot.github.deliver("check_run", load_fixture("check_run.completed"))


def test_merge_from_the_card(bot: Bot, fake_github: FakeGitHub) -> None:
    open_pr(bot, fake_github)
    _, url = bot.click("card.merge")
    assert bot.reply(url).startswith("Merged #12 into main (merge")
    (merge,) = fake_github.merges(REPO)
    assert (merge.number, merge.sha, merge.merge_method) == (12, HEAD, "merge")
    stamped = bot.card_message(having="Merged by <@U0ANA>")
    assert not any(b["type"] == "actions" and "card.merge" in str(b) for b in stamped.blocks)
    (entry, *_) = bot.client.get("/api/audit").json()["audit"]
    assert (entry["action"], entry["result"], entry["slack_user"], entry["github_login"]) == (
        "card.merge", "ok", "U0ANA", "ana")
    assert entry["permalink"] and entry["sha"] == HEAD


def test_the_same_click_twice_merges_once(bot: Bot, fake_github: FakeGitHub) -> None:
    open_pr(bot, fake_github)
    payload, url = bot.click("card.merge")
    assert bot.clicker.interaction(payload).status_code == 200  # Slack's retry, or a double click
    wait_for(lambda: len(bot.slack.response_url_posts(url)) == 2, what="both replies")
    replies = sorted(p["text"] for p in bot.slack.response_url_posts(url))
    assert replies[0].startswith("Merged #12") and "already done or under way" in replies[1]
    assert len(fake_github.merges(REPO)) == 1
    results = sorted(e["result"] for e in bot.client.get("/api/audit").json()["audit"])
    assert results == ["duplicate", "ok"]


def test_a_head_that_moved_is_refused_and_nothing_merges(bot: Bot,
                                                         fake_github: FakeGitHub) -> None:
    open_pr(bot, fake_github)
    message = bot.card_message(having="card.merge")
    new_head = fake_github.push(REPO, "feature/login", "More work")
    _, url = bot.click("card.merge", message=message)
    assert bot.reply(url) == (f"Not done: #12's head moved to {new_head[:7]}: merge from that "
                              "commit's card")
    assert fake_github.merges(REPO) == []


def test_githubs_own_409_and_405_become_clear_replies(bot: Bot,
                                                      fake_github: FakeGitHub) -> None:
    open_pr(bot, fake_github)
    message = bot.card_message(having="card.merge")
    fake_github.fail_next("PUT */merge", status=409,
                          message="Head branch was modified. Review and try the merge again.")
    _, url = bot.click("card.merge", message=message)
    assert "head moved while merging" in bot.reply(url)
    fake_github.fail_next("PUT */merge", status=405, message="Pull Request is not mergeable")
    _, url = bot.click("card.merge", message=message)  # the failed claim may be tried again
    assert bot.reply(url) == ("Not done: GitHub says #12 cannot be merged: Pull Request is not "
                              "mergeable")
    assert fake_github.merges(REPO) == []


def test_not_mergeable_is_refused_before_merging(bot: Bot, fake_github: FakeGitHub) -> None:
    open_pr(bot, fake_github, mergeable=False)
    _, url = bot.click("card.merge")
    assert "cannot be merged (dirty" in bot.reply(url)
    assert [c for c in fake_github.calls("PUT")] == []


def test_required_checks_are_rechecked_at_click_time(bot: Bot, fake_github: FakeGitHub) -> None:
    fake_github.protect_branch(REPO, "main", ["build", "security-scan"])
    open_pr(bot, fake_github, mergeable_state="clean")
    _, url = bot.click("card.merge")
    assert bot.reply(url) == "Not done: required checks are not green: security-scan"


def test_people_the_config_does_not_allow_are_refused_and_audited(
    database_url: str, tmp_path: Path, fake_slack: FakeSlack, fake_github: FakeGitHub
) -> None:
    config = PEOPLE + "permissions:\n  merge: [U0BEN]\n"
    services = make_bot(database_url, tmp_path, fake_slack, fake_github, config=config)
    with TestClient(create_app(services=services)) as client:
        bot = Bot(services, client, fake_slack)
        open_pr(bot, fake_github)
        _, url = bot.click("card.merge", user="U0ANA")
        assert bot.reply(url).startswith("Not done: you may not merge on octo-org/octo-app")
        (entry,) = client.get("/api/audit").json()["audit"]
        assert (entry["result"], entry["slack_user"]) == ("refused", "U0ANA")
    assert fake_github.merges(REPO) == []
    services.db.dispose()


def test_the_click_is_acknowledged_before_a_slow_github_answers(
    bot: Bot, fake_github: FakeGitHub
) -> None:
    open_pr(bot, fake_github)
    message = bot.card_message(having="card.merge")
    fake_github.delay = 5.0  # every GitHub answer now takes 5 s
    sent = time.time()
    _, url = bot.click("card.merge", message=message)
    acked = time.time()
    first = wait_for(lambda: fake_github.calls(), what="the first GitHub call")[0]
    # Measured by the fakes' clocks: Slack had its answer before GitHub gave its first.
    assert first.received_at >= sent - 0.5
    assert acked < first.received_at + fake_github.delay
    print(f"\nack latency while GitHub takes {fake_github.delay:.0f}s per call: "
          f"{(acked - sent) * 1000:.0f} ms")
    fake_github.delay = 0
    assert bot.reply(url).startswith("Merged #12")


def test_a_draft_or_failing_pr_says_why_there_is_no_merge_button(
    bot: Bot, fake_github: FakeGitHub
) -> None:
    bot.github.deliver("pull_request", load_fixture("pull_request.opened"))
    bot.github.deliver("check_run", load_fixture("check_run.completed.failure"))
    message = bot.card_message(having="Merge unavailable: 1 check failing")
    assert "card.merge" not in str(message.blocks)


def test_retry_a_failed_jenkins_build_with_its_parameters(
    database_url: str, tmp_path: Path, fake_slack: FakeSlack, fake_github: FakeGitHub,
    fake_jenkins: FakeJenkins
) -> None:
    fake_jenkins.add_job("octo-app-integration",
                         parameters={"TARGET_ENV": "dev", "BROWSER": "chrome", "GIT_REF": ""})
    services = make_bot(database_url, tmp_path, fake_slack, fake_github, fake_jenkins)
    with TestClient(create_app(services=services)) as client:
        bot = Bot(services, client, fake_slack)
        failed = _jenkins_failure()
        JenkinsSender(client, JENKINS_TOKEN).notify(failed)
        sha = failed["build"]["scm"]["commit"]
        _, url = bot.click("card.retry", sha=sha)
        assert bot.reply(url).startswith("Re-running octo-app-integration #412 with "
                                         "BROWSER=firefox, GIT_REF=feature/login, TARGET_ENV=test")
        (trigger,) = fake_jenkins.triggered("octo-app-integration")
        assert trigger.parameters == {"TARGET_ENV": "test", "BROWSER": "firefox",
                                      "GIT_REF": "feature/login"}
        bot.card_message(sha, having="retried by <@U0ANA>")
        # The new build's news replaces the stamp.
        started = copy.deepcopy(failed)
        started["build"].update(number=413, phase="STARTED", status=None,
                                timestamp=failed["build"]["timestamp"] + 600_000)
        JenkinsSender(client, JENKINS_TOKEN).notify(started)
        wait_for(lambda: "retried by" not in str(bot.card_message(sha).blocks),
                 what="the stamp to go")
    services.db.dispose()


def _jenkins_failure() -> dict[str, Any]:
    from tests.jenkins_sender import load_jenkins

    payload = copy.deepcopy(load_jenkins("freestyle.completed.ssh"))
    payload["build"].update(status="FAILURE")
    return payload


def test_retry_a_failed_actions_run_reruns_its_failed_jobs(
    bot: Bot, fake_github: FakeGitHub
) -> None:
    run_id = 30433642
    fake_github.add_workflow_run(REPO, head_sha=HEAD, run_id=run_id, conclusion="failure",
                                 jobs={"test": "failure", "lint": "success"})
    bot.github.deliver("workflow_run", load_fixture("workflow_run.completed"))
    _, url = bot.click("card.retry")
    assert bot.reply(url).startswith("Re-running the failed jobs of CI (attempt 2)")
    assert len(fake_github.reruns(REPO, run_id)) == 1
    bot.card_message(having="retried by <@U0ANA> (attempt 2)")


def test_the_web_card_page_lists_the_cards_audit_entries(bot: Bot,
                                                          fake_github: FakeGitHub) -> None:
    from tests.web_client import web_client

    open_pr(bot, fake_github)
    _, url = bot.click("card.merge")
    bot.reply(url)
    bot.card_message(having="Merged by")
    with web_client(bot.services) as web:
        page = web.get(f"/cards/{REPO}/{HEAD}")
    assert page.status_code == 200
    audit = page.text[page.text.index("Audit"):]
    assert "U0ANA (ana)" in audit and "merge" in audit and "Merged #12 into main" in audit


def test_a_web_click_acts_as_the_signed_in_slack_user(bot: Bot,
                                                      fake_github: FakeGitHub) -> None:
    from tests.web_client import OUTSIDE, sign_in_with_slack, web_client

    open_pr(bot, fake_github)
    bot.card_message(having="card.merge")
    with web_client(bot.services, client=OUTSIDE, follow_redirects=False) as web:
        sign_in_with_slack(web, "U0ANA", "Ana")
        page = web.get(f"/cards/{REPO}/{HEAD}")
        assert page.status_code == 200, (page.status_code, page.headers, page.text[:300])
        form = page.text[page.text.index('<form method="post" action="/cards/'):]
        action = form[len('<form method="post" action="'):form.index('">')]
        action = action.replace("&amp;", "&")
        assert "card.merge" in action
        refused = web.post(action, headers={"Origin": "https://evil.example.com"})
        assert refused.status_code == 403 and fake_github.merges(REPO) == []
        done = web.post(action)
        assert done.status_code == 303
        assert "Merged+%2312+into+main" in done.headers["location"]
        assert "Merged #12 into main" in web.get(done.headers["location"]).text
    (merge,) = fake_github.merges(REPO)
    assert merge.sha == HEAD
    (entry, *_) = bot.client.get("/api/audit").json()["audit"]
    assert (entry["slack_user"], entry["result"]) == ("U0ANA", "ok")


def test_a_web_click_without_a_slack_sign_in_is_asked_to_sign_in(
    bot: Bot, fake_github: FakeGitHub
) -> None:
    from tests.web_client import web_client

    open_pr(bot, fake_github)
    bot.card_message(having="card.merge")
    with web_client(bot.services, follow_redirects=False) as web:  # local: no identity
        page = web.get(f"/cards/{REPO}/{HEAD}")
        form = page.text[page.text.index('<form method="post" action="/cards/'):]
        action = form[len('<form method="post" action="'):form.index('">')].replace("&amp;",
                                                                                    "&")
        response = web.post(action)
    assert "Sign+in+with+Slack+to+act" in response.headers["location"]
    assert fake_github.merges(REPO) == []
