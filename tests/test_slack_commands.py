"""`/devex` subscriptions through signed slash commands; the manifest; Slack switched off."""

from __future__ import annotations

import json
import logging
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from devexbot.app import create_app
from devexbot.cli import main
from devexbot.slack.socket_mode import SocketModeConnection
from handlers.slack.commands import BUILTIN_SUBCOMMANDS
from tests.bot import BotFactory, TestBot
from tests.conftest import GITHUB_SECRET, make_settings
from tests.fakes.slack_api import FakeSlack
from tests.github_sender import GitHubSender, load_fixture
from tests.scenario import HEAD
from tests.slack_app import SIGNING_SECRET, slack_services
from tests.slack_signing import SlackSender, slash_command_body

CHANNEL, CHANNEL_NAME = "C0TEAM", "team"


@pytest.fixture
def bot(make_bot: BotFactory, slack: FakeSlack) -> TestBot:
    config = "permissions:\n  subscribe: [U0ANA, '@release-managers']\n"
    slack.add_usergroup("S0RM", "release-managers", ["U0CAROL"])
    return make_bot(config=config, slack_default_channel=None)


@pytest.fixture
def client(bot: TestBot) -> TestClient:
    return bot.client


@pytest.fixture
def sender(bot: TestBot) -> SlackSender:
    """Signs requests as Slack does."""
    return bot.slack_sender


def run(sender: SlackSender, text: str, user: str = "U0ANA", channel: str = CHANNEL,
        channel_name: str = CHANNEL_NAME) -> dict:
    response = sender.command("/devex", text, channel_id=channel, channel_name=channel_name,
                             user_id=user)
    assert response.status_code == 200, response.text
    return response.json()


def commit(event: str, fixture: str, *, sha: str, branch: str, number: int = 12,
           labels: tuple[str, ...] = ()) -> tuple[str, dict]:
    """A delivery of `fixture` for commit `sha` on `branch` (a PR's head: PR `number`)."""
    payload = json.loads(json.dumps(load_fixture(fixture)).replace(HEAD, sha)
                         .replace("feature/login", branch))
    if "pull_request" in payload:
        payload["number"] = payload["pull_request"]["number"] = number
        payload["pull_request"]["labels"] = [
            {"id": k, "name": label, "color": "0e8a16"} for k, label in enumerate(labels)]
    return event, payload


def test_the_readme_example_posts_what_its_confirmation_says(
    bot: TestBot, sender: SlackSender, slack: FakeSlack
) -> None:
    reply = run(sender, "subscribe octo-org/octo-app main release/* +label:deploy")
    posted, unposted = {"a" * 40, "b" * 40, "c" * 40}, "d" * 40
    for event, payload in [
        commit("push", "push", sha="a" * 40, branch="main"),  # main, no PR
        commit("pull_request", "pull_request.opened", sha="b" * 40, branch="feature/x",
               number=21, labels=("deploy",)),  # a PR labelled deploy, on another branch
        commit("pull_request", "pull_request.opened", sha="c" * 40, branch="release/1",
               number=22),  # a release branch's PR without the label
        commit("push", "push", sha=unposted, branch="feature/y"),  # neither
        commit("pull_request", "pull_request.opened", sha=unposted, branch="feature/y",
               number=23, labels=("docs",)),
    ]:
        assert bot.deliver(event, payload).status_code == 202
    bot.settle()
    shown = {c.params["metadata"]["event_payload"]["sha"]
             for c in slack.calls("chat.postMessage") if c.ok and c.params["channel"] == CHANNEL}
    assert shown == posted
    assert len(slack.messages(CHANNEL)) == 3
    # ... as the confirmation and the listing say.
    assert reply["response_type"] == "in_channel"
    assert reply["text"] == ("<@U0ANA> subscribed this channel to *octo-org/octo-app* "
                             "(commits on main or release/*, and PRs labelled deploy).")
    assert "(commits on main or release/*, and PRs labelled deploy) — by <@U0ANA>" in run(
        sender, "subscriptions")["text"]


def test_subscriptions_lists_and_unsubscribe_removes(sender: SlackSender) -> None:
    run(sender, "subscribe octo-org/octo-app")
    run(sender, "subscribe octo-org/* main")
    listing = run(sender, "subscriptions")["text"]
    assert "*octo-org/** (commits on main)" in listing
    assert "*octo-org/octo-app* (every commit)" in listing
    assert "removed" not in run(sender, "unsubscribe octo-org/octo-app")["text"]
    assert "octo-org/octo-app" not in run(sender, "subscriptions")["text"]
    again = run(sender, "unsubscribe octo-org/octo-app")
    assert "no subscription to octo-org/octo-app" in again["text"]
    assert again.get("response_type", "ephemeral") == "ephemeral"


