"""The workspace names people as people know them, not by their Slack ids: who approved a
deploy on the card, in its stamps, its timeline and its audit; Slack is asked once."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from devexbot.config import Person
from devexbot.slack.directory import WebDirectory
from devexbot.slack.people import People
from tests.bot import BotFactory
from tests.fakes.github_api import FakeGitHub
from tests.fakes.slack_api import FakeSlack
from tests.scenario import HEAD, REPO
from tests.test_approvals import PEOPLE, Receiver, github_knows_the_commit, start
from tests.test_web_pages import texts


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        fake.add_repo(REPO)
        github_knows_the_commit(fake)  # ana wrote it: ben may approve its deploy
        yield fake


@pytest.mark.sqlite_only
def test_people_show_by_their_names(make_bot: BotFactory, slack: FakeSlack,
                                    fake_github: FakeGitHub) -> None:
    slack.add_user("U0BEN", "ben", real_name="Ben Okafor")
    with Receiver() as receiver:
        config = PEOPLE + f"""
approvals:
  staging:
    approvers: [U0BEN]
    on_approve: {{callback: "{receiver.url}"}}
"""
        bot = start(make_bot, fake_github, config)
        bot.deployed("staging", "waiting", deployment_id="s-1")
        _, url = bot.click("card.approve:staging", user="U0BEN")
        assert bot.reply(url) == "Approved staging (1 of 1): the deploy tool was told."
    bot.bot.settle()

    with bot.bot.web() as web:
        card = texts(web.get("/").text)
        page = texts(web.get(f"/cards/{REPO}/{HEAD}").text)
    assert "staging pending · approved by Ben Okafor" in card  # the deployment's line
    assert ": approved by Ben Okafor (1 of 1)" in card  # the stamp
    assert "deploy to staging approved by Ben Okafor" in page  # the timeline
    assert "Ben Okafor (ben) approve" in page  # the audit
    for shown in (card, page):
        assert not re.search(r"\bU0BEN\b", shown), shown
    assert len(slack.calls("users.info")) == 1  # cached, whatever renders the name


@pytest.mark.sqlite_only
def test_without_a_name_from_slack_the_people_map_names_them(
        make_bot: BotFactory, slack: FakeSlack, fake_github: FakeGitHub) -> None:
    # U0BEN is not in Slack's directory (users.info answers user_not_found).
    with Receiver() as receiver:
        config = PEOPLE + f"""
approvals:
  staging:
    approvers: [U0BEN]
    on_approve: {{callback: "{receiver.url}"}}
"""
        bot = start(make_bot, fake_github, config)
        bot.deployed("staging", "waiting", deployment_id="s-1")
        _, url = bot.click("card.approve:staging", user="U0BEN")
        bot.reply(url)
    with bot.bot.web() as web:
        card = texts(web.get("/").text)
    assert "approved by ben" in card and "U0BEN" not in card


def test_while_slack_fails_a_name_falls_back_and_slack_is_not_asked_again_at_once(
        slack: FakeSlack) -> None:
    slack.add_user("U0BEN", "ben", real_name="Ben Okafor")
    slack.fail_next("users.info", status=500, error="internal_error")
    people = People({"ben": Person(slack="U0BEN")}, WebDirectory(slack.client()))
    assert people.name("U0BEN") == "ben"  # the people: map's GitHub login
    assert people.name("U0BEN") == "ben"  # not asked again within the minute
    assert people.name("U0NOBODY") is None  # Slack knows nobody by that id
    assert len(slack.calls("users.info")) == 2
