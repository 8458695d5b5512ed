"""A pull request card's "Request review" and "Label" menus, end to end: Slack's signed
options requests and picks, the real PyGithub against the fake GitHub, the card's own
Slack message as the UI."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from devexbot.slack.manifest import build_manifest
from tests.bot import BotFactory
from tests.fakes.github_api import FakeGitHub
from tests.scenario import REPO
from tests.slack_suggestions import block_suggestion_payload, select_payload
from tests.test_actions import PEOPLE, Bot, open_pr, start_bot

REVIEW, LABEL = "card.request_review", "card.label"
pytestmark = pytest.mark.sqlite_only  # menus and picks; the claims are test_actions'


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        fake.add_repo(REPO)
        for login in ("ana", "ben", "cleo"):
            fake.add_collaborator(REPO, login)
        fake.add_team("octo-org", "reviewers", members=["dan"], repos={REPO: "write"},
                      name="Reviewers")
        fake.add_label(REPO, "bug", color="d73a4a")
        fake.add_label(REPO, "needs-qa", description="Waiting for QA sign-off")
        yield fake


class Menus:
    """The bot, and a person opening, typing in and picking from the card's menus."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    def action_id(self, prefix: str) -> str:
        message = self.bot.card_message(having=prefix)
        return str(next(
            e["action_id"] for b in message.blocks if b["type"] == "actions"
            for e in b["elements"] if e["action_id"].startswith(prefix)
        ))

    def options(self, prefix: str, typed: str = "", *, user: str = "U0ANA") -> list[Any]:
        """The options Slack would show after the user typed `typed` in the menu."""
        message = self.bot.card_message(having=prefix)
        payload = block_suggestion_payload(self.action_id(prefix), typed, message=message,
                                           user_id=user)
        response = self.bot.clicker.interaction(payload)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/json")
        options: list[Any] = response.json()["options"]
        return options

    def texts(self, prefix: str, typed: str = "") -> list[str]:
        return [o["text"]["text"] for o in self.options(prefix, typed)]

    def pick(self, prefix: str, text: str, *, user: str = "U0ANA", typed: str = "") -> str:
        """Pick the option shown as `text`; returns the reply the picker sees."""
        option = next(o for o in self.options(prefix, typed, user=user)
                      if o["text"]["text"] == text)
        message = self.bot.card_message(having=prefix)
        url = self.bot.slack.new_response_url(message.channel, user=user,
                                              message_ts=message.ts)
        payload = select_payload(self.action_id(prefix), option, message=message,
                                 user_id=user, response_url=url)
        response = self.bot.clicker.interaction(payload)
        assert response.status_code == 200, response.text
        return self.bot.reply(url)


def running_bot(make_bot: BotFactory, github: FakeGitHub,
                config: str = PEOPLE) -> Iterator[Menus]:
    bot = start_bot(make_bot, github, config=config)
    open_pr(bot, github)
    yield Menus(bot)


@pytest.fixture
def menus(make_bot: BotFactory, fake_github: FakeGitHub) -> Iterator[Menus]:
    yield from running_bot(make_bot, fake_github)


def audit(menus: Menus) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = menus.bot.client.get("/api/audit").json()["audit"]
    return entries


def test_the_menus_list_the_repos_people_and_teams_as_you_type(menus: Menus) -> None:
    # The author cannot review their own pull request, so ana is not offered.
    assert menus.texts(REVIEW) == ["@ben", "@cleo", "@dan", "@octo-org/reviewers"]
    assert menus.texts(REVIEW, "CL") == ["@cleo"]
    assert menus.texts(REVIEW, "@be") == ["@ben"]
    assert menus.texts(REVIEW, "review") == ["@octo-org/reviewers"]  # slug and name
    assert menus.texts(REVIEW, "nobody") == []
    assert menus.texts(LABEL) == ["bug", "needs-qa"]
    assert menus.texts(LABEL, "sign-off") == ["needs-qa"]  # descriptions match too


def test_request_review_from_a_person(menus: Menus, fake_github: FakeGitHub) -> None:
    assert menus.pick(REVIEW, "@cleo", typed="cl") == "Asked @cleo to review #12."
    assert fake_github.pull(REPO, 12).requested_reviewers == ["cleo"]
    menus.bot.card_message(having="Review requested from @cleo by <@U0ANA>")
    (entry,) = audit(menus)
    assert (entry["action"], entry["result"], entry["target"], entry["github_login"]) == (
        "card.request_review", "ok", "@cleo", "ana")
    # Asked already: GitHub is asked again at pick time, and says so.
    assert menus.pick(REVIEW, "@cleo") == ("Not done: a review from @cleo is already "
                                           "requested on #12")
    assert audit(menus)[0]["result"] == "refused"


def test_request_review_from_a_team(menus: Menus, fake_github: FakeGitHub) -> None:
    assert menus.pick(REVIEW, "@octo-org/reviewers") == "Asked @octo-org/reviewers to review #12."
    pull = fake_github.pull(REPO, 12)
    assert (pull.requested_teams, pull.requested_reviewers) == (["reviewers"], [])
    menus.bot.card_message(having="Review requested from @octo-org/reviewers by <@U0ANA>")


