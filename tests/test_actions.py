"""Merge and Retry from the card: signed Slack clicks, real PyGithub and python-jenkins
against local fakes of GitHub and Jenkins, the card's own Slack message as the UI."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from devexbot.actions.core import Click
from devexbot.actions.ids import ActionId, ButtonValue
from tests.bot import BotFactory, TestBot
from tests.fakes.github_api import FakeGitHub
from tests.fakes.jenkins_api import FakeJenkins
from tests.fakes.slack_models import Message
from tests.github_sender import load_fixture
from tests.scenario import HEAD, REPO
from tests.slack_signing import block_actions_payload, clicked_again

PEOPLE = "people:\n  ana: U0ANA\n  ben: U0BEN\n"


def fakes_settings(github: FakeGitHub, jenkins: FakeJenkins | None = None) -> dict[str, Any]:
    """The settings that point a bot at the fake GitHub (and the fake Jenkins)."""
    extra: dict[str, Any] = {"github_token": github.token, "github_api_url": github.base_url}
    if jenkins is not None:
        extra.update(jenkins_url=jenkins.base_url, jenkins_user=jenkins.user,
                     jenkins_api_token=jenkins.token)
    return extra


class Bot:
    """The test bot and the people clicking its buttons."""

    def __init__(self, bot: TestBot) -> None:
        assert bot.slack is not None
        self.bot, self.services, self.client, self.slack = bot, bot.services, bot.client, \
            bot.slack
        self.github = bot.github
        self.clicker = bot.slack_sender

    def card_message(self, sha: str = HEAD, *, having: str = "") -> Message:
        """The card's message once Slack shows the card as it stands; it has `having`."""
        self.bot.settle()
        message = self.bot.message(sha)
        assert having in str(message.blocks), f"no {having!r} in {message.blocks}"
        return message

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

    def reply(self, url: str, count: int = 1) -> str:
        """The latest reply to a click, once there are `count` (the click's work is done in
        a worker thread after Slack's ack)."""
        posts = self.slack.wait_for_response_url_posts(url, count)
        return str(posts[-1]["text"])


def start_bot(make_bot: BotFactory, github: FakeGitHub, jenkins: FakeJenkins | None = None,
              config: str = PEOPLE, **settings: Any) -> Bot:
    return Bot(make_bot(config=config, **fakes_settings(github, jenkins), **settings))


@pytest.fixture
def bot(make_bot: BotFactory, fake_github: FakeGitHub) -> Bot:
    return start_bot(make_bot, fake_github)


def open_pr(bot: Bot, github: FakeGitHub, **pull: Any) -> None:
    """PR #12 at HEAD, green, on GitHub and on the card."""
    github.add_pull(REPO, head="feature/login", head_sha=HEAD, number=12,
                    title="Add login page", **pull)
    github.add_check_run(REPO, HEAD, "build", conclusion="success")
    bot.github.deliver("pull_request", load_fixture("pull_request.opened"))
    bot.github.deliver("check_run", load_fixture("check_run.completed"))


@pytest.mark.sqlite_only
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


@pytest.mark.sqlite_only
def test_a_bot_without_slack_merges_too(make_bot: BotFactory, fake_github: FakeGitHub) -> None:
    """The actions are built with the bot, not registered by importing the Slack
    listeners: the web workspace alone (Slack off) knows Merge."""
    bot = make_bot(slack_on=False, config=PEOPLE, **fakes_settings(fake_github))
    fake_github.add_pull(REPO, head="feature/login", head_sha=HEAD, number=12,
                         title="Add login page")
    fake_github.add_check_run(REPO, HEAD, "build", conclusion="success")
    bot.github.deliver("pull_request", load_fixture("pull_request.opened"))
    bot.github.deliver("check_run", load_fixture("check_run.completed"))
    click = Click(ActionId.MERGE, ButtonValue(r=REPO, s=HEAD, n=12, m="merge"), "U0ANA")
    assert bot.services.actions.run(click).startswith("Merged #12 into main (merge")
    (entry, *_) = bot.client.get("/api/audit").json()["audit"]
    assert (entry["action"], entry["result"], entry["permalink"]) == ("card.merge", "ok", None)


