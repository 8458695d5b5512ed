"""Webhook bodies as GitHub, the Jenkins Notification plugin and a deploy script send them,
built from the small templates in `payloads/` with the demo's commits, people and times."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

TEMPLATES = Path(__file__).with_name("payloads")
REPO = "octo-org/octo-app"
WEB = f"https://github.com/{REPO}"
API = f"https://api.github.com/repos/{REPO}"
JENKINS = "https://jenkins.octo-app.example.com/"

Json = dict[str, Any]


@cache
def _template(name: str) -> Json:
    loaded: Json = json.loads((TEMPLATES / f"{name}.json").read_text())
    return loaded


def template(name: str) -> Json:
    return copy.deepcopy(_template(name))


def iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def user(login: str, user_id: int) -> Json:
    person = template("user")
    person.update(login=login, id=user_id, url=f"https://api.github.com/users/{login}",
                  html_url=f"https://github.com/{login}",
                  avatar_url=f"https://avatars.githubusercontent.com/u/{user_id}?v=4")
    return person


BOT = "devexbot[bot]"  # the bot's own GitHub account: GitHub names it when a button acted
PEOPLE = {"ana": ("Ana Lima", 583231), "ben": ("Ben Okafor", 610442),
          "carla": ("Carla Mendes", 702913),
          "github-actions[bot]": ("github-actions[bot]", 41898282),
          BOT: (BOT, 149017431)}


def repository(full_name: str = REPO) -> Json:
    repo = template("repository")
    if full_name != REPO:
        name = full_name.split("/")[1]
        web, api = f"https://github.com/{full_name}", f"https://api.github.com/repos/{full_name}"
        repo.update(id=repo["id"] + len(name), name=name, full_name=full_name, html_url=web,
                    url=api, git_url=f"git://github.com/{full_name}.git",
                    ssh_url=f"git@github.com:{full_name}.git", clone_url=f"{web}.git",
                    description=f"The {name} service")
    return repo


def _github(body: Json, sender: str, at: datetime, repo: str = REPO) -> Json:
    repo_json = repository(repo)
    repo_json["pushed_at"] = int(at.timestamp())
    return {**body, "repository": repo_json, "sender": user(sender, PEOPLE[sender][1])}


def push(sha: str, *, branch: str, before: str, message: str, author: str, at: datetime,
         repo: str = REPO) -> Json:
    web = f"https://github.com/{repo}"
    body = template("push")
    name = PEOPLE[author][0]
    who = {"name": name, "email": f"{author}@example.com", "username": author}
    body.update(ref=f"refs/heads/{branch}", before=before, after=sha,
                compare=f"{web}/compare/{before[:12]}...{sha[:12]}")
    head = body["head_commit"]
    head.update(id=sha, message=message, timestamp=iso(at), url=f"{web}/commit/{sha}",
                author=who, committer=who)
    body["commits"] = [copy.deepcopy(head)]
    body["pusher"] = {"name": author, "email": f"{author}@example.com"}
    return _github(body, author, at, repo)


def pull_request(action: str, number: int, *, title: str, head_sha: str, branch: str,
                 author: str, reviewers: list[str], at: datetime, body_text: str = "",
                 merged_by: str | None = None, merge_sha: str | None = None) -> Json:
    body = template("pull_request")
    pr = body["pull_request"]
    pr.update(url=f"{API}/pulls/{number}", html_url=f"{WEB}/pull/{number}", number=number,
              title=title, body=body_text, created_at=iso(at), updated_at=iso(at),
              user=user(author, PEOPLE[author][1]),
              requested_reviewers=[user(r, PEOPLE[r][1]) for r in reviewers])
    pr["head"].update(label=f"octo-org:{branch}", ref=branch, sha=head_sha)
    if merged_by:
        pr.update(state="closed", merged=True, merged_at=iso(at), closed_at=iso(at),
                  merge_commit_sha=merge_sha, merged_by=user(merged_by, PEOPLE[merged_by][1]))
    body.update(action=action, number=number)
    return _github(body, merged_by or author, at)


def review(number: int, *, head_sha: str, branch: str, title: str, reviewer: str, state: str,
           text: str, at: datetime) -> Json:
    body = template("pull_request_review")
    body["review"].update(body=text, commit_id=head_sha, submitted_at=iso(at), state=state,
                          user=user(reviewer, PEOPLE[reviewer][1]),
                          html_url=f"{WEB}/pull/{number}#pullrequestreview-2154879962")
    body["pull_request"].update(url=f"{API}/pulls/{number}", number=number, title=title,
                                html_url=f"{WEB}/pull/{number}")
    body["pull_request"]["head"].update(ref=branch, sha=head_sha)
    return _github(body, reviewer, at)


def workflow_run(sha: str, *, branch: str, name: str, workflow_id: int, run_id: int,
                 run_number: int, attempt: int, status: str, conclusion: str | None,
                 title: str, started: datetime, at: datetime, event: str = "push",
                 actor: str = "ana") -> Json:
    body = template("workflow_run")
    body["action"] = {"queued": "requested", "in_progress": "in_progress"}.get(status,
                                                                               "completed")
    run = body["workflow_run"]
    run.update(id=run_id, name=name, workflow_id=workflow_id, head_branch=branch, head_sha=sha,
               path=f".github/workflows/{name.lower()}.yml", display_title=title,
               run_number=run_number, event=event, status=status, conclusion=conclusion,
               url=f"{API}/actions/runs/{run_id}", html_url=f"{WEB}/actions/runs/{run_id}",
               created_at=iso(started), updated_at=iso(at), run_attempt=attempt,
               run_started_at=iso(started))
    body["workflow"].update(id=workflow_id, name=name, path=run["path"])
    run["triggering_actor"] = user(actor, PEOPLE[actor][1])
    return _github(body, actor, at)


def workflow_job(sha: str, *, branch: str, workflow: str, job: str, job_id: int, run_id: int,
                 attempt: int, status: str, conclusion: str | None, started: datetime,
                 at: datetime, failed_step: str | None = None) -> Json:
    body = template("workflow_job")
    body["action"] = status
    wf_job = body["workflow_job"]
    done = status == "completed"
    steps = [{"name": "Set up job", "status": "completed", "conclusion": "success",
              "number": 1, "started_at": iso(started), "completed_at": iso(started)}]
    if done:
        steps.append({"name": failed_step or f"Run {job}", "status": "completed",
                      "conclusion": "failure" if failed_step else "success", "number": 2,
                      "started_at": iso(started), "completed_at": iso(at)})
    wf_job.update(id=job_id, run_id=run_id, workflow_name=workflow, head_branch=branch,
                  run_url=f"{API}/actions/runs/{run_id}", run_attempt=attempt, head_sha=sha,
                  url=f"{API}/actions/jobs/{job_id}",
                  html_url=f"{WEB}/actions/runs/{run_id}/job/{job_id}", status=status,
                  conclusion=conclusion, created_at=iso(started), started_at=iso(started),
                  completed_at=iso(at) if done else None, name=job,
                  steps=steps if status != "queued" else [],
                  check_run_url=f"{API}/check-runs/{job_id}")
    return _github(body, "ana", at)


def waiting_job(sha: str, *, job: str, job_id: int, run_id: int, environment: str,
                deployment_id: int, at: datetime) -> Json:
    body = workflow_job(sha, branch="main", workflow="Deploy", job=job, job_id=job_id,
                        run_id=run_id, attempt=1, status="waiting", conclusion=None,
                        started=at, at=at)
    body["deployment"] = _deployment(sha, environment, deployment_id, at)
    return body


def _deployment(sha: str, environment: str, deployment_id: int, at: datetime) -> Json:
    deployment: Json = template("deployment")["deployment"]
    deployment.update(url=f"{API}/deployments/{deployment_id}", id=deployment_id,
                      original_environment=environment, environment=environment,
                      created_at=iso(at), updated_at=iso(at), sha=sha,
                      creator=user("github-actions[bot]", PEOPLE["github-actions[bot]"][1]),
                      production_environment=environment == "production")
    return deployment


def deployment(sha: str, *, environment: str, deployment_id: int, at: datetime) -> Json:
    body = template("deployment")
    body["deployment"] = _deployment(sha, environment, deployment_id, at)
    return _github(body, "github-actions[bot]", at)


def deployment_status(sha: str, *, environment: str, deployment_id: int, state: str,
                      log_url: str, environment_url: str, description: str,
                      created: datetime, at: datetime) -> Json:
    body = template("deployment_status")
    body["deployment"] = _deployment(sha, environment, deployment_id, created)
    body["deployment_status"].update(
        url=f"{API}/deployments/{deployment_id}/statuses/{int(at.timestamp())}",
        id=int(at.timestamp()), state=state, description=description, environment=environment,
        target_url=log_url, log_url=log_url, environment_url=environment_url,
        created_at=iso(at), updated_at=iso(at),
        creator=user("github-actions[bot]", PEOPLE["github-actions[bot]"][1]))
    return _github(body, "github-actions[bot]", at)


def deployment_review(sha: str, action: str, *, environment: str, run_id: int, job_id: int,
                      reviewer: str, since: datetime, at: datetime, comment: str = "",
                      approver: str | None = None) -> Json:
    """`approver`: who approved or rejected (the reviewer when not given)."""
    body = template("deployment_review")
    body.update(action=action, environment=environment, since=iso(since), comment=comment)
    run = body["workflow_run"]
    run.update(id=run_id, head_sha=sha, run_number=12, html_url=f"{WEB}/actions/runs/{run_id}",
               created_at=iso(since), updated_at=iso(at),
               status="waiting" if action == "requested" else "in_progress")
    body["workflow_job_run"].update(id=job_id, environment=environment, created_at=iso(since),
                                    updated_at=iso(at),
                                    html_url=f"{WEB}/actions/runs/{run_id}/job/{job_id}")
    body["reviewers"] = [{"type": "User", "reviewer": user(reviewer, PEOPLE[reviewer][1])}]
    if action == "requested":
        body["requestor"] = user("ana", PEOPLE["ana"][1])
        body.pop("comment")
    else:
        approver = approver or reviewer
        body["approver"] = user(approver, PEOPLE[approver][1])
        return _github(body, approver, at)
    return _github(body, "ana", at)


def jenkins(sha: str, *, job: str, branch: str, number: int, phase: str, result: str | None,
            started: datetime, duration_s: int = 0, tests: Json | None = None,
            culprit: str = "ana", repo: str = REPO) -> Json:
    """A Notification plugin message for build `number` of the multibranch job `job/branch`."""
    body = template("jenkins")
    encoded = branch.replace("/", "%2F")
    job_path = f"job/{job}/job/{encoded.replace('%', '%25')}/"
    body.update(name=encoded, display_name=branch, url=job_path)
    build = body["build"]
    build.update(full_url=f"{JENKINS}{job_path}{number}/", number=number,
                 queue_id=900 + number, timestamp=int(started.timestamp() * 1000),
                 duration=duration_s * 1000, phase=phase, url=f"{job_path}{number}/")
    if result:
        build["status"] = result
    if tests is not None:
        build["test_summary"] = tests
    if phase == "QUEUED":
        build.pop("scm")  # Jenkins learns the commit at checkout
    else:
        build["scm"].update(url=f"https://github.com/{repo}.git", branch=branch, commit=sha,
                            culprits=[culprit],
                            changes=["src/octo_app/login.py", "tests/test_login.py"])
    return body


def deploy(sha: str, *, environment: str, status: str, url: str, deployment_id: str,
           description: str, at: datetime) -> Json:
    body = template("deploy")
    body.update(sha=sha, environment=environment, status=status, url=url,
                deployment_id=deployment_id, description=description, timestamp=iso(at))
    return body
