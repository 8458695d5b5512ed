"""The generic deploy event: what it means, and a one-line reason for every mistake."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from correlation import ParseError, Status, fold
from correlation.deploy import deploy_delivery_id, parse_deploy
from correlation.scm import ScmRepos
from tests.deploy_sender import FIXTURES, load_deploy

HEAD = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
ARRIVED = datetime(2026, 11, 21, 8, 30, tzinfo=UTC)


def parse(payload: Any) -> Any:
    return parse_deploy(payload, received_at=ARRIVED, scm_repos=ScmRepos())


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("test.in_progress", ("test", "running", "10:08:00")),
        ("test.success", ("test", "success", "10:09:30")),
        ("argocd.staging.success", ("staging", "success", "10:11:00")),
        ("script.production.waiting", ("production", "waiting", "10:12:00")),
    ],
)
def test_fixture_parses_to_its_deployment(fixture: str, expected: Any) -> None:
    event = parse(load_deploy(fixture))
    assert (event.repo, event.sha, event.source, event.kind) == (
        "octo-org/octo-app", HEAD, "deploy", "deployment")
    assert (event.name, event.status.value, event.at.strftime("%H:%M:%S")) == expected


def test_every_fixture_is_covered_by_the_table() -> None:
    names = {p.stem for p in FIXTURES.glob("*.json")}
    params = test_fixture_parses_to_its_deployment.pytestmark[0].args[1]  # type: ignore[attr-defined]
    assert names == {fixture for fixture, _ in params}


@pytest.mark.parametrize(
    ("status", "meaning"),
    [("pending", Status.PENDING), ("in_progress", Status.RUNNING), ("waiting", Status.WAITING),
     ("success", Status.SUCCESS), ("failure", Status.FAILURE), ("error", Status.FAILURE),
     ("SUCCESS", Status.SUCCESS)],
)
def test_status_vocabulary(status: str, meaning: Status) -> None:
    payload = load_deploy("test.success") | {"status": status}
    assert parse(payload).status is meaning


def test_the_event_keeps_link_id_and_description() -> None:
    assert dict(parse(load_deploy("test.success")).data) == {
        "url": "https://test.octo-app.example.com",
        "deployment_id": "311",
        "description": "Deployed 6dcb09b to test",
        "status": "success",
    }


def test_without_a_timestamp_the_event_happened_when_it_arrived() -> None:
    payload = load_deploy("test.success")
    del payload["timestamp"]
    assert parse(payload).at == ARRIVED


def test_epoch_seconds_and_offsets_are_timestamps_too() -> None:
    payload = load_deploy("test.success")
    for stamp in [1795169370, "2026-11-20T11:09:30+01:00"]:
        assert parse(payload | {"timestamp": stamp}).at == datetime(2026, 11, 20, 10, 9, 30,
                                                                     tzinfo=UTC)


def test_a_lower_case_z_is_utc_too() -> None:
    # RFC 3339 (the OpenAPI schema's date-time) allows it; found declaring the schema.
    payload = load_deploy("test.success") | {"timestamp": "2026-11-20T10:09:30z"}
    assert parse(payload).at == datetime(2026, 11, 20, 10, 9, 30, tzinfo=UTC)


def test_a_repository_url_is_read_like_a_ci_remote() -> None:
    payload = load_deploy("test.success") | {"repository": "git@github.com:Octo-Org/octo-app.git"}
    assert parse(payload).repo == "octo-org/octo-app"
    mapped = payload | {"repository": "https://git.example.com/team/app.git"}
    scm = ScmRepos.from_mapping({"https://git.example.com/team/app.git": "octo-org/octo-app"})
    assert parse_deploy(mapped, received_at=ARRIVED, scm_repos=scm).repo == "octo-org/octo-app"


BAD_EVENTS = [
    # (change to a good event, a piece of the one-line reason)
    ({"status": "deployed"}, "field status must be one of pending, in_progress, waiting, "
                             "success, failure, error, not 'deployed'"),
    ({"status": None}, "missing field status"),
    ({"status": 1}, "field status must be a string, not 1"),
    ({"sha": None}, "missing field sha"),
    ({"sha": ""}, "missing field sha"),
    ({"sha": "6dcb09b"}, "field sha must be a full 40-hex commit SHA, not '6dcb09b'"),
    ({"sha": "z" * 40}, "field sha must be a full 40-hex commit SHA"),
    # int(sha, 16) took these, and stored cards under SHAs the read API cannot name.
    ({"sha": "0x" + "a" * 38}, "field sha must be a full 40-hex commit SHA"),
    ({"sha": "+" + "a" * 39}, "field sha must be a full 40-hex commit SHA"),
    ({"sha": " " + "a" * 39}, "field sha must be a full 40-hex commit SHA"),
    ({"environment": None}, "missing field environment"),
    ({"environment": ["test"]}, "field environment must be a string, not ['test']"),
    ({"environment": "x" * 101}, "field environment is longer than 100 characters"),
    ({"environment": "<no value>"}, "field environment is '<no value>': the sender's template"),
    ({"environment": "   "}, "field environment is blank"),
    ({"repository": None}, "missing field repository"),
    ({"repository": "octo-app"}, "field repository must be owner/repo or a Git URL, not "
                                 "'octo-app'"),
    ({"repository": "https://gitlab.example.com/o/r.git"}, "not mapped in scm_repos"),
    # Names GitHub cannot have: stored, their cards were out of the read API's reach.
    ({"repository": "octo org/app"}, "field repository must be owner/repo"),
    ({"repository": "octo-org/app\u00e9"}, "field repository must be owner/repo"),
    ({"timestamp": "last tuesday"}, "field timestamp must be ISO 8601"),
    ({"timestamp": True}, "field timestamp must be ISO 8601"),
    ({"url": {"href": "x"}}, "field url must be a string"),
    ({"deployment_id": 3.5}, "field deployment_id must be a string"),
]


@pytest.mark.parametrize(("change", "reason"), BAD_EVENTS)
def test_bad_events_raise_one_line_parse_errors(change: dict[str, Any], reason: str) -> None:
    payload = load_deploy("test.success") | change
    with pytest.raises(ParseError) as raised:
        parse({k: v for k, v in payload.items() if v is not None})
    assert reason in str(raised.value)
    assert "\n" not in str(raised.value) and len(str(raised.value)) < 200


def test_a_huge_value_is_not_echoed_back_whole() -> None:
    with pytest.raises(ParseError) as raised:
        parse(load_deploy("test.success") | {"status": "x" * 10_000})
    assert len(str(raised.value)) < 200


def test_a_numeric_deployment_id_is_kept_as_text() -> None:
    event = parse(load_deploy("test.success") | {"deployment_id": 311})
    assert event.data["deployment_id"] == "311"


def test_the_dedupe_key_ignores_whitespace_and_key_order() -> None:
    payload = load_deploy("test.success")
    reordered = json.loads(json.dumps(dict(reversed(payload.items())), indent=4))
    assert deploy_delivery_id(payload) == deploy_delivery_id(reordered)
    assert deploy_delivery_id(payload) != deploy_delivery_id(payload | {"status": "failure"})


def test_a_redeploy_replaces_the_environments_status() -> None:
    first = parse(load_deploy("test.success"))
    again = parse(load_deploy("test.in_progress") | {"timestamp": "2026-11-20T11:00:00Z",
                                                      "deployment_id": "312"})
    for order in ([first, again], [again, first]):
        (line,) = fold(order).deployments
        assert (line.status, line.deployment_id) == (Status.RUNNING, "312")


@pytest.mark.parametrize("stamp", [253402300800.0, -1e15, 1e300])
def test_a_timestamp_out_of_range_is_a_parse_error(stamp: float) -> None:
    # Found by fuzzing: datetime's own ValueError escaped as a 500.
    with pytest.raises(ParseError, match="field timestamp must be ISO 8601"):
        parse(load_deploy("test.success") | {"timestamp": stamp})
