"""POST /webhooks/deploy end to end, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select

from devexbot.app import create_app
from devexbot.store import Delivery
from devexbot.wiring import Services
from tests.conftest import DEPLOY_SECRET, make_settings
from tests.db_counts import row_counts
from tests.deploy_sender import DeploySender, deploy_signature, load_deploy
from tests.test_deploy_parsers import BAD_EVENTS
from tests.test_ingest_github import json_values

HEAD = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
CARD_URL = f"/api/cards/octo-org/octo-app/{HEAD}"
NOTHING = {"deliveries": 0, "events": 0, "cards": 0}


@pytest.mark.parametrize("as_token", [False, True])
def test_a_deploy_event_shows_its_environment_on_the_card(
    deploy: DeploySender, client: TestClient, as_token: bool
) -> None:
    response = deploy.send(load_deploy("test.success"), as_token=as_token)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "stored"
    assert response.json()["card"] == CARD_URL
    assert client.get(CARD_URL).json()["deployments"] == [{
        "environment": "test", "status": "success", "url": "https://test.octo-app.example.com",
        "updated_at": "2026-11-20T10:09:30Z", "source": "deploy",
        "description": "Deployed 6dcb09b to test", "deployment_id": "311", "approval": None,
    }]


def test_running_then_done_in_either_order(deploy: DeploySender, client: TestClient) -> None:
    for name in ["test.success", "test.in_progress"]:
        assert deploy.send(load_deploy(name)).status_code == 202
    (line,) = client.get(CARD_URL).json()["deployments"]
    assert line["status"] == "success"


def test_the_same_event_again_is_a_duplicate_however_it_is_spelled(
    deploy: DeploySender, services: Services
) -> None:
    event = load_deploy("test.success")
    assert deploy.send(event).status_code == 202
    before = row_counts(services.db)
    for resent in [json.dumps(event).encode(),
                   json.dumps(dict(reversed(event.items())), indent=2).encode()]:
        response = deploy.send(resent)
        assert response.status_code == 200
        assert response.json()["status"] == "duplicate"
    assert row_counts(services.db) == before == {"deliveries": 1, "events": 1, "cards": 1}


def test_an_event_without_timestamp_happened_when_it_arrived(
    deploy: DeploySender, client: TestClient
) -> None:
    event = load_deploy("test.success")
    del event["timestamp"]
    assert deploy.send(event).status_code == 202
    (line,) = client.get(CARD_URL).json()["deployments"]
    at = datetime.fromisoformat(line["updated_at"].replace("Z", "+00:00"))
    assert abs(datetime.now(UTC) - at) < timedelta(minutes=1)


def test_the_delivery_row_says_what_arrived(deploy: DeploySender, services: Services) -> None:
    deploy.send(load_deploy("script.production.waiting"))
    with services.db.read() as session:
        delivery = session.scalars(select(Delivery)).one()
    assert (delivery.source, delivery.event_type, delivery.outcome) == (
        "deploy", "waiting", "stored")
    assert delivery.delivery_id.startswith("sha256:")


# --- refused: a clear 4xx, nothing written --------------------------------------------------

@pytest.mark.parametrize(("change", "reason"), BAD_EVENTS)
@pytest.mark.sqlite_only
def test_bad_events_are_400_with_a_one_line_reason(
    deploy: DeploySender, services: Services, change: dict[str, Any], reason: str
) -> None:
    event = load_deploy("test.success") | change
    response = deploy.send({k: v for k, v in event.items() if v is not None})
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert reason in detail
    assert "\n" not in detail
    assert row_counts(services.db) == NOTHING


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"{oops", "body is not valid JSON"), (b'"success"', "body must be a JSON object")],
)
@pytest.mark.sqlite_only
def test_bodies_that_are_no_json_object_are_400(
    deploy: DeploySender, services: Services, body: bytes, reason: str
) -> None:
    response = deploy.send(body)
    assert response.status_code == 400
    assert reason in response.json()["detail"]
    assert row_counts(services.db) == NOTHING


def _post(client: TestClient, body: bytes, headers: dict[str, str]) -> Any:
    return client.post("/webhooks/deploy", content=body,
                       headers={"Content-Type": "application/json", **headers})


BODY = json.dumps(load_deploy("test.success")).encode()


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing X-Devexbot-Signature-256 header"),
        ({"X-Devexbot-Signature-256": "sha256=" + "0" * 64}, "does not match the body"),
        ({"X-Devexbot-Signature-256": deploy_signature("another-secret", BODY)},
         "does not match the body"),
        ({"X-Devexbot-Signature-256": deploy_signature(DEPLOY_SECRET, BODY + b" ")},
         "does not match the body"),
        ({"X-Devexbot-Token": "guess"}, "X-Devexbot-Token does not match"),
        # A signature, once given, is what is checked.
        ({"X-Devexbot-Signature-256": "sha256=00", "X-Devexbot-Token": DEPLOY_SECRET},
         "does not match the body"),
    ],
)
@pytest.mark.sqlite_only
def test_unsigned_or_badly_signed_events_are_401(
    client: TestClient, services: Services, headers: dict[str, str], reason: str
) -> None:
    response = _post(client, BODY, headers)
    assert response.status_code == 401
    assert reason in response.json()["detail"]
    assert row_counts(services.db) == NOTHING


def test_unset_secret_answers_503(sqlite_url: str, tmp_path: Path) -> None:
    settings_ = make_settings(sqlite_url, tmp_path, deploy_webhook_secret=None)
    with TestClient(create_app(settings_)) as client:
        response = DeploySender(client, DEPLOY_SECRET).send(load_deploy("test.success"))
    assert response.status_code == 503
    assert "DEPLOY_WEBHOOK_SECRET" in response.json()["detail"]


@pytest.mark.sqlite_only
def test_oversize_body_is_413(deploy: DeploySender, services: Services) -> None:
    response = deploy.send(b"{" + b" " * (25 * 1024 * 1024) + b"}")
    assert response.status_code == 413
    assert row_counts(services.db) == NOTHING


@hypothesis_settings(max_examples=120, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_signed_body_makes_ingest_answer_5xx(deploy: DeploySender, data: Any) -> None:
    event: Any = load_deploy(data.draw(st.sampled_from(
        ["test.success", "argocd.staging.success", "script.production.waiting"])))
    for _ in range(data.draw(st.integers(0, 3))):
        event[data.draw(st.sampled_from([*sorted(event), "extra"]))] = data.draw(json_values)
    if data.draw(st.booleans()):
        event = data.draw(json_values)
    response = deploy.send(json.dumps(event).encode())
    assert response.status_code in (200, 202, 400), response.text
