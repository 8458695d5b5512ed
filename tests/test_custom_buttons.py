"""The team's own buttons (`buttons:` in the config), end to end: signed Slack clicks, the
real python-jenkins against the fake Jenkins, the card's own Slack message as the UI."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from correlation.card import CheckLine, CommitCard, PullRequest
from correlation.custom_buttons import link_url, reuses_build
from correlation.merge_methods import merge_methods
from correlation.placeholders import placeholder_values
from correlation.status import Status
from devexbot.config import parse_config
from devexbot.errors import ConfigError
from devexbot.wiring import Services
from tests.bot import BotFactory
from tests.fakes.github_api import FakeGitHub
from tests.fakes.jenkins_api import FakeJenkins
from tests.fakes.jenkins_models import Checkout
from tests.github_sender import load_fixture
from tests.jenkins_sender import load_jenkins
from tests.scenario import HEAD, REPO
from tests.slack_signing import block_actions_payload, clicked_again
from tests.test_actions import PEOPLE, Bot, start_bot
from tests.test_retry import OTHER, REMOTE, failed_build

JOB = "octo-app-integration"
WITHOUT_TESTS = PEOPLE + """
buttons:
  - label: Build without tests
    when: {status: failure, checks: ["octo-app*"], repos: ["octo-org/*"]}
    jenkins: {job: "{job}", parameters: {SKIP_TESTS: true, COMMIT: "{sha}"}, same_parameters: true}
    confirm: Start the job again, skipping the tests?
"""
LINKS = PEOPLE + """
buttons:
  - label: Open Grafana
    when: {status: [failure, running]}
    link: "https://grafana.example.com/d/app?var-sha={short_sha}&var-branch={branch}"
  - label: PR preview
    when: {status: failure}
    link: "https://preview.example.com/{repo}/pull/{pr}"
  - label: Not here
    when: {repos: ["other-org/*"]}
    link: "https://example.com/{sha}"
  - label: Lint docs
    when: {status: failure, checks: [lint]}
    link: "https://example.com/lint/{check}"
"""
CLEAR_CACHES = PEOPLE + """
buttons:
  - label: Clear caches
    id: clear-caches
    when: {status: failure}
    runbook: {command: clear-cache, args: {env: staging, ref: "{short_sha}", pr: "{pr}"}}
"""


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        fake.add_repo(REPO)
        yield fake


@pytest.fixture
def fake_jenkins() -> Iterator[FakeJenkins]:
    with FakeJenkins() as fake:
        fake.add_job(JOB, parameters={"TARGET_ENV": "dev", "BROWSER": "chrome", "GIT_REF": "",
                                      "SKIP_TESTS": "false", "COMMIT": ""})
        for number in (412, 413):  # what the notifications below tell of, as Jenkins has it
            fake.add_build(JOB, number=number, result="FAILURE",
                           parameters={"TARGET_ENV": "test", "BROWSER": "firefox",
                                       "GIT_REF": "feature/login", "SKIP_TESTS": "false",
                                       "COMMIT": HEAD},
                           checkouts=[Checkout(REMOTE, HEAD, "origin/feature/login")])
        yield fake


def running_bot(make_bot: BotFactory, github: FakeGitHub, jenkins: FakeJenkins | None,
                config: str, **options: Any) -> Iterator[Bot]:
    yield start_bot(make_bot, github, jenkins, config=config, **options)


def jenkins_build(number: int = 412, phase: str = "COMPLETED",
                  status: str | None = "FAILURE") -> dict[str, Any]:
    """The freestyle job's build of HEAD (parameters TARGET_ENV=test, BROWSER=firefox, …)."""
    payload = copy.deepcopy(load_jenkins("freestyle.completed.ssh"))
    payload["build"].update(number=number, phase=phase, status=status,
                            timestamp=payload["build"]["timestamp"] + (number - 412) * 600_000)
    return payload


def audit(bot: Bot) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = bot.client.get("/api/audit").json()["audit"]
    return entries


def buttons(message: Any) -> dict[str, dict[str, Any]]:
    """The message's buttons by their text."""
    return {e["text"]["text"]: e for b in message.blocks if b["type"] == "actions"
            for e in b["elements"] if e["type"] == "button"}


# ---- Jenkins --------------------------------------------------------------------------


