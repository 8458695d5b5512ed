"""Who may act: one kind of principal everywhere the config names people (permissions,
runbooks' `allowed`, approvers), its mistakes in words, and GitHub users and teams
deciding clicks and commands as they decide approvals."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from correlation.principals import Principal, PrincipalKind, parse_principal
from devexbot.cli import main
from devexbot.config import parse_config
from devexbot.errors import ConfigError
from tests.bot import BotFactory, TestBot
from tests.fakes.github_api import FakeGitHub
from tests.fakes.slack_api import FakeSlack
from tests.runbook_bot import runbook_bot
from tests.scenario import REPO
from tests.test_actions import Bot, open_pr, start_bot

FORMS = ("use *, a Slack user id (U…), a user group (S… or @handle), github:<login> or "
         "github-team:<org>/<team>")


# --- the forms ---------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "kind", "name"), [
    ("*", PrincipalKind.EVERYONE, "*"),
    ("U0ANA", PrincipalKind.SLACK_USER, "U0ANA"),
    ("W0ENTERPRISE", PrincipalKind.SLACK_USER, "W0ENTERPRISE"),
    ("S0OPS", PrincipalKind.SLACK_GROUP, "S0OPS"),
    ("@release-managers", PrincipalKind.SLACK_HANDLE, "release-managers"),
    ("github:ana", PrincipalKind.GITHUB_USER, "ana"),
    ("github:Ana-B", PrincipalKind.GITHUB_USER, "Ana-B"),
    ("github-team:octo-org/sre", PrincipalKind.GITHUB_TEAM, "octo-org/sre"),
    ("github-team:Octo/release.managers_2", PrincipalKind.GITHUB_TEAM,
     "Octo/release.managers_2"),
])
def test_every_form_of_principal_parses(text: str, kind: PrincipalKind, name: str) -> None:
    assert parse_principal(text) == Principal(kind, name)


@pytest.mark.parametrize(("text", "hint"), [
    ("bob", " (a GitHub user is github:bob)"),
    ("everyone", " (everyone is *)"),
    ("u0ana", " (a GitHub user is github:u0ana)"),
    ("U0ANA,U0BEN", ""),
    ("", ""),
    ("octo-org/sre", " (a GitHub team is github-team:octo-org/sre)"),
    ("github:octo-org/sre", " (a GitHub team is github-team:octo-org/sre)"),
    ("github-team:sre", " (a GitHub team is github-team:<org>/<team>)"),
    ("<@U0ANA>", " (write the id alone: U0ANA)"),
    ("#ops", " (a channel cannot act: name its people or a user group)"),
])
def test_a_wrong_principal_is_explained_in_words(text: str, hint: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_principal(text)
    assert str(caught.value) == f"{text!r} is not a principal — {FORMS}{hint}"


# --- the config --------------------------------------------------------------------------


def problems(yaml_text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(textwrap.dedent(yaml_text), source="devexbot.yaml")
    return caught.value.problems


def test_github_users_and_teams_are_principals_in_every_section() -> None:
    config = parse_config(textwrap.dedent("""\
        permissions:
          merge: [U0ANA, "github-team:octo-org/sre"]
          subscribe: ["github:ana"]
          repos:
            "octo-org/*": {retry: ["github-team:octo-org/sre"]}
        commands:
          deploy-docs:
            description: Publish the docs
            run: [scripts/docs.sh]
            allowed: ["github-team:octo-org/docs", "@ops"]
        approvals:
          production:
            approvers: ["github-team:octo-org/sre", "github:ben"]
        """))
    assert config.permissions.who_may("merge", "octo-org/app") == [
        "U0ANA", "github-team:octo-org/sre"]
    assert config.permissions.who_may("retry", "octo-org/app") == ["github-team:octo-org/sre"]
    assert config.commands["deploy-docs"].allowed == ["github-team:octo-org/docs", "@ops"]


@pytest.mark.parametrize(("yaml_text", "expected"), [
    ("permissions:\n  merge: [U0ANA, 'github-team:octo-org/sre', bob]\n",
     "devexbot.yaml:2: permissions.merge[2]: 'bob' is not a principal — " + FORMS
     + " (a GitHub user is github:bob)"),
    ("permissions:\n  repos:\n    'octo-org/*': {retry: ['octo-org/sre']}\n",
     "devexbot.yaml:3: permissions.repos.octo-org/*.retry[0]: 'octo-org/sre' is not a "
     "principal — " + FORMS + " (a GitHub team is github-team:octo-org/sre)"),
    ("commands:\n  x:\n    description: x\n    run: [a.sh]\n    allowed: [everyone]\n",
     "devexbot.yaml:5: commands.x.allowed[0]: 'everyone' is not a principal — " + FORMS
     + " (everyone is *)"),
    ("approvals:\n  production:\n    approvers: ['<@U0ANA>']\n",
     "devexbot.yaml:3: approvals.production.approvers[0]: '<@U0ANA>' is not a principal — "
     + FORMS + " (write the id alone: U0ANA)"),
])
def test_a_wrong_principal_names_its_line_and_says_what_would_do(yaml_text: str,
                                                                 expected: str) -> None:
    assert problems(yaml_text) == [expected]


def test_check_config_prints_the_mistake_in_one_line_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "devexbot.yaml"
    path.write_text("permissions:\n  merge: [U0ANA, bob]\n")
    assert main(["check-config", str(path)]) == 2
    out = capsys.readouterr()
    assert out.err == (f"devexbot: error: {path}:2: permissions.merge[1]: 'bob' is not a "
                       f"principal — {FORMS} (a GitHub user is github:bob)\n")
    assert "pattern" not in out.err and out.out == ""
    path.write_text("permissions:\n  merge: [U0ANA, 'github-team:octo-org/sre']\n")
    assert main(["check-config", str(path)]) == 0, capsys.readouterr().err


def test_a_plugins_wrong_principal_is_explained_too(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: Any) -> None:
    (tmp_path / "principal_plugin.py").write_text(textwrap.dedent("""\
        from devexbot.runbooks import runbook

        @runbook(allowed=["octo-org/sre"], description="bad principal")
        def tidy() -> None: ...

        @runbook(allowed=["github-team:octo-org/sre"], description="good principal")
        def sweep() -> None: ...
        """))
    monkeypatch.syspath_prepend(str(tmp_path))
    path = tmp_path / "devexbot.yaml"
    path.write_text("plugins: [principal_plugin]\n")
    assert main(["check-config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"devexbot: error: {path}:1: plugins[0]: ")
    assert err.endswith(f"allowed: 'octo-org/sre' is not a principal — {FORMS} "
                        "(a GitHub team is github-team:octo-org/sre)\n")
    assert err.count("\n") == 1


# --- GitHub teams deciding clicks and commands -------------------------------------------

PEOPLE = "people:\n  ana: U0ANA\n  ben: U0BEN\n"
NOT_MAPPED = ("GitHub teams count through the `people:` map, which does not give your "
              "GitHub login")


def audit(bot: Bot | TestBot) -> list[tuple[Any, ...]]:
    """The audit log, oldest first, as who / what / where / how it ended / why."""
    entries = bot.client.get("/api/audit").json()["audit"]
    return [(e["slack_user"], e["action"], e["repo"], e["target"], e["result"], e["detail"])
            for e in reversed(entries)]


@pytest.mark.sqlite_only
def test_a_github_team_may_merge_and_anyone_else_is_told_why_not(
    make_bot: BotFactory, fake_github: FakeGitHub
) -> None:
    fake_github.add_team("octo-org", "sre", members=["ben"])
    config = PEOPLE + "permissions:\n  merge: ['github-team:octo-org/sre']\n"
    bot = start_bot(make_bot, fake_github, config=config)
    open_pr(bot, fake_github)
    not_listed = (f"you may not merge on {REPO}: ask someone listed under "
                  "`permissions.merge` in the bot's config")
    _, url = bot.click("card.merge", user="U0ANA")  # ana is not in octo-org/sre
    assert bot.reply(url) == f"Not done: {not_listed}. GitHub says ana is not in octo-org/sre"
    _, url = bot.click("card.merge", user="U0EVE")  # nobody knows eve's GitHub login
    assert bot.reply(url) == f"Not done: {not_listed}. {NOT_MAPPED}"
    assert fake_github.merges(REPO) == []
    _, url = bot.click("card.merge", user="U0BEN")  # ben is
    assert bot.reply(url).startswith("Merged #12 into main")
    assert [(who, result, detail) for who, _, _, _, result, detail in audit(bot.bot)][:2] == [
        ("U0ANA", "refused", f"{not_listed}. GitHub says ana is not in octo-org/sre"),
        ("U0EVE", "refused", f"{not_listed}. {NOT_MAPPED}"),
    ]
    assert audit(bot.bot)[-1][-2:] == ("ok", bot.reply(url))


@pytest.mark.sqlite_only
def test_a_github_team_may_run_a_runbook_and_anyone_else_is_told_why_not(
    database_url: str, tmp_path: Path, fake_slack: FakeSlack, fake_github: FakeGitHub
) -> None:
    fake_github.add_team("octo-org", "sre", members=["ben"])
    config = PEOPLE + """