def test_label_the_pull_request(menus: Menus, fake_github: FakeGitHub) -> None:
    assert menus.pick(LABEL, "needs-qa") == "Labelled #12 needs-qa."
    assert fake_github.pull(REPO, 12).labels == ["needs-qa"]
    menus.bot.card_message(having="Labelled `needs-qa` by <@U0ANA>")
    (entry,) = audit(menus)
    assert (entry["action"], entry["result"], entry["target"]) == ("card.label", "ok", "needs-qa")


def test_a_label_deleted_since_the_menu_opened_is_not_recreated(
    menus: Menus, fake_github: FakeGitHub
) -> None:
    option = next(o for o in menus.options(LABEL) if o["text"]["text"] == "bug")
    with fake_github.state.lock:  # someone deletes the label on GitHub meanwhile
        del fake_github.state.repo(REPO).labels["bug"]
    message = menus.bot.card_message(having=LABEL)
    url = menus.bot.slack.new_response_url(message.channel, user="U0ANA",
                                           message_ts=message.ts)
    menus.bot.clicker.interaction(select_payload(menus.action_id(LABEL), option,
                                                 message=message, user_id="U0ANA",
                                                 response_url=url))
    assert menus.bot.reply(url) == "Not done: octo-org/octo-app has no label 'bug' (any more)"
    assert fake_github.pull(REPO, 12).labels == []
    assert "bug" not in fake_github.repo(REPO).labels


def test_a_closed_pull_request_is_refused(menus: Menus, fake_github: FakeGitHub) -> None:
    menus.bot.card_message(having=REVIEW)
    fake_github.update_pull(REPO, 12, state="closed")
    assert menus.pick(REVIEW, "@ben") == "Not done: #12 is closed"
    assert fake_github.pull(REPO, 12).requested_reviewers == []


def test_permissions_review_and_label_with_a_repo_override(
    make_bot: BotFactory, fake_github: FakeGitHub
) -> None:
    config = PEOPLE + (
        "permissions:\n"
        "  review: [U0BEN]\n"
        "  label: [U0BEN]\n"
        "  repos:\n"
        '    "octo-org/*": {review: [U0ANA]}\n'
    )
    for menus in running_bot(make_bot, fake_github, config):
        assert menus.pick(LABEL, "bug").startswith(
            "Not done: you may not label pull requests on octo-org/octo-app: ask someone "
            "listed under `permissions.label`")
        assert menus.pick(LABEL, "bug", user="U0BEN") == "Labelled #12 bug."
        assert menus.pick(REVIEW, "@ben") == "Asked @ben to review #12."  # the override
        assert menus.pick(REVIEW, "@cleo", user="U0BEN").startswith(
            "Not done: you may not request reviews on octo-org/octo-app")
        results = sorted((e["slack_user"], e["action"], e["result"]) for e in audit(menus))
        assert results == [("U0ANA", "card.label", "refused"),
                           ("U0ANA", "card.request_review", "ok"),
                           ("U0BEN", "card.label", "ok"),
                           ("U0BEN", "card.request_review", "refused")]
    assert fake_github.pull(REPO, 12).labels == ["bug"]
    assert fake_github.pull(REPO, 12).requested_reviewers == ["ben"]


def test_at_most_100_options_names_starting_with_the_query_first(
    make_bot: BotFactory, fake_github: FakeGitHub
) -> None:
    for n in range(150):
        fake_github.add_collaborator(REPO, f"dev{n:03d}")
    fake_github.add_collaborator(REPO, "adev140")
    for menus in running_bot(make_bot, fake_github):
        shown = menus.texts(REVIEW)
        assert len(shown) == 100
        assert shown[:5] == ["@adev140", "@ben", "@cleo", "@dan", "@dev000"]
        # Names starting with what was typed come first, then names containing it.
        assert menus.texts(REVIEW, "dev14") == [f"@dev{n}" for n in range(140, 150)] + [
            "@adev140"]
        assert "@adev140" not in menus.texts(REVIEW, "de")  # 150 start with it: cut at 100
    # GitHub pages by 100: two pages of collaborators, loaded once for many keystrokes.
    assert len(fake_github.calls("GET", f"/repos/{REPO}/collaborators")) == 2


def test_a_slow_github_still_gets_slack_an_answer_in_time(
    menus: Menus, fake_github: FakeGitHub
) -> None:
    menus.bot.card_message(having=REVIEW)
    fake_github.hold_answers()  # GitHub answers nothing until the test says so
    try:
        started = time.monotonic()
        assert menus.texts(REVIEW) == []  # nothing yet, but an answer within Slack's 3 s
        assert time.monotonic() - started < 2.9
    finally:
        fake_github.release_answers()
    # The load went on in the background: the next keystroke is answered from it.
    assert menus.texts(REVIEW, "b") == ["@ben"]


def test_the_manifest_sends_menu_options_requests_to_the_bot() -> None:
    http = build_manifest(public_url="https://bot.example.com/", socket_mode=False)
    assert http["settings"]["interactivity"]["message_menu_options_url"] == (
        "https://bot.example.com/slack/events")
    socket = build_manifest(public_url=None, socket_mode=True)  # they come over the socket
    assert "message_menu_options_url" not in socket["settings"]["interactivity"]