def test_the_same_click_twice_merges_once(bot: Bot, fake_github: FakeGitHub) -> None:
    open_pr(bot, fake_github)
    payload, url = bot.click("card.merge")
    assert bot.clicker.interaction(clicked_again(payload)).status_code == 200  # a double click
    bot.reply(url, count=2)
    replies = sorted(p["text"] for p in bot.slack.response_url_posts(url))
    assert replies[0].startswith("Merged #12") and "already done or under way" in replies[1]
    assert len(fake_github.merges(REPO)) == 1
    results = sorted(e["result"] for e in bot.client.get("/api/audit").json()["audit"])
    assert results == ["duplicate", "ok"]


@pytest.mark.sqlite_only
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



@pytest.mark.sqlite_only
def test_a_base_that_requires_the_merge_queue_says_so(bot: Bot, fake_github: FakeGitHub) -> None:
    open_pr(bot, fake_github)
    fake_github.fail_next("PUT */merge", status=405,
                          message="Changes must be made through the merge queue")
    _, url = bot.click("card.merge")
    assert bot.reply(url) == (
        "Not done: #12 cannot be merged directly: `main` takes pull requests through GitHub's "
        "merge queue. The card now offers Add to merge queue.")
    assert fake_github.merges(REPO) == []


@pytest.mark.sqlite_only
def test_not_mergeable_is_refused_before_merging(bot: Bot, fake_github: FakeGitHub) -> None:
    open_pr(bot, fake_github, mergeable=False)
    _, url = bot.click("card.merge")
    assert "cannot be merged (dirty" in bot.reply(url)
    assert [c for c in fake_github.calls("PUT")] == []


@pytest.mark.sqlite_only
def test_required_checks_are_rechecked_at_click_time(bot: Bot, fake_github: FakeGitHub) -> None:
    fake_github.protect_branch(REPO, "main", ["build", "security-scan"])
    open_pr(bot, fake_github, mergeable_state="clean")
    _, url = bot.click("card.merge")
    assert bot.reply(url) == "Not done: required checks are not green: security-scan"


@pytest.mark.sqlite_only
def test_people_the_config_does_not_allow_are_refused_and_audited(
    make_bot: BotFactory, fake_github: FakeGitHub
) -> None:
    bot = start_bot(make_bot, fake_github, config=PEOPLE + "permissions:\n  merge: [U0BEN]\n")
    open_pr(bot, fake_github)
    _, url = bot.click("card.merge", user="U0ANA")
    assert bot.reply(url).startswith("Not done: you may not merge on octo-org/octo-app")
    (entry,) = bot.client.get("/api/audit").json()["audit"]
    assert (entry["result"], entry["slack_user"]) == ("refused", "U0ANA")
    assert fake_github.merges(REPO) == []


@pytest.mark.sqlite_only
def test_the_click_is_acknowledged_before_a_slow_github_answers(
    bot: Bot, fake_github: FakeGitHub
) -> None:
    open_pr(bot, fake_github)
    message = bot.card_message(having="card.merge")
    fake_github.reset()  # forget what the card's lookups asked (the repository's settings)
    fake_github.hold_answers()  # GitHub answers nothing until the test says so
    clicked: list[tuple[dict[str, Any], str]] = []
    clicking = threading.Thread(target=lambda: clicked.append(
        bot.click("card.merge", message=message)))
    try:
        clicking.start()
        clicking.join(timeout=10)
        acknowledged = not clicking.is_alive()
        # The click's work has begun: GitHub was asked, and has not answered yet.
        (first, *_) = fake_github.wait_for_received()
        assert first.answered_at is None
    finally:
        fake_github.release_answers()
        clicking.join()
    assert acknowledged, "Slack had no answer while GitHub held its own"
    (_, url), = clicked
    assert bot.reply(url).startswith("Merged #12")


