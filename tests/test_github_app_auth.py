"""The bot as a GitHub App: Merge and Retry through installation tokens the fake GitHub
issues to a JWT signed with a key made here, and tokens renewed before GitHub refuses
them, or as soon as it does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.bot import BotFactory
from tests.fakes.github_api import FakeGitHub
from tests.github_sender import load_fixture
from tests.scenario import HEAD, REPO
from tests.test_actions import PEOPLE, Bot, open_pr

APP_ID, INSTALLATION_ID = 4242, 77
RUN_ID = 30433642
REFRESH_MARGIN = 20  # seconds before expires_at PyGithub fetches a new token
pytestmark = pytest.mark.sqlite_only  # GitHub's tokens; nothing of the database


def private_key_pem() -> tuple[str, str]:
    """A fresh RSA key pair as PEM: (private, public)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public.decode()


@pytest.fixture
def fake_github() -> Iterator[tuple[FakeGitHub, str]]:
    private, public = private_key_pem()
    with FakeGitHub() as fake:
        fake.add_repo(REPO)
        fake.add_app(APP_ID, public, slug="devexbot")
        fake.add_installation(INSTALLATION_ID, APP_ID, "octo-org")
        yield fake, private


@pytest.fixture
def app_bot(make_bot: BotFactory, fake_github: tuple[FakeGitHub, str]) -> Bot:
    github, private_key = fake_github
    bot = Bot(make_bot(config=PEOPLE, github_app_id=APP_ID,
                       github_app_private_key=private_key, github_api_url=github.base_url))
    assert bot.services.settings.github_token is None
    return bot


def merge(bot: Bot, github: FakeGitHub) -> None:
    open_pr(bot, github)
    _, url = bot.click("card.merge")
    assert bot.reply(url).startswith("Merged #12 into main")


def retry(bot: Bot, github: FakeGitHub) -> None:
    github.add_workflow_run(REPO, head_sha=HEAD, run_id=RUN_ID, conclusion="failure",
                            jobs={"test": "failure", "lint": "success"})
    bot.github.deliver("workflow_run", load_fixture("workflow_run.completed"))
    _, url = bot.click("card.retry")
    assert bot.reply(url).startswith("Re-running the failed jobs of CI (attempt 2)")


def refused(github: FakeGitHub) -> list[str]:
    return [f"{c.method} {c.path}" for c in github.calls() if c.status == 401]


def rerun_call(github: FakeGitHub) -> Any:
    (call,) = github.calls("POST", f"/repos/{REPO}/actions/runs/{RUN_ID}/rerun-failed-jobs")
    return call


def test_merge_and_retry_through_an_installation_token(
    app_bot: Bot, fake_github: tuple[FakeGitHub, str]
) -> None:
    github, _ = fake_github
    merge(app_bot, github)
    retry(app_bot, github)

    (merged,) = github.merges(REPO)
    assert merged.by == "devexbot[bot]"  # the App's installation, not a person's token
    assert len(github.reruns(REPO, RUN_ID)) == 1
    (token,) = github.issued_tokens()  # one token served both clicks
    assert token.installation_id == INSTALLATION_ID
    (exchange,) = github.calls("POST", f"/app/installations/{INSTALLATION_ID}/access_tokens")
    assert exchange.headers["authorization"].startswith("Bearer ey")  # the App's JWT
    as_app = [f"{c.method} {c.path}" for c in github.calls()
              if c.headers["authorization"].startswith("Bearer ")]
    assert as_app == [f"GET /repos/{REPO}/installation",  # which installation: once
                      f"POST /app/installations/{INSTALLATION_ID}/access_tokens"]
    rest = [c for c in github.calls() if not c.headers["authorization"].startswith("Bearer ")]
    assert {c.headers["authorization"] for c in rest} == {f"token {token.token}"}
    assert refused(github) == []


def test_a_token_about_to_expire_is_renewed_before_it_is_used(
    app_bot: Bot, fake_github: tuple[FakeGitHub, str]
) -> None:
    github, _ = fake_github
    # GitHub takes this token for 15 s more; PyGithub renews one that has less than 20 s
    # left, as this one has by the time it is used again (instead of waiting for the time
    # to pass, the token is issued with that little left).
    github.token_ttl = REFRESH_MARGIN - 5
    app_bot.services.github.repo(REPO)  # type: ignore[union-attr]
    assert len(github.issued_tokens()) == 1
    github.token_ttl = 3600

    retry(app_bot, github)
    first, second = github.issued_tokens()
    assert first.expires_at > rerun_call(github).received_at  # GitHub still took the old one
    assert rerun_call(github).headers["authorization"] == f"token {second.token}"
    assert refused(github) == []  # renewed before use: GitHub never saw the old one again


def test_a_token_github_refuses_early_is_replaced_not_kept(
    app_bot: Bot, fake_github: tuple[FakeGitHub, str]
) -> None:
    github, _ = fake_github
    merge(app_bot, github)
    # GitHub stops accepting the token before its expires_at (revoked, or our clock is
    # behind GitHub's): PyGithub alone would keep sending it.
    github.expire_tokens()

    retry(app_bot, github)
    _, second = github.issued_tokens()
    # One read was refused; the new token did the re-run, and is kept for the next click.
    assert refused(github) == [f"GET /repos/{REPO}"]
    assert rerun_call(github).headers["authorization"] == f"token {second.token}"
    assert rerun_call(github).status == 201
    github.reset()
    app_bot.services.github.repo(REPO)  # type: ignore[union-attr]
    assert [c.headers["authorization"] for c in github.calls()] == [f"token {second.token}"]


def test_a_github_team_is_read_with_its_organisations_installation(
    make_bot: BotFactory, fake_github: tuple[FakeGitHub, str]
) -> None:
    github, private_key = fake_github
    github.add_team("octo-org", "sre", members=["ana"])
    config = PEOPLE + "permissions:\n  merge: ['github-team:octo-org/sre']\n"
    bot = Bot(make_bot(config=config, github_app_id=APP_ID,
                       github_app_private_key=private_key, github_api_url=github.base_url))
    merge(bot, github)  # ana is in octo-org/sre
    as_app = [f"{c.method} {c.path}" for c in github.calls()
              if c.headers["authorization"].startswith("Bearer ")]
    # One installation token serves the repository and its organisation's team: the
    # organisation's installation is looked up at most once, and one token is made.
    assert as_app.count("GET /orgs/octo-org/installation") <= 1
    assert [c for c in as_app if c.startswith("POST")] == [
        f"POST /app/installations/{INSTALLATION_ID}/access_tokens"]
    assert refused(github) == []
