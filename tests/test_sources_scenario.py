"""The issue's "done when": one merge commit built by Jenkins and GitHub Actions, deployed to
test by a script, to staging by Argo CD and to production through a GitHub environment with
a required reviewer, shows all of it on one card, whatever the order of arrival."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from correlation import Event, fold
from correlation.blocks import SlackMessage
from correlation.deploy import parse_deploy
from correlation.github import parse_github
from correlation.jenkins import parse_jenkins
from correlation.scm import ScmRepos
from devexbot.config import parse_config
from devexbot.publish.outbox import card_message
from devexbot.settings import Settings
from devexbot.wiring import Services
from tests.conftest import make_settings
from tests.db_counts import row_counts
from tests.deploy_sender import DeploySender
from tests.github_sender import GitHubSender
from tests.jenkins_sender import JenkinsSender
from tests.slack_limits import all_text, assert_valid_message
from tests.sources_scenario import (
    CONFIG,
    ENVIRONMENTS,
    EXPECTED_CARD,
    EXPECTED_WAITING_CARD,
    MERGE,
    REPO,
    Delivery,
    merge_stream,
)

ARRIVED = datetime(2026, 11, 21, tzinfo=UTC)
CARD_URL = f"/api/cards/{REPO}/{MERGE}"


def parse(stream: list[Delivery]) -> list[Event]:
    """The scenario's events for the merge commit, parsed without any IO."""
    events: list[Event] = []
    for sender, payload in stream:
        if sender.startswith("github:"):
            events += parse_github(sender.removeprefix("github:"), payload, received_at=ARRIVED)
        elif sender == "jenkins":
            events += parse_jenkins(payload, received_at=ARRIVED, scm_repos=ScmRepos()).events
        else:
            events.append(parse_deploy(payload, received_at=ARRIVED))
    return [e for e in events if e.sha == MERGE]


EVENTS = parse(merge_stream())
WAITING_EVENTS = parse(merge_stream(until="10:42:00"))


def card(events: list[Event]) -> dict[str, Any]:
    return fold(events, environment_order=ENVIRONMENTS).to_json()


def test_the_stream_folds_to_the_expected_card() -> None:
    assert card(EVENTS) == EXPECTED_CARD


def test_before_the_approval_production_waits_for_its_reviewer() -> None:
    assert card(WAITING_EVENTS) == EXPECTED_WAITING_CARD


@settings(max_examples=200, deadline=None)
@given(st.permutations(EVENTS), st.lists(st.sampled_from(EVENTS), max_size=40))
def test_any_order_with_any_duplicates_folds_to_the_same_card(
    order: list[Event], duplicates: list[Event]
) -> None:
    assert card(order + duplicates) == EXPECTED_CARD


@settings(max_examples=100, deadline=None)
@given(st.permutations(WAITING_EVENTS), st.lists(st.sampled_from(WAITING_EVENTS), max_size=20))
def test_the_waiting_card_too(order: list[Event], duplicates: list[Event]) -> None:
    assert card(order + duplicates) == EXPECTED_WAITING_CARD


def test_every_part_of_the_issue_is_on_the_card() -> None:
    """The same card, read the way a product owner reads it."""
    checks = {(c["source"], c["name"]): c for c in EXPECTED_CARD["checks"]}
    assert {source for source, _ in checks} == {"github", "jenkins"}
    assert checks[("github", "CI")]["details"]["run_attempt"] == 2
    jenkins = checks[("jenkins", "octo-app/main")]
    assert (jenkins["details"]["build_number"], jenkins["details"]["duration_ms"],
            jenkins["url"]) == (31, 180000, "https://jenkins.octo-app.example.com/job/octo-app/"
                                            "job/main/31/")
    assert [d["environment"] for d in EXPECTED_CARD["deployments"]] == list(ENVIRONMENTS)
    assert EXPECTED_CARD["pull_request"]["number"] == 12


# --- the same over HTTP, on SQLite and PostgreSQL ----------------------------------------

@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """The conftest's settings, with the scenario's config (environment order, scm_repos)."""
    (tmp_path / "devexbot.yaml").write_text(CONFIG)
    return make_settings(database_url, tmp_path)


class Senders:
    def __init__(self, github: GitHubSender, jenkins: JenkinsSender, deploy: DeploySender):
        self.github, self.jenkins, self.deploy = github, jenkins, deploy

    def send(self, sender: str, payload: dict[str, Any], delivery_id: str) -> Any:
        if sender.startswith("github:"):
            return self.github.deliver(sender.removeprefix("github:"), payload,
                                       delivery_id=delivery_id)
        if sender == "jenkins":
            return self.jenkins.notify(payload)
        return self.deploy.send(payload)


