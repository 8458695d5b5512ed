"""Schemathesis over the app's own OpenAPI schema, in-process over ASGI.

Every operation answers generated requests as the schema says it answers (status, content
type, body), never with a 5xx or a traceback, and nothing the fuzzer sends unsigned (it
cannot sign) writes a delivery, an event or a card. A second run signs the webhook
deliveries the way their senders do, so generated payloads reach the parsers and the
database too.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, assume, settings
from schemathesis import BaseSchema, Case, CheckContext, Response

from correlation.github import parse_github
from devexbot.app import create_app
from devexbot.http.bodies import MAX_JSON_DEPTH
from devexbot.wiring import Services
from tests.db_counts import row_counts
from tests.deploy_sender import deploy_signature
from tests.fakes.slack_api import FakeSlack
from tests.github_sender import github_signature, load_fixture
from tests.slack_app import slack_services
from tests.slack_signing import slack_signature

# Bounded and derandomized, with a fixed schemathesis seed: the same cases on every run, in
# CI too (about 10 s per database). Raise max_examples locally to dig deeper.
FUZZ = settings(max_examples=25, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
SEED = 20261120
# Sign-in comes before anything else on the card buttons' route: without a session every
# post is a 303 to /login whatever its query, and the fuzzer cannot sign in.
BUTTONS = {"include-path": "/cards/{owner}/{repo}/{sha}/actions",
           "checks": {"negative_data_rejection": {"enabled": False}}}
SIGNED_ROUTES = ("/webhooks/", "/slack/")  # what the fuzzer sends them is unsigned: a 4xx
SEEDED = ["push", "pull_request.opened", "check_run.completed", "deployment_status.success",
          "status.success"]
# A traceback, or an exception's name as a traceback or a repr shows it.
LEAK = re.compile(r"Traceback \(most recent call|\b[A-Z][A-Za-z]*(?:Error|Exception)\b")


class Secrets:
    """The receivers' secrets for one test: random, so the fuzzer cannot guess them."""

    def __init__(self) -> None:
        self.github, self.jenkins, self.deploy, self.slack = (
            secrets.token_hex(16) for _ in range(4))


@pytest.fixture
def keys() -> Secrets:
    return Secrets()


@pytest.fixture
def fuzzed_services(database_url: str, tmp_path: Path, fake_slack: FakeSlack,
                    keys: Secrets) -> Iterator[Services]:
    """The bot with every receiver on (Slack too) and a few cards already stored, so the
    read API answers with real cards, environments and their JSON."""
    built = slack_services(database_url, tmp_path, fake_slack.base_url,
                           github_webhook_secret=keys.github,
                           jenkins_webhook_token=keys.jenkins,
                           deploy_webhook_secret=keys.deploy,
                           slack_signing_secret=keys.slack)
    now = datetime.now(UTC)
    for name in SEEDED:
        event_type = name.split(".")[0]
        built.ingest.record(source="github", delivery_id=f"seed-{name}", event_type=event_type,
                            events=parse_github(event_type, load_fixture(name), received_at=now))
    built.watch.check_due()  # what the start does: Slack answers, so /readyz is ready
    yield built
    built.db.dispose()


@pytest.fixture
def api_schema(fuzzed_services: Services) -> BaseSchema:
    """The schema the app serves, bound to the app so that requests never leave the
    process (schemathesis runs the app's lifespan, and ends it with the test; no background
    thread: what the fuzzer's requests write, or do not, is all there is to see)."""
    app = create_app(fuzzed_services.settings, services=fuzzed_services, background=False)
    config = schemathesis.Config.from_dict({"seed": SEED, "operations": [BUTTONS]})
    return schemathesis.openapi.from_asgi("/api/openapi.json", app, config=config)


schema = schemathesis.pytest.from_fixture("api_schema")


