"""Sign in with Slack (OpenID Connect) against a local fake of Slack's authorize page and
`openid.connect.token`: state, nonce, audience and workspace are checked."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from slack_sdk import WebClient

from devexbot.errors import SettingsError
from devexbot.web.access import SESSION_COOKIE
from devexbot.web.login import SignInError, check_claims
from devexbot.web.team import BotTokenTeam, KnownTeam, NoTeam, slack_team
from devexbot.wiring import Services, build_services
from tests.bot import BotFactory
from tests.conftest import make_settings
from tests.db_template import migrate
from tests.fakes.github_api import FakeGitHub
from tests.fakes.slack_oidc import CLIENT_ID, CLIENT_SECRET, TEAM, FakeSlackOidc
from tests.scenario import HEAD, REPO
from tests.test_actions import fakes_settings
from tests.test_approvals import PEOPLE, Approvals, Receiver
from tests.web_client import OUTSIDE, web_client


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        fake.add_repo(REPO)
        yield fake


@pytest.fixture
def oidc() -> Iterator[FakeSlackOidc]:
    with FakeSlackOidc() as fake:
        yield fake


def _services(tmp_path: Path, url: str, oidc: FakeSlackOidc, **extra: str) -> Services:
    settings = make_settings(url, tmp_path, slack_client_id=CLIENT_ID,
                             slack_client_secret=CLIENT_SECRET, slack_api_url=oidc.api_url,
                             **extra)
    services = build_services(settings)
    migrate(services.db.engine)
    return services


def _sign_in(client, oidc: FakeSlackOidc, next_path: str = "/") -> httpx.Response:
    start = client.get(f"/login/slack?next={next_path}", follow_redirects=False)
    assert start.status_code == 303
    authorize = start.headers["location"]
    assert authorize.startswith(f"{oidc.url}/openid/connect/authorize?")
    query = parse_qs(urlparse(authorize).query)
    assert query["scope"] == ["openid profile"] and query["client_id"] == [CLIENT_ID]
    back = httpx.get(authorize, follow_redirects=False).headers["location"]
    callback = urlparse(back)
    assert callback.path == "/login/slack/callback"
    return client.get(f"{callback.path}?{callback.query}", follow_redirects=False)


def test_sign_in_with_slack(tmp_path: Path, sqlite_url: str, oidc: FakeSlackOidc) -> None:
    services = _services(tmp_path, sqlite_url, oidc, slack_team_id=TEAM)
    with web_client(services, client=OUTSIDE, base_url="https://devexbot.example.com") as c:
        assert "Sign in with Slack" in c.get("/login").text
        done = _sign_in(c, oidc, next_path="/?status=failure")
        assert done.status_code == 303 and done.headers["location"] == "/?status=failure"
        assert oidc.token_requests[0]["form"]["redirect_uri"] == \
            "https://devexbot.example.com/login/slack/callback"
        page = c.get("/")
        assert page.status_code == 200 and "Ana Lima" in page.text
    services.db.dispose()


def test_the_workspace_comes_from_the_bot_token_when_not_set(tmp_path: Path, sqlite_url: str,
                                                             oidc: FakeSlackOidc) -> None:
    services = _services(tmp_path, sqlite_url, oidc, slack_bot_token="xoxb-test")
    with web_client(services, client=OUTSIDE) as c:
        assert _sign_in(c, oidc).status_code == 303
    oidc.team = "T0OTHER"  # someone of another workspace
    services2 = _services(tmp_path / "b", sqlite_url.replace(".db", "2.db"), oidc,
                          slack_team_id=TEAM)
    with web_client(services2, client=OUTSIDE) as c:
        refused = _sign_in(c, oidc)
        assert refused.status_code == 401 and "another Slack workspace" in refused.text
        assert c.get("/", follow_redirects=False).status_code == 303
    services.db.dispose()
    services2.db.dispose()


def test_a_callback_without_our_state_is_refused(tmp_path: Path, sqlite_url: str,
                                                 oidc: FakeSlackOidc) -> None:
    services = _services(tmp_path, sqlite_url, oidc, slack_team_id=TEAM)
    with web_client(services, client=OUTSIDE) as c:
        forged = c.get("/login/slack/callback?code=abc&state=guess", follow_redirects=False)
        assert forged.status_code == 401 and "stale" in forged.text
        c.get("/login/slack", follow_redirects=False)  # a flow of ours, but a wrong state
        assert c.get("/login/slack/callback?code=abc&state=guess",
                     follow_redirects=False).status_code == 401
        denied = c.get("/login/slack/callback?error=access_denied", follow_redirects=False)
        assert denied.status_code == 401 and "access_denied" in denied.text
    assert oidc.token_requests == []
    services.db.dispose()


@pytest.mark.parametrize(("override", "reason"), [
    ({"aud": "someone-else"}, "not Slack's for this app"),
    ({"iss": "https://evil.example"}, "not Slack's for this app"),
    ({"exp": 1}, "expired"),
    ({"nonce": "replayed"}, "not issued for this sign-in"),
    ({"https://slack.com/team_id": "T0OTHER"}, "another Slack workspace"),
])
def test_id_token_claims_are_checked(override: dict, reason: str) -> None:
    claims = {"iss": "https://slack.com", "aud": CLIENT_ID, "exp": 2_000_000_000,
              "nonce": "n0nce", "sub": "U0ANA", "https://slack.com/team_id": TEAM}
    check_claims(claims, client_id=CLIENT_ID, nonce="n0nce", team=TEAM, now=1_900_000_000)
    with pytest.raises(SignInError, match=reason):
        check_claims(claims | override, client_id=CLIENT_ID, nonce="n0nce", team=TEAM,
                     now=1_900_000_000)


def test_the_manifest_asks_for_sign_in_with_slack() -> None:
    from devexbot.slack.manifest import build_manifest

    oauth = build_manifest(public_url="https://bot.example.com/", socket_mode=False)["oauth_config"]
    assert oauth["redirect_urls"] == ["https://bot.example.com/login/slack/callback"]
    assert oauth["scopes"]["user"] == ["openid", "profile"]
    assert "redirect_urls" not in build_manifest(public_url=None, socket_mode=True)["oauth_config"]


class AskedSlack(WebClient):
    """Slack's `auth.test`, answering `answers` in turn (an exception is raised)."""

    def __init__(self, *answers: str | Exception) -> None:
        super().__init__(token="xoxb-test")
        self.answers, self.asked = list(answers), 0

    def auth_test(self, **kwargs: Any) -> Any:
        self.asked += 1
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return {"ok": True, "team_id": answer}


