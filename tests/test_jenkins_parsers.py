"""Each recorded-shape Jenkins notification parses to the build it reports."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from correlation import ParseError, Status, fold
from correlation.jenkins import human_duration, parse_jenkins
from correlation.scm import ScmRepos
from tests.jenkins_sender import FIXTURES, load_jenkins

HEAD = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
ARRIVED = datetime(2026, 11, 21, tzinfo=UTC)
JOB = "octo-app/feature%2Flogin"
HOST = "jenkins.octo-app.example.com"
SCM_REPOS = ScmRepos.from_mapping({"https://git.example.com/team/": "octo-org/"})


def parse(payload: dict[str, Any]) -> Any:
    return parse_jenkins(payload, received_at=ARRIVED, scm_repos=SCM_REPOS)


def build_of(fixture: str) -> Any:
    notification = parse(load_jenkins(fixture))
    (build,) = [e for e in notification.events if e.kind == "build"]
    return build


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        # (repo, job, build, status, event time, summary); None: attaches to no card
        ("queued", None),
        ("started", ("octo-org/octo-app", JOB, 7, "running", "10:00:45", "#7")),
        ("completed.success", ("octo-org/octo-app", JOB, 7, "success", "10:03:15",
                               "#7 · 118 tests passed · 2m 30s")),
        ("finalized.success", ("octo-org/octo-app", JOB, 7, "success", "10:03:17",
                               "#7 · 118 tests passed · 2m 30s")),
        ("completed.failure", ("octo-org/octo-app", JOB, 7, "failure", "10:01:26", "#7 · 41s")),
        ("completed.unstable", ("octo-org/octo-app", JOB, 7, "failure", "10:03:28",
                                "#7 · unstable · 3 of 120 tests failed · 2m 43s")),
        ("completed.aborted", ("octo-org/octo-app", JOB, 7, "cancelled", "10:01:45",
                               "#7 · aborted · 1m 00s")),
        ("completed.not_built", ("octo-org/octo-app", JOB, 7, "skipped", "10:00:45",
                                 "#7 · not built")),
        ("freestyle.completed.ssh", ("octo-org/octo-app", "octo-app-integration", 412,
                                     "success", "10:12:30", "#412 · 48 tests passed · 5m 05s")),
        ("nightly.completed.no_scm", None),
        ("gitea.completed", ("octo-org/octo-tools", "octo-tools", 58, "success", "10:20:00",
                             "#58 · 1m 35s")),
    ],
)
def test_fixture_parses_to_its_build(fixture: str, expected: Any) -> None:
    notification = parse(load_jenkins(fixture))
    if expected is None:
        assert notification.events == []
        assert "no commit" in (notification.unattached or "")
        return
    build = build_of(fixture)
    assert notification.unattached is None
    assert (build.repo, build.name, build.data["build_number"], build.status.value,
            build.at.strftime("%H:%M:%S"), build.data["summary"]) == expected
    assert build.source == "jenkins" and build.kind == "build"
    assert build.generation == (expected[2],)


def test_every_fixture_is_covered_by_the_table() -> None:
    names = {p.stem for p in FIXTURES.glob("*.json")}
    params = test_fixture_parses_to_its_build.pytestmark[0].args[1]  # type: ignore[attr-defined]
    assert names == {fixture for fixture, _ in params}


def test_a_build_keeps_what_retry_and_the_card_need() -> None:
    build = build_of("freestyle.completed.ssh")
    assert build.data == {
        "display_name": "octo-app-integration",
        "url": "https://jenkins.octo-app.example.com/job/octo-app-integration/412/",
        "job": "octo-app-integration",
        "job_url": "https://jenkins.octo-app.example.com/job/octo-app-integration/",
        "build_number": 412,
        "result": "SUCCESS",
        "duration_ms": 305000,
        "parameters": {"TARGET_ENV": "test", "BROWSER": "firefox", "GIT_REF": "feature/login"},
        "tests": {"total": 48, "failed": 0, "passed": 48, "skipped": 0, "failed_tests": []},
        "log_url": "https://jenkins.octo-app.example.com/job/octo-app-integration/412/console",
        "branch": "origin/feature/login",
        "summary": "#412 · 48 tests passed · 5m 05s",
    }


def test_a_multibranch_job_is_named_by_its_full_name_and_shown_readably() -> None:
    build = build_of("completed.unstable")
    assert build.name == "octo-app/feature%2Flogin"  # what Jenkins' API calls it
    assert build.data["display_name"] == "octo-app/feature/login"
    assert build.data["job_url"] == (
        "https://jenkins.octo-app.example.com/job/octo-app/job/feature%252Flogin/")
    assert build.data["tests"]["failed_tests"] == [
        "tests.test_login.TestLogin.test_remember_me",
        "tests.test_login.TestLogin.test_lockout_after_five_attempts",
        "tests.test_session.TestSession.test_expiry",
    ]
    assert build.data["result"] == "UNSTABLE"


def test_a_running_build_has_no_duration_yet() -> None:
    assert "duration_ms" not in build_of("started").data
    assert "result" not in build_of("started").data


def test_the_branch_a_build_checked_out_becomes_commit_metadata() -> None:
    for fixture, branch in [("completed.success", "feature/login"),
                            ("freestyle.completed.ssh", "feature/login")]:
        meta = {e.name: e.data["value"] for e in parse(load_jenkins(fixture)).events
                if e.kind == "commit"}
        assert meta == {"branch:jenkins": branch}
    pr_build = load_jenkins("completed.success")
    pr_build["build"]["scm"]["branch"] = "PR-12"  # a multibranch pull request job
    assert [e.kind for e in parse(pr_build).events] == ["build"]


@pytest.mark.parametrize(
    ("fixture", "delivery_id"),
    [
        ("queued", f"{HOST}/{JOB}#7/QUEUED"),
        ("completed.success", f"{HOST}/{JOB}#7/COMPLETED/6dcb09b5b578"),
        ("finalized.success", f"{HOST}/{JOB}#7/FINALIZED/6dcb09b5b578"),
        ("freestyle.completed.ssh", f"{HOST}/octo-app-integration#412/COMPLETED/6dcb09b5b578"),
        ("nightly.completed.no_scm", f"{HOST}/octo-app-nightly-cleanup#1203/COMPLETED"),
    ],
)
def test_dedupe_key_is_job_build_phase_and_commit(fixture: str, delivery_id: str) -> None:
    assert parse(load_jenkins(fixture)).delivery_id == delivery_id


def test_notify_endpoints_after_checkout_is_not_a_duplicate_of_the_started_before_it() -> None:
    before_checkout = load_jenkins("started")
    del before_checkout["build"]["scm"]["commit"]
    after_checkout = load_jenkins("started")  # `notifyEndpoints` sends STARTED by default
    assert parse(before_checkout).delivery_id != parse(after_checkout).delivery_id


def test_a_long_job_name_still_fits_the_delivery_column() -> None:
    payload = load_jenkins("completed.success")
    payload["url"] = "job/" + "x" * 240 + "/"
    delivery_id = parse(payload).delivery_id
    assert delivery_id.startswith("sha256:") and len(delivery_id) <= 200


def test_finalized_repeats_completed_and_the_card_is_the_same() -> None:
    completed = parse(load_jenkins("completed.success")).events
    finalized = parse(load_jenkins("finalized.success")).events
    a, b = fold(completed).to_json(), fold(completed + finalized).to_json()
    assert a["checks"][0] | {"updated_at": None} == b["checks"][0] | {"updated_at": None}


def test_a_sender_that_states_the_start_for_every_phase_still_ends_finished() -> None:
    # Plugin versions before 1.10 sent the build's start as an ISO string in every phase.
    events = []
    for fixture in ["started", "completed.success"]:
        payload = load_jenkins(fixture)
        payload["build"]["timestamp"] = "2026-11-20T10:00:45.0+00:00"
        events += parse(payload).events
    for order in (events, events[::-1]):
        assert fold(order).checks[0].status is Status.SUCCESS


def test_a_newer_build_of_the_job_replaces_an_older_one_whatever_the_order() -> None:
    older = load_jenkins("completed.unstable")  # build 7, finished 10:03:28
    newer = load_jenkins("started")
    newer["build"].update(number=8, timestamp=older["build"]["timestamp"] - 60_000,
                          full_url=older["build"]["full_url"].replace("/7/", "/8/"))
    events = parse(older).events + parse(newer).events
    for order in (events, events[::-1]):
        (check,) = fold(order).checks
        assert (check.details["build_number"], check.status) == (8, Status.RUNNING)


@pytest.mark.parametrize(
    ("url", "repo"),
    [
        ("https://github.com/octo-org/octo-app.git", "octo-org/octo-app"),
        ("https://github.com/Octo-Org/Octo-App", "octo-org/octo-app"),
        ("https://github.com/octo-org/octo-app/", "octo-org/octo-app"),
        ("http://github.com/octo-org/octo-app.git", "octo-org/octo-app"),
        ("https://x-access-token:ghs_abc@github.com/octo-org/octo-app.git", "octo-org/octo-app"),
        ("git@github.com:octo-org/octo-app.git", "octo-org/octo-app"),
        ("git@github.com:octo-org/octo-app", "octo-org/octo-app"),
        ("ssh://git@github.com/octo-org/octo-app.git", "octo-org/octo-app"),
        ("ssh://git@github.com:22/octo-org/octo-app", "octo-org/octo-app"),
        ("ssh://git@ssh.github.com:443/octo-org/octo-app.git", "octo-org/octo-app"),
        ("git://github.com/octo-org/octo-app.git", "octo-org/octo-app"),
        ("https://git.example.com/team/octo-tools.git", "octo-org/octo-tools"),
        ("git@git.example.com:team/octo-tools.git", "octo-org/octo-tools"),
    ],
)
def test_https_and_ssh_remotes_name_the_same_repo(url: str, repo: str) -> None:
    payload = load_jenkins("completed.success")
    payload["build"]["scm"]["url"] = url
    assert build_of_payload(payload).repo == repo


def build_of_payload(payload: dict[str, Any]) -> Any:
    (build,) = [e for e in parse(payload).events if e.kind == "build"]
    return build


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://gitlab.example.com/octo/app.git", "gitlab.example.com/octo/app) is not on"),
        ("https://github.com/octo-org", "is not on GitHub"),
        ("not a url", "an unreadable URL"),
    ],
)
def test_a_remote_we_cannot_name_leaves_the_build_unattached(url: str, reason: str) -> None:
    payload = load_jenkins("completed.success")
    payload["build"]["scm"]["url"] = url
    notification = parse(payload)
    assert notification.events == []
    assert reason in (notification.unattached or "")


def test_credentials_in_a_remote_are_never_repeated() -> None:
    payload = load_jenkins("completed.success")
    payload["build"]["scm"]["url"] = "https://bot:hunter2@gitlab.example.com/octo/app.git"
    assert "hunter2" not in (parse(payload).unattached or "")


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda p: p.pop("build"), "missing field build"),
        (lambda p: p["build"].pop("number"), "missing field build.number"),
        (lambda p: p["build"].update(number="seven"), "build.number is not a number"),
        (lambda p: p["build"].update(number=True), "build.number is not a number"),
        (lambda p: p["build"].pop("phase"), "missing field build.phase"),
        (lambda p: p["build"].update(phase="DONE"), "build.phase must be one of QUEUED"),
        (lambda p: p["build"].update(timestamp="yesterday"), "build.timestamp is not a time"),
        (lambda p: p["build"]["scm"].update(commit="6dcb09b"), "not a commit SHA"),
        (lambda p: p["build"]["test_summary"].update(failed="3"),
         "build.test_summary.failed is not a number"),
        (lambda p: (p.pop("url"), p.pop("name")), "missing field name"),
        (lambda p: p.update(build=[1]), "build is not a JSON object"),
    ],
)
def test_notifications_missing_what_identifies_the_build_raise_parse_error(
    mangle: Any, message: str
) -> None:
    payload = load_jenkins("completed.success")
    mangle(payload)
    with pytest.raises(ParseError, match=message):
        parse(payload)


def test_a_job_without_url_is_named_by_its_name() -> None:
    payload = load_jenkins("freestyle.completed.ssh")
    del payload["url"]
    assert build_of_payload(payload).name == "octo-app-integration"


def test_the_notify_step_may_report_a_build_several_times() -> None:
    payload = load_jenkins("started")
    payload["build"]["phase"] = "NONE"
    first = parse(payload)
    payload["build"]["timestamp"] += 5000
    second = parse(payload)
    assert first.delivery_id != second.delivery_id
    assert build_of_payload(payload).status is Status.RUNNING


@pytest.mark.parametrize(("seconds", "shown"),
                         [(0.4, "0s"), (41, "41s"), (150, "2m 30s"), (3900, "1h 05m")])
def test_durations_read_like_people_say_them(seconds: float, shown: str) -> None:
    assert human_duration(seconds) == shown


def test_a_build_timestamp_out_of_range_is_a_parse_error() -> None:
    payload = load_jenkins("started")
    payload["build"]["timestamp"] = 10**20
    with pytest.raises(ParseError, match=r"build\.timestamp is not a timestamp"):
        parse(payload)
