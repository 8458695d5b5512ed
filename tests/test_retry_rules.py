"""Whether Retry may re-run a Jenkins build, decided from Jenkins' own record of it (pure,
as tables): which jobs, which commit, which result, which parameters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from correlation.events import ParseError
from correlation.policies import RetryPolicy
from correlation.retry import JenkinsBuild, read_jenkins_build, retry_refusal, retry_shown
from devexbot.config import parse_config
from tests.cards import NEW_SHA, REPO, SHA

FIXTURE = Path(__file__).parent / "fixtures" / "jenkins_api" / "build.failure.json"
OTHER = "9f3c1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b"
LISTED = RetryPolicy(jobs=("octo-app-*", "deploy/*"))


def build(job: str = "octo-app-ci", *, result: str | None = "FAILURE", building: bool = False,
          revisions: tuple[str, ...] = (SHA,)) -> JenkinsBuild:
    return JenkinsBuild(job, 12, building, result, {"VERSION": "1.4.2"}, revisions)


def test_jenkins_answer_gives_the_parameters_and_only_this_builds_commit() -> None:
    found = read_jenkins_build("octo-app-integration", 412, json.loads(FIXTURE.read_text()))
    assert found == JenkinsBuild(
        "octo-app-integration", 412, False, "FAILURE",
        # A password or a file is not shown by Jenkins: the re-run takes the job's default.
        {"TARGET_ENV": "staging", "DRY_RUN": "false", "BROWSER": "chrome"},
        (SHA,))  # not #411's commit, which `buildsByBranchName` also lists


@pytest.mark.parametrize(("answer", "expected"), [
    ({"building": True, "result": None, "actions": [{}]}, (True, None, {}, ())),
    ({"result": "ABORTED"}, (False, "ABORTED", {}, ())),
    ({"result": "FAILURE", "actions": [  # two checkouts: the app and a pipeline library
        {"lastBuiltRevision": {"SHA1": SHA.upper()}, "remoteUrls": ["https://x/app"]},
        {"lastBuiltRevision": {"SHA1": OTHER}}, {"lastBuiltRevision": {"SHA1": "HEAD"}},
        {"lastBuiltRevision": None}, "junk",
        {"parameters": [{"name": "N", "value": 3}, {"name": "X", "value": None},
                        {"name": "R", "value": {"jobName": "up"}}, {"value": "nameless"}]}]},
     (False, "FAILURE", {"N": "3"}, (SHA, OTHER))),
])
def test_what_is_read_of_a_build(answer: dict[str, Any],
                                 expected: tuple[Any, ...]) -> None:
    found = read_jenkins_build("j", 1, answer)
    assert (found.building, found.result, dict(found.parameters), found.revisions) == expected


@pytest.mark.parametrize("answer", [
    [], "not found", {"building": "yes"}, {"result": 3}, {"actions": {"a": 1}}])
def test_an_answer_that_is_no_build_is_a_parse_error(answer: object) -> None:
    with pytest.raises(ParseError):
        read_jenkins_build("j", 1, answer)


CASES: list[tuple[str, JenkinsBuild, RetryPolicy, str | None]] = [
    # name, what Jenkins says, policy, refusal (None: retried)
    ("Jenkins says the job built this commit", build(), RetryPolicy(), None),
    ("a failed build that checked out this commit and a library", build(
        revisions=(OTHER, SHA)), RetryPolicy(), None),
    ("unstable and aborted builds are retried", build(result="UNSTABLE"), RetryPolicy(), None),
    ("aborted", build(result="ABORTED"), RetryPolicy(), None),
    ("the notification named another commit's build", build("deploy-production",
     revisions=(OTHER,)), RetryPolicy(),
     "Jenkins says build #12 of deploy-production built 9f3c1a2, not this commit"),
    ("a job that checks out nothing is not vouched for by Jenkins", build(
        "deploy-production", revisions=()), RetryPolicy(),
     "Retry isn't allowed for deploy-production on octo-org/octo-app: Jenkins does not say "
     "which commit build #12 of deploy-production built; add the job to retry.jobs"),
    ("the config vouches for a listed job that checks out nothing", build(
        "deploy/app", revisions=()), LISTED, None),
    ("a listed job still has to have built this commit", build(
        "deploy/app", revisions=(OTHER,)), LISTED,
     "Jenkins says build #12 of deploy/app built 9f3c1a2, not this commit"),
    ("a job the config does not list", build("deploy-production"), LISTED,
     "Retry isn't allowed for deploy-production on octo-org/octo-app: add it to retry.jobs"),
    ("globs ignore case, like Jenkins' job names", build("Octo-App-CI"), LISTED, None),
    ("an empty list: no Jenkins retries on the repo", build(), RetryPolicy(jobs=()),
     "Retry isn't allowed for octo-app-ci on octo-org/octo-app: add it to retry.jobs"),
    ("still running, by Jenkins", build(building=True, result=None), RetryPolicy(),
     "Jenkins says build #12 of octo-app-ci is still running"),
    ("it passed, by Jenkins", build(result="SUCCESS"), RetryPolicy(),
     "Jenkins says build #12 of octo-app-ci passed; there is nothing to retry"),
    ("not built", build(result="NOT_BUILT"), RetryPolicy(),
     "Jenkins says build #12 of octo-app-ci was not built; there is nothing to retry"),
    ("several commits, none this one", build(revisions=(OTHER, NEW_SHA)), RetryPolicy(),
     "Jenkins says build #12 of octo-app-ci built 9f3c1a2 and 4f7e1c0, not this commit"),
]


@pytest.mark.parametrize(("name", "jenkins", "policy", "refusal"), CASES,
                         ids=[c[0] for c in CASES])
def test_retry_refusals(name: str, jenkins: JenkinsBuild, policy: RetryPolicy,
                        refusal: str | None) -> None:
    assert retry_refusal(jenkins, repo=REPO, sha=SHA, policy=policy) == refusal


PER_REPO = RetryPolicy(jobs=("ci-*",), repos=(
    ("octo-org/payments-*", ("payments/*",)),
    ("octo-org/*", None),  # sets nothing: the next glob, or the default, decides
    ("octo-org/legacy", ("legacy-build",)),
))


@pytest.mark.parametrize(("repo", "job", "shown"), [
    ("octo-org/payments-api", "payments/api-ci", True),
    ("octo-org/payments-api", "ci-api", False),  # the repo's own list replaces the default
    ("octo-org/octo-app", "ci-app", True),
    ("octo-org/octo-app", "deploy-production", False),
    ("Octo-Org/Legacy", "legacy-build", True),
    ("other/repo", "ci-x", True),  # no glob matches the repo: the default list
    ("other/repo", "anything", False),
])
def test_which_failed_builds_show_retry(repo: str, job: str, shown: bool) -> None:
    assert retry_shown(job, repo, PER_REPO) is shown
    assert retry_shown(job, repo, RetryPolicy()) is True  # no list: Jenkins decides


def test_the_config_section_becomes_the_policy() -> None:
    config = parse_config(
        "retry:\n"
        "  jobs: [\"octo-app-*\"]\n"
        "  repos:\n"
        "    \"octo-org/payments-*\":\n"
        "      jobs: [\"payments/*\"]\n"
        "    \"octo-org/docs\": {}\n")
    assert config.policies().retry == RetryPolicy(
        jobs=("octo-app-*",),
        repos=(("octo-org/payments-*", ("payments/*",)), ("octo-org/docs", None)))
    assert parse_config("people: {}\n").policies().retry == RetryPolicy()


def test_the_documented_example_is_a_valid_config() -> None:
    doc = (Path(__file__).resolve().parents[1] / "config" / "README.md").read_text()
    section = doc[doc.index("## `retry`"):]
    start = section.index("```yaml\n") + len("```yaml\n")
    block = section[start:section.index("\n```", start)]
    policy = parse_config(block, source="config/README.md").policies().retry
    assert retry_shown("deploy/staging", "octo-org/deploy-tools", policy)
    assert not retry_shown("octo-app/main", "octo-org/deploy-tools", policy)
    assert retry_shown("octo-app/main", "octo-org/octo-app", policy)