def test_whose_people_may_sign_in() -> None:
    asked = AskedSlack(OSError("Slack is down"), TEAM)
    assert isinstance(slack_team(TEAM, asked), KnownTeam)
    assert slack_team(TEAM, asked).team_id() == TEAM and asked.asked == 0
    assert isinstance(slack_team(None, None), NoTeam)  # Slack is off
    assert slack_team(None, None).team_id() is None
    from_token = slack_team(None, asked)
    assert isinstance(from_token, BotTokenTeam)
    assert from_token.team_id() is None  # Slack did not answer: asked again next time
    assert [from_token.team_id(), from_token.team_id()] == [TEAM, TEAM]
    assert asked.asked == 2  # once answered, kept


def test_with_slack_off_and_no_team_id_sign_in_says_to_set_it(tmp_path: Path, sqlite_url: str,
                                                              oidc: FakeSlackOidc) -> None:
    services = _services(tmp_path, sqlite_url, oidc)  # no SLACK_BOT_TOKEN, no SLACK_TEAM_ID
    with web_client(services, client=OUTSIDE) as c:
        refused = _sign_in(c, oidc)
    assert refused.status_code == 401 and "set SLACK_TEAM_ID" in refused.text
    services.db.dispose()


# --- the web token only ever reads -------------------------------------------------------

WEB_TOKEN = "web-token-0123456789abcdef"
APPROVERS = PEOPLE + """
approvals:
  production:
    approvers: [U0ANA, U0BEN]
    required: 2
    on_approve: {callback: "%s"}
"""


