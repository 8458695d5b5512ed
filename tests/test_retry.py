"""Retry of a failed Jenkins build, from a signed Jenkins notification to a signed Slack
click to what the fake Jenkins received: the build is re-run as Jenkins recorded it, and
only for a job Retry is allowed for, whatever the notification said."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from correlation.button_blocks import ButtonRef
from tests.bot import BotFactory
from tests.fakes.github_api import FakeGitHub
from tests.fakes.jenkins_api import FakeJenkins
from tests.fakes.jenkins_models import Checkout
from tests.github_sender import load_fixture
from tests.jenkins_sender import load_jenkins
from tests.scenario import HEAD, REPO
from tests.slack_signing import block_actions_payload
from tests.test_actions import PEOPLE, Bot, start_bot

REMOTE = "git@github.com:octo-org/octo-app.git"
OTHER = "9f3c1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b"


def failed_build(job: str = "octo-app-integration", number: int = 412,
                 parameters: dict[str, str] | None = None) -> dict[str, Any]:
    """A COMPLETED FAILURE notification of build `number` of `job` on HEAD."""
    payload = copy.deepcopy(load_jenkins("freestyle.completed.ssh"))
    build = payload["build"]
    path = "".join(f"job/{part}/" for part in job.split("/"))
    payload.update(name=job.rsplit("/")[-1], display_name=job, url=path)
    build.update(status="FAILURE", number=number, url=f"{path}{number}/",
                 full_url=f"https://jenkins.octo-app.example.com/{path}{number}/")
    if parameters is not None:
        build["parameters"] = parameters
    assert build["scm"]["commit"] == HEAD
    return payload


def reply_to_retry(bot: Bot, job: str) -> str:
    _, url = bot.click(f"card.retry:{job}")
    return bot.reply(url)


def test_retry_reruns_the_build_jenkins_recorded_not_the_notification(
    make_bot: BotFactory, fake_github: FakeGitHub, fake_jenkins: FakeJenkins
) -> None:
    fake_jenkins.add_job("octo-app-integration",
                         parameters={"TARGET_ENV": "dev", "BROWSER": "chrome", "GIT_REF": ""})
    fake_jenkins.add_build("octo-app-integration", number=412, result="FAILURE",
                           parameters={"TARGET_ENV": "test", "BROWSER": "chrome",
                                       "GIT_REF": "feature/login"},
                           checkouts=[Checkout(REMOTE, HEAD, "origin/feature/login")])
    bot = start_bot(make_bot, fake_github, fake_jenkins)
    # The notification's parameters are not what Jenkins ran: the bot goes by Jenkins.
    failed = failed_build(parameters={"TARGET_ENV": "production", "BROWSER": "firefox"})
    bot.bot.jenkins.notify(failed)

    assert reply_to_retry(bot, "octo-app-integration").startswith(
        "Re-running octo-app-integration #412 with BROWSER=chrome, GIT_REF=feature/login, "
        "TARGET_ENV=test")
    (trigger,) = fake_jenkins.triggered("octo-app-integration")
    assert trigger.sent == {"TARGET_ENV": "test", "BROWSER": "chrome",
                            "GIT_REF": "feature/login"}
    bot.card_message(having="retried by <@U0ANA>")
    # The new build's news replaces the stamp.
    started = copy.deepcopy(failed)
    started["build"].update(number=413, phase="STARTED", status=None,
                            timestamp=failed["build"]["timestamp"] + 600_000)
    bot.bot.jenkins.notify(started)
    assert "retried by" not in str(bot.card_message().blocks)


@pytest.mark.parametrize(("jenkins_has", "refusal"), [
    ("a failed deploy of another commit",
     "Jenkins says build #12 of deploy-production built 9f3c1a2, not this commit"),
    ("a failed deploy that checked out nothing",
     "Retry isn't allowed for deploy-production on octo-org/octo-app: Jenkins does not say "
     "which commit build #12 of deploy-production built; add the job to retry.jobs"),
    ("a deploy that passed",
     "Jenkins says build #12 of deploy-production passed; there is nothing to retry"),
    ("no build #12", "Jenkins has no build #12 of deploy-production"),
])
def test_a_forged_notification_cannot_make_retry_start_another_job(
    make_bot: BotFactory, fake_github: FakeGitHub, fake_jenkins: FakeJenkins,
    jenkins_has: str, refusal: str
) -> None:
    """The notification token is readable by any pipeline. One naming deploy-production
    with the attacker's VERSION on a teammate's commit must not start that job when the
    teammate clicks Retry on their card."""
    fake_jenkins.add_job("deploy-production", parameters={"VERSION": ""})
    if jenkins_has != "no build #12":
        checkouts = [Checkout(REMOTE, OTHER)] if "another commit" in jenkins_has else []
        fake_jenkins.add_build("deploy-production", number=12,
                               result="SUCCESS" if "passed" in jenkins_has else "FAILURE",
                               parameters={"VERSION": "1.4.2"}, checkouts=checkouts)
    bot = start_bot(make_bot, fake_github, fake_jenkins)
    bot.github.deliver("pull_request", load_fixture("pull_request.opened"))  # the victim's
    forged = failed_build("deploy-production", 12, {"VERSION": "attacker-build-666"})
    assert bot.bot.jenkins.notify(forged).status_code == 202

    reply = reply_to_retry(bot, "deploy-production")

    assert fake_jenkins.triggered() == [], "Retry started a job the notification named"
    assert reply == f"Not done: {refusal}"
    (entry, *_) = bot.client.get("/api/audit").json()["audit"]
    assert (entry["action"], entry["result"], entry["slack_user"], entry["detail"]) == (
        "card.retry", "refused", "U0ANA", refusal)
    assert "retried by" not in str(bot.card_message().blocks)


def test_retry_jobs_narrows_and_vouches(make_bot: BotFactory, fake_github: FakeGitHub,
                                        fake_jenkins: FakeJenkins) -> None:
    """`retry.jobs` for the repo: a listed job is retried even though it checks out
    nothing; an unlisted one has no Retry button, and a click on a stale or forged one is
    refused."""
    fake_jenkins.add_job("deploy/staging", parameters={"VERSION": ""})
    fake_jenkins.add_build("deploy/staging", number=5, result="FAILURE",
                           parameters={"VERSION": "1.4.2"})
    fake_jenkins.add_job("octo-app-integration")
    fake_jenkins.add_build("octo-app-integration", number=412, result="FAILURE",
                           checkouts=[Checkout(REMOTE, HEAD)])
    config = PEOPLE + ("retry:\n  jobs: [\"octo-app-*\"]\n  repos:\n"
                       "    \"octo-org/octo-*\":\n      jobs: [\"deploy/*\"]\n")
    bot = start_bot(make_bot, fake_github, fake_jenkins, config=config)
    bot.bot.jenkins.notify(failed_build("deploy/staging", 5, {"VERSION": "2.0.0"}))
    bot.bot.jenkins.notify(failed_build())

    message = bot.card_message(having="card.retry:deploy/staging")
    assert "card.retry:octo-app-integration" not in str(message.blocks)
    assert reply_to_retry(bot, "deploy/staging").startswith(
        "Re-running deploy/staging #5 with VERSION=1.4.2")
    assert [t.sent for t in fake_jenkins.triggered()] == [{"VERSION": "1.4.2"}]

    url = bot.slack.new_response_url(message.channel, user="U0BEN", message_ts=message.ts)
    value = ButtonRef(REPO, HEAD, target="octo-app-integration").encode()
    forged = block_actions_payload("card.retry:octo-app-integration", value,
                                   channel_id=message.channel, message_ts=message.ts,
                                   user_id="U0BEN", response_url=url)
    assert bot.clicker.interaction(forged).status_code == 200
    assert bot.reply(url) == ("Not done: Retry isn't allowed for octo-app-integration on "
                              "octo-org/octo-app: add it to retry.jobs")
    assert len(fake_jenkins.triggered()) == 1


@pytest.mark.sqlite_only
def test_a_multibranch_build_is_looked_up_by_its_full_name(
    make_bot: BotFactory, fake_github: FakeGitHub, fake_jenkins: FakeJenkins
) -> None:
    job = "octo-app/feature%2Flogin"  # Jenkins' own name for the branch's job
    fake_jenkins.add_job(job)
    fake_jenkins.add_build(job, number=7, result="FAILURE",
                           checkouts=[Checkout("https://github.com/octo-org/octo-app.git",
                                               HEAD, "feature/login")])
    bot = start_bot(make_bot, fake_github, fake_jenkins)
    bot.bot.jenkins.notify(load_jenkins("completed.failure"))
    _, url = bot.click("card.retry")
    assert bot.reply(url).startswith(f"Re-running {job} #7 (queue item")
    assert len(fake_jenkins.triggered(job)) == 1


@pytest.mark.sqlite_only
def test_jenkins_down_at_the_click_fails_with_an_error_id_and_starts_nothing(
    make_bot: BotFactory, fake_github: FakeGitHub, fake_jenkins: FakeJenkins
) -> None:
    fake_jenkins.add_job("octo-app-integration")
    bot = start_bot(make_bot, fake_github, fake_jenkins)
    bot.bot.jenkins.notify(failed_build())
    bot.card_message(having="card.retry")  # and the failure's log looked up meanwhile
    fake_jenkins.fail_next("GET /job/*", status=502)
    reply = reply_to_retry(bot, "octo-app-integration")
    assert reply.startswith("That failed: Jenkins did not answer about octo-app-integration "
                            "#412"), reply
    assert "error id" in reply and fake_jenkins.triggered() == []