@pytest.mark.sqlite_only
def test_config_routes_to_this_channel_are_listed_whether_named_by_name_or_id(
    make_bot: BotFactory
) -> None:
    config = ("routes:\n"
              "  - {repos: [octo-org/octo-app], channel: '#Team'}\n"
              "  - {repos: [octo-org/octo-api], channel: C0TEAM}\n"
              "  - {repos: [octo-org/octo-web], channel: '#elsewhere'}\n")
    sender = make_bot(config=config, slack_default_channel=None).slack_sender
    listing = run(sender, "subscriptions")["text"]
    assert "*octo-org/octo-app* (every commit) — from the bot's config" in listing
    assert "*octo-org/octo-api* (every commit) — from the bot's config" in listing
    assert "octo-web" not in listing
    # The config already posts octo-app here: no warning that it goes elsewhere.
    here = run(sender, "subscribe octo-org/octo-app")["text"]
    assert "subscribed this channel" in here and "Note:" not in here
    # From another channel, the same subscription is told the config posts it elsewhere too.
    there = run(sender, "subscribe octo-org/octo-app", channel="C0OTHER",
                channel_name="other")["text"]
    assert "Note: the bot's config also posts octo-org/octo-app to #Team; a commit both " \
        "take gets a message in each channel." in there
    assert "from the bot's config" not in run(
        sender, "subscriptions", channel="C0OTHER", channel_name="other")["text"]


@pytest.mark.sqlite_only
def test_only_people_the_config_allows_may_subscribe(sender: SlackSender) -> None:
    refused = run(sender, "subscribe octo-org/octo-app", user="U0MALLORY")
    assert "may not change this channel's subscriptions" in refused["text"]
    assert "no subscriptions" in run(sender, "subscriptions", user="U0MALLORY")["text"]
    # A member of the @release-managers user group may.
    assert "subscribed" in run(sender, "subscribe octo-org/octo-app", user="U0CAROL")["text"]


@pytest.mark.sqlite_only
def test_every_refused_subscription_change_is_audited(bot: TestBot, sender: SlackSender) -> None:
    told = [run(sender, f"{verb} octo-org/octo-app", user="U0MALLORY")["text"]
            for verb in ("subscribe", "unsubscribe")]
    entries = bot.client.get("/api/audit").json()["audit"]
    assert [(e["slack_user"], e["action"], e["repo"], e["target"], e["result"], e["detail"])
            for e in reversed(entries)] == [
        ("U0MALLORY", "/devex subscribe", "octo-org/octo-app", CHANNEL, "refused", told[0]),
        ("U0MALLORY", "/devex unsubscribe", "octo-org/octo-app", CHANNEL, "refused", told[1]),
    ]
    assert told[0].startswith("You may not change this channel's subscriptions")


@pytest.mark.parametrize("text", ["subscribe", "subscribe not-a-repo", "unsubscribe a b",
                                  "subscribe octo-org/app main +labels:deploy"])
@pytest.mark.sqlite_only
def test_bad_arguments_get_usage(sender: SlackSender, text: str) -> None:
    assert "Usage: `/devex" in run(sender, text)["text"]


@pytest.mark.sqlite_only
def test_help_and_unknown_subcommands(sender: SlackSender) -> None:
    assert "/devex subscribe owner/repo" in run(sender, "help")["text"]
    unknown = run(sender, "frobnicate")["text"]
    assert unknown.startswith("I don't know `frobnicate`") and "subscriptions" in unknown
    assert "Quote values" in run(sender, 'subscribe "octo-org/app')["text"]


@pytest.mark.sqlite_only
def test_the_names_no_runbook_may_take_are_the_routers_subcommands(bot: TestBot) -> None:
    assert bot.services.commands is not None
    assert bot.services.commands.builtin_names() == BUILTIN_SUBCOMMANDS


def test_unsigned_stale_and_tampered_requests_are_refused(client: TestClient) -> None:
    body = slash_command_body("/devex", "subscriptions", channel_id=CHANNEL)
    stale = SlackSender(client, SIGNING_SECRET).send(body, timestamp=int(time.time()) - 400)
    assert stale.status_code == 401
    forged = SlackSender(client, "not-the-secret").send(body)
    assert forged.status_code == 401
    assert client.post("/slack/events", content=body).status_code == 401


@pytest.mark.parametrize("timestamp", ["", "soon", "1.5", "²", "9" * 5000],
                         ids=["empty", "word", "float", "superscript", "5000-digits"])
@pytest.mark.sqlite_only
def test_a_timestamp_that_is_not_a_number_is_refused_not_a_500(client: TestClient,
                                                                timestamp: str) -> None:
    # slack_sdk's verifier calls int() on the header: found by tests/test_openapi_fuzz.py.
    body = slash_command_body("/devex", "subscriptions", channel_id=CHANNEL)
    response = client.post("/slack/events", content=body, headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp.encode("latin-1"),
        "X-Slack-Signature": "v0=" + "0" * 64})
    assert response.status_code == 401
    assert response.json() == {"error": "invalid request"}