def test_build_without_tests_starts_the_failed_builds_job_once_per_build(
    make_bot: BotFactory, fake_github: FakeGitHub,
    fake_jenkins: FakeJenkins
) -> None:
    for bot in running_bot(make_bot, fake_github, fake_jenkins,
                           WITHOUT_TESTS):
        jenkins = bot.bot.jenkins
        jenkins.notify(jenkins_build(412))
        message = bot.card_message(having="card.custom:build-without-tests")
        button = buttons(message)[f"Build without tests: {JOB}"]
        assert button["confirm"]["text"]["text"] == "Start the job again, skipping the tests?"

        payload, url = bot.click("card.custom:build-without-tests", message=message)
        assert bot.reply(url).startswith(
            f"Build without tests: started {JOB} with BROWSER=firefox, COMMIT={HEAD}, "
            "GIT_REF=feature/login, SKIP_TESTS=true, TARGET_ENV=test (queue item ")
        (trigger,) = fake_jenkins.triggered(JOB)
        assert trigger.parameters == {"TARGET_ENV": "test", "BROWSER": "firefox",
                                      "GIT_REF": "feature/login", "SKIP_TESTS": "true",
                                      "COMMIT": HEAD}
        bot.card_message(having=f"{JOB}: Build without tests started by <@U0ANA>")
        (entry,) = audit(bot)
        assert (entry["action"], entry["result"], entry["target"], entry["slack_user"]) == (
            "card.custom", "ok", f"build-without-tests: {JOB}", "U0ANA")

        # A double click starts nothing more.
        assert bot.clicker.interaction(clicked_again(payload)).status_code == 200
        assert "already done or under way" in bot.reply(url, count=2)
        assert len(fake_jenkins.triggered(JOB)) == 1
        assert audit(bot)[0]["result"] == "duplicate"

        # The next build fails too: the button is for that build now, and may run again.
        jenkins.notify(jenkins_build(413))
        # The new build's news replaces the stamp.
        assert "started by" not in str(bot.card_message().blocks)
        _, url = bot.click("card.custom:build-without-tests", user="U0BEN")
        assert bot.reply(url).startswith("Build without tests: started")
        assert len(fake_jenkins.triggered(JOB)) == 2


REDEPLOY = PEOPLE + """
buttons:
  - label: Redeploy
    when: {status: failure, checks: ["deploy-*"]}
    jenkins: {job: "{job}", parameters: {FORCE: true}, same_parameters: true}
"""


FORGED_CASES = [
    ("its failed build of this commit", "started deploy-production with FORCE=true, "
                                        "VERSION=1.4.2 (queue item "),
    ("a failed build that checked out nothing", "started deploy-production with FORCE=true, "
                                                "VERSION=1.4.2 (queue item "),
    ("a build of another commit",
     "Not done: Jenkins says build #12 of deploy-production built 9f3c1a2, not this commit"),
    ("no build #12", "Not done: Jenkins has no build #12 of deploy-production"),
]


@pytest.mark.parametrize(("jenkins_has", "outcome"), FORGED_CASES,
                         ids=[case[0] for case in FORGED_CASES])
def test_a_forged_notification_cannot_choose_what_a_button_starts(
    make_bot: BotFactory, fake_github: FakeGitHub, jenkins_has: str, outcome: str
) -> None:
    """Any pipeline can read the notification token. One naming deploy-production with the
    attacker's VERSION on a teammate's commit: the teammate's Redeploy starts the job with
    what Jenkins recorded of that build, or not at all."""
    with FakeJenkins() as fake_jenkins:
        fake_jenkins.add_job("deploy-production", parameters={"VERSION": "", "FORCE": "false"})
        if jenkins_has != "no build #12":
            checkouts = {"its failed build of this commit": [Checkout(REMOTE, HEAD)],
                         "a build of another commit": [Checkout(REMOTE, OTHER)]}
            fake_jenkins.add_build("deploy-production", number=12, result="FAILURE",
                                   parameters={"VERSION": "1.4.2"},
                                   checkouts=checkouts.get(jenkins_has, []))
        bot = start_bot(make_bot, fake_github, fake_jenkins, config=REDEPLOY)
        forged = failed_build("deploy-production", 12, {"VERSION": "attacker-build-666"})
        assert bot.bot.jenkins.notify(forged).status_code == 202

        _, url = bot.click("card.custom:redeploy", message=bot.card_message(
            having="card.custom:redeploy"))
        reply = bot.reply(url)

        assert "attacker-build-666" not in reply
        if outcome.startswith("Not done"):
            assert reply == outcome
            assert fake_jenkins.triggered() == []
            assert audit(bot)[0]["result"] == "refused"
        else:
            assert reply.startswith(f"Redeploy: {outcome}")
            (trigger,) = fake_jenkins.triggered("deploy-production")
            assert trigger.sent == {"VERSION": "1.4.2", "FORCE": "true"}


