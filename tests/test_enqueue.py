""""Add to merge queue" from the card where the base branch's rules take pull requests only
through GitHub's merge queue: the rules read from the fake GitHub's REST API, the click
re-checked and sent as GraphQL's `enqueuePullRequest` through PyGithub, GitHub's
`merge_group` delivery signed and sent back; signed Slack clicks, the card's own Slack
message (and the web card) as the UI."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from github import Auth, Github

from devexbot.clients.merge_queue import EnqueueRefused, enqueue, queue_required
from devexbot.store.merge_queue_rules import DEFAULT_TTL
from tests.bot import BotFactory
from tests.conftest import GITHUB_SECRET
from tests.fakes.github_api import FakeGitHub
from tests.github_sender import load_fixture
from tests.scenario import HEAD, REPO
from tests.test_actions import PEOPLE, Bot, open_pr, start_bot
from tests.test_merge_settings import OTHER, merge_button, second_pr

RULE_READS = ("GET", f"/repos/{REPO}/rules/branches/main")


@pytest.fixture
def bot(make_bot: BotFactory, fake_github: FakeGitHub) -> Bot:
    fake_github.require_merge_queue(REPO, "main")
    return start_bot(make_bot, fake_github)


def buttons(bot: Bot, sha: str = HEAD, *, having: str = "") -> list[str]:
    """The labels of the card's buttons, once Slack shows the card as it stands."""
    message = bot.card_message(sha, having=having)
    return [str(e["text"]["text"]) for block in message.blocks if block["type"] == "actions"
            for e in block["elements"] if e["type"] == "button"]


def node_id_of(github: FakeGitHub, number: int) -> str:
    return str(github.client().get_repo(REPO).get_pull(number).node_id)


def test_the_card_offers_the_queue_and_the_click_adds_the_pull_request_to_it(
    bot: Bot, fake_github: FakeGitHub
) -> None:
    open_pr(bot, fake_github)
    assert buttons(bot, having="card.enqueue") == ["Add to merge queue"]
    _, url = bot.click("card.enqueue")
    assert bot.reply(url) == ("Added #12 to the merge queue of main (position 1): GitHub merges "
                              "it once the queue's checks pass.")
    (entry,) = fake_github.enqueued(REPO)
    assert (entry.number, entry.node_id, entry.expected_head_oid, entry.by) == (
        12, node_id_of(fake_github, 12), HEAD, "devexbot")
    assert fake_github.merges(REPO) == []
    # Added from here: the button goes at once, GitHub's news is on its way.
    assert buttons(bot, having="Added to the merge queue by <@U0ANA>") == []
    assert fake_github.send_webhooks(bot.client, GITHUB_SECRET) == [202]
    queued = bot.card_message(having="In the merge queue since")
    assert "card.enqueue" not in str(queued.blocks) and "card.merge" not in str(queued.blocks)
    assert bot.bot.card().doc["merge_queue"]["state"] == "queued"
    (audit, *_) = bot.client.get("/api/audit").json()["audit"]
    assert (audit["action"], audit["result"], audit["slack_user"], audit["target"]) == (
        "card.enqueue", "ok", "U0ANA", "#12")


def test_a_head_that_moved_is_refused_and_nothing_is_sent(bot: Bot,
                                                          fake_github: FakeGitHub) -> None:
    open_pr(bot, fake_github)
    message = bot.card_message(having="card.enqueue")
    new_head = fake_github.push(REPO, "feature/login", "More work")
    _, url = bot.click("card.enqueue", message=message)
    assert bot.reply(url) == (f"Not done: #12's head moved to {new_head[:7]}: add it to the "
                              "merge queue from that commit's card")
    assert fake_github.enqueue_mutations() == []


def test_people_the_config_does_not_allow_are_refused_and_audited(
    make_bot: BotFactory, fake_github: FakeGitHub
) -> None:
    fake_github.require_merge_queue(REPO, "main")
    bot = start_bot(make_bot, fake_github, config=PEOPLE + "permissions:\n  merge: [U0BEN]\n")
    open_pr(bot, fake_github)
    _, url = bot.click("card.enqueue", user="U0ANA")
    assert bot.reply(url).startswith(
        "Not done: you may not add pull requests to the merge queue on octo-org/octo-app: ask "
        "someone listed under `permissions.merge`")
    (audit,) = bot.client.get("/api/audit").json()["audit"]
    assert (audit["action"], audit["result"], audit["slack_user"]) == (
        "card.enqueue", "refused", "U0ANA")
    assert fake_github.enqueue_mutations() == []


