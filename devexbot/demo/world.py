"""The demo's own GitHub and Jenkins: what they know (what the story's webhooks said) and
what they do when the bot's buttons call them.

They believe their own webhooks: a workflow job the story reported failed is a failed check
run here, PR #12 is open until someone merges it, test's deployment waits until someone
reviews it. A call that acts (merge, re-run, review, build) opens the story's gate, or for a
Jenkins build plays the new build's notifications. `devexbot.demo.world_http` serves this
over HTTP, so the bot's real clients (PyGithub, python-jenkins) are what talk to it.
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from devexbot.demo import payloads as pl
from devexbot.demo.delivery import DemoSecrets, deliver
from devexbot.demo.gates import Gates
from devexbot.demo.scenario import MERGE, TEST_ENVIRONMENT_ID, Act

Json = dict[str, Any]


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any = None  # JSON, or str for text
    headers: tuple[tuple[str, str], ...] = ()


def message(status: int, text: str) -> Answer:
    """GitHub's error shape."""
    return Answer(status, {"message": text,
                           "documentation_url": "https://docs.github.com/rest"})


NOT_FOUND = message(404, "Not Found")


class DemoWorld:
    """GitHub at `api`, Jenkins at `jenkins` (both on the demo's own server); it plays
    follow-up webhooks to the bot at `bot_url`."""

    def __init__(self, *, api: str, jenkins: str, bot_url: str, keys: DemoSecrets,
                 speed: float = 1.0) -> None:
        self.api, self.jenkins = api, jenkins
        self.bot_url, self.keys, self.speed = bot_url, keys, speed
        self.gates = Gates()
        self.stopped = threading.Event()
        self._lock = threading.Lock()
        self._repos: set[str] = set()
        self._pulls: dict[tuple[str, int], Json] = {}
        self._runs: dict[int, Json] = {}
        self._jobs: dict[int, Json] = {}
        self._authors: dict[str, str] = {}
        self._pending: dict[int, str] = {}  # run id: the environment it waits for
        self._builds: dict[tuple[str, int], Json] = {}  # Jenkins notifications' builds
        self._last_build: dict[str, Json] = {}  # each Jenkins job's newest notification

    # --- what the story said -------------------------------------------------------------

    def saw(self, sender: str, payload: dict[str, Any]) -> None:
        """A delivery the story sent: GitHub and Jenkins know what they reported."""
        with self._lock:
            if sender == "jenkins":
                self._saw_build(payload)
                return
            if "repository" in payload and isinstance(payload["repository"], dict):
                self._repos.add(str(payload["repository"].get("full_name")))
            event = sender.removeprefix("github:")
            if event == "pull_request":
                pr = copy.deepcopy(payload["pull_request"])
                self._pulls[(payload["repository"]["full_name"], pr["number"])] = pr
            elif event == "workflow_run":
                self._runs[payload["workflow_run"]["id"]] = copy.deepcopy(payload["workflow_run"])
            elif event == "workflow_job":
                self._jobs[payload["workflow_job"]["id"]] = copy.deepcopy(payload["workflow_job"])
            elif event == "push":
                head = payload.get("head_commit") or {}
                self._authors[payload["after"]] = head.get("author", {}).get("username", "")
            elif event == "deployment_review":
                run_id = payload["workflow_run"]["id"]
                if payload["action"] == "requested":
                    self._pending[run_id] = payload["environment"]
                else:
                    self._pending.pop(run_id, None)

    def _saw_build(self, payload: Json) -> None:
        job = _jenkins_job(payload["url"])
        build = copy.deepcopy(payload)
        self._builds[(job, build["build"]["number"])] = build
        self._last_build[job] = build

    # --- GitHub --------------------------------------------------------------------------

    def repo(self, full_name: str) -> Answer:
        with self._lock:
            if full_name not in self._repos:
                return NOT_FOUND
        repo = pl.repository(full_name)
        repo.update(url=f"{self.api}/repos/{full_name}", allow_merge_commit=True,
                    allow_squash_merge=False, allow_rebase_merge=False, archived=False,
                    permissions={"admin": False, "push": True, "pull": True})
        return Answer(200, repo)

    def pull(self, repo: str, number: int) -> Answer:
        with self._lock:
            pr = copy.deepcopy(self._pulls.get((repo, number)))
        if pr is None:
            return NOT_FOUND
        pr["url"] = f"{self.api}/repos/{repo}/pulls/{number}"
        pr.setdefault("merged_by", None)
        pr["user"] = pr.get("user") or pl.user("ana", pl.PEOPLE["ana"][1])
        is_open = pr["state"] == "open"
        pr.update(mergeable=True if is_open else None,
                  mergeable_state="clean" if is_open else "unknown")
        return Answer(200, pr)

    def merge(self, repo: str, number: int, body: Json) -> Answer:
        with self._lock:
            pr = self._pulls.get((repo, number))
            if pr is None:
                return NOT_FOUND
            if pr["state"] != "open":
                return message(405, "Pull Request is not mergeable")
            if body.get("sha") and body["sha"] != pr["head"]["sha"]:
                return message(409, "Head branch was modified. Review and try the merge again.")
            if body.get("merge_method", "merge") != "merge":
                return message(405, "Squash merges are not allowed on this repository.")
            if not self.gates.open("merge", Act(pl.BOT)):
                return message(405, "Pull Request is not mergeable")
            pr.update(state="closed", merged=True, merge_commit_sha=MERGE)
        return Answer(200, {"sha": MERGE, "merged": True,
                            "message": "Pull Request successfully merged"})

    def commit(self, repo: str, sha: str) -> Answer:
        with self._lock:
            author = self._authors.get(sha)
            known = author is not None or any(j["head_sha"] == sha for j in self._jobs.values())
        if not known:
            return message(422, f"No commit found for SHA: {sha}")
        person = pl.user(author, pl.PEOPLE[author][1]) if author in pl.PEOPLE else None
        return Answer(200, {"sha": sha, "url": f"{self.api}/repos/{repo}/commits/{sha}",
                            "html_url": f"https://github.com/{repo}/commit/{sha}",
                            "author": person, "committer": person, "parents": [],
                            "commit": {"message": "", "author": None, "committer": None}})

    def statuses(self, repo: str, sha: str) -> Answer:
        return Answer(200, {"state": "pending", "sha": sha, "total_count": 0, "statuses": [],
                            "repository": {"full_name": repo}})

    def check_runs(self, repo: str, sha: str) -> Answer:
        """Each Actions job of the commit, as GitHub lists them: its latest attempt."""
        with self._lock:
            jobs = [j for j in self._jobs.values() if j["head_sha"] == sha]
        latest: dict[str, Json] = {}
        for job in sorted(jobs, key=lambda j: j["run_attempt"]):
            latest[job["name"]] = job
        runs = [{"id": j["id"], "name": j["name"], "head_sha": sha, "status": j["status"],
                 "conclusion": j["conclusion"], "url": f"{self.api}/repos/{repo}/check-runs/"
                 f"{j['id']}", "html_url": j["html_url"], "started_at": j["started_at"],
                 "completed_at": j["completed_at"]} for j in latest.values()]
        return Answer(200, {"total_count": len(runs), "check_runs": runs})

    def run(self, repo: str, run_id: int) -> Answer:
        with self._lock:
            run = copy.deepcopy(self._runs.get(run_id))
        if run is None:
            return NOT_FOUND
        run["url"] = f"{self.api}/repos/{repo}/actions/runs/{run_id}"
        return Answer(200, run)

    def rerun_failed_jobs(self, repo: str, run_id: int) -> Answer:
        with self._lock:
            run = self._runs.get(run_id)
            if run is None:
                return NOT_FOUND
            if run["status"] != "completed" or run["conclusion"] not in ("failure", "cancelled"):
                return message(403, "This workflow run cannot be rerun: it has no failed jobs")
            if not self.gates.open("retry", Act(pl.BOT)):
                return message(403, "This workflow run is already re-running")
            run.update(status="queued", conclusion=None)
        return Answer(201, {})

    def job(self, repo: str, job_id: int) -> Answer:
        with self._lock:
            job = copy.deepcopy(self._jobs.get(job_id))
        if job is None:
            return NOT_FOUND
        job["url"] = f"{self.api}/repos/{repo}/actions/jobs/{job_id}"
        return Answer(200, job)

    def job_log_link(self, repo: str, job_id: int) -> Answer:
        """GitHub answers with a short-lived download link."""
        with self._lock:
            if job_id not in self._jobs:
                return NOT_FOUND
        return Answer(302, None, (("Location", f"{self.api}/logs/{job_id}.txt"),))

    def job_log(self, job_id: int) -> Answer:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            return NOT_FOUND
        return Answer(200, _job_log(job))

    def pending_deployments(self, repo: str, run_id: int) -> Answer:
        with self._lock:
            environment = self._pending.get(run_id)
        if environment is None:
            return Answer(200, [])
        return Answer(200, [{
            "environment": {"id": TEST_ENVIRONMENT_ID, "name": environment,
                            "url": f"{self.api}/repos/{repo}/environments/{environment}",
                            "html_url": f"https://github.com/{repo}/deployments/activity_log"
                                        f"?environments_filter={environment}"},
            "wait_timer": 0, "wait_timer_started_at": None, "current_user_can_approve": True,
            "reviewers": [{"type": "User", "reviewer": pl.user("carla", pl.PEOPLE["carla"][1])}],
        }])

    def review_deployments(self, repo: str, run_id: int, body: Json) -> Answer:
        state, comment = body.get("state"), body.get("comment")
        if state not in ("approved", "rejected") or not isinstance(comment, str):
            return message(422, "Invalid request: state and comment are required")
        with self._lock:
            if run_id not in self._pending or body.get("environment_ids") != [
                    TEST_ENVIRONMENT_ID]:
                return message(422, "There are no pending deployments for these environments")
            if not self.gates.open("approve", Act(pl.BOT, decision=state, comment=comment)):
                return message(422, "The deployment was reviewed already")
            del self._pending[run_id]
        return Answer(200, [])

    # --- Jenkins -------------------------------------------------------------------------

    def build(self, job: str, number: int) -> Answer:
        with self._lock:
            notified = self._builds.get((job, number))
        if notified is None:
            return Answer(404, "Not Found")
        build, scm = notified["build"], notified["build"].get("scm") or {}
        actions: list[Json] = [{"_class": "hudson.model.CauseAction"}]
        if scm.get("commit"):
            actions.append({"_class": "hudson.plugins.git.util.BuildData",
                            "lastBuiltRevision": {"SHA1": scm["commit"]},
                            "remoteUrls": [scm.get("url")]})
        result = build.get("status") if build["phase"] in ("COMPLETED", "FINALIZED") else None
        return Answer(200, {"_class": "org.jenkinsci.plugins.workflow.job.WorkflowRun",
                            "number": number, "url": build["full_url"], "building": not result,
                            "result": result, "actions": actions})

    def console(self, job: str, number: int) -> Answer:
        with self._lock:
            notified = self._builds.get((job, number))
        if notified is None:
            return Answer(404, "Not Found")
        return Answer(200, _console(job, notified["build"]))

    def build_job(self, job: str) -> Answer:
        with self._lock:
            last = copy.deepcopy(self._last_build.get(job))
        if last is None:
            return Answer(404, "Not Found")
        number = last["build"]["number"] + 1
        threading.Thread(target=self._rebuild, args=(last, number), daemon=True,
                         name=f"demo-jenkins-{number}").start()
        return Answer(201, "", (("Location", f"{self.jenkins}queue/item/{900 + number}/"),))

    def _rebuild(self, last: Json, number: int) -> None:
        """The new build's notifications: it starts, then passes."""
        started = time.time()
        for phase, after in (("STARTED", 1.0), ("COMPLETED", 12.0)):
            if self.stopped.wait(after / self.speed):
                return
            body = copy.deepcopy(last)
            build = body["build"]
            job_path = body["url"]
            build.update(number=number, queue_id=900 + number, phase=phase,
                         full_url=build["full_url"].rsplit("/", 2)[0] + f"/{number}/",
                         url=f"{job_path}{number}/", timestamp=int(started * 1000))
            build.pop("status", None)
            if phase == "COMPLETED":
                build.update(status="SUCCESS", duration=int((time.time() - started) * 1000))
                tests = build.get("test_summary")
                if isinstance(tests, dict):
                    build["test_summary"] = {**tests, "failed": 0, "failed_tests": [],
                                             "passed": tests["total"] - tests["skipped"]}
            deliver(self.bot_url, self.keys, "jenkins", body)
            self.saw("jenkins", body)