def _signed_as_before(token: str, claims: dict[str, Any]) -> str:
    """A session cookie signed the way the bot signed them when neither
    DEVEXBOT_SESSION_SECRET nor Sign in with Slack was set: with a key anyone holding the
    web token could work out."""
    key = hmac.new(b"devexbot-session", token.encode(), hashlib.sha256).digest()
    body = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    return f"{body}.{_b64(hmac.new(key, body.encode(), hashlib.sha256).digest())}"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _form_action(page: str, action_id: str) -> str:
    """The URL the card page's form for button `action_id` posts to."""
    for found in re.finditer(r'<form method="post" action="([^"]*)"', page):
        url = found.group(1).replace("&amp;", "&")
        if f"id={action_id.replace(':', '%3A')}" in url:
            return url
    raise AssertionError(f"the card page has no {action_id} form")


def test_the_web_token_cannot_make_a_session_that_approves(
    make_bot: BotFactory, fake_github: FakeGitHub
) -> None:
    with Receiver() as receiver:
        bot = Approvals(make_bot(config=APPROVERS % receiver.url, devexbot_web_token=WEB_TOKEN,
                                 **fakes_settings(fake_github)))
        bot.deployed("production", "waiting", deployment_id="p-1")
        bot.card_message(having="card.approve")
        with bot.bot.web(client=OUTSIDE, follow_redirects=False) as web:
            assert web.post("/login", data={"token": WEB_TOKEN}).status_code == 303
            page = web.get(f"/cards/{REPO}/{HEAD}")
            assert page.status_code == 200  # the token reads
            approve = _form_action(page.text, "card.approve:production")
            asked = web.post(approve)  # ... and is told how to act
            assert "Sign+in+with+Slack+to+act" in asked.headers["location"]
            for user in ("U0ANA", "U0BEN"):  # a cookie of each approver, made with the token
                web.cookies.set(SESSION_COOKIE, _signed_as_before(WEB_TOKEN, {
                    "via": "slack", "name": user, "sub": user, "exp": time.time() + 600}))
                refused = web.post(approve)
                assert refused.status_code == 403, (refused.status_code, refused.headers)
                detail = refused.json()["detail"]
                assert "Sign in with Slack" in detail and "\n" not in detail
        assert receiver.received == []  # the deploy tool was told nothing
    card = bot.card_message(having="card.approve")
    assert "approved by" not in str(card.blocks)  # the card shows nobody's approval
    assert [e for e in bot.audit() if e["action"].startswith("card.approve")] == []


def _token_session(services: Services) -> str:
    with web_client(services, client=OUTSIDE, follow_redirects=False) as c:
        assert c.post("/login", data={"token": WEB_TOKEN}).status_code == 303
        return str(c.cookies[SESSION_COOKIE])


def _reads_with(services: Services, cookie: str) -> bool:
    with web_client(services, client=OUTSIDE, follow_redirects=False) as c:
        c.cookies.set(SESSION_COOKIE, cookie)
        return c.get("/").status_code == 200


def test_sessions_are_signed_with_a_random_key_the_database_keeps(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(database_url, tmp_path, devexbot_web_token=WEB_TOKEN)
    first = build_services(settings)
    migrate(first.db.engine)
    cookie = _token_session(first)
    replica = build_services(settings)  # another replica, or the same bot restarted
    assert _reads_with(replica, cookie)
    elsewhere = build_services(make_settings(f"sqlite:///{tmp_path / 'other.db'}",
                                             tmp_path, devexbot_web_token=WEB_TOKEN))
    migrate(elsewhere.db.engine)  # the same token, another database: another key
    assert not _reads_with(elsewhere, cookie)
    for services in (first, replica, elsewhere):
        services.db.dispose()


def test_a_session_secret_of_its_own_is_used_and_the_web_token_is_refused_as_one(
    tmp_path: Path, sqlite_url: str
) -> None:
    def bot(name: str, **settings: str) -> Services:
        services = build_services(make_settings(f"sqlite:///{tmp_path / name}", tmp_path,
                                                devexbot_web_token=WEB_TOKEN, **settings))
        migrate(services.db.engine)
        return services

    one, two = (bot(name, devexbot_session_secret="s" * 32) for name in ("a.db", "b.db"))
    assert _reads_with(two, _token_session(one))  # the setting signs, not the database
    one.db.dispose()
    two.db.dispose()
    with pytest.raises(SettingsError) as refused:
        make_settings(sqlite_url, tmp_path, devexbot_web_token=WEB_TOKEN,
                      devexbot_session_secret=WEB_TOKEN)
    assert str(refused.value).startswith("DEVEXBOT_SESSION_SECRET is the web token")
