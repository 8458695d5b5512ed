"""POST /webhooks/github end to end, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import logging
import random
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from correlation import Event, Status
from devexbot.app import create_app
from devexbot.store import Card, Delivery
from devexbot.wiring import Services
from tests.conftest import GITHUB_SECRET, make_settings
from tests.db_counts import row_counts
from tests.github_sender import GitHubSender, github_headers, load_fixture
from tests.scenario import EXPECTED_CARD, HEAD, REPO, commit_stream

CARD_URL = f"/api/cards/{REPO}/{HEAD}"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_commits_deliveries_in_any_order_with_duplicates_make_one_card(
    github: GitHubSender, client: TestClient, services: Services, seed: int
) -> None:
    rnd = random.Random(seed)
    deliveries = [(str(uuid.uuid4()), event, payload) for event, payload in commit_stream()]
    resent = rnd.sample(deliveries, k=len(deliveries) // 3)
    stream = deliveries + resent
    rnd.shuffle(stream)

    first_seen: set[str] = set()
    for delivery_id, event, payload in stream:
        response = github.deliver(event, payload, delivery_id=delivery_id)
        expected = 200 if delivery_id in first_seen else 202
        assert response.status_code == expected, response.text
        first_seen.add(delivery_id)

    card = client.get(CARD_URL).json()
    assert card == {**EXPECTED_CARD, "slack": None, "slack_messages": []}
    listing = client.get("/api/cards", params={"repo": REPO}).json()
    assert [c["sha"] for c in listing["cards"]] == [HEAD]
    with services.db.read() as session:
        (stored,) = session.scalars(select(Card)).all()
        assert stored.dirty  # the outbox has news to publish
        # (The bot's own notes, such as the scheduler's "no news for…", are deliveries too.)
        assert session.query(Delivery).filter(Delivery.source == "github").count() == len(
            deliveries)


def test_a_redelivery_answers_200_and_changes_nothing(
    github: GitHubSender, client: TestClient, services: Services
) -> None:
    payload = load_fixture("check_run.completed")
    assert github.deliver("check_run", payload, delivery_id="d-1").status_code == 202
    before, card = row_counts(services.db), client.get(CARD_URL).json()
    changed = json.loads(json.dumps(payload))
    changed["check_run"]["conclusion"] = "failure"  # GitHub never changes a delivery; still
    response = github.deliver("check_run", changed, delivery_id="d-1")
    assert response.status_code == 200
    assert response.json()["status"] == "duplicate"
    assert row_counts(services.db) == before
    assert client.get(CARD_URL).json() == card


def test_a_pr_with_a_new_head_supersedes_the_old_card_and_the_merge_links_back(
    github: GitHubSender, client: TestClient
) -> None:
    for name in ["pull_request.opened", "pull_request.synchronize", "pull_request.closed"]:
        assert github.deliver("pull_request", load_fixture(name)).status_code == 202
    nxt = "4f7e1c0d8b2a9e6f3c5d7a1b0e9f8c2d4a6b8e0f"
    merge = "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b"
    old = client.get(CARD_URL).json()
    assert old["superseded_by"] == nxt
    new = client.get(f"/api/cards/{REPO}/{nxt}").json()
    assert new["superseded_by"] is None
    assert new["pull_request"]["state"] == "merged"
    merged = client.get(f"/api/cards/{REPO}/{merge}").json()
    assert merged["pull_request"]["number"] == 12
    assert merged["pull_request"]["state"] == "merged"
    assert merged["branch"] == "main"
    assert merged["superseded_by"] is None


# --- bad input: a clear 4xx, nothing written ---------------------------------------------

def _signed(body: bytes, event: str = "check_run") -> dict[str, str]:
    return github_headers(event, body, secret=GITHUB_SECRET)


@pytest.mark.parametrize(
    ("mangle", "status", "reason"),
    [
        (lambda h: h.pop("X-Hub-Signature-256"), 401, "missing X-Hub-Signature-256"),
        (lambda h: h.update({"X-Hub-Signature-256": "sha256=" + "0" * 64}), 401, "does not match"),
        (lambda h: h.update({"X-Hub-Signature-256": "sha1=abc"}), 401, "does not match"),
        (lambda h: h.pop("X-GitHub-Event"), 400, "missing X-GitHub-Event"),
        (lambda h: h.pop("X-GitHub-Delivery"), 400, "X-GitHub-Delivery"),
    ],
)
@pytest.mark.sqlite_only
def test_refused_headers(client: TestClient, services: Services, mangle: Any, status: int,
                         reason: str) -> None:
    body = json.dumps(load_fixture("check_run.completed")).encode()
    headers = _signed(body)
    mangle(headers)
    response = client.post("/webhooks/github", content=body, headers=headers)
    assert response.status_code == status
    assert reason in response.json()["detail"]
    assert "\n" not in response.json()["detail"]
    assert row_counts(services.db) == {"deliveries": 0, "events": 0, "cards": 0}


def test_a_delivery_id_longer_than_its_column_is_400(client: TestClient, services: Services
                                                     ) -> None:
    # PostgreSQL refused the insert: a 500 for a signed delivery.
    body = json.dumps(load_fixture("ping")).encode()
    headers = github_headers("ping", body, secret=GITHUB_SECRET, delivery_id="d" * 201)
    response = client.post("/webhooks/github", content=body, headers=headers)
    assert response.status_code == 400
    assert "X-GitHub-Delivery is longer than 200" in response.json()["detail"]
    assert row_counts(services.db)["deliveries"] == 0


def test_long_names_from_a_signed_payload_are_stored_not_a_500(github: GitHubSender,
                                                              client: TestClient) -> None:
    # Columns PostgreSQL enforces: the delivery's event type, an event's name, a branch.
    assert github.deliver("x" * 65, {"zen": "anything"}).json()["status"] == "ignored"
    check = load_fixture("check_run.completed")
    check["check_run"]["name"] = "n" * 300
    check["check_run"]["check_suite"]["head_branch"] = "b" * 300
    assert github.deliver("check_run", check).status_code == 202
    card = client.get(f"/api/cards/{REPO}/{HEAD}").json()
    assert card["branch"] == "b" * 300
    assert [c["name"] for c in card["checks"]] == ["n" * 300]


@pytest.mark.sqlite_only
def test_a_body_signed_with_another_secret_is_refused(client: TestClient, services: Services
                                                      ) -> None:
    body = json.dumps(load_fixture("check_run.completed")).encode()
    headers = github_headers("check_run", body, secret="someone-elses-secret")
    assert client.post("/webhooks/github", content=body, headers=headers).status_code == 401
    assert row_counts(services.db)["deliveries"] == 0


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"{not json", "not valid JSON"), (b"[1, 2]", "must be a JSON object"),
     (b"\xff\xfe", "not valid JSON"),
     # Python's json reads these, PostgreSQL's JSONB (rightly) does not: found by fuzzing.
     (b'{"a": Infinity}', "Infinity is not a JSON value"), (b'{"a": NaN}', "not a JSON value"),
     (b'{"a": 1e999}', "out of range")],
)
@pytest.mark.sqlite_only
def test_malformed_json_is_400(client: TestClient, services: Services, body: bytes,
                               reason: str) -> None:
    response = client.post("/webhooks/github", content=body, headers=_signed(body))
    assert response.status_code == 400
    assert reason in response.json()["detail"]
    assert row_counts(services.db)["deliveries"] == 0


@pytest.mark.sqlite_only
def test_oversize_body_is_413_declared_or_streamed(client: TestClient, services: Services
                                                   ) -> None:
    body = b"{" + b" " * (25 * 1024 * 1024) + b"}"
    response = client.post("/webhooks/github", content=body, headers=_signed(body))
    assert response.status_code == 413

    def chunks() -> Any:  # no Content-Length: the limit must hold while reading
        for _ in range(26):
            yield b" " * (1024 * 1024)

    headers = _signed(b"")
    response = client.post("/webhooks/github", content=chunks(), headers=headers)
    assert response.status_code == 413
    assert row_counts(services.db)["deliveries"] == 0


def test_unset_secret_answers_503(sqlite_url: str, tmp_path: Path) -> None:
    settings_ = make_settings(sqlite_url, tmp_path, github_webhook_secret=None)
    with TestClient(create_app(settings_)) as client:
        body = b"{}"
        response = client.post("/webhooks/github", content=body, headers=_signed(body))
    assert response.status_code == 503
    assert "GITHUB_WEBHOOK_SECRET" in response.json()["detail"]


@pytest.mark.parametrize("fixture", ["ping", "issues.opened"])
@pytest.mark.sqlite_only
def test_event_types_we_ignore_are_accepted_and_make_no_card(
    github: GitHubSender, services: Services, fixture: str
) -> None:
    response = github.deliver(fixture.split(".")[0], load_fixture(fixture))
    assert response.status_code == 202
    assert response.json()["status"] == "ignored"
    assert row_counts(services.db) == {"deliveries": 1, "events": 0, "cards": 0}


def test_signed_payload_missing_the_sha_is_stored_logged_and_accepted(
    github: GitHubSender, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    payload = load_fixture("check_run.completed")
    del payload["check_run"]["head_sha"]
    with caplog.at_level(logging.WARNING):
        response = github.deliver("check_run", payload, delivery_id="no-sha-1")
    assert response.status_code == 202
    assert response.json()["status"] == "unparsed"
    assert "no-sha-1" in caplog.text and "check_run.head_sha" in caplog.text
    assert row_counts(services.db) == {"deliveries": 1, "events": 0, "cards": 0}
    with services.db.read() as session:
        delivery = session.scalars(select(Delivery)).one()
        assert delivery.outcome == "unparsed"
        assert delivery.payload == payload  # kept, so it can be replayed after a fix


def test_nul_characters_in_a_signed_payload_are_stored_as_replacement_characters(
    github: GitHubSender, client: TestClient
) -> None:
    # PostgreSQL text and JSONB cannot hold U+0000 (found by fuzzing).
    payload = load_fixture("check_run.completed")
    payload["check_run"]["name"] = "build\u0000x"
    payload["check_run"]["output"]["text"] = "\u0000" * 3
    assert github.deliver("check_run", payload).status_code == 202
    assert client.get(CARD_URL).json()["checks"][0]["name"] == "build\ufffdx"


def test_form_encoded_deliveries_are_read_too(client: TestClient) -> None:
    from urllib.parse import urlencode

    body = urlencode({"payload": json.dumps(load_fixture("check_run.completed"))}).encode()
    headers = _signed(body)
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    assert client.post("/webhooks/github", content=body, headers=headers).status_code == 202
    assert client.get(CARD_URL).json()["checks"][0]["name"] == "build"


def test_a_failure_mid_delivery_leaves_no_half_written_rows(services: Services) -> None:
    at = datetime(2026, 11, 20, 10, tzinfo=UTC)
    good = Event(REPO, HEAD, "github", "check", "build", at, Status.SUCCESS, {"url": "u"})
    # Not JSON-serialisable: the write fails after the delivery and card rows were written.
    bad = Event(REPO, "b" * 40, "github", "check", "lint", at, Status.SUCCESS, {"x": object()})
    with pytest.raises(Exception):  # whatever the driver raises
        services.ingest.record(source="github", delivery_id="atomic-1", event_type="check_run",
                               events=[good, bad])
    assert row_counts(services.db) == {"deliveries": 0, "events": 0, "cards": 0}
    # ...so GitHub's manual redelivery of the same id still goes through.
    result = services.ingest.record(source="github", delivery_id="atomic-1",
                                    event_type="check_run", events=[good])
    assert result.outcome == "stored"
    assert row_counts(services.db) == {"deliveries": 1, "events": 1, "cards": 1}


# --- ingest never answers 5xx to a signed body ---------------------------------------------

EVENT_TYPES = ["push", "pull_request", "pull_request_review", "check_run", "check_suite",
               "status", "workflow_run", "workflow_job", "deployment", "deployment_status",
               "deployment_review", "ping", "issues"]
FIXTURE_NAMES = ["push", "pull_request.opened", "pull_request.closed", "check_run.completed",
                 "status.success", "workflow_run.completed", "workflow_job.waiting",
                 "deployment.created", "deployment_status.success",
                 "deployment_review.approved", "check_suite.completed",
                 "pull_request_review.submitted.approved"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                  max_size=3),
    max_leaves=10,
)


def _mutate(payload: Any, draw: Any) -> Any:
    """Replace or delete a random nested field of a real payload."""
    node, path = payload, []
    while isinstance(node, dict) and node:
        key = draw(st.sampled_from(sorted(node)))
        path.append(key)
        if not isinstance(node[key], dict) or draw(st.booleans()):
            if draw(st.booleans()):
                del node[key]
            else:
                node[key] = draw(json_values)
            return payload
        node = node[key]
    return payload


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_signed_body_makes_ingest_answer_5xx(github: GitHubSender, data: Any) -> None:
    event = data.draw(st.sampled_from(EVENT_TYPES))
    if data.draw(st.booleans()):
        fixture = data.draw(st.sampled_from(FIXTURE_NAMES))
        payload = _mutate(load_fixture(fixture), data.draw)
        for _ in range(data.draw(st.integers(0, 3))):
            payload = _mutate(payload, data.draw)
        event = fixture.split(".")[0] if data.draw(st.booleans()) else event
        body = json.dumps(payload).encode()
    else:
        body = json.dumps(data.draw(json_values)).encode()
    response = github.deliver(event, body)
    assert response.status_code in (200, 202, 400), response.text
    assert "Traceback" not in response.text
