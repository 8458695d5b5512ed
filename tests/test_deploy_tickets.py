"""A deploy updates every ticket it brings to an environment: those of its own commit and of
every commit between what was live there and it (GitHub's compare), once per ticket and
environment, whichever deploy brought it. Real app, signed webhooks, fake Jira and GitHub
as local HTTP servers."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from tests.bot import BotFactory, TestBot
from tests.fakes.github_api import FakeGitHub
from tests.fakes.jira_api import FakeJira
from tests.github_sender import load_fixture
from tests.scenario import HEAD, REPO
from tests.test_actions import fakes_settings

CONFIG = """\
environments: [staging, production]
tickets:
  projects: [ABC]
  url: https://jira.example.com
  on_deploy:
    staging: {comment: true, transition: In QA}
    production: {comment: true, transition: Done}
"""
PROD_URL = "https://production.octo-app.example.com"
# GitHub's merge commit of #14: the ticket is named only by the pull request's branch,
# which the bot saw; the squash commit of #15 names its ticket, and the bot never saw it.
MERGE_14 = "Merge pull request #14 from octo-org/feature/abc-1-signup\n\nSign-up form"
SQUASH_15 = "ABC-2 Password reset (#15)"


@pytest.fixture
def fake_jira() -> Iterator[FakeJira]:
    with FakeJira() as jira:
        for key, title in (("ABC-1", "Sign-up"), ("ABC-2", "Password reset"),
                           ("ABC-3", "Remember me"), ("ABC-9", "Release 1")):
            jira.add_issue(key, title, status="In Progress")
        yield jira


class History:
    """main: c1 (live in production) ← c2 (merge of #14) ← c3 (squash of #15) ← c4 (HEAD)."""

    def __init__(self, github: FakeGitHub) -> None:
        self.c1 = github.add_commit(REPO, "ABC-9 Release 1")
        self.c2 = github.add_commit(REPO, MERGE_14)
        self.c3 = github.add_commit(REPO, SQUASH_15)
        self.c4 = github.add_commit(REPO, "ABC-3 Remember me", sha=HEAD)


@pytest.fixture
def history(fake_github: FakeGitHub) -> History:
    return History(fake_github)


def start(make_bot: BotFactory, jira: FakeJira, github: FakeGitHub) -> TestBot:
    return make_bot(config=CONFIG, jira_url=jira.base_url, jira_user=jira.user,
                    jira_api_token=jira.token, **fakes_settings(github))


def deploy(bot: TestBot, sha: str, environment: str, at: str, **fields: Any) -> None:
    event = {"repository": REPO, "sha": sha, "environment": environment, "status": "success",
             "url": f"https://{environment}.octo-app.example.com",
             "timestamp": f"2026-11-20T{at}Z", **fields}
    response = bot.deploy.send(event)
    assert response.status_code in (200, 202), response.text


def merged_14(bot: TestBot, history: History) -> None:
    """GitHub tells the bot #14 was merged as c2: c2's card names ABC-1 (its branch)."""
    payload = copy.deepcopy(load_fixture("pull_request.closed"))
    pull = payload["pull_request"]
    pull.update(number=14, title="Sign-up form", body="The form.", merge_commit_sha=history.c2)
    pull["head"]["ref"] = "feature/abc-1-signup"
    assert bot.deliver("pull_request", payload).status_code == 202


def pushed(bot: TestBot, sha: str = HEAD, message: str = "ABC-3 Remember me") -> None:
    """GitHub tells the bot of a push of `sha` (c4 by default)."""
    payload = copy.deepcopy(load_fixture("push"))
    payload["after"] = payload["head_commit"]["id"] = sha
    payload["head_commit"]["message"] = message
    payload["head_commit"]["url"] = f"https://github.com/{REPO}/commit/{sha}"
    assert bot.deliver("push", payload).status_code == 202


def in_production(comment: str, short: str) -> bool:
    return comment.startswith(f"Deployed to production in {short} — try it: {PROD_URL}")


def test_a_deploy_updates_the_tickets_of_every_commit_it_brings(
        make_bot: BotFactory, fake_jira: FakeJira, fake_github: FakeGitHub,
        history: History) -> None:
    bot = start(make_bot, fake_jira, fake_github)
    deploy(bot, history.c1, "production", "09:00:00")  # what production runs
    merged_14(bot, history)
    pushed(bot)
    bot.settle()
    assert fake_jira.comments("ABC-1") == fake_jira.comments("ABC-2") == []

    deploy(bot, HEAD, "production", "10:00:00")
    bot.settle()
    for key in ("ABC-1", "ABC-2", "ABC-3"):
        (comment,) = fake_jira.comments(key)
        assert in_production(comment, "6dcb09b"), comment
        assert fake_jira.transitions_made(key) == [("In Progress", "Done")], key
    # Each comment names the commit that brought its ticket.
    assert f"{REPO}: ABC-3 Remember me (https://github.com/{REPO}/commit/{HEAD})" in \
        fake_jira.comments("ABC-3")[0]
    assert f"commit/{history.c2}" in fake_jira.comments("ABC-1")[0]
    assert f"{REPO}: ABC-2 Password reset (#15) (https://github.com/{REPO}/commit/" \
           f"{history.c3})" in fake_jira.comments("ABC-2")[0]
    assert fake_jira.comments("ABC-9") == []  # production ran it before: not brought now

    # The same deploy again, told twice more (a retry, and a later redeploy): nothing new.
    deploy(bot, HEAD, "production", "10:00:00")
    deploy(bot, HEAD, "production", "10:30:00", deployment_id="redeploy")
    bot.settle()
    for key in ("ABC-1", "ABC-2", "ABC-3"):
        assert len(fake_jira.comments(key)) == 1, key
        assert len(fake_jira.transitions_made(key)) == 1, key


@pytest.mark.sqlite_only
def test_staging_then_production_updates_each_ticket_once_per_environment(
        make_bot: BotFactory, fake_jira: FakeJira, fake_github: FakeGitHub,
        history: History) -> None:
    bot = start(make_bot, fake_jira, fake_github)
    for environment in ("staging", "production"):
        deploy(bot, history.c1, environment, "09:00:00")
    merged_14(bot, history)
    pushed(bot)
    # Staging gets c3 first, then c4; production gets c4 at once.
    deploy(bot, history.c3, "staging", "10:00:00")
    deploy(bot, HEAD, "staging", "10:10:00")
    bot.settle()
    deploy(bot, HEAD, "production", "11:00:00")
    bot.settle()
    for key in ("ABC-1", "ABC-2", "ABC-3"):
        comments = fake_jira.comments(key)
        assert [c.split(" in ", 1)[0] for c in comments] == [
            "Deployed to staging", "Deployed to production"], (key, comments)
        assert fake_jira.transitions_made(key) == [("In Progress", "In QA"), ("In QA", "Done")]
    # ABC-1 and ABC-2 reached staging with c3, before c4 was there.
    assert " in " + history.c3[:7] in fake_jira.comments("ABC-2")[0]
    assert " in 6dcb09b" in fake_jira.comments("ABC-3")[0]


@pytest.mark.sqlite_only
def test_two_deploys_bringing_one_ticket_update_it_once(
        make_bot: BotFactory, fake_jira: FakeJira, fake_github: FakeGitHub,
        history: History) -> None:
    bot = start(make_bot, fake_jira, fake_github)
    pushed(bot, history.c3, SQUASH_15)
    pushed(bot, HEAD, "ABC-3 Remember me, which ABC-2 needs")
    deploy(bot, history.c3, "production", "10:00:00")
    bot.settle()
    assert len(fake_jira.comments("ABC-2")) == 1
    deploy(bot, HEAD, "production", "11:00:00")  # names ABC-2 too
    bot.settle()
    (comment,) = fake_jira.comments("ABC-2")
    assert comment.startswith(f"Deployed to production in {history.c3[:7]}")
    assert fake_jira.transitions_made("ABC-2") == [("In Progress", "Done")]
    assert len(fake_jira.comments("ABC-3")) == 1


@pytest.mark.sqlite_only
def test_github_down_delays_the_brought_tickets_and_loses_none(
        make_bot: BotFactory, fake_jira: FakeJira, fake_github: FakeGitHub,
        history: History) -> None:
    bot = start(make_bot, fake_jira, fake_github)
    deploy(bot, history.c1, "production", "09:00:00")
    merged_14(bot, history)
    pushed(bot)
    # Three failures for each asker of the range: the delivery metrics' lookup (what the
    # deploy carried) asks first, then the ticket updates.
    fake_github.fail_next("GET /repos/*/compare/*", status=502, times=6)
    deploy(bot, HEAD, "production", "10:00:00")
    bot.flush()
    assert len(fake_jira.comments("ABC-3")) == 1  # its own ticket does not wait for GitHub
    assert fake_jira.comments("ABC-2") == []
    bot.settle()  # GitHub is back: the compare is tried again
    for key in ("ABC-1", "ABC-2"):
        assert len(fake_jira.comments(key)) == 1, key
    assert [c.status for c in fake_github.calls("GET", "*/compare/*")] == [502] * 6 + [200]