@pytest.mark.sqlite_only
def test_a_signature_that_is_not_ascii_is_refused_not_a_500(client: TestClient) -> None:
    # hmac.compare_digest raises TypeError on non-ASCII str, once the timestamp is fresh.
    body = slash_command_body("/devex", "subscriptions", channel_id=CHANNEL)
    response = client.post("/slack/events", content=body, headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(int(time.time())),
        "X-Slack-Signature": "v0=é".encode("latin-1")})
    assert response.status_code == 401


@pytest.mark.parametrize("body, content_type", [
    (b"{not json", "application/json"),
    (b"[1, 2]", "application/json"),
    (b"payload=%7Bnot+json", "application/x-www-form-urlencoded"),
    (b"payload=%5B1%5D", "application/x-www-form-urlencoded"),
])
@pytest.mark.sqlite_only
def test_bodies_bolt_cannot_parse_are_refused_not_a_500(client: TestClient, body: bytes,
                                                        content_type: str) -> None:
    unsigned = client.post("/slack/events", content=body,
                           headers={"Content-Type": content_type})
    assert unsigned.status_code == 401
    signed = SlackSender(client, SIGNING_SECRET).send(body, content_type=content_type)
    assert signed.status_code == 400, signed.text
    assert "Slack" in signed.json()["detail"]


def test_manifest_has_scopes_urls_and_socket_mode(capsys: pytest.CaptureFixture[str]) -> None:
    """`devexbot manifest`, its entry point called in this process (tests/e2e/test_cli.py
    runs the command as a process)."""
    def manifest(*args: str) -> subprocess.CompletedProcess[str]:
        capsys.readouterr()
        code = main(["manifest", *args])
        out = capsys.readouterr()
        return subprocess.CompletedProcess(["devexbot", "manifest", *args], code, out.out,
                                           out.err)

    http = yaml.safe_load(manifest("--url", "https://bot.example.com/").stdout)
    assert http["features"]["slash_commands"][0]["url"] == "https://bot.example.com/slack/events"
    assert http["settings"]["interactivity"]["request_url"] == (
        "https://bot.example.com/slack/events")
    assert http["settings"]["socket_mode_enabled"] is False
    assert {"chat:write", "commands", "users:read.email"} <= set(
        http["oauth_config"]["scopes"]["bot"])
    # The Home tab, published when someone opens it.
    assert http["features"]["app_home"]["home_tab_enabled"] is True
    assert http["settings"]["event_subscriptions"] == {
        "request_url": "https://bot.example.com/slack/events", "bot_events": ["app_home_opened"]}
    socket = yaml.safe_load(manifest("--socket-mode").stdout)
    assert socket["settings"]["socket_mode_enabled"] is True
    assert "url" not in socket["features"]["slash_commands"][0]
    assert socket["settings"]["event_subscriptions"] == {"bot_events": ["app_home_opened"]}
    bad = manifest("--url", "bot.example.com")
    assert bad.returncode == 2 and bad.stderr.startswith("devexbot: error: --url must start")


@pytest.mark.sqlite_only
def test_without_a_bot_token_slack_is_off_and_says_so_once(
    sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from devexbot.wiring import build_services

    services = build_services(make_settings(sqlite_url, tmp_path))
    assert services.outbox is None and services.bolt is None
    with caplog.at_level(logging.INFO), TestClient(create_app(services=services)) as client:
        response = client.post("/slack/events", content=b"token=x")
    assert response.status_code == 503
    assert response.json()["detail"] == "Slack is off: SLACK_BOT_TOKEN is not set"
    assert caplog.text.count("Slack is off") == 1


@pytest.mark.sqlite_only
def test_socket_mode_that_cannot_connect_keeps_retrying_and_the_bot_serves(
    database_url: str, tmp_path: Path, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    # The fake has no apps.connections.open: like Slack being unreachable at start-up.
    services = slack_services(database_url, tmp_path, fake_slack.base_url,
                              slack_app_token="xapp-1-test")
    with caplog.at_level(logging.WARNING), TestClient(create_app(services=services)) as client:
        fake_slack.wait_for_calls("apps.connections.open", timeout=10)  # a connection try
        response = GitHubSender(client, GITHUB_SECRET).deliver(
            "check_run", load_fixture("check_run.completed"))
        assert response.status_code == 202
        (socket_mode,) = [p for p in services.background if isinstance(p, SocketModeConnection)]
        assert not socket_mode.connected.is_set()
    assert "Socket Mode could not connect" in caplog.text
    services.db.dispose()
