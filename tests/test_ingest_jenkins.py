"""POST /webhooks/jenkins end to end, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select

from devexbot.app import create_app
from devexbot.settings import Settings
from devexbot.store import Delivery
from devexbot.wiring import Services
from tests.conftest import JENKINS_TOKEN, make_settings
from tests.db_counts import row_counts
from tests.jenkins_sender import JenkinsSender, load_jenkins
from tests.test_ingest_github import _mutate, json_values

HEAD = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
CARD_URL = f"/api/cards/octo-org/octo-app/{HEAD}"
NOTHING = {"deliveries": 0, "events": 0, "cards": 0}


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    (tmp_path / "devexbot.yaml").write_text(
        'scm_repos:\n  "https://git.example.com/team/octo-tools.git": octo-org/octo-tools\n')
    return make_settings(database_url, tmp_path)


@pytest.mark.parametrize("via", ["query", "header"])
def test_an_unstable_build_shows_as_a_failed_jenkins_check(
    jenkins: JenkinsSender, client: TestClient, via: str
) -> None:
    response = jenkins.notify(load_jenkins("completed.unstable"), via=via)
    assert response.status_code == 202, response.text
    assert response.json() == {
        "status": "stored", "events": 2,  # the build, and the branch it checked out
        "delivery": "jenkins.octo-app.example.com/octo-app/feature%2Flogin#7/COMPLETED/"
                    "6dcb09b5b578",
    }
    card = client.get(CARD_URL).json()
    assert card["checks"] == [{
        "source": "jenkins",
        "name": "octo-app/feature/login",
        "status": "failure",
        "url": "https://jenkins.octo-app.example.com/job/octo-app/job/feature%252Flogin/7/",
        "updated_at": "2026-11-20T10:03:28Z",
        "kind": "build",
        "summary": "#7 · unstable · 3 of 120 tests failed · 2m 43s",
        "details": {
            "display_name": "octo-app/feature/login",
            "job": "octo-app/feature%2Flogin",
            "job_url": "https://jenkins.octo-app.example.com/job/octo-app/job/feature%252Flogin/",
            "build_number": 7,
            "result": "UNSTABLE",
            "duration_ms": 163000,
            "tests": {"total": 120, "failed": 3, "passed": 115, "skipped": 2, "failed_tests": [
                "tests.test_login.TestLogin.test_remember_me",
                "tests.test_login.TestLogin.test_lockout_after_five_attempts",
                "tests.test_session.TestSession.test_expiry"]},
            "failed_tests": [
                "tests.test_login.TestLogin.test_remember_me",
                "tests.test_login.TestLogin.test_lockout_after_five_attempts",
                "tests.test_session.TestSession.test_expiry"],
            "log_url":
                "https://jenkins.octo-app.example.com/job/octo-app/job/feature%252Flogin/7/console",
            "branch": "feature/login",
        },
    }]
    assert card["branch"] == "feature/login"
    assert card["overall"] == "failure"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_builds_phases_in_any_order_and_twice_end_completed(
    jenkins: JenkinsSender, client: TestClient, services: Services, seed: int
) -> None:
    phases = ["queued", "started", "completed.success", "finalized.success"]
    stream = phases + phases
    random.Random(seed).shuffle(stream)
    answers = [jenkins.notify(load_jenkins(name)) for name in stream]
    assert sorted(a.status_code for a in answers) == [200] * 4 + [202] * 4
    (check,) = client.get(CARD_URL).json()["checks"]
    assert (check["status"], check["summary"], check["updated_at"]) == (
        "success", "#7 · 118 tests passed · 2m 30s", "2026-11-20T10:03:17.340000Z")
    # The QUEUED notification named no commit: stored, attached to nothing.
    assert row_counts(services.db) == {"deliveries": 4, "events": 6, "cards": 1}


@pytest.mark.parametrize(("fixture", "reason"), [
    ("queued", "the build names no commit"),
    ("nightly.completed.no_scm", "the build names no commit"),
])
def test_a_build_of_no_commit_is_kept_but_makes_no_card(
    jenkins: JenkinsSender, services: Services, fixture: str, reason: str
) -> None:
    response = jenkins.notify(load_jenkins(fixture))
    assert response.status_code == 202
    assert response.json()["status"] == "unattached"
    assert reason in response.json()["detail"]
    assert row_counts(services.db) == {"deliveries": 1, "events": 0, "cards": 0}
    with services.db.read() as session:
        delivery = session.scalars(select(Delivery)).one()
    assert (delivery.source, delivery.outcome) == ("jenkins", "unattached")
    assert reason in (delivery.detail or "")
    assert delivery.payload == load_jenkins(fixture)


def test_a_host_mapped_in_scm_repos_names_the_repository(
    jenkins: JenkinsSender, client: TestClient
) -> None:
    assert jenkins.notify(load_jenkins("gitea.completed")).status_code == 202
    card = client.get("/api/cards/octo-org/octo-tools/c0ffee254b7e4a3f9d0e1b2c3d4e5f60718293a4")
    assert card.json()["checks"][0]["name"] == "octo-tools"


def test_an_unmapped_host_is_kept_with_the_reason(
    jenkins: JenkinsSender, services: Services
) -> None:
    payload = load_jenkins("gitea.completed")
    payload["build"]["scm"]["url"] = "https://git.example.com/team/other.git"
    response = jenkins.notify(payload)
    assert response.status_code == 202
    assert response.json()["detail"] == ("build.scm.url (git.example.com/team/other) is not on "
                                         "GitHub and not mapped in scm_repos")
    assert row_counts(services.db) == {"deliveries": 1, "events": 0, "cards": 0}


def test_a_resent_notification_answers_200_and_changes_nothing(
    jenkins: JenkinsSender, client: TestClient, services: Services
) -> None:
    assert jenkins.notify(load_jenkins("completed.success")).status_code == 202
    before, card = row_counts(services.db), client.get(CARD_URL).json()
    changed = load_jenkins("completed.success")
    changed["build"]["status"] = "FAILURE"  # same job, build and phase: a duplicate
    response = jenkins.notify(changed)
    assert response.status_code == 200
    assert response.json()["status"] == "duplicate"
    assert row_counts(services.db) == before
    assert client.get(CARD_URL).json() == card


# --- refused: a clear 4xx, nothing written --------------------------------------------------

@pytest.mark.parametrize(
    ("via", "token", "reason"),
    [
        ("none", JENKINS_TOKEN, "missing token (?token= or X-Devexbot-Token)"),
        ("query", "", "missing token"),
        ("query", "wrong-token", "token (?token= or X-Devexbot-Token) does not match"),
        ("header", "wrong-token", "does not match"),
        ("header", JENKINS_TOKEN[:-1], "does not match"),
    ],
)
@pytest.mark.sqlite_only
def test_a_missing_or_wrong_token_is_401(
    jenkins: JenkinsSender, services: Services, via: str, token: str, reason: str
) -> None:
    response = jenkins.notify(load_jenkins("completed.success"), via=via, token=token)
    assert response.status_code == 401
    assert reason in response.json()["detail"]
    assert row_counts(services.db) == NOTHING


def test_unset_token_answers_503(sqlite_url: str, tmp_path: Path) -> None:
    settings_ = make_settings(sqlite_url, tmp_path, jenkins_webhook_token=None)
    with TestClient(create_app(settings_)) as client:
        response = JenkinsSender(client, JENKINS_TOKEN).notify(load_jenkins("completed.success"))
    assert response.status_code == 503
    assert "JENKINS_WEBHOOK_TOKEN" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "body is not valid JSON"),
        (b"[]", "body must be a JSON object"),
        (b"{}", "missing field build"),
        (json.dumps({"name": "x", "build": {"number": 1}}).encode(), "missing field build.phase"),
        (json.dumps({"name": "x", "build": {"number": "one", "phase": "STARTED"}}).encode(),
         "field build.number is not a number"),
        (json.dumps({"name": "x", "build": {"number": 1, "phase": "BUILDING"}}).encode(),
         "build.phase must be one of QUEUED, STARTED, COMPLETED, FINALIZED, NONE, not 'BUILDING'"),
    ],
)
@pytest.mark.sqlite_only
def test_malformed_notifications_are_400(
    jenkins: JenkinsSender, services: Services, body: bytes, reason: str
) -> None:
    response = jenkins.notify(body)
    assert response.status_code == 400
    assert reason in response.json()["detail"]
    assert "\n" not in response.json()["detail"]
    assert row_counts(services.db) == NOTHING


@pytest.mark.sqlite_only
def test_a_commit_that_is_no_sha_is_400(jenkins: JenkinsSender, services: Services) -> None:
    payload = load_jenkins("completed.success")
    payload["build"]["scm"]["commit"] = "HEAD"
    response = jenkins.notify(payload)
    assert response.status_code == 400
    assert response.json() == {"detail": "not a commit SHA: 'HEAD'"}
    assert row_counts(services.db) == NOTHING


@pytest.mark.sqlite_only
def test_oversize_body_is_413(jenkins: JenkinsSender, services: Services) -> None:
    response = jenkins.notify(b"{" + b" " * (25 * 1024 * 1024) + b"}")
    assert response.status_code == 413
    assert row_counts(services.db) == NOTHING


FIXTURES = ["queued", "started", "completed.success", "completed.unstable",
            "freestyle.completed.ssh", "nightly.completed.no_scm", "gitea.completed"]


@hypothesis_settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_body_with_the_right_token_makes_ingest_answer_5xx(
    jenkins: JenkinsSender, data: Any
) -> None:
    if data.draw(st.booleans()):
        payload = load_jenkins(data.draw(st.sampled_from(FIXTURES)))
        for _ in range(data.draw(st.integers(1, 4))):
            payload = _mutate(payload, data.draw)
        body = json.dumps(payload).encode()
    else:
        body = json.dumps(data.draw(json_values)).encode()
    response = jenkins.notify(body)
    assert response.status_code in (200, 202, 400), response.text
    assert "Traceback" not in response.text


def test_a_job_name_longer_than_the_database_holds_is_400(
    jenkins: JenkinsSender, services: Services
) -> None:
    payload = load_jenkins("completed.success")
    payload["url"] = "job/" + "x" * 300 + "/"
    response = jenkins.notify(payload)
    assert response.status_code == 400
    assert response.json() == {"detail": "the job's full name is longer than 255 characters"}
    assert row_counts(services.db) == NOTHING
