"""Authors may not approve their own changes, also on cards made only from deploy events:
the bot asks GitHub who wrote the commit, or takes the deployment's creator, and when
nobody can tell it refuses unless the policy says `allow_unknown_author`."""

from __future__ import annotations

import pytest

from tests.bot import BotFactory
from tests.fakes.github_api import FakeGitHub
from tests.github_sender import load_fixture
from tests.scenario import HEAD
from tests.test_approvals import PEOPLE, github_knows_the_commit, iso, start

CONFIG = PEOPLE + """
approvals:
  production:
    approvers: ["*"]
    required: 2
  staging:
    approvers: ["*"]
    required: 2
    allow_unknown_author: true
"""
OWN = ("Not done: commit 6dcb09b is your own change, and `approvals.production` does not "
       "let authors approve their own changes: someone else has to")


@pytest.mark.sqlite_only
def test_on_a_deploy_only_card_github_says_who_wrote_the_commit(
    make_bot: BotFactory, fake_github: FakeGitHub
) -> None:
    bot = start(make_bot, fake_github, CONFIG)
    github_knows_the_commit(fake_github, author="ana")
    bot.deployed("production", "waiting", deployment_id="p-1")
    assert bot.card()["author"] is None and bot.card()["pull_request"] is None

    _, url = bot.click("card.approve:production", user="U0ANA")
    assert bot.reply(url) == OWN
    _, url = bot.click("card.approve:production", user="U0BEN")
    assert bot.reply(url) == "Approved production (1 of 2); waiting for 1 more approver."
    asked = fake_github.calls("GET", f"/repos/*/commits/{HEAD}")
    assert len(asked) == 1, "who wrote a commit is asked once: it never changes"


@pytest.mark.sqlite_only
def test_when_nobody_can_tell_who_wrote_it_approval_is_refused_unless_the_policy_allows(
    make_bot: BotFactory, fake_github: FakeGitHub
) -> None:
    bot = start(make_bot, fake_github, CONFIG)  # GitHub does not know the commit
    bot.deployed("production", "waiting", deployment_id="p-1")
    bot.deployed("staging", "waiting", deployment_id="s-1")

    _, url = bot.click("card.approve:production", user="U0ANA")
    assert bot.reply(url) == (
        "Not done: the bot can't tell who wrote 6dcb09b (no pull request or commit author "
        "on the card, GitHub does not say, and no person created the deployment), and "
        "authors may not approve their own changes in production. Deploy it through a pull "
        "request, or set `approvals.production.allow_unknown_author: true` to let approvers "
        "decide anyway")
    _, url = bot.click("card.approve:staging", user="U0ANA")
    assert bot.reply(url) == "Approved staging (1 of 2); waiting for 1 more approver."


@pytest.mark.sqlite_only
def test_the_person_who_created_the_deployment_stands_in_for_the_author(
    make_bot: BotFactory, fake_github: FakeGitHub
) -> None:
    bot = start(make_bot, fake_github, CONFIG)  # GitHub does not know the commit
    payload = load_fixture("deployment_status.in_progress")
    payload["deployment"]["environment"] = payload["deployment_status"]["environment"] = (
        "production")
    payload["deployment"]["creator"]["login"] = "dan"  # dan started the deploy by hand
    payload["deployment_status"]["state"] = "waiting"
    payload["deployment_status"]["updated_at"] = iso(bot.bot.clock.now())  # waiting now
    bot.github.deliver("deployment_status", payload)

    _, url = bot.click("card.approve:production", user="U0DAN")
    assert bot.reply(url) == OWN
    _, url = bot.click("card.approve:production", user="U0BEN")
    assert bot.reply(url) == "Approved production (1 of 2); waiting for 1 more approver."
