"""The product owner's answer reaches people: "Request changes" tells the author why (in
the card's thread, and by direct message where the route asks for them), the product
owner's own message shows the decision without its buttons, and later clicks are told
who decided, speaking to the reader."""

from __future__ import annotations

import pytest

from tests.bot import BotFactory
from tests.fakes.github_api import FakeGitHub
from tests.fakes.slack_api import FakeSlack
from tests.test_approvals import PRODUCT_OWNER, dm, start

DM_ROUTE = PRODUCT_OWNER + """
routes:
  - repos: ["octo-org/octo-app"]
    channel: C0DEPLOYS
    dm_author_on_failure: true
"""
REASON = "The button should say Sign in"


def buttons(message: object) -> list[str]:
    return [e["text"]["text"] for b in getattr(message, "blocks") if b["type"] == "actions"
            for e in b["elements"]]


@pytest.mark.sqlite_only
def test_request_changes_tells_the_author_and_closes_the_product_owners_message(
    make_bot: BotFactory, slack: FakeSlack, fake_github: FakeGitHub
) -> None:
    bot = start(make_bot, fake_github, DM_ROUTE)
    bot.open_pr(labels=("requested-by:carol",))  # carol asked for it; ana wrote it
    bot.deployed("test", "success", url="https://test.octo-app.example")
    (asked,) = dm(bot, "U0CAROL")
    assert buttons(asked) == ["Approve", "Request changes"]

    bot.click("card.reject", user="U0CAROL", message=asked)
    bot.submit_form("U0CAROL", REASON)
    assert bot.ephemeral("U0CAROL", "Requested changes on test") == (
        f"Requested changes on test: recorded. Reason recorded: {REASON}")

    # The author hears of it, in the card's thread and (the route asks) directly.
    bot.card_message(having=f"changes requested by <@U0CAROL>: {REASON}")
    card = bot.bot.message()
    thread = [m for m in slack.messages("C0DEPLOYS", include_replies=True)
              if m.thread_ts == card.ts and "changes" in m.text]
    assert len(thread) == 1
    assert "<@U0ANA>" in thread[0].text and "<@U0CAROL>" in str(thread[0].blocks)
    assert REASON in str(thread[0].blocks)
    (told,) = dm(bot, "U0ANA")
    assert "<@U0CAROL> asked for changes" in str(told.blocks) and REASON in str(told.blocks)

    # The product owner's message says what they decided, and has no buttons any more.
    (closed,) = dm(bot, "U0CAROL")
    assert closed.ts == asked.ts and buttons(closed) == []
    assert f"You requested changes: {REASON}" in str(closed.blocks)
    # Edited in the DM by its own ID: chat.update takes no user ID.
    edits = [c.params for c in slack.calls("chat.update") if c.params.get("ts") == asked.ts]
    assert [e["channel"] for e in edits] == ["D0CAROL"]

    # A click on an older rendering speaks to whoever clicks.
    _, url = bot.click("card.approve", user="U0CAROL", message=asked)
    assert bot.reply(url) == "Not done: you already requested changes on test"
    _, url = bot.click("card.approve", user="U0BEN", message=asked)
    assert bot.reply(url) == "Not done: <@U0CAROL> already requested changes on test"

    # Flushing again sends nothing twice.
    bot.deployed("test", "success", url="https://test.octo-app.example")
    bot.card_message()
    assert len(dm(bot, "U0ANA")) == 1
    assert len([m for m in slack.messages("C0DEPLOYS", include_replies=True)
                if m.thread_ts == card.ts and "changes" in m.text]) == 1


@pytest.mark.sqlite_only
def test_an_approval_closes_the_product_owners_message_too_and_no_dm_without_the_route(
    make_bot: BotFactory, slack: FakeSlack, fake_github: FakeGitHub
) -> None:
    bot = start(make_bot, fake_github, PRODUCT_OWNER)
    bot.open_pr(labels=("requested-by:carol",))
    bot.deployed("test", "success", url="https://test.octo-app.example")
    (asked,) = dm(bot, "U0CAROL")
    _, url = bot.click("card.approve", user="U0CAROL", message=asked)
    assert bot.reply(url) == "Approved test (1 of 1): recorded."
    (closed,) = dm(bot, "U0CAROL")
    assert buttons(closed) == [] and "You approved it" in str(closed.blocks)
    assert dm(bot, "U0ANA") == []  # nothing to change: the author is not messaged


@pytest.mark.sqlite_only
def test_without_the_routes_dms_the_author_hears_in_the_thread_only(
    make_bot: BotFactory, slack: FakeSlack, fake_github: FakeGitHub
) -> None:
    bot = start(make_bot, fake_github, PRODUCT_OWNER)
    bot.open_pr(labels=("requested-by:carol",))
    bot.deployed("test", "success", url="https://test.octo-app.example")
    (asked,) = dm(bot, "U0CAROL")
    bot.click("card.reject", user="U0CAROL", message=asked)
    bot.submit_form("U0CAROL", REASON)
    bot.ephemeral("U0CAROL", "Requested changes on test")
    bot.card_message(having="changes requested by <@U0CAROL>")
    card = bot.bot.message()
    assert any("<@U0ANA>" in m.text and m.thread_ts == card.ts
               for m in slack.messages("C0DEPLOYS", include_replies=True))
    assert dm(bot, "U0ANA") == []