commands:
  mark:
    description: Leave a marker file
    run: ["scripts/marker.sh"]
    allowed: ["github-team:octo-org/sre", "github:carol"]
"""
    with runbook_bot(database_url, tmp_path, fake_slack, config,
                     github_token=fake_github.token,
                     github_api_url=fake_github.base_url) as bot:
        refused = bot.reply("mark", user="U0ANA")["text"]
        assert refused == ("You may not run `mark`: ask someone who may (see `/devex help`). "
                           "GitHub says ana is not in octo-org/sre.")
        assert bot.reply("mark", user="U0EVE")["text"].endswith(f"{NOT_MAPPED}.")
        assert "mark" not in bot.reply("help", user="U0ANA")["text"]
        assert "`/devex mark` — Leave a marker file" in bot.reply("help", user="U0BEN")["text"]
        assert bot.command("mark", user="U0BEN").text == ""
        assert bot.finished_run("mark", count=3).status == "succeeded"
        assert [(r.user_id, r.status, r.reason) for r in bot.runs("mark")] == [
            ("U0BEN", "succeeded", None),
            ("U0EVE", "refused", f"not allowed: {NOT_MAPPED}"),
            ("U0ANA", "refused", "not allowed: GitHub says ana is not in octo-org/sre")]


@pytest.mark.sqlite_only
def test_a_github_team_may_subscribe_and_a_refusal_is_audited(
    make_bot: BotFactory, fake_github: FakeGitHub
) -> None:
    fake_github.add_team("octo-org", "sre", members=["ben"])
    config = PEOPLE + "permissions:\n  subscribe: ['github-team:octo-org/sre']\n"
    bot = make_bot(config=config, slack_default_channel=None,
                   github_token=fake_github.token, github_api_url=fake_github.base_url)

    def devex(text: str, user: str) -> str:
        response = bot.slack_sender.command("/devex", text, channel_id="C0TEAM",
                                            channel_name="team", user_id=user)
        assert response.status_code == 200, response.text
        return str(response.json()["text"])

    refused = devex("subscribe octo-org/octo-app", "U0ANA")
    assert refused == ("You may not change this channel's subscriptions: ask someone listed "
                       "under `permissions.subscribe` in the bot's config. GitHub says ana "
                       "is not in octo-org/sre.")
    assert "subscribed this channel" in devex("subscribe octo-org/octo-app", "U0BEN")
    assert audit(bot) == [("U0ANA", "/devex subscribe", REPO, "C0TEAM", "refused", refused)]


@pytest.mark.sqlite_only
def test_a_team_github_does_not_show_refuses_and_says_why(
    make_bot: BotFactory, fake_github: FakeGitHub
) -> None:
    fake_github.add_team("octo-org", "sre", members=["ben"])
    config = PEOPLE + "permissions:\n  merge: ['github-team:octo-org/sre']\n"
    bot = start_bot(make_bot, fake_github, config=config)
    open_pr(bot, fake_github)
    fake_github.fail_next("GET /orgs/octo-org/teams/sre", status=404)
    _, url = bot.click("card.merge", user="U0BEN")
    assert bot.reply(url).endswith(
        "`permissions.merge` in the bot's config. GitHub shows the bot no team octo-org/sre "
        "(check its name, and that the bot's GitHub credentials may read the organisation's "
        "members)")
    assert fake_github.merges(REPO) == []
