"""Routes and subscriptions that filter by author: a bot's pull request is not posted to a
channel that excludes it (written as GitHub names the bot, `dependabot[bot]`), and is
posted to a channel that does not."""

from __future__ import annotations

import copy
from typing import Any

from tests.bot import BotFactory
from tests.fakes.slack_api import FakeSlack
from tests.github_sender import load_fixture
from tests.scenario import REPO

HUMANS, TEAM, ALL = "C0HUMANS", "C0TEAM", "C0ALL"
CONFIG = ("people:\n  ana: U0ANA\n"
          "permissions:\n  subscribe: [U0ANA]\n"
          f"routes:\n  - repos: ['{REPO}']\n    channel: '{HUMANS}'\n"
          "    exclude_authors: ['dependabot[bot]', 'renovate[bot]']\n")
BOT_HEAD = "1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e"


def pull(number: int, head: str, author: str) -> dict[str, Any]:
    payload = copy.deepcopy(load_fixture("pull_request.opened"))
    payload["number"] = payload["pull_request"]["number"] = number
    payload["pull_request"]["head"]["sha"] = head
    payload["pull_request"]["user"]["login"] = author
    return payload


def test_a_bots_pull_request_skips_the_channels_that_exclude_its_author(
    make_bot: BotFactory, slack: FakeSlack
) -> None:
    bot = make_bot(config=CONFIG, slack_default_channel=None)
    answer = bot.slack_sender.command(
        "/devex", f"subscribe {REPO} exclude-authors:dependabot[bot],renovate[bot]",
        channel_id=TEAM, channel_name="team", user_id="U0ANA").json()["text"]
    assert f"subscribed this channel to *{REPO}* (every commit, not by dependabot[bot] " \
        "or renovate[bot])" in answer
    bot.slack_sender.command("/devex", f"subscribe {REPO}", channel_id=ALL,
                             channel_name="all", user_id="U0ANA")
    listed = bot.slack_sender.command("/devex", "subscriptions", channel_id=HUMANS,
                                      channel_name="humans", user_id="U0ANA").json()["text"]
    assert "not by dependabot[bot] or renovate[bot]) — from the bot's config" in listed

    bot.deliver("pull_request", pull(40, BOT_HEAD, "dependabot[bot]"))
    bot.settle()
    assert slack.messages(HUMANS) == [] and slack.messages(TEAM) == []
    (posted,) = slack.messages(ALL)
    assert posted.metadata is not None and posted.metadata["event_payload"]["sha"] == BOT_HEAD

    bot.deliver("pull_request", pull(12, load_fixture("pull_request.opened")["pull_request"]
                                     ["head"]["sha"], "ana"))
    bot.settle()
    for channel, count in ((HUMANS, 1), (TEAM, 1), (ALL, 2)):
        assert len(slack.messages(channel)) == count, channel


def test_only_authors_takes_just_theirs(make_bot: BotFactory, slack: FakeSlack) -> None:
    bot = make_bot(config=CONFIG, slack_default_channel=None)
    answer = bot.slack_sender.command(
        "/devex", f"subscribe {REPO} only-authors:ana", channel_id=TEAM,
        channel_name="team", user_id="U0ANA").json()["text"]
    assert "(every commit by ana)" in answer
    bot.deliver("pull_request", pull(40, BOT_HEAD, "renovate[bot]"))
    bot.deliver("pull_request", pull(41, "2" * 40, "eve"))
    bot.settle()
    assert slack.messages(TEAM) == [] and len(slack.messages(HUMANS)) == 1


def test_a_subscribe_option_it_cannot_read_is_refused_with_the_grammar(
    make_bot: BotFactory, slack: FakeSlack
) -> None:
    bot = make_bot(config=CONFIG, slack_default_channel=None)
    answer = bot.slack_sender.command(
        "/devex", f"subscribe {REPO} exclude-author:dependabot[bot]", channel_id=TEAM,
        channel_name="team", user_id="U0ANA").json()["text"]
    assert answer.startswith("I can't read `exclude-author:dependabot[bot]`: a label is "
                             "`+label:name`; authors are `exclude-authors:login,...`")
    assert slack.calls("chat.postMessage") == []
