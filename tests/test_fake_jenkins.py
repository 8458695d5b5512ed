"""FakeJenkins behaves like Jenkins's remote API for the real python-jenkins client.

`wait_for_build` and `follow_log` are the calls the bot uses to follow a build: the queue
item's `executable` gives the build number and URL; python-jenkins has no helper for
`logText/progressiveText`, so it goes through `Jenkins.jenkins_request` (auth and crumb
included) and reads `X-Text-Size` / `X-More-Data`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import jenkins
import pytest
import requests

from tests.fakes import jenkins_api
from tests.fakes.jenkins_api import FakeJenkins
from tests.fakes.jenkins_models import Checkout, Param
from tests.slack_app import wait_for

fake_jenkins = jenkins_api.fake_jenkins  # the fixture

JOB = "deploy/app"


def progressive(server: jenkins.Jenkins, build_url: str, start: int) -> requests.Response:
    """One `logText/progressiveText` read from byte `start` of the build at `build_url`."""
    url = f"{build_url}logText/progressiveText"
    response: requests.Response = server.jenkins_request(
        requests.Request("GET", url, params={"start": start})
    )
    return response


def follow_log(server: jenkins.Jenkins, build_url: str, start: int = 0) -> Iterator[str]:
    """Yield console chunks from byte `start` until Jenkins says there is no more data."""
    while True:
        answer = progressive(server, build_url, start)
        if answer.text:
            yield answer.text
        start = int(answer.headers["X-Text-Size"])
        if answer.headers.get("X-More-Data") != "true":
            return


def wait_for_build(server: jenkins.Jenkins, queue_id: int, timeout: float = 2.0) -> tuple[int, str]:
    """Poll the queue item until it left the queue: (build number, build URL)."""
    executable = wait_for(lambda: server.get_queue_item(queue_id).get("executable"),
                          timeout=timeout, what=f"queue item {queue_id} to start")
    return int(executable["number"]), str(executable["url"])


@pytest.fixture
def deploy_job(fake_jenkins: FakeJenkins) -> str:
    fake_jenkins.add_job(
        JOB,
        parameters=[
            Param("ENV", "staging", choices=("staging", "production")),
            Param("SHA"),
            Param("DRY_RUN", False),
        ],
        description="Deploy the app",
    )
    return JOB


def test_job_info_of_folders_and_parameterized_jobs(
    fake_jenkins: FakeJenkins, deploy_job: str
) -> None:
    server = fake_jenkins.client()

    info = server.get_job_info(deploy_job)

    assert (info["fullName"], info["name"], info["nextBuildNumber"]) == (JOB, "app", 1)
    assert info["url"] == f"{fake_jenkins.base_url}job/deploy/job/app/"
    assert info["lastBuild"] is None and info["color"] == "notbuilt"
    definitions = info["property"][0]["parameterDefinitions"]
    assert [(d["name"], d["type"], d["defaultParameterValue"]["value"]) for d in definitions] == [
        ("ENV", "ChoiceParameterDefinition", "staging"),
        ("SHA", "StringParameterDefinition", ""),
        ("DRY_RUN", "BooleanParameterDefinition", False),
    ]
    assert definitions[0]["choices"] == ["staging", "production"]
    folder = server.get_job_info("deploy")
    assert folder["_class"] == "com.cloudbees.hudson.plugins.folder.Folder"
    assert [j["name"] for j in folder["jobs"]] == ["app"]
    assert [j["fullname"] for j in server.get_all_jobs()] == ["deploy", JOB]
    with pytest.raises(jenkins.JenkinsException, match="does not exist"):
        server.get_job_info("deploy/missing")


def test_build_with_parameters_queue_build_and_progressive_log(
    fake_jenkins: FakeJenkins, deploy_job: str
) -> None:
    server = fake_jenkins.client()

    queue_id = server.build_job(deploy_job, {"ENV": "production", "SHA": "1a2b3c4"})

    waiting = server.get_queue_item(queue_id)  # Jenkins's quiet period: no build yet
    assert waiting["_class"] == "hudson.model.Queue$WaitingItem" and "executable" not in waiting
    assert waiting["why"] and waiting["task"]["name"] == "app"
    number, build_url = wait_for_build(server, queue_id)
    assert (number, build_url) == (1, f"{fake_jenkins.base_url}job/deploy/job/app/1/")
    (trigger,) = fake_jenkins.triggered(deploy_job)
    assert trigger.parameters == {"ENV": "production", "SHA": "1a2b3c4", "DRY_RUN": False}
    assert (trigger.sent, trigger.user, trigger.build_number) == (
        {"ENV": "production", "SHA": "1a2b3c4"},
        "devexbot",
        1,
    )

    fake_jenkins.append_log(deploy_job, number, "Deploying 1a2b3c4 to production\n")
    first = progressive(server, build_url, 0)
    assert first.text == "Started by user devexbot\nDeploying 1a2b3c4 to production\n"
    assert first.headers["X-More-Data"] == "true"
    assert int(first.headers["X-Text-Size"]) == len(first.text.encode())
    running = server.get_build_info(deploy_job, number)
    assert (running["building"], running["result"], running["duration"]) == (True, None, 0)

    fake_jenkins.append_log(deploy_job, number, "kubectl rollout status: done\n")
    fake_jenkins.finish(deploy_job, number, "SUCCESS", duration_ms=4200)
    rest = list(follow_log(server, build_url, int(first.headers["X-Text-Size"])))
    assert "".join(rest) == "kubectl rollout status: done\nFinished: SUCCESS\n"

    done = server.get_build_info(deploy_job, number)
    assert (done["building"], done["result"], done["duration"], done["queueId"]) == (
        False,
        "SUCCESS",
        4200,
        queue_id,
    )
    (parameters,) = [
        a for a in done["actions"] if a.get("_class") == "hudson.model.ParametersAction"
    ]
    assert {p["name"]: p["value"] for p in parameters["parameters"]} == trigger.parameters
    assert server.get_build_console_output(deploy_job, number).endswith("Finished: SUCCESS\n")
    assert server.get_job_info(deploy_job)["lastSuccessfulBuild"]["number"] == number


def test_retry_reruns_a_build_with_the_same_parameters(
    fake_jenkins: FakeJenkins, deploy_job: str
) -> None:
    failed = fake_jenkins.add_build(
        deploy_job,
        number=41,
        result="FAILURE",
        parameters={"ENV": "production", "SHA": "9f8e7d6", "DRY_RUN": True},
        log="error: rollout timed out\n",
        changes=[{"commitId": "9f8e7d6", "msg": "Bump api", "author": "ana"}],
    )
    server = fake_jenkins.client()

    info = server.get_build_info(deploy_job, failed)
    (action,) = [a for a in info["actions"] if a.get("_class") == "hudson.model.ParametersAction"]
    parameters = {p["name"]: p["value"] for p in action["parameters"]}
    queue_id = server.build_job(deploy_job, parameters)

    assert info["changeSet"]["items"][0]["commitId"] == "9f8e7d6"
    assert fake_jenkins.wait_for_triggered(deploy_job)[-1].parameters == {
        "ENV": "production",
        "SHA": "9f8e7d6",
        "DRY_RUN": True,
    }
    assert fake_jenkins.start_queued(queue_id) == 42  # numbering goes on after #41


def test_a_builds_git_checkouts_are_its_build_data(fake_jenkins: FakeJenkins) -> None:
    """The git plugin's `BuildData`, one per checkout: `lastBuiltRevision` is the build's
    own commit; `buildsByBranchName` holds the job's history on that remote."""
    remote = "git@github.com:octo-org/octo-app.git"
    fake_jenkins.add_job("octo-app-ci")
    fake_jenkins.add_build("octo-app-ci", number=7, checkouts=[Checkout(remote, "a" * 40)])
    fake_jenkins.add_build("octo-app-ci", number=8, result="FAILURE", checkouts=[
        Checkout(remote, "b" * 40, "origin/feature/login"),
        Checkout("https://github.com/octo-org/jenkins-lib.git", "c" * 40)])

    info = fake_jenkins.client().get_build_info("octo-app-ci", 8)

    data = [a for a in info["actions"] if a.get("_class") == "hudson.plugins.git.util.BuildData"]
    assert [(d["remoteUrls"], d["lastBuiltRevision"]["SHA1"]) for d in data] == [
        ([remote], "b" * 40), (["https://github.com/octo-org/jenkins-lib.git"], "c" * 40)]
    assert data[0]["lastBuiltRevision"]["branch"] == [
        {"SHA1": "b" * 40, "name": "origin/feature/login"}]
    history = data[0]["buildsByBranchName"]
    assert {name: b["buildNumber"] for name, b in history.items()} == {
        "origin/main": 7, "origin/feature/login": 8}
    assert history["origin/main"]["revision"]["SHA1"] == "a" * 40
    no_checkout = fake_jenkins.add_build("octo-app-ci", number=9)
    actions = fake_jenkins.client().get_build_info("octo-app-ci", no_checkout)["actions"]
    assert not any(a.get("_class", "").startswith("hudson.plugins.git") for a in actions)


