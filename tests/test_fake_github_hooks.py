"""The fake GitHub's webhook delivery logs behave as GitHub's: failed deliveries are logged,
lists page newest first by cursor, a redelivery is the same delivery signed again, and the
App's hook answers only the App."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from github import Auth

from tests.fakes.github_api import FakeGitHub
from tests.fakes.github_hooks import Receivers
from tests.github_sender import github_signature
from tests.test_github_app_auth import private_key_pem

pytestmark = pytest.mark.sqlite_only
URL = "https://bot.example.com/webhooks/github"
SECRET = "s3cret"


class Recorder:
    """An in-process receiver that answers `status` and keeps what it was sent."""

    def __init__(self, status: int = 202) -> None:
        self.status = status
        self.received: list[tuple[dict[str, str], bytes]] = []

    def post(self, path: str, *, content: bytes, headers: dict[str, str]) -> Any:
        self.received.append((headers, content))
        return type("Answer", (), {"status_code": self.status})()


@pytest.fixture
def github() -> Iterator[tuple[FakeGitHub, Receivers]]:
    receivers = Receivers()
    with FakeGitHub() as fake:
        fake.add_repo("octo-org/octo-app")
        fake.state.hooks.transport = receivers
        yield fake, receivers


def get(fake: FakeGitHub, path: str, auth: str | None = None) -> requests.Response:
    token = auth or f"token {fake.token}"
    url = path if path.startswith("http") else fake.base_url + path
    return requests.get(url, headers={"Authorization": token}, timeout=5)


def test_deliveries_are_logged_with_the_bots_answer_and_listed_newest_first_by_cursor(
    github: tuple[FakeGitHub, Receivers],
) -> None:
    fake, receivers = github
    hook = fake.add_hook(URL, secret=SECRET, repo="octo-org/octo-app", hook_id=9)
    refused = [fake.send(hook, "push", {"n": n}) for n in range(3)]
    receivers.attach(URL, Recorder(503))
    unavailable = fake.send(hook, "push", {"n": 3})
    receivers.attach(URL, Recorder(202))
    delivered = fake.send(hook, "check_run", {"action": "completed", "n": 4,
                                              "repository": {"id": 1296269}})
    assert [(e.status_code, e.status) for e in (*refused, unavailable, delivered)] == [
        (502, "failed to connect to host")] * 3 + [
        (503, "Invalid HTTP Response: 503"), (202, "OK")]

    first = get(fake, "/repos/octo-org/octo-app/hooks/9/deliveries?per_page=2")
    assert first.status_code == 200
    assert [e["id"] for e in first.json()] == [delivered.id, unavailable.id]
    assert first.json()[0] | {"delivered_at": "-", "duration": 0} == {
        "id": delivered.id, "guid": delivered.guid, "delivered_at": "-", "redelivery": False,
        "duration": 0, "status": "OK", "status_code": 202, "event": "check_run",
        "action": "completed", "installation_id": None, "repository_id": 1296269,
        "throttled_at": None}
    second = get(fake, first.links["next"]["url"])
    third = get(fake, second.links["next"]["url"])
    assert [e["id"] for e in second.json() + third.json()] == [e.id for e in refused[::-1]]
    assert "next" not in third.links
    assert get(fake, "/repos/octo-org/octo-app/hooks/8/deliveries").status_code == 404


def test_a_redelivery_is_the_same_delivery_signed_again(
    github: tuple[FakeGitHub, Receivers],
) -> None:
    fake, receivers = github
    hook = fake.add_hook(URL, secret=SECRET, org="octo-org", hook_id=7)
    failed = fake.send(hook, "pull_request", {"action": "opened", "number": 12})
    asked = requests.post(f"{fake.base_url}/orgs/octo-org/hooks/7/deliveries/{failed.id}"
                          "/attempts", headers={"Authorization": f"token {fake.token}"},
                          timeout=5)
    assert asked.status_code == 202
    bot = Recorder()
    receivers.attach(URL, bot)
    [again] = fake.send_queued()
    headers, body = bot.received[0]
    assert json.loads(body) == {"action": "opened", "number": 12}
    assert headers["X-GitHub-Delivery"] == failed.guid == again.guid
    assert headers["X-GitHub-Event"] == "pull_request"
    assert headers["X-Hub-Signature-256"] == github_signature(SECRET, body)
    assert headers["X-GitHub-Hook-Installation-Target-Type"] == "organization"
    assert again.redelivery and again.status_code == 202 and again.id > failed.id
    assert [e.id for e in fake.hook_log(hook)] == [again.id, failed.id]
    missing = requests.post(f"{fake.base_url}/orgs/octo-org/hooks/7/deliveries/1/attempts",
                            headers={"Authorization": f"token {fake.token}"}, timeout=5)
    assert missing.status_code == 404 and fake.send_queued() == []


def test_the_apps_hook_answers_only_the_apps_jwt(github: tuple[FakeGitHub, Receivers]
                                                 ) -> None:
    fake, _ = github
    private, public = private_key_pem()
    fake.add_app(4242, public)
    hook = fake.add_hook(URL, secret=SECRET, app_id=4242)
    failed = fake.send(hook, "check_suite", {"action": "requested"})
    assert get(fake, "/app/hook/deliveries").status_code == 401  # a user's token
    app_jwt = f"Bearer {Auth.AppAuth(4242, private).token}"
    listed = get(fake, "/app/hook/deliveries", auth=app_jwt)
    assert listed.status_code == 200 and [e["guid"] for e in listed.json()] == [failed.guid]
    asked = requests.post(f"{fake.base_url}/app/hook/deliveries/{failed.id}/attempts",
                          headers={"Authorization": app_jwt}, timeout=5)
    assert asked.status_code == 202 and len(fake.state.hooks.queued) == 1
