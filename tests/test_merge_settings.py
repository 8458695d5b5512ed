"""The Merge button merges the way the repository allows: its settings read from the fake
GitHub through PyGithub (kept for a while), narrowed by the config per repo glob; signed
Slack clicks, the card's own Slack message as the UI."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest

from devexbot.config import parse_config
from devexbot.errors import ConfigError
from devexbot.store.merge_settings import DEFAULT_TTL
from tests.bot import BotFactory
from tests.fakes.github_api import FakeGitHub
from tests.github_sender import load_fixture
from tests.scenario import HEAD, REPO
from tests.test_actions import PEOPLE, Bot, open_pr, start_bot

OTHER = "0b4e3f1c2d5a6978e8f7a6b5c4d3e2f1a0b9c8d7"
REPO_READS = ("GET", f"/repos/{REPO}")  # how the bot reads a repository's settings


@pytest.fixture
def bot(make_bot: BotFactory, fake_github: FakeGitHub) -> Bot:
    return start_bot(make_bot, fake_github)


def merge_button(bot: Bot, sha: str = HEAD) -> str:
    """The label of the card's Merge button, once Slack shows the card as it stands."""
    message = bot.card_message(sha, having="card.merge")
    return next(str(e["text"]["text"]) for block in message.blocks
                if block["type"] == "actions" for e in block["elements"]
                if str(e["action_id"]).startswith("card.merge"))


def second_pr(bot: Bot) -> None:
    """PR #13 at OTHER, on the card only."""
    payload = copy.deepcopy(load_fixture("pull_request.opened"))
    pr = payload["pull_request"]
    pr.update(number=13, title="Add logout")
    pr["head"].update(sha=OTHER, ref="feature/logout")
    bot.github.deliver("pull_request", payload)


def test_a_squash_only_repository_is_squash_merged_from_the_card(
    bot: Bot, fake_github: FakeGitHub
) -> None:
    fake_github.update_repo(REPO, allow_merge_commit=False, allow_rebase_merge=False)
    open_pr(bot, fake_github)
    label = merge_button(bot)
    with bot.bot.web() as web:  # the web card offers what the Slack card does
        page = web.get(f"/cards/{REPO}/{HEAD}").text
    _, url = bot.click("card.merge")
    assert bot.reply(url).startswith("Merged #12 into main (squash")
    (merge,) = fake_github.merges(REPO)
    assert (merge.number, merge.sha, merge.merge_method) == (12, HEAD, "squash")
    assert label == "Squash and merge" and ">Squash and merge<" in page
    bot.card_message(having="Merged by <@U0ANA>")


@pytest.mark.sqlite_only
def test_a_config_glob_narrows_the_methods_and_the_repository_narrows_them_further(
    make_bot: BotFactory, fake_github: FakeGitHub
) -> None:
    config = PEOPLE + ("merge:\n  methods: [merge]\n  repos:\n"
                       '    "octo-org/octo-*": {methods: [rebase, squash]}\n'
                       '    "octo-org/*": {methods: [merge]}\n')
    bot = start_bot(make_bot, fake_github, config=config)
    fake_github.update_repo(REPO, allow_rebase_merge=False)
    open_pr(bot, fake_github)
    assert merge_button(bot) == "Squash and merge"
    _, url = bot.click("card.merge")
    assert bot.reply(url).startswith("Merged #12 into main (squash")
    assert [m.merge_method for m in fake_github.merges(REPO)] == ["squash"]


@pytest.mark.sqlite_only
def test_the_old_global_methods_still_apply_and_the_card_says_when_none_is_left(
    make_bot: BotFactory, fake_github: FakeGitHub
) -> None:
    bot = start_bot(make_bot, fake_github, config=PEOPLE + "merge: {methods: [merge]}\n")
    fake_github.update_repo(REPO, allow_merge_commit=False, allow_rebase_merge=False)
    open_pr(bot, fake_github)
    message = bot.card_message(having="Merge unavailable: octo-org/octo-app allows only "
                                      "squash merging on GitHub, and the bot's config only "
                                      "merge commits (`merge.methods`)")
    assert "card.merge" not in str(message.blocks)