def test_builds_jenkins_refuses(fake_jenkins: FakeJenkins, deploy_job: str) -> None:
    server = fake_jenkins.client()
    with pytest.raises(requests.HTTPError) as nothing:
        server.build_job(deploy_job)  # a parameterized job needs buildWithParameters
    assert nothing.value.response.status_code == 400
    with pytest.raises(jenkins.JenkinsException, match=r"\[500\]"):
        server.build_job(deploy_job, {"ENV": "moon"})  # not one of the choices
    with pytest.raises(jenkins.NotFoundException):
        server.build_job("deploy/missing", {"ENV": "staging"})
    assert fake_jenkins.triggered() == []

    server.build_job(deploy_job, {"ENV": "staging", "UNDECLARED": "x"})
    (trigger,) = fake_jenkins.triggered()
    assert "UNDECLARED" in trigger.sent and "UNDECLARED" not in trigger.parameters


def test_stop_aborts_a_running_build(fake_jenkins: FakeJenkins, deploy_job: str) -> None:
    server = fake_jenkins.client()
    number = fake_jenkins.start_queued(server.build_job(deploy_job, {"ENV": "staging"}))

    server.stop_build(deploy_job, number)

    build = fake_jenkins.build(deploy_job, number)
    assert (build.building, build.result) == (False, "ABORTED")
    assert build.log.endswith("Aborted by devexbot\nFinished: ABORTED\n")
    assert server.get_build_info(deploy_job, "lastBuild")["result"] == "ABORTED"


