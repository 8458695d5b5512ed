"""Fuzzing the webhook endpoints and Slack's: generated bodies and headers never give a 5xx
or a traceback, and input that is not signed (or carries the wrong secret) writes no row.
Bodies include JSON nested around and far past the depth limit, and (for Slack, signed)
interactions whose actions are missing, empty or junk."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from correlation.button_blocks import ActionId
from devexbot.app import create_app
from devexbot.http.bodies import MAX_JSON_DEPTH
from devexbot.runbooks.actions import RunbookAction
from devexbot.wiring import Services
from handlers.slack.events import MAX_SLACK_BODY
from tests.conftest import DEPLOY_SECRET, GITHUB_SECRET, JENKINS_TOKEN
from tests.db_counts import row_counts
from tests.deploy_sender import deploy_signature
from tests.fakes.slack_api import FakeSlack
from tests.github_sender import github_headers, load_fixture
from tests.slack_app import SIGNING_SECRET, slack_services
from tests.slack_signing import SlackSender, block_actions_payload

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


def _deep(draw: st.DrawFn) -> str:
    """JSON nested just inside, at and past the depth limit, and far past it (where
    Python's own parser gives up)."""
    levels = draw(st.sampled_from([MAX_JSON_DEPTH - 1, MAX_JSON_DEPTH, MAX_JSON_DEPTH + 1,
                                   990, 5000]))
    opening = draw(st.sampled_from(['[', '{"a":']))
    return opening * levels + "1" + ("]" if opening == "[" else "}") * levels


def _with_deep_field(draw: st.DrawFn, payload: dict[str, Any]) -> bytes:
    return (json.dumps(payload)[:-1] + f', "extra": {_deep(draw)}}}').encode()


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["bytes", "json", "fixture", "deep"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    if kind == "deep":
        return _with_deep_field(draw, json.loads(_mutated_fixture(draw)))
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


@pytest.fixture
def slack_client(database_url: str, tmp_path: Path, fake_slack: FakeSlack
                 ) -> Iterator[TestClient]:
    """The app with Slack on (the fake), so that signed requests reach Bolt."""
    services = slack_services(database_url, tmp_path, fake_slack.base_url)
    with TestClient(create_app(services.settings, services=services,
                               background=False)) as test_client:
        yield test_client
    services.db.dispose()


action_ids = st.sampled_from([*ActionId, *RunbookAction]) | header_text
actions = st.fixed_dictionaries(
    {}, optional={"action_id": action_ids | json_values, "value": header_text | json_values,
                  "block_id": header_text, "type": st.sampled_from(["button", "static_select"]),
                  "selected_option": json_values})


@st.composite
def slack_payloads(draw: st.DrawFn) -> tuple[str, dict[str, Any], str | None]:
    """What a signed request to /slack/events carries, with junk where Slack puts an action,
    an event or anything else: `("event", body, None)` for the Events API's JSON, or
    `("form", payload, deep)` for an interaction's `payload=`, with `deep` (JSON nested
    around the depth limit) as an extra field when it is not None; some are over the size
    limit."""
    kind = draw(st.sampled_from(["click", "payload", "event", "deep", "big"]))
    payload: dict[str, Any] = block_actions_payload(draw(action_ids))
    if kind == "big":  # just over the size limit, however it is encoded
        payload["padding"] = "x" * (MAX_SLACK_BODY + draw(st.integers(0, 100)))
    if kind == "click":
        payload["actions"] = draw(st.lists(actions, max_size=2) | json_values)
    elif kind == "payload":
        payload[draw(st.sampled_from(sorted(payload)))] = draw(json_values)
    elif kind == "event":
        return "event", {"type": "event_callback", "team_id": "T0",
                         "event": draw(json_values)}, None
    return "form", payload, _deep(draw) if kind == "deep" else None


@pytest.mark.sqlite_only
@FUZZ
@given(request=slack_payloads())
def test_signed_slack_junk_is_never_a_5xx(slack_client: TestClient, fake_slack: FakeSlack,
                                          request: tuple[str, dict[str, Any], str | None]
                                          ) -> None:
    kind, carried, deep = request
    sender = SlackSender(slack_client, SIGNING_SECRET)
    if kind == "event":
        response = sender.send(json.dumps(carried).encode(), content_type="application/json")
    else:
        if "response_url" in carried:  # replies go to the fake, never to a real host
            carried["response_url"] = fake_slack.new_response_url("C0DEPLOYS", kind="actions")
        text = json.dumps(carried)
        if deep is not None:
            text = text[:-1] + f', "extra": {deep}}}'
        response = sender.send(urlencode({"payload": text}).encode())
    _assert_sane(response)
    if "padding" in carried:
        assert response.status_code == 413, response.text