def test_a_rule_removed_since_the_card_was_drawn_refuses_and_offers_merge(
    bot: Bot, fake_github: FakeGitHub
) -> None:
    open_pr(bot, fake_github)
    message = bot.card_message(having="card.enqueue")
    fake_github.require_merge_queue(REPO, "main", required=False)  # an admin drops the rule
    _, url = bot.click("card.enqueue", message=message)
    assert bot.reply(url) == ("Not done: `main` no longer takes pull requests through a merge "
                              "queue. The card now offers Merge.")
    assert fake_github.enqueue_mutations() == []
    assert merge_button(bot) == "Merge"
    _, url = bot.click("card.merge")
    assert bot.reply(url).startswith("Merged #12 into main (merge")


def test_githubs_graphql_refusal_is_told_in_its_own_words_on_one_line(
    bot: Bot, fake_github: FakeGitHub
) -> None:
    open_pr(bot, fake_github)
    message = bot.card_message(having="card.enqueue")
    fake_github.refuse_next_enqueue("Pull request is in clean status")
    _, url = bot.click("card.enqueue", message=message)
    assert bot.reply(url) == ("Not done: GitHub did not add #12 to the merge queue: Pull request "
                              "is in clean status")
    fake_github.refuse_next_enqueue("Required status check \"build\" is expected.\n\nTry later.")
    _, url = bot.click("card.enqueue", message=message)  # a refused click may be tried again
    assert bot.reply(url) == ("Not done: GitHub did not add #12 to the merge queue: Required "
                              "status check \"build\" is expected. Try later.")
    assert fake_github.enqueued(REPO) == [] and len(fake_github.enqueue_mutations()) == 2
    _, url = bot.click("card.enqueue", message=message)
    assert bot.reply(url).startswith("Added #12 to the merge queue of main")


@pytest.mark.sqlite_only
def test_a_pull_request_already_in_the_queue_has_no_button_and_an_old_click_is_told(
    bot: Bot, fake_github: FakeGitHub
) -> None:
    open_pr(bot, fake_github)
    message = bot.card_message(having="card.enqueue")
    bot.github.deliver("merge_group", load_fixture("merge_group.checks_requested"))
    assert buttons(bot, having="In the merge queue since") == []
    _, url = bot.click("card.enqueue", message=message)
    assert bot.reply(url).startswith("Not done: #12 is already in the merge queue (since <!date^")
    assert fake_github.enqueue_mutations() == []
    # Dequeued (a queue check failed): the card offers the queue again.
    bot.github.deliver("merge_group", load_fixture("merge_group.destroyed.dequeued"))
    assert buttons(bot, having="Removed from the merge queue") == ["Add to merge queue"]


@pytest.mark.sqlite_only
def test_a_pull_request_removed_from_the_queue_may_be_added_again_at_the_same_commit(
    bot: Bot, fake_github: FakeGitHub
) -> None:
    open_pr(bot, fake_github)
    _, url = bot.click("card.enqueue")
    assert bot.reply(url).startswith("Added #12 to the merge queue of main (position 1)")
    fake_github.send_webhooks(bot.client, GITHUB_SECRET)
    bot.card_message(having="In the merge queue since")
    fake_github.leave_queue(REPO, 12, reason="dequeued")  # a queue check failed
    assert fake_github.send_webhooks(bot.client, GITHUB_SECRET) == [202]
    assert buttons(bot, having="Removed from the merge queue") == ["Add to merge queue"]
    _, url = bot.click("card.enqueue")
    assert bot.reply(url).startswith("Added #12 to the merge queue of main (position 1)")
    assert [e.expected_head_oid for e in fake_github.enqueued(REPO)] == [HEAD]
    assert len(fake_github.enqueue_mutations()) == 2


@pytest.mark.sqlite_only
def test_a_merge_github_refuses_for_the_queue_turns_the_button_into_the_queue(
    make_bot: BotFactory, fake_github: FakeGitHub
) -> None:
    """The rules may not be readable to the bot's token (or not read yet): GitHub's 405 on
    Merge teaches that the branch takes pull requests through the queue."""
    bot = start_bot(make_bot, fake_github)
    open_pr(bot, fake_github)
    assert merge_button(bot) == "Merge"
    fake_github.fail_next("PUT */merge", status=405,
                          message="Changes must be made through the merge queue")
    _, url = bot.click("card.merge")
    assert bot.reply(url) == ("Not done: #12 cannot be merged directly: `main` takes pull "
                              "requests through GitHub's merge queue. The card now offers Add "
                              "to merge queue.")
    assert buttons(bot, having="card.enqueue") == ["Add to merge queue"]