def no_leak(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """An answer never shows a traceback or names a Python exception."""
    found = LEAK.search(response.text or "")
    if found is not None:
        raise AssertionError(f"the answer shows {found.group(0)!r}: {response.text[:300]!r}")
    return None


def no_server_error(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Stricter than schemathesis' own check: a documented 503 is still a failure here,
    since every receiver is configured."""
    if response.status_code >= 500:
        raise AssertionError(f"{response.status_code}: {response.text[:300]!r}")
    return None


CHECKS = [no_leak, no_server_error]


@schema.parametrize()
@FUZZ
def test_every_operation_answers_as_declared_and_unsigned_input_writes_nothing(
    case: Case, fuzzed_services: Services
) -> None:
    before = row_counts(fuzzed_services.db)
    response = case.call_and_validate(additional_checks=CHECKS)
    assert row_counts(fuzzed_services.db) == before, f"{case.method} {case.path} wrote rows"
    if case.path.startswith(SIGNED_ROUTES):
        assert 400 <= response.status_code < 500, (response.status_code, response.text)


class SignedLikeTheSenders(requests.auth.AuthBase):
    """Signs each webhook delivery as its sender does, over the exact bytes sent."""

    def __init__(self, keys: Secrets) -> None:
        self.keys = keys

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        body = body.encode() if isinstance(body, str) else body
        path = urlsplit(request.url).path
        if path == "/webhooks/github":
            request.headers["X-Hub-Signature-256"] = github_signature(self.keys.github, body)
        elif path == "/webhooks/deploy":
            request.headers["X-Devexbot-Signature-256"] = deploy_signature(self.keys.deploy, body)
        elif path == "/webhooks/flux":  # Flux's generic-hmac: the same HMAC, its own header
            request.headers.pop("X-Devexbot-Token", None)
            request.headers["X-Signature"] = deploy_signature(self.keys.deploy, body)
        elif path == "/webhooks/jenkins":
            request.headers["X-Devexbot-Token"] = self.keys.jenkins
        elif path == "/slack/events":
            timestamp = int(time.time())
            request.headers["X-Slack-Request-Timestamp"] = str(timestamp)
            request.headers["X-Slack-Signature"] = slack_signature(self.keys.slack, timestamp,
                                                                   body)
        return request


@schema.include(path_regex="^/webhooks/").parametrize()
@FUZZ
def test_signed_deliveries_are_answered_as_declared(case: Case, keys: Secrets) -> None:
    # The signer replaces whatever signature or token the fuzzer generated, so a delivery
    # it meant as invalid (a bad or missing signature) is a valid one by the time it is sent.
    meant_invalid = [schemathesis.checks.negative_data_rejection,
                     schemathesis.checks.missing_required_header]
    response = case.call_and_validate(auth=SignedLikeTheSenders(keys), additional_checks=CHECKS,
                                      excluded_checks=meant_invalid)
    assert response.status_code != 401, response.text  # signed as the senders sign


@schema.include(path_regex="^/(webhooks|slack)/").parametrize()
@settings(max_examples=3, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_json_nested_too_deep_is_refused_as_declared(case: Case, keys: Secrets,
                                                     fuzzed_services: Services) -> None:
    """Whatever else a signed request carries, a JSON body nested past the limit is a 400
    the schema declares, and writes nothing."""
    assume(case.method == "POST")  # not schemathesis' requests with methods the route lacks
    before = row_counts(fuzzed_services.db)
    deep: Any = {}
    for _ in range(MAX_JSON_DEPTH):
        deep = {"a": deep}
    case.body, case.media_type = deep, "application/json"
    # The schema says "an object" (JSON Schema has no word for depth): schemathesis would
    # take this body for one the route must accept.
    response = case.call_and_validate(
        auth=SignedLikeTheSenders(keys), additional_checks=CHECKS,
        excluded_checks=[schemathesis.checks.positive_data_acceptance,
                         schemathesis.checks.negative_data_rejection,
                         schemathesis.checks.missing_required_header])
    assert response.status_code == 400, response.text
    assert row_counts(fuzzed_services.db) == before
