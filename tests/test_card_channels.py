"""A commit that several routes take (a config route and `/devex subscribe` routes) gets one
message per channel, each kept current in place; clicks in any of them act on the card;
the card's JSON lists them all."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from devexbot.publish.outbox import card_message
from tests.bot import BotFactory, TestBot, flush_together
from tests.fakes.github_api import FakeGitHub
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_models import Message
from tests.github_sender import load_fixture
from tests.scenario import HEAD, REPO, _check_run
from tests.slack_signing import block_actions_payload

TEAM = "C0TEAM"
NEXT = "4f7e1c0d8b2a9e6f3c5d7a1b0e9f8c2d4a6b8e0f"  # the PR's next head
CONFIG = ("people:\n  ana: U0ANA\n"
          "permissions:\n  subscribe: [U0ANA]\n"
          f"routes:\n  - {{repos: ['{REPO}'], channel: '#deploys'}}\n")


def start(make_bot: BotFactory, slack: FakeSlack, **settings: Any) -> tuple[TestBot, str]:
    """A bot whose config routes the repo to #deploys, and #team subscribed to it too."""
    deploys = slack.add_channel("deploys")
    bot = make_bot(config=CONFIG, slack_default_channel=None, **settings)
    response = bot.slack_sender.command("/devex", f"subscribe {REPO}", channel_id=TEAM,
                                        channel_name="team", user_id="U0ANA")
    assert "subscribed this channel" in response.json()["text"]
    return bot, deploys


def check(stage: str, conclusion: str | None = None) -> dict[str, Any]:
    return _check_run("test", 103, stage, conclusion, "2026-11-20T10:01:00Z",
                      "2026-11-20T10:04:00Z" if conclusion else None)


def only_message(slack: FakeSlack, channel: str) -> Message:
    (message,) = slack.messages(channel)
    return message


def expected_text(bot: TestBot) -> str:
    card = bot.services.card_loader.load(bot.card())
    return card_message(card, bot.services.config.policies()).text


def test_a_config_route_and_a_subscription_each_get_one_message_kept_current(
    make_bot: BotFactory, slack: FakeSlack
) -> None:
    bot, deploys = start(make_bot, slack)
    bot.deliver("push", load_fixture("push"))
    bot.deliver("check_run", check("in_progress"))
    bot.settle()
    first, second = only_message(slack, deploys), only_message(slack, TEAM)
    assert first.text == second.text == expected_text(bot)

    bot.deliver("check_run", check("completed", "failure"))
    bot.settle()
    updates = {c.params["channel"]: c.params["ts"] for c in slack.calls("chat.update") if c.ok}
    assert updates == {deploys: first.ts, TEAM: second.ts}  # in place, in both
    for channel, ts in ((deploys, first.ts), (TEAM, second.ts)):
        assert only_message(slack, channel).ts == ts
        assert slack.final_message(channel, ts).text == expected_text(bot)
        (reply,) = slack.thread(channel, ts)[1:]  # each thread hears of the failure once
        assert "test" in reply.text
    # The author is mentioned in the first channel's thread only.
    assert "<@U0ANA>" in slack.thread(deploys, first.ts)[1].text
    assert "<@U0ANA>" not in slack.thread(TEAM, second.ts)[1].text

    doc = bot.client.get(f"/api/cards/{REPO}/{HEAD}").json()
    mine = {"channel": deploys, "ts": first.ts, "pending": False}
    theirs = {"channel": TEAM, "ts": second.ts, "pending": False}
    assert doc["slack"] == mine and doc["slack_messages"] == [mine, theirs]
    (listed,) = bot.client.get(f"/api/cards?repo={REPO}").json()["cards"]
    assert listed["slack_messages"] == [mine, theirs]
    # Subscribing says so: the config posts the repo elsewhere too.
    again = bot.slack_sender.command("/devex", f"subscribe {REPO}", channel_id=TEAM,
                                     channel_name="team", user_id="U0ANA").json()["text"]
    assert f"Note: the bot's config also posts {REPO} to #deploys; a commit both take " \
        "gets a message in each channel." in again