@pytest.mark.sqlite_only
def test_a_build_that_is_running_again_is_refused_at_click_time(
    make_bot: BotFactory, fake_github: FakeGitHub,
    fake_jenkins: FakeJenkins
) -> None:
    for bot in running_bot(make_bot, fake_github, fake_jenkins,
                           WITHOUT_TESTS):
        jenkins = bot.bot.jenkins
        jenkins.notify(jenkins_build(412))
        old = bot.card_message(having="card.custom:build-without-tests")
        jenkins.notify(jenkins_build(413, phase="STARTED", status=None))
        assert "card.custom" not in str(bot.card_message().blocks)  # the button went
        _, url = bot.click("card.custom:build-without-tests", message=old)  # a stale message
        assert bot.reply(url) == (f"Not done: {JOB} is running now; Build without tests is "
                                  "for failure ones")
        assert fake_jenkins.triggered(JOB) == []
        assert audit(bot)[0]["result"] == "refused"


@pytest.mark.sqlite_only
def test_jenkins_buttons_show_only_for_failed_jenkins_builds_they_name(
    make_bot: BotFactory, fake_github: FakeGitHub
) -> None:
    for bot in running_bot(make_bot, fake_github, None,
                           WITHOUT_TESTS):
        bot.github.deliver("check_run", load_fixture("check_run.completed.failure"))
        # `test` failed, but neither matches `octo-app*` nor has a Jenkins {job}.
        message = bot.card_message(having="test")
        assert "card.custom" not in str(message.blocks)
        bot.bot.jenkins.notify(jenkins_build(412, status="SUCCESS"))
        message = bot.card_message(having=JOB)
        assert "card.custom" not in str(message.blocks)


# ---- links ---------------------------------------------------------------------------


@pytest.mark.sqlite_only
def test_link_buttons_open_their_page_and_the_click_is_only_acknowledged(
    make_bot: BotFactory, fake_github: FakeGitHub
) -> None:
    for bot in running_bot(make_bot, fake_github, None, LINKS):
        bot.github.deliver("check_run", load_fixture("check_run.completed.failure"))
        message = bot.card_message(having="Open Grafana")
        shown = buttons(message)
        assert shown["Open Grafana"]["url"] == (
            f"https://grafana.example.com/d/app?var-sha={HEAD[:7]}&var-branch=feature/login")
        assert "value" not in shown["Open Grafana"]
        # No pull request yet: {pr} has no value, so that button waits; the others never
        # apply (another repo; no failed `lint` check).
        assert set(shown) == {"Open Grafana"}

        bot.github.deliver("pull_request", load_fixture("pull_request.opened"))
        message = bot.card_message(having="PR preview")
        assert buttons(message)["PR preview"]["url"] == (
            "https://preview.example.com/octo-org/octo-app/pull/12")

        # Slack opens the page and still posts the click: acknowledged, nothing else.
        action_id = buttons(message)["Open Grafana"]["action_id"]
        url = bot.slack.new_response_url(message.channel, user="U0ANA", message_ts=message.ts)
        payload = block_actions_payload(action_id, message=message, user_id="U0ANA",
                                        response_url=url)
        response = bot.clicker.interaction(payload)
        assert response.status_code == 200 and response.text == ""
        assert bot.slack.response_url_posts(url) == []
        assert audit(bot) == []