@pytest.mark.sqlite_only
def test_a_draft_or_failing_pr_says_why_there_is_no_merge_button(
    bot: Bot, fake_github: FakeGitHub
) -> None:
    bot.github.deliver("pull_request", load_fixture("pull_request.opened"))
    bot.github.deliver("check_run", load_fixture("check_run.completed.failure"))
    message = bot.card_message(having="Merge unavailable: 1 check failing")
    assert "card.merge" not in str(message.blocks)


@pytest.mark.sqlite_only
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


@pytest.mark.sqlite_only
def test_retry_still_reruns_its_run_after_a_second_run_renames_the_line(
    bot: Bot, fake_github: FakeGitHub
) -> None:
    """The pull_request run of CI fails and its card offers "Retry CI"; then the push run
    of CI arrives and the lines are renamed "CI (pull_request)" / "CI (push)". A click on
    the Retry the person was looking at still re-runs the pull_request run."""
    from tests.test_workflow_runs import PR_RUN, PUSH_RUN, workflow_job, workflow_run

    fake_github.add_workflow_run(REPO, head_sha=HEAD, run_id=PR_RUN, conclusion="failure",
                                 jobs={"test": "failure"})
    bot.github.deliver("push", load_fixture("push"))
    bot.github.deliver("workflow_job", workflow_job(PR_RUN, 7001, "failure", "10:04"))
    bot.github.deliver("workflow_run", workflow_run(PR_RUN, "pull_request", "failure", "10:05"))
    seen = bot.card_message(having="card.retry")
    assert "Retry CI" in str(seen.blocks)
    bot.github.deliver("workflow_run", workflow_run(PUSH_RUN, "push", "success", "10:06"))
    bot.card_message(having="CI (pull_request)")

    _, url = bot.click("card.retry", message=seen)  # the button as it was on the phone
    assert bot.reply(url).startswith("Re-running the failed jobs of CI (attempt 2)")
    assert len(fake_github.reruns(REPO, PR_RUN)) == 1


@pytest.mark.sqlite_only
def test_the_web_card_page_lists_the_cards_audit_entries(bot: Bot,
                                                          fake_github: FakeGitHub) -> None:
    bot.slack.add_user("U0ANA", "ana", real_name="Ana Lima")
    open_pr(bot, fake_github)
    _, url = bot.click("card.merge")
    bot.reply(url)
    bot.card_message(having="Merged by")
    with bot.bot.web() as web:
        page = web.get(f"/cards/{REPO}/{HEAD}")
    assert page.status_code == 200
    audit = page.text[page.text.index("Audit"):]
    assert "Ana Lima (ana)" in audit and "merge" in audit and "Merged #12 into main" in audit
    assert "U0ANA" not in audit  # people by their names, not their Slack ids


@pytest.mark.sqlite_only
def test_a_web_click_acts_as_the_signed_in_slack_user(bot: Bot,
                                                      fake_github: FakeGitHub) -> None:
    from tests.web_client import OUTSIDE, sign_in_with_slack

    open_pr(bot, fake_github)
    bot.card_message(having="card.merge")
    with bot.bot.web(client=OUTSIDE, follow_redirects=False) as web:
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


@pytest.mark.sqlite_only
def test_a_web_click_without_a_slack_sign_in_is_asked_to_sign_in(
    bot: Bot, fake_github: FakeGitHub
) -> None:
    open_pr(bot, fake_github)
    bot.card_message(having="card.merge")
    with bot.bot.web(follow_redirects=False) as web:  # local: no identity
        page = web.get(f"/cards/{REPO}/{HEAD}")
        form = page.text[page.text.index('<form method="post" action="/cards/'):]
        action = form[len('<form method="post" action="'):form.index('">')].replace("&amp;",
                                                                                    "&")
        response = web.post(action)
    assert "Sign+in+with+Slack+to+act" in response.headers["location"]
    assert fake_github.merges(REPO) == []