@pytest.mark.sqlite_only
def test_the_web_card_offers_the_queue_and_adds_through_the_same_path(
    bot: Bot, fake_github: FakeGitHub
) -> None:
    from tests.web_client import OUTSIDE, sign_in_with_slack

    open_pr(bot, fake_github)
    bot.card_message(having="card.enqueue")
    with bot.bot.web(client=OUTSIDE, follow_redirects=False) as web:
        sign_in_with_slack(web, "U0ANA", "Ana")
        page = web.get(f"/cards/{REPO}/{HEAD}").text
        assert ">Add to merge queue<" in page
        form = page[page.index('<form method="post" action="/cards/'):]
        action = form[len('<form method="post" action="'):form.index('">')].replace("&amp;",
                                                                                   "&")
        assert "card.enqueue" in action
        done = web.post(action)
        assert done.status_code == 303
        assert "Added #12 to the merge queue of main" in web.get(done.headers["location"]).text
    (entry,) = fake_github.enqueued(REPO)
    assert entry.expected_head_oid == HEAD
    (audit, *_) = bot.client.get("/api/audit").json()["audit"]
    assert (audit["action"], audit["slack_user"], audit["result"]) == (
        "card.enqueue", "U0ANA", "ok")


@pytest.mark.sqlite_only
def test_rules_are_read_once_per_branch_for_many_cards_and_again_after_a_while(
    bot: Bot, fake_github: FakeGitHub
) -> None:
    open_pr(bot, fake_github)
    second_pr(bot)
    assert buttons(bot, having="card.enqueue") == buttons(bot, OTHER, having="card.enqueue") \
        == ["Add to merge queue"]
    assert len(fake_github.calls(*RULE_READS)) == 1
    # Later an admin drops the rule; news on one card reads it again, and every open pull
    # request's card follows.
    fake_github.require_merge_queue(REPO, "main", required=False)
    bot.bot.clock.advance(DEFAULT_TTL + timedelta(seconds=1))
    lint = copy.deepcopy(load_fixture("check_run.completed"))
    lint["check_run"].update(id=4, name="lint")
    bot.github.deliver("check_run", lint)
    assert merge_button(bot) == merge_button(bot, OTHER) == "Merge"
    assert len(fake_github.calls(*RULE_READS)) == 2


@pytest.mark.parametrize("prefix", ["", "/api/v3"])
def test_the_client_reads_rules_and_enqueues_on_github_and_github_enterprise(
    prefix: str
) -> None:
    """GraphQL is at /graphql on github.com's API and at /api/graphql on GitHub Enterprise
    Server, beside /api/v3: PyGithub's requester finds it from the same base URL."""
    with FakeGitHub(path_prefix=prefix) as fake:
        fake.add_repo(REPO)
        fake.add_pull(REPO, head="feature/login", head_sha=HEAD, number=12)
        gh = Github(**fake.client_options(auth=Auth.Token(fake.token)))
        repo = gh.get_repo(REPO)
        assert queue_required(repo, "main") is False
        fake.require_merge_queue(REPO, "main")
        assert queue_required(repo, "main") is True
        pr = repo.get_pull(12)
        with pytest.raises(EnqueueRefused, match=r"^Expected head oid does not match"):
            enqueue(pr, OTHER)
        entry = enqueue(pr, HEAD)
        assert (entry.position, entry.state) == (1, "AWAITING_CHECKS")
        assert [c.path for c in fake.calls("POST")] == ["/graphql", "/graphql"]
        assert fake.enqueue_mutations()[-1] == {"pullRequestId": pr.node_id,
                                                "expectedHeadOid": HEAD}


@pytest.mark.sqlite_only
def test_rules_github_would_not_give_are_asked_for_again_a_minute_later(
    bot: Bot, fake_github: FakeGitHub
) -> None:
    fake_github.fail_next("GET */rules/branches/*", status=403,
                          message="Resource not accessible by integration")
    open_pr(bot, fake_github)
    assert merge_button(bot) == "Merge"  # not known: Merge as today
    bot.bot.clock.advance(timedelta(seconds=61))
    assert buttons(bot, having="card.enqueue") == ["Add to merge queue"]
    assert len(fake_github.calls(*RULE_READS)) == 2


@pytest.mark.sqlite_only
def test_rules_unreadable_at_the_click_leave_it_to_github(bot: Bot,
                                                          fake_github: FakeGitHub) -> None:
    open_pr(bot, fake_github)
    message = bot.card_message(having="card.enqueue")
    fake_github.fail_next("GET */rules/branches/*", status=403,
                          message="Resource not accessible by integration")
    _, url = bot.click("card.enqueue", message=message)
    assert bot.reply(url).startswith("Added #12 to the merge queue of main (position 1)")
    fake_github.require_merge_queue(REPO, "main", required=False)
    fake_github.fail_next("GET */rules/branches/*", status=403,
                          message="Resource not accessible by integration")
    fake_github.leave_queue(REPO, 12)
    fake_github.send_webhooks(bot.client, GITHUB_SECRET)
    _, url = bot.click("card.enqueue", message=message)
    assert bot.reply(url) == ("Not done: GitHub did not add #12 to the merge queue: Pull request "
                              "cannot be enqueued: main has no merge queue")
