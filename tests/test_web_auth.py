"""Sign in with Slack (OpenID Connect) against a local fake of Slack's authorize page and
`openid.connect.token`: state, nonce, audience and workspace are checked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from slack_sdk import WebClient

from devexbot.web.login import SignInError, check_claims
from devexbot.web.team import BotTokenTeam, KnownTeam, NoTeam, slack_team
from devexbot.wiring import Services, build_services
from tests.conftest import make_settings
from tests.db_template import migrate
from tests.fakes.slack_oidc import CLIENT_ID, CLIENT_SECRET, TEAM, FakeSlackOidc
from tests.web_client import OUTSIDE, web_client


@pytest.fixture
def slack() -> Iterator[FakeSlackOidc]:
    with FakeSlackOidc() as fake:
        yield fake


def _services(tmp_path: Path, url: str, slack: FakeSlackOidc, **extra: str) -> Services:
    settings = make_settings(url, tmp_path, slack_client_id=CLIENT_ID,
                             slack_client_secret=CLIENT_SECRET, slack_api_url=slack.api_url,
                             **extra)
    services = build_services(settings)
    migrate(services.db.engine)
    return services


def _sign_in(client, slack: FakeSlackOidc, next_path: str = "/") -> httpx.Response:
    start = client.get(f"/login/slack?next={next_path}", follow_redirects=False)
    assert start.status_code == 303
    authorize = start.headers["location"]
    assert authorize.startswith(f"{slack.url}/openid/connect/authorize?")
    query = parse_qs(urlparse(authorize).query)
    assert query["scope"] == ["openid profile"] and query["client_id"] == [CLIENT_ID]
    back = httpx.get(authorize, follow_redirects=False).headers["location"]
    callback = urlparse(back)
    assert callback.path == "/login/slack/callback"
    return client.get(f"{callback.path}?{callback.query}", follow_redirects=False)


def test_sign_in_with_slack(tmp_path: Path, sqlite_url: str, slack: FakeSlackOidc) -> None:
    services = _services(tmp_path, sqlite_url, slack, slack_team_id=TEAM)
    with web_client(services, client=OUTSIDE, base_url="https://devexbot.example.com") as c:
        assert "Sign in with Slack" in c.get("/login").text
        done = _sign_in(c, slack, next_path="/?status=failure")
        assert done.status_code == 303 and done.headers["location"] == "/?status=failure"
        assert slack.token_requests[0]["form"]["redirect_uri"] == \
            "https://devexbot.example.com/login/slack/callback"
        page = c.get("/")
        assert page.status_code == 200 and "Ana Lima" in page.text
    services.db.dispose()


def test_the_workspace_comes_from_the_bot_token_when_not_set(tmp_path: Path, sqlite_url: str,
                                                             slack: FakeSlackOidc) -> None:
    services = _services(tmp_path, sqlite_url, slack, slack_bot_token="xoxb-test")
    with web_client(services, client=OUTSIDE) as c:
        assert _sign_in(c, slack).status_code == 303
    slack.team = "T0OTHER"  # someone of another workspace
    services2 = _services(tmp_path / "b", sqlite_url.replace(".db", "2.db"), slack,
                          slack_team_id=TEAM)
    with web_client(services2, client=OUTSIDE) as c:
        refused = _sign_in(c, slack)
        assert refused.status_code == 401 and "another Slack workspace" in refused.text
        assert c.get("/", follow_redirects=False).status_code == 303
    services.db.dispose()
    services2.db.dispose()


def test_a_callback_without_our_state_is_refused(tmp_path: Path, sqlite_url: str,
                                                 slack: FakeSlackOidc) -> None:
    services = _services(tmp_path, sqlite_url, slack, slack_team_id=TEAM)
    with web_client(services, client=OUTSIDE) as c:
        forged = c.get("/login/slack/callback?code=abc&state=guess", follow_redirects=False)
        assert forged.status_code == 401 and "stale" in forged.text
        c.get("/login/slack", follow_redirects=False)  # a flow of ours, but a wrong state
        assert c.get("/login/slack/callback?code=abc&state=guess",
                     follow_redirects=False).status_code == 401
        denied = c.get("/login/slack/callback?error=access_denied", follow_redirects=False)
        assert denied.status_code == 401 and "access_denied" in denied.text
    assert slack.token_requests == []
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
                                                              slack: FakeSlackOidc) -> None:
    services = _services(tmp_path, sqlite_url, slack)  # no SLACK_BOT_TOKEN, no SLACK_TEAM_ID
    with web_client(services, client=OUTSIDE) as c:
        refused = _sign_in(c, slack)
    assert refused.status_code == 401 and "set SLACK_TEAM_ID" in refused.text
    services.db.dispose()