def _jenkins_job(url: str) -> str:
    """`job/octo-api/job/main/` as the API names the job: `octo-api/main`."""
    parts = url.strip("/").split("/")
    return "/".join(unquote(parts[i + 1]) for i in range(0, len(parts) - 1, 2)
                    if parts[i] == "job")


def _job_log(job: Json) -> str:
    lines = [f"{job['started_at']} Runner: ubuntu-latest", "##[group]Run actions/checkout@v4",
             "##[endgroup]"]
    if job["conclusion"] == "failure" and job["name"] == "test":
        lines += ["##[group]Run tests", "$ pytest -q",
                  "........................................F...........",
                  "FAILED tests/test_login.py::test_lockout_after_five_attempts - "
                  "AssertionError: expected 423 Locked, got 401 Unauthorized",
                  "1 failed, 121 passed, 2 skipped in 41.20s",
                  "##[error]Process completed with exit code 1."]
    else:
        lines.append(f"Run {job['name']}: ok")
    return "\n".join(lines) + "\n"


def _console(job: str, build: Json) -> str:
    lines = [f"Started by an SCM change ({job} #{build['number']})",
             f"Checking out Revision {(build.get('scm') or {}).get('commit', '')}"]
    tests = build.get("test_summary") or {}
    for name in tests.get("failed_tests", []):
        lines.append(f"FAILED {name}")
    if build.get("status"):
        lines.append(f"Finished: {build['status']}")
    return "\n".join(lines) + "\n"
