"""Fuzzing the webhook endpoints: generated bodies and headers never give a 5xx or a
traceback, and input that is not signed (or carries the wrong secret) writes no row."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devexbot.wiring import Services
from tests.conftest import DEPLOY_SECRET, GITHUB_SECRET, JENKINS_TOKEN
from tests.db_counts import row_counts
from tests.deploy_sender import deploy_signature
from tests.github_sender import github_headers, load_fixture

FUZZ = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                 max_size=4),
    max_leaves=20)


def _mutated_fixture(draw: st.DrawFn) -> bytes:
    """A real payload with one top-level key replaced by junk or removed."""
    name = draw(st.sampled_from(["push", "pull_request.opened", "check_run.completed",
                                 "deployment_status.success", "status.success"]))
    payload: dict[str, Any] = load_fixture(name)
    key = draw(st.sampled_from(sorted(payload)))
    if draw(st.booleans()):
        del payload[key]
    else:
        payload[key] = draw(json_values)
    return json.dumps(payload).encode()


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["bytes", "json", "fixture"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    return _mutated_fixture(draw)


header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
EVENTS = st.sampled_from(["push", "pull_request", "check_run", "deployment_status", "status",
                          "ping", "issues", "workflow_run"]) | header_text


def _assert_sane(response: Any) -> None:
    assert response.status_code < 500, (response.status_code, response.text)
    assert "Traceback" not in response.text


@FUZZ
@given(body=bodies(), event=EVENTS, delivery=header_text, signature=header_text)
def test_unsigned_or_badly_signed_github_input_writes_nothing(
    client: TestClient, services: Services, body: bytes, event: str, delivery: str,
    signature: str
) -> None:
    before = row_counts(services.db)
    headers = {"Content-Type": "application/json", "X-GitHub-Event": event,
               "X-GitHub-Delivery": delivery, "X-Hub-Signature-256": signature}
    response = client.post("/webhooks/github", content=body, headers=headers)
    _assert_sane(response)
    assert response.status_code in (400, 401, 413), response.status_code
    assert row_counts(services.db) == before


@FUZZ
@given(body=bodies(), event=EVENTS, delivery=header_text)
def test_signed_github_junk_is_never_a_5xx(client: TestClient, body: bytes, event: str,
                                           delivery: str) -> None:
    headers = github_headers(event, body, secret=GITHUB_SECRET, delivery_id=delivery or None)
    headers["X-GitHub-Delivery"] = delivery
    _assert_sane(client.post("/webhooks/github", content=body, headers=headers))


@FUZZ
@given(body=bodies(), signed=st.booleans())
def test_deploy_webhook_junk(client: TestClient, services: Services, body: bytes,
                             signed: bool) -> None:
    before = row_counts(services.db)
    headers = {"Content-Type": "application/json",
               "X-Devexbot-Signature-256": deploy_signature(
                   DEPLOY_SECRET if signed else "wrong", body)}
    response = client.post("/webhooks/deploy", content=body, headers=headers)
    _assert_sane(response)
    if not signed:
        assert response.status_code == 401
        assert row_counts(services.db) == before


@FUZZ
@given(body=bodies(), token=st.one_of(st.just(JENKINS_TOKEN), header_text))
def test_jenkins_webhook_junk(client: TestClient, services: Services, body: bytes,
                              token: str) -> None:
    before = row_counts(services.db)
    response = client.post("/webhooks/jenkins", content=body,
                           headers={"Content-Type": "application/json",
                                    "X-Devexbot-Token": token})
    _assert_sane(response)
    if token != JENKINS_TOKEN:
        assert response.status_code == 401
        assert row_counts(services.db) == before