@pytest.mark.parametrize("seed", [7, 8])
def test_delivered_out_of_order_and_twice_over_http_it_is_one_card(
    github: GitHubSender, jenkins: JenkinsSender, deploy: DeploySender, client: TestClient,
    services: Services, seed: int,
) -> None:
    rnd = random.Random(seed)
    deliveries = [(str(uuid.uuid4()), sender, payload) for sender, payload in merge_stream()]
    stream = deliveries + rnd.sample(deliveries, k=len(deliveries) // 2)
    rnd.shuffle(stream)
    senders = Senders(github, jenkins, deploy)

    seen: set[str] = set()
    for delivery_id, sender, payload in stream:
        response = senders.send(sender, payload, delivery_id)
        assert response.status_code == (200 if delivery_id in seen else 202), response.text
        seen.add(delivery_id)

    assert client.get(CARD_URL).json() == {**EXPECTED_CARD, "slack": None, "slack_messages": []}
    # One delivery row per distinct delivery; the QUEUED notification attached to nothing.
    assert row_counts(services.db)["deliveries"] == len(deliveries)


def test_over_http_before_the_approval(
    github: GitHubSender, jenkins: JenkinsSender, deploy: DeploySender, client: TestClient
) -> None:
    senders = Senders(github, jenkins, deploy)
    for sender, payload in reversed(merge_stream(until="10:42:00")):
        assert senders.send(sender, payload, str(uuid.uuid4())).status_code == 202
    assert client.get(CARD_URL).json() == {
        **EXPECTED_WAITING_CARD, "slack": None, "slack_messages": []}


def test_the_config_orders_environments_whatever_arrives_first(
    deploy: DeploySender, client: TestClient
) -> None:
    for environment, minute in [("production", 1), ("Staging", 2), ("qa", 3), ("test", 4)]:
        event = {"repository": REPO, "sha": MERGE, "environment": environment,
                 "status": "success", "timestamp": f"2026-11-20T11:0{minute}:00Z"}
        assert deploy.send(event).status_code == 202
    shown = [d["environment"] for d in client.get(CARD_URL).json()["deployments"]]
    assert shown == ["test", "Staging", "production", "qa"]  # configured first, then the rest


def test_one_environment_named_by_two_tools_is_one_line_with_the_latest_news(
    deploy: DeploySender, github: GitHubSender, client: TestClient
) -> None:
    for sender, payload in merge_stream():
        if sender == "github:deployment_status":
            github.deliver("deployment_status", payload)
    later = {"repository": REPO, "sha": MERGE, "environment": "Production",
             "status": "failure", "description": "Rolled back by the on-call",
             "timestamp": "2026-11-20T11:30:00Z"}
    assert deploy.send(later).status_code == 202
    (line,) = client.get(CARD_URL).json()["deployments"]
    assert (line["environment"], line["status"], line["source"]) == (
        "Production", "failure", "deploy")


def test_no_card_for_the_pr_head_is_touched_by_ci_of_the_merge(
    github: GitHubSender, jenkins: JenkinsSender, deploy: DeploySender, client: TestClient,
    services: Services,
) -> None:
    senders = Senders(github, jenkins, deploy)
    for sender, payload in merge_stream():
        senders.send(sender, payload, str(uuid.uuid4()))
    listing = client.get("/api/cards", params={"repo": REPO}).json()["cards"]
    by_sha = {c["sha"]: c for c in listing}
    assert set(by_sha) == {MERGE, "4f7e1c0d8b2a9e6f3c5d7a1b0e9f8c2d4a6b8e0f"}
    assert by_sha["4f7e1c0d8b2a9e6f3c5d7a1b0e9f8c2d4a6b8e0f"]["checks"] == []
    assert row_counts(services.db)["cards"] == 2


# --- the same card as Slack shows it ----------------------------------------------------

# Fixed dates: the request must not expire (24 h unless the policy says otherwise).
POLICY = "\napprovals:\n  production:\n    approvers: [U0BEN]\n    expires_after: never\n"


def _rendered(events: list[Event]) -> tuple[str, SlackMessage]:
    folded = fold(events, environment_order=ENVIRONMENTS)
    message = card_message(folded, parse_config(CONFIG + POLICY).policies())
    assert_valid_message(message)
    return all_text(message), message


def test_the_slack_message_shows_every_source_and_the_pipeline_in_order() -> None:
    text, message = _rendered(EVENTS)
    for name in ("octo-app/main", "octo-app-integration", "CI"):
        assert name in text  # Jenkins jobs and the Actions workflow
    positions = [text.index(f"*{env}*") if f"*{env}*" in text else text.index(env)
                 for env in ENVIRONMENTS]
    assert positions == sorted(positions), "environments read left to right: test, staging, prod"
    assert "approved by ben" in text
    assert message.text.startswith("✅")


def test_before_the_approval_slack_shows_production_waiting_with_approve_buttons() -> None:
    text, message = _rendered(WAITING_EVENTS)
    assert "waiting for approval" in text and "ben" in text
    buttons = [e["action_id"] for b in message.blocks if b["type"] == "actions"
               for e in b["elements"]]
    assert "card.approve:production" in buttons and "card.reject:production" in buttons