# ---- authentication and CSRF ---------------------------------------------------------


def test_crumb_is_fetched_once_and_required_on_posts(
    fake_jenkins: FakeJenkins, deploy_job: str
) -> None:
    server = fake_jenkins.client()
    server.build_job(deploy_job, {"ENV": "staging"})
    server.build_job(deploy_job, {"ENV": "staging"})
    assert len(fake_jenkins.calls("GET", "/crumbIssuer/api/json")) == 1
    posts = fake_jenkins.calls("POST")
    assert [c.headers["jenkins-crumb"] for c in posts] == [fake_jenkins.crumb()] * 2

    url = f"{fake_jenkins.base_url}job/deploy/job/app/buildWithParameters"
    auth = (fake_jenkins.user, fake_jenkins.token)
    no_crumb = requests.post(url, params={"ENV": "staging"}, auth=auth, timeout=2)
    assert no_crumb.status_code == 403 and "No valid crumb" in no_crumb.text
    fake_jenkins.add_user("ana", "ana-token")
    foreign = requests.post(
        url, auth=auth, headers={"Jenkins-Crumb": fake_jenkins.crumb("ana")}, timeout=2
    )
    assert foreign.status_code == 403  # a crumb is only good for the user it was issued to
    assert len(fake_jenkins.triggered()) == 2


