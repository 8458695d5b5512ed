"""A thread reply whose answer never came back (a timeout, a 5xx, a sender that died before
recording it) is posted once, either way: the bot reads the thread back and finds the reply
by its metadata, or posts it if Slack does not have it."""

from __future__ import annotations

import copy
from datetime import timedelta

from sqlalchemy import select, update

from devexbot.store import Notification
from tests.bot import TestBot
from tests.fakes.slack_api import FakeSlack
from tests.github_sender import load_fixture


def failure_replies(bot: TestBot) -> list[str]:
    return [m.ts for m in bot.thread() if "failed" in m.text]


def reply_claims(bot: TestBot) -> set[tuple[str, str | None]]:
    """The failure reply's claims (one per key it answers), as (state, ts)."""
    with bot.services.db.read() as session:
        return {(row.state, row.ts) for row in session.scalars(
            select(Notification).where(Notification.key.like("failure:%")))}


def posted(bot: TestBot) -> None:
    bot.deliver("push", load_fixture("push"))
    bot.settle()


def another_check(name: str) -> dict[str, object]:
    payload = copy.deepcopy(load_fixture("check_run.completed"))
    payload["check_run"].update(name=name, id=payload["check_run"]["id"] + len(name))
    return payload


def the_check_fails(bot: TestBot) -> None:
    bot.deliver("check_run", load_fixture("check_run.completed.failure"))
    bot.clock.advance(timedelta(seconds=5))


def test_a_reply_whose_answer_timed_out_is_found_in_the_thread_not_posted_again(
        bot: TestBot, slack: FakeSlack) -> None:
    posted(bot)
    assert bot.services.slack_client is not None
    timeout = bot.services.slack_client.timeout
    bot.services.slack_client.timeout = 0.2  # type: ignore[assignment]
    slack.hang_next("chat.postMessage", 0.4)  # posted, but the answer comes too late
    the_check_fails(bot)
    bot.flush()
    slack.wait_for_calls("chat.postMessage", count=2)
    slack.wait_until(lambda: len(failure_replies(bot)) == 1, what="the late reply in Slack")
    assert reply_claims(bot) == {("unsure", None)}
    bot.services.slack_client.timeout = timeout
    bot.settle()
    (reply,) = failure_replies(bot)
    assert reply_claims(bot) == {("sent", reply)}
    assert len(slack.calls("conversations.replies")) == 1


def test_a_reply_slack_answered_500_to_and_did_not_keep_is_posted_once(
        bot: TestBot, slack: FakeSlack) -> None:
    posted(bot)
    slack.fail_next("chat.postMessage", status=500)  # answered 500, and nothing posted
    the_check_fails(bot)
    bot.flush()
    assert failure_replies(bot) == [] and reply_claims(bot) == {("unsure", None)}
    bot.settle()
    (reply,) = failure_replies(bot)
    assert reply_claims(bot) == {("sent", reply)}


def test_a_reply_left_sending_by_a_sender_that_died_is_found_not_posted_again(
        bot: TestBot, slack: FakeSlack) -> None:
    posted(bot)
    the_check_fails(bot)
    bot.settle()
    (reply,) = failure_replies(bot)
    # What a sender that died between Slack's answer and recording it leaves behind.
    with bot.services.db.write() as session:
        session.execute(update(Notification).where(Notification.key.like("failure:%"))
                        .values(state="sending", ts=None, created_at=bot.clock.now()))
    bot.deliver("check_run", another_check("lint"))  # the card's flush looks at the claims
    bot.settle()
    assert reply_claims(bot) == {("sending", None)}  # it may still be under way: left alone
    bot.clock.advance(timedelta(minutes=3))
    bot.deliver("check_run", another_check("docs"))
    bot.settle()
    assert failure_replies(bot) == [reply]
    assert reply_claims(bot) == {("sent", reply)}
