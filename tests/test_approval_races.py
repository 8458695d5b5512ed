"""Approvals under pressure: several people clicking Approve at the same moment, through
the signed Slack endpoint, on SQLite and on PostgreSQL. Every reply tells the truth, no
count passes what the policy requires, and the decision is carried out once."""

from __future__ import annotations

import json
import re
import threading

from tests.bot import BotFactory
from tests.fakes.github_api import FakeGitHub
from tests.slack_signing import block_actions_payload
from tests.test_approvals import PEOPLE, Receiver, start

CLICKERS = ("U0BEN", "U0CAROL", "U0DAN", "U0EVE", "U0FAY")


def test_five_approvers_at_once_one_carries_it_out_and_the_others_are_told_who(
    make_bot: BotFactory, fake_github: FakeGitHub
) -> None:
    with Receiver() as receiver:
        config = PEOPLE + f"""
approvals:
  staging:
    approvers: ["*"]
    on_approve: {{callback: "{receiver.url}"}}
"""
        bot = start(make_bot, fake_github, config)
        bot.open_pr()  # ana wrote it: none of the clickers did
        bot.deployed("staging", "waiting", deployment_id="s-1")
        message = bot.card_message(having="card.approve")

        urls = {user: bot.slack.new_response_url(message.channel, user=user,
                                                 message_ts=message.ts)
                for user in CLICKERS}
        payloads = [block_actions_payload(
            next(e["action_id"] for b in message.blocks if b["type"] == "actions"
                 for e in b["elements"] if e["action_id"].startswith("card.approve")),
            message=message, user_id=user, response_url=urls[user]) for user in CLICKERS]
        barrier = threading.Barrier(len(payloads))
        statuses: list[int] = []

        def click(payload: dict[str, object]) -> None:
            barrier.wait()
            statuses.append(bot.clicker.interaction(payload).status_code)

        threads = [threading.Thread(target=click, args=(p,)) for p in payloads]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert statuses == [200] * len(CLICKERS)
        replies = {user: bot.reply(url) for user, url in urls.items()}

    assert len(receiver.received) == 1, "the deploy tool is told once"
    (_, body), = receiver.received
    deciders = [by["slack"] for by in json.loads(body)["by"]]
    assert len(deciders) == 1, (deciders, replies)
    (decider,) = deciders
    assert replies[decider] == "Approved staging (1 of 1): the deploy tool was told."
    for user, reply in replies.items():
        if user != decider:
            assert reply == f"Not done: staging was already approved by <@{decider}>", user
    for reply in replies.values():
        for counted, required in re.findall(r"\((\d+) of (\d+)\)", reply):
            assert int(counted) <= int(required), reply
    card = bot.card_message(having=f"approved by <@{decider}> (1 of 1)")
    assert "(2 of 1)" not in str(card.blocks)
    assert bot.deployment("staging")["approval"]["by"] == [decider]
