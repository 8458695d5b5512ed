"""POST /webhooks/flux end to end, signed as Flux's notification-controller signs, on SQLite
and on PostgreSQL: what the card and `/api/environments` show, and every refusal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from devexbot.app import create_app
from devexbot.settings import Settings
from devexbot.wiring import Services
from tests.conftest import DEPLOY_SECRET, make_settings
from tests.db_counts import row_counts
from tests.flux_sender import FluxSender, flux_body, go_json

HEAD = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
OLD = "7638417db6d59f3c431d3e1f261cc637155684cd"
REPO = "octo-org/octo-app"
CARD_URL = f"/api/cards/{REPO}/{HEAD}"
NOTHING = {"deliveries": 0, "events": 0, "cards": 0}
CONFIG = """\
flux:
  objects:
    - match: flux-system/apps
      repo: octo-org/octo-app
      environment: production
    - match: apps/*
      kind: HelmRelease
      repo: octo-org/octo-app
"""
TOKEN_HEADERS = {"X-Devexbot-Token": DEPLOY_SECRET}  # the `generic` Secret's `headers`


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    (tmp_path / "devexbot.yaml").write_text(CONFIG)
    return make_settings(database_url, tmp_path)


@pytest.fixture
def flux(client: TestClient) -> FluxSender:
    return FluxSender(client, DEPLOY_SECRET)


def live(client: TestClient) -> list[tuple[str, str, str]]:
    environments = client.get(f"/api/environments?repo={REPO}").json()["environments"]
    return [(e["environment"], e["sha"], e["since"]) for e in environments]


@pytest.mark.parametrize(("provider", "headers"),
                         [("generic-hmac", {}), ("generic", TOKEN_HEADERS)])
def test_a_reconciled_kustomization_is_a_deploy_on_the_card(
    flux: FluxSender, client: TestClient, provider: str, headers: dict[str, str]
) -> None:
    response = flux.send("kustomization.succeeded", provider=provider, headers=headers)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "stored"
    assert response.json()["card"] == CARD_URL
    assert client.get(CARD_URL).json()["deployments"] == [{
        "environment": "production", "status": "success", "url": None,
        "updated_at": "2026-01-05T10:00:00Z", "source": "deploy",
        "description": "Reconciliation finished in 2.4s, next run in 10m0s",
        "deployment_id": None, "approval": None,
    }]
    assert live(client) == [("production", HEAD, "2026-01-05T10:00:00Z")]


def test_progressing_then_failed_health_check(flux: FluxSender, client: TestClient) -> None:
    assert flux.send("kustomization.progressing").status_code == 202
    (line,) = client.get(CARD_URL).json()["deployments"]
    assert line["status"] == "running"
    assert flux.send("kustomization.health-check-failed").status_code == 202
    (line,) = client.get(CARD_URL).json()["deployments"]
    assert line["status"] == "failure"
    assert line["description"].startswith("Deployment/apps/webapp status: 'Failed'")
    assert live(client) == []  # a failed deploy makes nothing live


def test_the_alerts_event_metadata_names_repository_and_environment(
    flux: FluxSender, client: TestClient
) -> None:
    assert flux.send("kustomization.event-metadata").status_code == 202
    assert live(client) == [("staging", HEAD, "2026-01-05T11:00:00Z")]


def test_a_helm_release_from_git_deploys_the_commit_its_chart_came_from(
    flux: FluxSender, client: TestClient
) -> None:
    assert flux.send("helmrelease.upgrade-succeeded").status_code == 202
    assert live(client) == [("podinfo", OLD, "2026-01-05T12:00:00Z")]


def test_flux_resending_an_event_is_a_duplicate(flux: FluxSender, services: Services) -> None:
    assert flux.send("kustomization.succeeded").status_code == 202
    before = row_counts(services.db)
    response = flux.send("kustomization.succeeded")
    assert (response.status_code, response.json()["status"]) == (200, "duplicate")
    assert row_counts(services.db) == before == {"deliveries": 1, "events": 1, "cards": 1}


@pytest.mark.parametrize(
    ("fixture", "status", "detail"),
    [("helmrelease.chart-version", "unattached",
      "HelmRelease apps/redis: revision '18.6.1' names no Git commit"),
     ("gitrepository.new-artifact", "ignored", None)],
)
def test_events_of_no_deploy_are_kept_but_make_no_card(
    flux: FluxSender, services: Services, fixture: str, status: str, detail: str | None
) -> None:
    response = flux.send(fixture)
    assert response.status_code == 202
    assert response.json()["status"] == status
    assert response.json().get("detail") == detail
    assert row_counts(services.db)["cards"] == 0


def test_an_unmapped_object_is_unattached_and_says_how_to_map_it(
    flux: FluxSender, services: Services
) -> None:
    event = json.loads(flux_body("kustomization.succeeded"))
    event["involvedObject"]["name"] = "infra"
    response = flux.send(go_json(event))
    assert (response.status_code, response.json()["status"]) == (202, "unattached")
    assert response.json()["detail"] == (
        "Kustomization flux-system/infra is mapped to no repository: add it to flux.objects "
        "in the config, or set repository in the Alert's eventMetadata")
    assert row_counts(services.db)["cards"] == 0


# --- refused: a clear 4xx, nothing written --------------------------------------------------

BODY = flux_body("kustomization.succeeded")


@pytest.mark.parametrize(
    ("send", "reason"),
    [
        ({"provider": "generic"}, "missing X-Signature header"),
        ({"secret": "another-secret"}, "X-Signature does not match the body"),
        ({"provider": "generic", "headers": {"X-Signature": "sha256=" + "0" * 64}},
         "X-Signature does not match the body"),
        ({"provider": "generic", "headers": {"X-Devexbot-Token": "guess"}},
         "X-Devexbot-Token does not match"),
    ],
)
@pytest.mark.sqlite_only
def test_unsigned_or_badly_signed_events_are_401(
    flux: FluxSender, services: Services, send: dict[str, Any], reason: str
) -> None:
    response = flux.send(BODY, **send)
    assert response.status_code == 401
    assert reason in response.json()["detail"]
    assert row_counts(services.db) == NOTHING


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"{oops", "body is not valid JSON"), (b'"x"', "body must be a JSON object"),
     (b'{"reason":"ReconciliationSucceeded"}', "missing field involvedObject.kind"),
     (BODY.replace(b'"reason":"ReconciliationSucceeded"', b'"reason":""'),
      "missing field reason")],
)
@pytest.mark.sqlite_only
def test_what_is_no_flux_event_is_400_with_one_line(
    flux: FluxSender, services: Services, body: bytes, reason: str
) -> None:
    response = flux.send(body)
    assert response.status_code == 400
    assert response.json()["detail"].startswith(reason)
    assert "\n" not in response.json()["detail"]
    assert row_counts(services.db) == NOTHING


def test_unset_secret_answers_503(sqlite_url: str, tmp_path: Path) -> None:
    settings_ = make_settings(sqlite_url, tmp_path, deploy_webhook_secret=None)
    with TestClient(create_app(settings_)) as client:
        response = FluxSender(client, DEPLOY_SECRET).send("kustomization.succeeded")
    assert response.status_code == 503
    assert "DEPLOY_WEBHOOK_SECRET" in response.json()["detail"]


@pytest.mark.sqlite_only
def test_oversize_body_is_413(flux: FluxSender, services: Services) -> None:
    response = flux.send(b"{" + b" " * (25 * 1024 * 1024) + b"}")
    assert response.status_code == 413
    assert row_counts(services.db) == NOTHING