def test_link_values_are_url_encoded_but_paths_stay_paths() -> None:
    config = parse_config("""
buttons:
  - label: Branch
    link: "https://ci.example.com/{repo}/tree/{branch}?q={branch}#{{top}}"
""")
    card = CommitCard(repo=REPO, sha=HEAD, branch="fix/a&b=c d#e",
                      updated_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert link_url(config.buttons[0].policy(), card, None) == (
        "https://ci.example.com/octo-org/octo-app/tree/fix/a%26b%3Dc%20d%23e"
        "?q=fix/a%26b%3Dc%20d%23e#{top}")


def test_placeholders_come_from_the_card_and_a_jenkins_check_only() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    card = CommitCard(repo=REPO, sha=HEAD, branch="main", updated_at=at,
                      pull_request=PullRequest(12, "Add login", "open", None, None))
    jenkins = CheckLine("jenkins", "octo-app/main", Status.FAILURE, None, at, kind="build",
                        details={"job": "octo-app/main", "build_number": 7})
    actions_job = CheckLine("github", "test", Status.FAILURE, None, at, kind="job",
                            details={"job": "test", "run_id": 5})
    assert placeholder_values(card) == {"sha": HEAD, "short_sha": HEAD[:7], "repo": REPO,
                                        "branch": "main", "pr": "12"}
    assert placeholder_values(card, jenkins) == {**placeholder_values(card),
                                                 "check": "octo-app/main",
                                                 "job": "octo-app/main", "build_number": "7"}
    # An Actions job's `job` is the job's own name, not a Jenkins job to start.
    assert placeholder_values(card, actions_job) == {**placeholder_values(card),
                                                     "check": "test"}


@pytest.mark.parametrize(("button", "check", "reads"), [
    ("jenkins: {job: '{job}'}", "jenkins", True),
    ("jenkins: {job: deploy, parameters: {FROM: '#{build_number}'}}", "jenkins", True),
    ("jenkins: {job: deploy, same_parameters: true}", "jenkins", True),
    ("jenkins: {job: deploy, parameters: {SHA: '{sha}', CHECK: '{check}'}}", "jenkins", False),
    ("jenkins: {job: deploy, same_parameters: true}", "github", False),  # no Jenkins build
    ("runbook: {command: redo, args: {job: '{job}'}}", "jenkins", False),
])
def test_which_clicks_read_the_build_from_jenkins(button: str, check: str, reads: bool) -> None:
    (config_button,) = parse_config(
        f"buttons:\n  - label: Go\n    when: {{checks: ['*']}}\n    {button}\n").buttons
    at = datetime(2026, 1, 1, tzinfo=UTC)
    line = CheckLine(check, "deploy", Status.FAILURE, None, at, kind="build",
                     details={"job": "deploy", "build_number": 7})
    assert reuses_build(config_button.policy(), line) is reads


# ---- runbooks ------------------------------------------------------------------------


@dataclass
class Launch:
    command: str
    args: dict[str, str]
    user_id: str
    channel_id: str | None
    thread_ts: str | None


class RecordingRunbooks:
    """A RunbookLauncher that keeps what it was asked to run (runbooks land on their own
    branch; this is the interface a card button uses)."""

    def __init__(self) -> None:
        self.launched: list[Launch] = []

    def launch(self, command: str, args: Mapping[str, str], *, user_id: str,
               channel_id: str | None, thread_ts: str | None) -> str:
        self.launched.append(Launch(command, dict(args), user_id, channel_id, thread_ts))
        return f"Started `{command}` (run {len(self.launched)}); its output goes to the thread."


def failing_pr_card(bot: Bot) -> None:
    bot.github.deliver("pull_request", load_fixture("pull_request.opened"))
    bot.github.deliver("check_run", load_fixture("check_run.completed.failure"))


@pytest.mark.sqlite_only
def test_a_runbook_button_for_a_command_the_bot_lacks_says_so(
    make_bot: BotFactory, fake_github: FakeGitHub
) -> None:
    for bot in running_bot(make_bot, fake_github, None,
                           CLEAR_CACHES):
        failing_pr_card(bot)
        _, url = bot.click("card.custom:clear-caches")
        assert bot.reply(url) == ("That failed: the bot has no runbook named 'clear-cache' "
                                  f"(error id `{audit(bot)[0]['error_id']}`)")
        (entry,) = audit(bot)
        assert (entry["action"], entry["result"]) == ("card.custom", "failed")


@pytest.mark.sqlite_only
def test_a_runbook_button_launches_its_command_with_filled_arguments(
    make_bot: BotFactory, fake_github: FakeGitHub
) -> None:
    runbooks = RecordingRunbooks()
    for bot in running_bot(make_bot, fake_github, None, CLEAR_CACHES,
                           runbook_launcher=runbooks):
        failing_pr_card(bot)
        message = bot.card_message(having="card.custom:clear-caches")
        _, url = bot.click("card.custom:clear-caches", message=message)
        assert bot.reply(url) == ("Started `clear-cache` (run 1); its output goes to the "
                                  "thread.")
        (launch,) = runbooks.launched
        assert launch == Launch("clear-cache", {"env": "staging", "ref": HEAD[:7], "pr": "12"},
                                "U0ANA", message.channel, message.ts)
        bot.card_message(having="Clear caches run by <@U0ANA>")
        _, url = bot.click("card.custom:clear-caches", message=message)  # once per commit
        assert "already done or under way" in bot.reply(url)
        assert len(runbooks.launched) == 1


@pytest.mark.sqlite_only
def test_permissions_custom_with_a_repo_override(
    make_bot: BotFactory, fake_github: FakeGitHub
) -> None:
    config = CLEAR_CACHES + (
        "permissions:\n"
        "  custom: [U0BEN]\n"
        "  repos:\n"
        '    "octo-org/*": {custom: [U0CLEO]}\n'
    )
    runbooks = RecordingRunbooks()
    for bot in running_bot(make_bot, fake_github, None, config, runbook_launcher=runbooks):
        failing_pr_card(bot)
        message = bot.card_message(having="card.custom:clear-caches")
        _, url = bot.click("card.custom:clear-caches", user="U0BEN", message=message)
        assert bot.reply(url).startswith(
            "Not done: you may not use the team's buttons on octo-org/octo-app: ask someone "
            "listed under `permissions.custom`")
        assert runbooks.launched == []
        _, url = bot.click("card.custom:clear-caches", user="U0CLEO", message=message)
        assert bot.reply(url).startswith("Started `clear-cache`")
        results = sorted((e["slack_user"], e["result"]) for e in audit(bot))
        assert results == [("U0BEN", "refused"), ("U0CLEO", "ok")]


# ---- config --------------------------------------------------------------------------


@pytest.mark.parametrize(("yaml", "error"), [
    ('  - label: X\n    link: "https://x.example.com/{nope}"\n',
     "<config>:4: buttons[0].link: unknown placeholder {nope}"),
    ('  - label: X\n    link: "https://x.example.com/{sha"\n',
     "<config>:4: buttons[0].link: a lone '{'"),
    ('  - label: X\n    jenkins: {job: "{job}"}\n',
     "<config>:3: buttons[0]: {job} names a check: say which in `when.checks`"),
    ('  - label: X\n    link: "javascript:alert(1)"\n',
     "<config>:3: buttons[0]: a link starts with https://"),
    ('  - label: X\n    link: https://x.example.com\n    runbook: {command: a}\n',
     "<config>:3: buttons[0]: a button does exactly one of `jenkins`, `runbook` or `link` "
     "(this one has runbook and link)"),
    ('  - label: X\n    when: {status: broken}\n    link: https://x.example.com\n',
     "<config>:4: buttons[0].when.status[0]: Input should be 'pending'"),
    ('  - label: Go\n    link: https://a.example.com\n  - label: go!\n    link: https://b.example.com\n',
     "<config>:3: buttons: [1] has the id 'go' of [0]: give one its own `id`"),
])
def test_config_mistakes_name_the_line(yaml: str, error: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config("\nbuttons:\n" + yaml)
    assert raised.value.message.startswith(error), raised.value.message


def test_the_issues_example_config_is_valid() -> None:
    config = parse_config("""
buttons:
  - label: Build without tests
    when: {status: failure, checks: ["octo-app/*"], repos: ["octo-org/*"]}
    jenkins: {job: "{job}", parameters: {SKIP_TESTS: "true"}, same_parameters: true}
  - label: Open Grafana
    when: {status: [failure, running]}
    link: "https://grafana.example.com/d/app?var-sha={sha}"
  - label: Clear caches
    when: {status: failure}
    runbook: {command: clear-cache, args: {env: staging}}
""")
    assert [(b.key, b.kind) for b in config.buttons] == [
        ("build-without-tests", "jenkins"), ("open-grafana", "link"), ("clear-caches", "runbook")]


def test_the_buttons_and_permissions_pages_examples_are_valid() -> None:
    page = (Path(__file__).parent.parent / "docs" / "buttons.md").read_text()
    examples = [block.split("```", 1)[0] for block in page.split("```yaml\n")[1:]]
    assert len(examples) == 3
    merge, buttons, permissions = (parse_config(example) for example in examples)
    assert merge_methods("octo-org/payments-api", merge.policies().merge, None) == ("rebase",)
    assert merge_methods("octo-org/app", merge.policies().merge, None) == ("squash", "merge")
    assert [b.kind for b in buttons.buttons] == ["jenkins", "link", "runbook"]
    assert permissions.permissions.who_may("merge", "octo-org/payments-api") == ["U0123ANA"]
    assert permissions.permissions.who_may("review", "octo-org/payments-api") == ["*"]


@pytest.mark.sqlite_only
def test_services_start_without_runbooks(services: Services) -> None:
    assert services.runbook_launcher is None
