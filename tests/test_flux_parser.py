"""Flux's events, as notification-controller forwards them: which deploy each one is."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from correlation import ParseError
from correlation.flux import FluxMapping, FluxObject, flux_sha, flux_state, parse_flux
from correlation.scm import ScmRepos
from devexbot.config.loader import parse_config
from devexbot.errors import ConfigError
from tests.flux_sender import FIXTURES, flux_body

HEAD = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
OLD = "7638417db6d59f3c431d3e1f261cc637155684cd"
REPO = "octo-org/octo-app"
ARRIVED = datetime(2026, 11, 21, 8, 30, tzinfo=UTC)
MAPPING = FluxMapping((
    FluxObject(match="flux-system/apps", repo=REPO, environment="production"),
    FluxObject(match="apps/*", repo="octo-org/charts", kind="HelmRelease"),
))


def load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(flux_body(name))
    return loaded


def parse(payload: Any, mapping: FluxMapping = MAPPING) -> Any:
    return parse_flux(payload, received_at=ARRIVED, mapping=mapping,
                      scm_repos=ScmRepos.from_mapping({}))


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("kustomization.succeeded", (REPO, HEAD, "production", "success", "10:00:00")),
        ("kustomization.progressing", (REPO, HEAD, "production", "running", "09:59:50")),
        ("kustomization.health-check-failed", (REPO, HEAD, "production", "failure", "10:05:00")),
        ("kustomization.event-metadata", (REPO, HEAD, "staging", "success", "11:00:00")),
        ("helmrelease.upgrade-succeeded", ("octo-org/charts", OLD, "podinfo", "success",
                                           "12:00:00")),
        ("helmrelease.chart-version", "unattached: HelmRelease apps/redis: revision "
                                      "'18.6.1' names no Git commit"),
        ("gitrepository.new-artifact", "ignored"),
    ],
)
def test_fixture_is_its_deploy(fixture: str, expected: Any) -> None:
    notification = parse(load(fixture))
    if notification.unattached:
        assert f"unattached: {notification.unattached}" == expected
    elif not notification.events:
        assert expected == "ignored"
    else:
        (event,) = notification.events
        assert (event.source, event.kind) == ("deploy", "deployment")
        assert (event.repo, event.sha, event.name, event.status.value,
                event.at.strftime("%H:%M:%S")) == expected


def test_every_fixture_is_covered_by_the_table() -> None:
    names = {p.stem for p in FIXTURES.glob("*.json")}
    params = test_fixture_is_its_deploy.pytestmark[0].args[1]  # type: ignore[attr-defined]
    assert names == {fixture for fixture, _ in params}


@pytest.mark.parametrize(
    ("reason", "severity", "state"),
    [("ReconciliationSucceeded", "info", "success"), ("InstallSucceeded", "info", "success"),
     ("UpgradeSucceeded", "info", "success"), ("ReconciliationFailed", "error", "failure"),
     ("HealthCheckFailed", "error", "failure"), ("UpgradeFailed", "error", "failure"),
     ("BuildFailed", "error", "failure"), ("ArtifactFailed", "error", "failure"),
     ("Progressing", "info", "in_progress"), ("ProgressingWithRetry", "info", "in_progress"),
     ("DependencyNotReady", "info", None), ("NewArtifact", "info", None),
     ("SomethingBroke", "error", "failure")],
)
def test_reason_to_state(reason: str, severity: str, state: str | None) -> None:
    assert flux_state(reason, severity) == state


@pytest.mark.parametrize(
    ("revision", "sha"),
    [(f"main@sha1:{HEAD}", HEAD), (f"refs/tags/v1.2.0@sha1:{HEAD}", HEAD),
     (f"main/{HEAD}", HEAD), (HEAD, HEAD), (f"MAIN@SHA1:{HEAD.upper()}", HEAD),
     ("6.5.4", None), (f"latest@sha256:{'a' * 64}", None), ("", None)],
)
def test_revision_to_sha(revision: str, sha: str | None) -> None:
    assert flux_sha(revision) == sha


def test_the_event_metadata_wins_over_the_config() -> None:
    payload = load("kustomization.succeeded")
    payload["metadata"] |= {"repository": "octo-org/other", "environment": "eu-prod"}
    (event,) = parse(payload).events
    assert (event.repo, event.name) == ("octo-org/other", "eu-prod")


def test_an_unmapped_object_is_kept_unattached_and_says_how_to_map_it() -> None:
    notification = parse(load("kustomization.succeeded"), mapping=FluxMapping())
    assert notification.events == []
    assert notification.unattached == (
        "Kustomization flux-system/apps is mapped to no repository: add it to flux.objects in "
        "the config, or set repository in the Alert's eventMetadata")


def test_the_environment_defaults_to_the_objects_name() -> None:
    mapping = FluxMapping((FluxObject(match="flux-system/*", repo=REPO),))
    (event,) = parse(load("kustomization.succeeded"), mapping=mapping).events
    assert event.name == "apps"


def test_the_kind_narrows_a_rule() -> None:
    mapping = FluxMapping((FluxObject(match="flux-system/*", repo=REPO, kind="HelmRelease"),))
    assert parse(load("kustomization.succeeded"), mapping=mapping).unattached


def test_the_event_keeps_flux_message_and_reason() -> None:
    (event,) = parse(load("kustomization.succeeded")).events
    assert dict(event.data) == {
        "status": "success", "reason": "ReconciliationSucceeded",
        "flux_object": "Kustomization flux-system/apps",
        "description": "Reconciliation finished in 2.4s, next run in 10m0s"}


def test_a_resent_event_has_the_same_delivery_id_and_another_event_another() -> None:
    first = parse(load("kustomization.succeeded")).delivery_id
    assert parse(json.loads(flux_body("kustomization.succeeded"))).delivery_id == first
    assert parse(load("kustomization.progressing")).delivery_id != first


@pytest.mark.parametrize(
    ("change", "message"),
    [({"involvedObject": None}, "missing field involvedObject.kind"),
     ({"involvedObject": {"kind": "Kustomization", "namespace": "flux-system"}},
      "missing field involvedObject.name"),
     ({"reason": ""}, "missing field reason"),
     ({"reason": 7}, "field reason must be a string"),
     ({"metadata": ["revision"]}, "field metadata must be an object"),
     ({"timestamp": "yesterday"}, "field timestamp is not a time: 'yesterday'"),
     ({"metadata": {"revision": f"main@sha1:{HEAD}", "repository": "not a repo"}},
      "metadata repository must be owner/repo or a Git URL, not 'not a repo'"),
     ({"metadata": {"revision": f"main@sha1:{HEAD}",
                    "repository": "https://git.example.com/octo/app.git"}},
      "metadata repository 'https://git.example.com/octo/app.git' is a URL that is not on "
      "GitHub and not mapped in scm_repos")],
)
def test_every_mistake_is_one_line(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(load("kustomization.succeeded") | change)
    assert str(caught.value) == message


def test_a_git_url_in_the_metadata_is_mapped() -> None:
    payload = load("kustomization.succeeded")
    payload["metadata"]["repository"] = "https://github.com/octo-org/octo-app.git"
    (event,) = parse(payload).events
    assert event.repo == REPO


def test_the_config_readme_example_maps_what_it_says() -> None:
    text = (Path(__file__).parent.parent / "config" / "README.md").read_text()
    (block,) = re.findall(r"```yaml\n(flux:\n.*?)```", text, re.DOTALL)
    mapping = parse_config(block, source="config/README.md").flux.mapping()
    (apps,) = parse(load("kustomization.succeeded"), mapping=mapping).events
    assert (apps.repo, apps.name) == (REPO, "production")
    (podinfo,) = parse(load("helmrelease.upgrade-succeeded"), mapping=mapping).events
    assert (podinfo.repo, podinfo.name) == ("octo-org/charts", "podinfo")


def test_a_config_rule_is_checked_when_the_config_is_read() -> None:
    with pytest.raises(ConfigError, match=r"flux\.objects\[0\]\.repo"):
        parse_config("flux:\n  objects:\n    - {match: 'a/*', repo: not-a-repo}\n")
