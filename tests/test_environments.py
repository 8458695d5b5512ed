"""Where is it running: each environment's live commit after deploys arriving in any order
and a rollback, by `/devex where` and `GET /api/environments`; and what a waiting deploy
carries over what is live, on its card. Real app, signed requests, fake GitHub and Slack."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from devexbot.store import CommitRange
from devexbot.store.cards import get_card
from tests.bot import BotFactory, TestBot
from tests.fakes.github_api import FakeGitHub

REPO = "octo-org/octo-app"
CHANNEL = "C0TEAM"
DOMAIN = "octo"
CONFIG = """\
environments: [test, staging, production]
tickets:
  projects: [ABC]
  url: https://jira.example.com
"""


class Bot:
    def __init__(self, bot: TestBot, github: FakeGitHub) -> None:
        assert bot.slack is not None
        self.bot, self.services, self.client, self.slack = bot, bot.services, bot.client, \
            bot.slack
        self.github = github

    def deploy(self, sha: str, environment: str, at: str, status: str = "success") -> None:
        event = {"repository": REPO, "sha": sha, "environment": environment,
                 "status": status, "url": f"https://{environment}.octo-app.example.com",
                 "timestamp": f"2026-11-20T{at}Z"}
        assert self.bot.deploy.send(event).status_code in (200, 202)

    def where(self, text: str) -> tuple[str, list[str]]:
        """The command's acknowledgement, and what follows through its response_url (an
        acknowledgement that says it is looking something up is followed by the answer)."""
        url = self.slack.new_response_url(CHANNEL, user="U0ANA")
        response = self.bot.slack_sender.command("/devex", f"where {text}", channel_id=CHANNEL,
                                                 user_id="U0ANA", response_url=url,
                                                 team_domain=DOMAIN)
        assert response.status_code == 200, response.text
        ack = response.json()["text"] if response.content else ""
        if ack.startswith("Looking up"):
            self.slack.wait_for_response_url_posts(url)
        return ack, [str(p["text"]) for p in self.slack.response_url_posts(url)]


def start(make_bot: BotFactory, github: FakeGitHub, **settings: Any) -> Bot:
    return Bot(make_bot(config=CONFIG, **settings), github)


@pytest.fixture
def bot(make_bot: BotFactory, fake_github: FakeGitHub) -> Bot:
    return start(make_bot, fake_github, github_token=fake_github.token,
                 github_api_url=fake_github.base_url)


def history(github: FakeGitHub) -> tuple[str, str, str]:
    """Three commits on main, oldest first."""
    a = github.add_commit(REPO, "ABC-1 First feature")
    b = github.add_commit(REPO, "ABC-2 Second feature")
    c = github.add_commit(REPO, "ABC-3 Third feature")
    return a, b, c


def test_where_with_several_environments_and_a_rollback(bot: Bot) -> None:
    a, b, c = history(bot.github)
    bot.deploy(a, "test", "10:00:00")
    bot.deploy(b, "test", "10:10:00")
    bot.deploy(c, "test", "10:20:00")
    bot.deploy(b, "staging", "10:15:00")
    bot.deploy(c, "staging", "10:25:00", status="failure")  # a failure changes nothing live
    bot.deploy(a, "production", "10:05:00")
    bot.deploy(a, "production", "10:40:00")  # the rollback, delivered before...
    bot.deploy(c, "production", "10:30:00")  # ...the deploy it rolls back
    bot.deploy(c, "Production", "10:31:00", status="in_progress")

    (test, staging, production) = bot.client.get(
        f"/api/environments?repo={REPO}").json()["environments"]
    assert test == {"repo": REPO, "environment": "test", "sha": c,
                    "since": "2026-11-20T10:20:00Z", "by": None,
                    "card": f"/api/cards/{REPO}/{c}",
                    "url": "https://test.octo-app.example.com", "slack": None}
    assert (staging["sha"], staging["since"]) == (b, "2026-11-20T10:15:00Z")
    assert (production["sha"], production["since"]) == (a, "2026-11-20T10:40:00Z")
    assert bot.client.get("/api/environments?repo=other/repo").json() == {"environments": []}
    assert bot.client.get("/api/environments?repo=nope").status_code == 400

    ack, _ = bot.where(REPO)
    lines = ack.splitlines()
    assert lines[0] == f"*{REPO}* runs:"
    assert lines[1].startswith(f"• *test* <https://github.com/{REPO}/commit/{c}|`{c[:7]}`>"
                               " — since <!date^")
    assert lines[2].startswith(f"• *staging* <https://github.com/{REPO}/commit/{b}|`{b[:7]}`>")
    assert lines[3].startswith(f"• *production* <https://github.com/{REPO}/commit/{a}|"
                               f"`{a[:7]}`>")
    # Each links to its card's Slack message once the outbox posted it.
    bot.bot.settle()
    card = _posted(bot, a)
    ack, _ = bot.where(REPO)
    link = f"https://{DOMAIN}.slack.com/archives/{card.slack_channel}/" \
           f"p{card.slack_ts.replace('.', '')}"
    assert f"<{link}|card>" in ack.splitlines()[3]

    # Which environments run b, or a later commit?
    ack, later = bot.where(b[:10])
    assert ack == f"Looking up which environments run `{b[:7]}` or a later commit…"
    (answer,) = later
    assert answer.splitlines()[0] == f"`{b[:7]}` of *{REPO}* runs in:"
    assert answer.splitlines()[1].startswith("• *staging* (since <!date^")
    assert answer.splitlines()[2] == (f"• *test* (in <https://github.com/{REPO}/commit/{c}|"
                                      f"`{c[:7]}`>, 1 commit later)")
    assert answer.splitlines()[3] == (f"Not in: *production* (runs <https://github.com/{REPO}/"
                                      f"commit/{a}|`{a[:7]}`>, older)")
    # The comparisons are kept: asking again asks GitHub nothing. (The outbox compares too,
    # for the in-progress deploy's contents: let it finish first.)
    bot.bot.settle()
    compares = len(bot.github.calls("GET", "*/compare/*"))
    assert bot.where(f"{b} {REPO}")[1] == [answer]
    assert len(bot.github.calls("GET", "*/compare/*")) == compares

    ack, _ = bot.where("0123456789abcdef")
    assert ack.startswith("I know no commit `0123456789abcdef`")
    ack, _ = bot.where("not a thing")
    assert ack.startswith("Usage: `/devex where owner/repo`")
    ack, _ = bot.where("other-org/other-app")
    assert ack.startswith("No deployment of *other-org/other-app* has succeeded yet")


def _posted(bot: Bot, sha: str) -> Any:
    with bot.services.db.read() as session:
        card = get_card(session, REPO, sha)
        return card if card and card.slack_ts else None


@pytest.mark.sqlite_only
def test_where_without_github_answers_exact_matches(
        make_bot: BotFactory, fake_github: FakeGitHub
) -> None:
    bot = start(make_bot, fake_github)
    a, b, _ = history(fake_github)
    bot.deploy(a, "test", "10:00:00")
    bot.deploy(b, "production", "10:00:00")
    ack, later = bot.where(a)
    assert later == []
    assert ack.splitlines()[:2] == [f"`{a[:7]}` of *{REPO}* runs in:",
                                    ack.splitlines()[1]]
    assert ack.splitlines()[1].startswith("• *test* (since ")
    assert ack.splitlines()[2].startswith("Cannot tell (GitHub could not compare the "
                                          "commits): *production*")


def test_a_waiting_deploy_shows_what_it_carries_over_whats_live(bot: Bot) -> None:
    live = bot.github.add_commit(REPO, "ABC-1 What production runs")
    for n in range(1, 9):  # eight merged pull requests, more than the card lists
        bot.github.add_commit(REPO, f"Merge pull request #{100 + n} from octo-org/f{n}\n\n"
                                    f"Feature {n} (ABC-{10 + n})")
    plain = bot.github.add_commit(REPO, "Fix a typo", branch="main")
    bot.github.add_pull(REPO, head="typo", head_sha=plain, number=120, title="Typo fixes",
                        body="Refs OPS-1 and ABC-99")
    head = bot.github.add_commit(REPO, "ABC-30 The commit being deployed")
    bot.deploy(live, "production", "09:00:00")
    bot.deploy(head, "production", "10:00:00", status="waiting")
    bot.deploy(head, "staging", "10:00:00", status="waiting")  # nothing known live there

    def shown() -> str | None:
        bot.bot.settle()
        card = _posted(bot, head)
        assert card is not None and not card.dirty
        text = json.dumps(bot.slack.final_message(card.slack_channel, card.slack_ts).blocks,
                          ensure_ascii=False)
        return text if "📦" in text else None

    blocks = shown()  # the card with what the deploy carries
    assert blocks is not None
    (note,) = [e["text"] for b in json.loads(blocks) if b["type"] == "context"
               for e in b["elements"] if "📦" in e["text"]]
    web = bot.github.url
    assert note.startswith(f"📦 *production* gets 10 commits over live "
                           f"<https://github.com/{REPO}/commit/{live}|`{live[:7]}`>: "
                           f"<{web}/{REPO}/pull/120|#120 Typo fixes> · "
                           f"<{web}/{REPO}/pull/108|#108 Feature 8 (ABC-18)> · ")
    assert "#106 Feature 6" in note and "#105" not in note  # as many as fit in their share
    assert "+5 more PRs" in note
    assert "🎫 <https://jira.example.com/browse/ABC-11|ABC-11>, " in note
    assert note.endswith(", +6 more")  # ABC-11..18, ABC-30, ABC-99: as many as fit
    with bot.services.db.read() as session:
        (kept,) = session.scalars(select(CommitRange))
    assert (kept.base, kept.head, kept.status, kept.ahead_by) == (live, head, "ahead", 10)
    assert len(bot.github.calls("GET", "*/compare/*")) == 1
    assert len(bot.github.calls("GET", "*/commits/*/pulls")) == 2  # the two plain commits
    # Once live, the card no longer says what it would bring.
    bot.deploy(head, "production", "10:05:00")
    assert not shown()  # the note went
    envs = bot.client.get("/api/environments").json()["environments"]
    assert [(e["repo"], e["environment"], e["sha"]) for e in envs] == [
        (REPO, "production", head)]