@pytest.mark.sqlite_only
def test_a_click_in_either_message_acts_on_the_card_and_both_messages_show_it(
    make_bot: BotFactory, slack: FakeSlack, fake_github: FakeGitHub
) -> None:
    bot, deploys = start(make_bot, slack, github_token=fake_github.token,
                         github_api_url=fake_github.base_url)
    fake_github.add_pull(REPO, head="feature/login", head_sha=HEAD, number=12,
                         title="Add login page")
    fake_github.add_check_run(REPO, HEAD, "build", conclusion="success")
    bot.deliver("pull_request", load_fixture("pull_request.opened"))
    bot.deliver("check_run", load_fixture("check_run.completed"))
    bot.settle()
    theirs = only_message(slack, TEAM)
    merge = next(e["action_id"] for b in theirs.blocks if b["type"] == "actions"
                 for e in b["elements"] if e["action_id"].startswith("card.merge"))
    url = slack.new_response_url(TEAM, user="U0ANA", message_ts=theirs.ts)
    response = bot.slack_sender.interaction(
        block_actions_payload(merge, message=theirs, user_id="U0ANA", response_url=url))
    assert response.status_code == 200
    assert slack.wait_for_response_url_posts(url)[-1]["text"].startswith("Merged #12")
    bot.settle()
    for channel in (deploys, TEAM):
        assert "Merged by <@U0ANA>" in str(only_message(slack, channel).blocks), channel


@pytest.mark.sqlite_only
def test_a_superseded_commit_links_to_the_new_one_in_each_channel(
    make_bot: BotFactory, slack: FakeSlack
) -> None:
    bot, deploys = start(make_bot, slack)
    bot.deliver("pull_request", load_fixture("pull_request.opened"))
    bot.settle()
    bot.deliver("pull_request", load_fixture("pull_request.synchronize"))
    bot.settle()
    for channel in (deploys, TEAM):
        old, new = slack.messages(channel)
        assert new.metadata is not None and new.metadata["event_payload"]["sha"] == NEXT
        line = slack.final_message(channel, old.ts)
        assert "superseded by" in line.text and len(line.blocks) == 1
        here = f"/archives/{channel}/p{new.ts.replace('.', '')}"
        assert here in str(line.blocks), (channel, line.blocks)


@pytest.mark.sqlite_only
def test_a_rate_limited_channel_does_not_hold_up_the_others(
    make_bot: BotFactory, slack: FakeSlack
) -> None:
    bot, deploys = start(make_bot, slack)
    slack.fail_next("chat.postMessage", status=429, retry_after=30)  # #deploys' first post
    bot.deliver("push", load_fixture("push"))
    bot.clock.advance(timedelta(seconds=2))
    bot.flush()
    assert slack.messages(deploys) == [] and len(slack.messages(TEAM)) == 1
    bot.clock.advance(timedelta(seconds=29))
    bot.flush()
    assert slack.messages(deploys) == []  # Retry-After is kept for #deploys
    bot.settle()
    assert len(slack.messages(deploys)) == 1 and len(slack.messages(TEAM)) == 1


@pytest.mark.sqlite_only
def test_a_channel_subscribed_later_gets_its_message_and_a_lost_post_is_not_repeated(
    make_bot: BotFactory, slack: FakeSlack
) -> None:
    deploys = slack.add_channel("deploys")
    bot = make_bot(config=CONFIG, slack_default_channel=None)
    bot.deliver("push", load_fixture("push"))
    bot.settle()
    assert len(slack.messages(deploys)) == 1
    bot.slack_sender.command("/devex", f"subscribe {REPO}", channel_id=TEAM,
                             channel_name="team", user_id="U0ANA")
    # #team's first post reaches Slack, but its answer comes after the client gave up.
    assert bot.services.slack_client is not None
    bot.services.slack_client.timeout = 0.2  # type: ignore[assignment]
    slack.hang_next("chat.postMessage", 0.4)
    bot.deliver("check_run", check("in_progress"))
    bot.clock.advance(timedelta(seconds=2))
    bot.flush()
    slack.wait_for_calls("chat.postMessage", 2)  # the late answer, to nobody
    bot.settle()
    assert len(slack.messages(deploys)) == 1
    (theirs,) = slack.messages(TEAM)
    assert len([c for c in slack.calls("chat.postMessage") if c.params["channel"] == TEAM]) == 1
    assert [c.params["channel"] for c in slack.calls("conversations.history")] == [TEAM]
    assert slack.final_message(TEAM, theirs.ts).text == expected_text(bot)
    doc = bot.client.get(f"/api/cards/{REPO}/{HEAD}").json()
    assert [m["channel"] for m in doc["slack_messages"]] == [deploys, TEAM]


def test_two_flushers_racing_post_once_per_channel(
    make_bot: BotFactory, slack: FakeSlack
) -> None:
    bot, deploys = start(make_bot, slack)
    other = make_bot(config=CONFIG, slack_default_channel=None)
    bot.deliver("push", load_fixture("push"))
    bot.clock.advance(timedelta(seconds=2))
    for _ in range(4):
        flush_together(bot, other)
        bot.clock.advance(timedelta(seconds=1))
    assert len(slack.messages(deploys)) == 1 and len(slack.messages(TEAM)) == 1
    posts = [c for c in slack.calls("chat.postMessage") if c.ok]
    assert sorted(c.params["channel"] for c in posts) == sorted([deploys, TEAM])