def test_without_csrf_protection_python_jenkins_sends_no_crumb() -> None:
    with FakeJenkins(csrf=False) as fake:
        fake.add_job("lint")
        server = fake.client()
        server.build_job("lint")
        assert fake.calls("GET", "/crumbIssuer/api/json")[0].status == 404
        assert "jenkins-crumb" not in fake.calls("POST")[0].headers
        assert len(fake.triggered("lint")) == 1


def test_bad_credentials_are_refused(fake_jenkins: FakeJenkins, deploy_job: str) -> None:
    wrong = jenkins.Jenkins(fake_jenkins.base_url, username="devexbot", password="nope", timeout=2)
    with pytest.raises(jenkins.JenkinsException, match=r"\[401\]"):
        wrong.get_job_info(deploy_job)
    anonymous = jenkins.Jenkins(fake_jenkins.base_url, timeout=2)
    with pytest.raises(jenkins.JenkinsException, match=r"\[403\]"):
        anonymous.build_job(deploy_job, {"ENV": "staging"})
    server = fake_jenkins.client()
    assert server.get_whoami()["id"] == "devexbot"
    assert server.get_version() == "2.452.3"  # sends no auth of its own: after the first call
    assert fake_jenkins.triggered() == []


# ---- queue and build behaviour -------------------------------------------------------


def test_queue_delay_and_held_items() -> None:
    with FakeJenkins(queue_delay=0.15, quiet_polls=0) as fake:
        fake.add_job("slow")
        fake.add_job("held", queue_delay=math.inf)
        server = fake.client()
        slow = server.build_job("slow")
        assert "executable" not in server.get_queue_item(slow)
        assert wait_for_build(server, slow)[0] == 1  # after its queue delay

        held = server.build_job("held")
        assert "executable" not in server.get_queue_item(held)
        server.cancel_queue(held)
        assert server.get_queue_item(held)["cancelled"] is True
        assert fake.triggered("held")[0].cancelled


def test_auto_result_pipelines_and_change_sets() -> None:
    with FakeJenkins(quiet_polls=0) as fake:
        fake.add_job("nightly", kind="pipeline", auto_result="FAILURE", auto_log="boom\n")
        server = fake.client()
        number, build_url = wait_for_build(server, server.build_job("nightly"))
        info = server.get_build_info("nightly", number)
        assert info["_class"] == "org.jenkinsci.plugins.workflow.job.WorkflowRun"
        assert (info["result"], info["changeSets"]) == ("FAILURE", [])
        assert list(follow_log(server, build_url)) == [
            "Started by user devexbot\nboom\nFinished: FAILURE\n"
        ]
        assert server.get_job_info("nightly")["lastFailedBuild"]["number"] == number
        assert server.get_job_info("nightly")["color"] == "red"


def test_scripted_faults(fake_jenkins: FakeJenkins, deploy_job: str) -> None:
    server = fake_jenkins.client()
    fake_jenkins.fail_next("POST /job/*/buildWithParameters", status=503)
    with pytest.raises(requests.HTTPError) as unavailable:
        server.build_job(deploy_job, {"ENV": "staging"})
    assert unavailable.value.response.status_code == 503
    assert fake_jenkins.triggered() == []  # a failed call does nothing

    fake_jenkins.slow_next("POST", 0.3, effective=False)  # lost: no answer, no build
    with pytest.raises(jenkins.TimeoutException):
        fake_jenkins.client(timeout=0.1).build_job(deploy_job, {"ENV": "staging"})
    assert fake_jenkins.triggered() == []

    fake_jenkins.delay = 0.1
    started = time.monotonic()
    server.build_job(deploy_job, {"ENV": "staging"})
    assert time.monotonic() - started >= 0.1 and len(fake_jenkins.triggered()) == 1