@pytest.mark.sqlite_only
def test_settings_changed_since_the_card_was_drawn_refuse_and_redraw_it(
    bot: Bot, fake_github: FakeGitHub
) -> None:
    open_pr(bot, fake_github)
    message = bot.card_message(having="card.merge")
    assert merge_button(bot) == "Merge"
    fake_github.update_repo(REPO, allow_merge_commit=False)  # an admin changes the settings
    _, url = bot.click("card.merge", message=message)
    assert bot.reply(url) == ("Not done: octo-org/octo-app no longer allows merge commits on "
                              "GitHub. The card now offers Squash and merge.")
    assert fake_github.merges(REPO) == []
    assert merge_button(bot) == "Squash and merge"
    _, url = bot.click("card.merge")
    assert bot.reply(url).startswith("Merged #12 into main (squash")


@pytest.mark.sqlite_only
def test_githubs_refusal_teaches_a_method_the_token_cannot_see(
    bot: Bot, fake_github: FakeGitHub
) -> None:
    """Some tokens do not see a repository's settings: GitHub's 405 says what it refused,
    the card drops that method, and the next click merges by the next one."""
    fake_github.update_repo(REPO, allow_merge_commit=False, merge_settings_visible=False)
    open_pr(bot, fake_github)
    assert merge_button(bot) == "Merge"  # nothing says otherwise yet
    _, url = bot.click("card.merge")
    assert bot.reply(url) == (
        "Not done: GitHub says #12 cannot be merged: Merge commits are not allowed on this "
        "repository. The card now offers Squash and merge.")
    assert merge_button(bot) == "Squash and merge"
    _, url = bot.click("card.merge")
    assert bot.reply(url).startswith("Merged #12 into main (squash")


@pytest.mark.sqlite_only
def test_settings_are_read_once_for_many_cards_and_again_after_a_while(
    bot: Bot, fake_github: FakeGitHub
) -> None:
    open_pr(bot, fake_github)
    second_pr(bot)
    assert merge_button(bot) == merge_button(bot, OTHER) == "Merge"
    assert len(fake_github.calls(*REPO_READS)) == 1
    # Later, an admin turns merge commits off; news on one card reads the settings again,
    # and every open pull request's card follows, news or not.
    fake_github.update_repo(REPO, allow_merge_commit=False)
    bot.bot.clock.advance(DEFAULT_TTL + timedelta(seconds=1))
    lint = copy.deepcopy(load_fixture("check_run.completed"))
    lint["check_run"].update(id=4, name="lint")
    bot.github.deliver("check_run", lint)
    assert merge_button(bot) == merge_button(bot, OTHER) == "Squash and merge"
    assert len(fake_github.calls(*REPO_READS)) == 2


@pytest.mark.parametrize(("yaml", "error"), [
    ("merge: {methods: []}", "<config>:1: merge.methods: list at least one of merge, squash, "
                             "rebase"),
    ("merge: {methods: [squash, squash]}",
     "<config>:1: merge.methods: squash is listed twice: list each method once, the preferred "
     "first"),
    ("merge:\n  repos:\n    'octo-org/*': {methods: [fast-forward]}",
     "<config>:3: merge.repos.octo-org/*.methods[0]: Input should be 'merge', 'squash' or "
     "'rebase'"),
    ("merge:\n  repos:\n    'octo-org/*': {method: squash}",
     "<config>:3: merge.repos.octo-org/*.methods: Field required"),
])
def test_merge_config_mistakes_are_one_line(yaml: str, error: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(yaml)
    assert str(raised.value) == error


def test_one_method_may_be_written_without_a_list() -> None:
    config = parse_config("merge:\n  methods: squash\n  repos: {'octo-org/*': {methods: rebase}}")
    assert config.policies().merge.methods == ("squash",)
    assert config.policies().merge.repos == (("octo-org/*", ("rebase",)),)


@pytest.mark.sqlite_only
def test_github_down_leaves_the_button_as_configured_and_is_asked_again(
    bot: Bot, fake_github: FakeGitHub
) -> None:
    fake_github.update_repo(REPO, allow_merge_commit=False, allow_rebase_merge=False)
    fake_github.fail_next("GET /repos/octo-org/octo-app", status=502, times=3)
    open_pr(bot, fake_github)
    assert merge_button(bot) == "Merge"  # the config's first: nothing known yet
    bot.bot.clock.advance(timedelta(seconds=61))  # the lookup is tried again
    assert merge_button(bot) == "Squash and merge"
