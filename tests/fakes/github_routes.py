"""The REST endpoints the fake GitHub answers, registered with a small decorator router.

Each handler is `(gh, request, caller, **path params) -> Reply` and runs holding the state
lock. Paths, verbs, bodies and answers follow docs.github.com/en/rest and what PyGithub
sends (its `:calls:` docstrings). `auth` is "token" (a user or installation token),
"app" (a GitHub App JWT) or "none" (signed download links, like GitHub's).
"""

from __future__ import annotations

import math
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from tests.fakes.github_auth import Identity, issue_token, token_json
from tests.fakes.github_http import Reply, Request
from tests.fakes.github_objects import (
    check_run_json,
    collaborator_json,
    commit_json,
    deployment_json,
    full_user_json,
    installation_json,
    job_json,
    label_json,
    pending_deployment_json,
    pull_json,
    repo_json,
    review_json,
    run_json,
    status_json,
    team_json,
    user_json,
)
from tests.fakes.github_state import GitHubError, GitHubState, not_found

Handler = Callable[..., Reply]
REPO = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
LOG_LINK_SECONDS = 60  # GitHub's log download links expire after a minute


@dataclass(frozen=True)
class Route:
    verb: str
    pattern: re.Pattern[str]
    handler: Handler
    auth: str


ROUTES: list[Route] = []


def route(verb: str, pattern: str, auth: str = "token") -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ROUTES.append(Route(verb, re.compile(pattern), handler, auth))
        return handler

    return register


def find_route(verb: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for candidate in ROUTES:
        found = candidate.pattern.fullmatch(path)
        if found is not None and candidate.verb == verb:
            return candidate, found.groupdict()
    return None


# ---- helpers -------------------------------------------------------------------------


def ok(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, body, headers=headers or {})


def body_of(request: Request) -> Any:
    try:
        return request.json()
    except ValueError as exc:
        raise GitHubError(400, "Problems parsing JSON") from exc


def invalid(field: str) -> GitHubError:
    return GitHubError(422, f'Invalid request.\n\n"{field}" wasn\'t supplied.')


def paginate(
    gh: GitHubState, request: Request, items: list[Any], default: int = 30, limit: int = 100
) -> tuple[list[Any], dict[str, str]]:
    """One page of `items` and its `Link` header, as GitHub paginates (page, per_page)."""
    try:
        per_page = min(max(int(request.arg("per_page") or default), 1), limit)
        page = max(int(request.arg("page") or 1), 1)
    except ValueError as exc:
        raise GitHubError(422, "Invalid page or per_page") from exc
    last = max(1, math.ceil(len(items) / per_page))
    path = request.raw_path.split("?", 1)[0]
    kept = {k: v[-1] for k, v in request.query.items() if k not in ("page", "per_page")}

    def link(number: int, rel: str) -> str:
        query = urlencode({**kept, "per_page": per_page, "page": number})
        return f'<{gh.web}{path}?{query}>; rel="{rel}"'

    links = []
    if page < last:
        links += [link(page + 1, "next"), link(last, "last")]
    if page > 1:
        links += [link(page - 1, "prev"), link(1, "first")]
    start = (page - 1) * per_page
    return items[start : start + per_page], ({"Link": ", ".join(links)} if links else {})


def listed(gh: GitHubState, request: Request, items: list[Any], **kwargs: Any) -> Reply:
    page, headers = paginate(gh, request, items, **kwargs)
    return ok(page, headers=headers)


# ---- repositories and pull requests --------------------------------------------------


@route("GET", REPO)
def get_repo(gh: GitHubState, request: Request, caller: Identity, owner: str, repo: str) -> Reply:
    return ok(repo_json(gh, gh.repo(f"{owner}/{repo}")))


@route("GET", REPO + r"/pulls")
def list_pulls(gh: GitHubState, request: Request, caller: Identity, owner: str, repo: str) -> Reply:
    found = gh.repo(f"{owner}/{repo}")
    state, head, base = request.arg("state", "open"), request.arg("head"), request.arg("base")
    pulls = sorted(gh.pulls[found.full_name].values(), key=lambda p: p.number, reverse=True)
    pulls = [
        p
        for p in pulls
        if state in ("all", p.state)
        and (head is None or head in (p.head_ref, f"{found.owner}:{p.head_ref}"))
        and (base is None or base == p.base_ref)
    ]
    return listed(gh, request, [pull_json(gh, found, p) for p in pulls])


@route("GET", REPO + r"/pulls/(?P<number>\d+)")
def get_pull(
    gh: GitHubState, request: Request, caller: Identity, owner: str, repo: str, number: str
) -> Reply:
    found, pull = gh.pull(f"{owner}/{repo}", int(number))
    return ok(pull_json(gh, found, pull))


@route("PUT", REPO + r"/pulls/(?P<number>\d+)/merge")
def merge_pull(
    gh: GitHubState, request: Request, caller: Identity, owner: str, repo: str, number: str
) -> Reply:
    body = body_of(request) or {}
    merge = gh.merge_pull(
        f"{owner}/{repo}",
        int(number),
        by=caller.login,
        sha=body.get("sha"),
        method=body.get("merge_method"),
        title=body.get("commit_title"),
        message=body.get("commit_message"),
    )
    return ok(
        {
            "sha": merge.merge_commit_sha,
            "merged": True,
            "message": "Pull Request successfully merged",
        }
    )


@route("GET", REPO + r"/pulls/(?P<number>\d+)/merge")
def is_merged(
    gh: GitHubState, request: Request, caller: Identity, owner: str, repo: str, number: str
) -> Reply:
    _, pull = gh.pull(f"{owner}/{repo}", int(number))
    if not pull.merged:
        raise not_found()
    return Reply(204)


@route("GET", REPO + r"/pulls/(?P<number>\d+)/reviews")
def list_reviews(
    gh: GitHubState, request: Request, caller: Identity, owner: str, repo: str, number: str
) -> Reply:
    found, pull = gh.pull(f"{owner}/{repo}", int(number))
    return listed(gh, request, [review_json(gh, found, pull, r) for r in pull.reviews])


@route("GET", REPO + r"/pulls/(?P<number>\d+)/requested_reviewers")
def list_review_requests(
    gh: GitHubState, request: Request, caller: Identity, owner: str, repo: str, number: str
) -> Reply:
    found, pull = gh.pull(f"{owner}/{repo}", int(number))
    return ok(
        {
            "users": [user_json(gh, login) for login in pull.requested_reviewers],
            "teams": [team_json(gh, gh.team(found.owner, s)) for s in pull.requested_teams],
        }
    )


@route("POST", REPO + r"/pulls/(?P<number>\d+)/requested_reviewers")
def request_reviewers(
    gh: GitHubState, request: Request, caller: Identity, owner: str, repo: str, number: str
) -> Reply:
    body = body_of(request) or {}
    users, teams = body.get("reviewers") or [], body.get("team_reviewers") or []
    if not users and not teams:
        raise invalid("reviewers")
    pull = gh.request_reviewers(f"{owner}/{repo}", int(number), users, teams)
    return ok(pull_json(gh, gh.repo(f"{owner}/{repo}"), pull), 201)


@route("GET", REPO + r"/issues/(?P<number>\d+)/labels")
def list_issue_labels(
    gh: GitHubState, request: Request, caller: Identity, owner: str, repo: str, number: str
) -> Reply:
    found, pull = gh.pull(f"{owner}/{repo}", int(number))
    return listed(gh, request, [label_json(gh, found, gh.label(found, n)) for n in pull.labels])


@route("POST", REPO + r"/issues/(?P<number>\d+)/labels")
def add_issue_labels(
    gh: GitHubState, request: Request, caller: Identity, owner: str, repo: str, number: str
) -> Reply:
    body = body_of(request)
    names = body.get("labels") if isinstance(body, dict) else body
    if not isinstance(names, list) or not names:
        raise invalid("labels")
    names = [n["name"] if isinstance(n, dict) else str(n) for n in names]
    labels = gh.add_labels(f"{owner}/{repo}", int(number), names)
    found = gh.repo(f"{owner}/{repo}")
    return ok([label_json(gh, found, label) for label in labels])


@route("GET", REPO + r"/labels")
def list_labels(
    gh: GitHubState, request: Request, caller: Identity, owner: str, repo: str
) -> Reply:
    found = gh.repo(f"{owner}/{repo}")
    return listed(gh, request, [label_json(gh, found, label) for label in found.labels.values()])


@route("GET", REPO + r"/labels/(?P<name>.+)")
def get_label(
    gh: GitHubState, request: Request, caller: Identity, owner: str, repo: str, name: str
) -> Reply:
    found = gh.repo(f"{owner}/{repo}")
    return ok(label_json(gh, found, gh.label(found, name, create=False)))


# ---- commits, statuses, checks, branches ---------------------------------------------


@route("GET", REPO + r"/commits/(?P<ref>.+)/status")
def combined_status(
    gh: GitHubState, request: Request, caller: Identity, owner: str, repo: str, ref: str
) -> Reply:
    found = gh.repo(f"{owner}/{repo}")
    sha = gh.resolve(found, ref).sha
    statuses = [status_json(gh, found, s, sha) for s in gh.latest_statuses(found, sha)]
    return ok(
        {
            "state": gh.combined_state(found, sha),
            "statuses": statuses,
            "sha": sha,
            "total_count": len(statuses),
            "repository": repo_json(gh, found),
            "commit_url": f"{gh.api}/repos/{found.full_name}/commits/{sha}",
            "url": f"{gh.api}/repos/{found.full_name}/commits/{sha}/status",
        }
    )


@route("GET", REPO + r"/commits/(?P<ref>.+)/statuses")
def list_statuses(
    gh: GitHubState, request: Request, caller: Identity, owner: str, repo: str, ref: str
) -> Reply:
    found = gh.repo(f"{owner}/{repo}")
    sha = gh.resolve(found, ref).sha
    every = sorted(gh.statuses[found.full_name].get(sha, []), key=lambda s: s.id, reverse=True)
    return listed(gh, request, [status_json(gh, found, s, sha) for s in every])


@route("GET", REPO + r"/commits/(?P<ref>.+)/check-runs")
def list_check_runs(
    gh: GitHubState, request: Request, caller: Identity, owner: str, repo: str, ref: str
) -> Reply:
    found = gh.repo(f"{owner}/{repo}")
    sha = gh.resolve(found, ref).sha
    if request.arg("filter", "latest") == "all":
        runs = sorted(gh.check_runs[found.full_name].get(sha, []), key=lambda r: -r.id)
    else:
        runs = gh.latest_check_runs(found, sha)
    name, status = request.arg("check_name"), request.arg("status")
    runs = [r for r in runs if name in (None, r.name) and status in (None, r.status)]
    page, headers = paginate(gh, request, runs)
    body = {"total_count": len(runs), "check_runs": [check_run_json(gh, found, r) for r in page]}
    return ok(body, headers=headers)


@route("GET", REPO + r"/commits/(?P<ref>.+)/pulls")
def commit_pulls(
    gh: GitHubState, request: Request, caller: Identity, owner: str, repo: str, ref: str
) -> Reply:
    found = gh.repo(f"{owner}/{repo}")
    sha = gh.resolve(found, ref).sha
    pulls = [
        p
        for p in sorted(gh.pulls[found.full_name].values(), key=lambda p: p.number, reverse=True)
        if sha in (p.head_sha, p.merge_commit_sha)
    ]
    return listed(gh, request, [pull_json(gh, found, p) for p in pulls])


@route("GET", REPO + r"/commits/(?P<ref>.+)")
def get_commit(
    gh: GitHubState, request: Request, caller: Identity, owner: str, repo: str, ref: str
) -> Reply:
    found = gh.repo(f"{owner}/{repo}")
    commit = commit_json(gh, found, gh.resolve(found, ref))
    return ok({**commit, "stats": {"total": 1, "additions": 1, "deletions": 0}, "files": []})


def branch_head(gh: GitHubState, owner: str, repo: str, branch: str) -> tuple[Any, str]:
    found = gh.repo(f"{owner}/{repo}")
    if branch not in found.branches:
        raise GitHubError(404, "Branch not found")
    return found, found.branches[branch]


@route("GET", REPO + r"/branches/(?P<branch>.+)/protection/required_status_checks")
def required_status_checks(
    gh: GitHubState, request: Request, caller: Identity, owner: str, repo: str, branch: str
) -> Reply:
    found, _ = branch_head(gh, owner, repo, branch)
    protection = found.protection.get(branch)
    if protection is None:
        raise GitHubError(404, "Branch not protected")
    url = f"{gh.api}/repos/{found.full_name}/branches/{branch}/protection/required_status_checks"
    return ok(
        {
            "url": url,
            "strict": protection.strict,
            "contexts": protection.contexts,
            "contexts_url": f"{url}/contexts",
            "checks": [
                {"context": c, "app_id": protection.app_ids.get(c)} for c in protection.contexts
            ],
        }
    )


@route("GET", REPO + r"/branches/(?P<branch>.+)")
def get_branch(
    gh: GitHubState, request: Request, caller: Identity, owner: str, repo: str, branch: str
) -> Reply:
    found, sha = branch_head(gh, owner, repo, branch)
    url = f"{gh.api}/repos/{found.full_name}/branches/{branch}"
    return ok(
        {
            "name": branch,
            "commit": commit_json(gh, found, gh.commits[found.full_name][sha]),
            "_links": {"self": url, "html": f"{gh.web}/{found.full_name}/tree/{branch}"},
            "protected": branch in found.protection,
            "protection_url": f"{url}/protection",
        }
    )


@route("GET", REPO + r"/compare/(?P<basehead>.+)")
def compare(
    gh: GitHubState, request: Request, caller: Identity, owner: str, repo: str, basehead: str
) -> Reply:
    found = gh.repo(f"{owner}/{repo}")
    base, sep, head = basehead.partition("...")
    if not sep or not base or not head:
        raise not_found()
    base_commit, head_commit, ahead, behind = gh.compare(found, base, head)
    common = gh.ancestors(found, base_commit.sha) & gh.ancestors(found, head_commit.sha)
    commits = gh.commits[found.full_name]
    merge_base = max((commits[s] for s in common), key=lambda c: c.order, default=base_commit)
    status = (
        "identical"
        if not ahead and not behind
        else ("diverged" if ahead and behind else ("ahead" if ahead else "behind"))
    )
    page, headers = paginate(gh, request, ahead, default=250, limit=1000)
    web = f"{gh.web}/{found.full_name}/compare/{basehead}"
    body = {
        "url": f"{gh.api}/repos/{found.full_name}/compare/{basehead}",
        "html_url": web,
        "permalink_url": f"{gh.web}/{found.full_name}/compare/"
        f"{base_commit.sha[:7]}...{head_commit.sha[:7]}",
        "diff_url": f"{web}.diff",
        "patch_url": f"{web}.patch",
        "base_commit": commit_json(gh, found, base_commit),
        "merge_base_commit": commit_json(gh, found, merge_base),
        "status": status,
        "ahead_by": len(ahead),
        "behind_by": behind,
        "total_commits": len(ahead),
        "commits": [commit_json(gh, found, c) for c in page],
        "files": [],
    }
    return ok(body, headers=headers)


# ---- Actions -------------------------------------------------------------------------


@route("GET", REPO + r"/actions/runs/(?P<run_id>\d+)")
def get_run(
    gh: GitHubState, request: Request, caller: Identity, owner: str, repo: str, run_id: str
) -> Reply:
    found, run = gh.run(f"{owner}/{repo}", int(run_id))
    return ok(run_json(gh, found, run))


@route("POST", REPO + r"/actions/runs/(?P<run_id>\d+)/rerun")
def rerun(
    gh: GitHubState, request: Request, caller: Identity, owner: str, repo: str, run_id: str
) -> Reply:
    body_of(request)
    gh.rerun(f"{owner}/{repo}", int(run_id), failed_only=False, by=caller.login)
    return ok({}, 201)


@route("POST", REPO + r"/actions/runs/(?P<run_id>\d+)/rerun-failed-jobs")
def rerun_failed_jobs(
    gh: GitHubState, request: Request, caller: Identity, owner: str, repo: str, run_id: str
) -> Reply:
    body_of(request)
    gh.rerun(f"{owner}/{repo}", int(run_id), failed_only=True, by=caller.login)
    return ok({}, 201)


@route("GET", REPO + r"/actions/runs/(?P<run_id>\d+)/jobs")
def list_jobs(
    gh: GitHubState, request: Request, caller: Identity, owner: str, repo: str, run_id: str
) -> Reply:
    found, run = gh.run(f"{owner}/{repo}", int(run_id))
    jobs = run.jobs if request.arg("filter", "latest") == "all" else run.latest_jobs()
    page, headers = paginate(gh, request, jobs)
    body = {"total_count": len(jobs), "jobs": [job_json(gh, found, run, j) for j in page]}
    return ok(body, headers=headers)


@route("GET", REPO + r"/actions/runs/(?P<run_id>\d+)/pending_deployments")
def pending_deployments(
    gh: GitHubState, request: Request, caller: Identity, owner: str, repo: str, run_id: str
) -> Reply:
    found, run = gh.run(f"{owner}/{repo}", int(run_id))
    waiting = [p for p in run.pending if p.state == "waiting"]
    return ok([pending_deployment_json(gh, found, p, caller.login) for p in waiting])


@route("POST", REPO + r"/actions/runs/(?P<run_id>\d+)/pending_deployments")
def review_pending_deployments(
    gh: GitHubState, request: Request, caller: Identity, owner: str, repo: str, run_id: str
) -> Reply:
    body = body_of(request) or {}
    environment_ids, state, comment = (
        body.get("environment_ids"),
        body.get("state"),
        body.get("comment"),
    )
    if not isinstance(environment_ids, list) or not all(
        isinstance(i, int) for i in environment_ids
    ):
        raise invalid("environment_ids")
    if not isinstance(state, str):
        raise invalid("state")
    if not isinstance(comment, str):
        raise invalid("comment")
    _, reviewed = gh.review_deployments(
        f"{owner}/{repo}", int(run_id), environment_ids, state, comment, by=caller.login
    )
    found, run = gh.run(f"{owner}/{repo}", int(run_id))
    if state != "approved":
        return ok([])
    return ok(
        [deployment_json(gh, found, run, p, caller.login, next(gh.deployments)) for p in reviewed]
    )


@route("GET", REPO + r"/actions/jobs/(?P<job_id>\d+)")
def get_job(
    gh: GitHubState, request: Request, caller: Identity, owner: str, repo: str, job_id: str
) -> Reply:
    found, run, job = gh.job(f"{owner}/{repo}", int(job_id))
    return ok(job_json(gh, found, run, job))


@route("GET", REPO + r"/actions/jobs/(?P<job_id>\d+)/logs")
def job_logs(
    gh: GitHubState, request: Request, caller: Identity, owner: str, repo: str, job_id: str
) -> Reply:
    found, _, job = gh.job(f"{owner}/{repo}", int(job_id))
    key = secrets.token_urlsafe(24)
    gh.log_links[key] = (found.full_name, job.id, time.time() + LOG_LINK_SECONDS)
    location = f"{gh.api}/_fake/job-logs/{key}"
    return Reply(302, b"", "text/html;charset=utf-8", {"Location": location})


@route("GET", r"/_fake/job-logs/(?P<key>[A-Za-z0-9_-]+)", auth="none")
def download_job_logs(
    gh: GitHubState, request: Request, caller: Identity | None, key: str
) -> Reply:
    link = gh.log_links.get(key)
    if link is None or link[2] < time.time():
        return Reply(403, "Request has expired", "text/plain; charset=utf-8")
    _, _, job = gh.job(link[0], link[1])
    return Reply(200, job.log, "text/plain; charset=utf-8")


# ---- people --------------------------------------------------------------------------


@route("GET", REPO + r"/collaborators")
def list_collaborators(
    gh: GitHubState, request: Request, caller: Identity, owner: str, repo: str
) -> Reply:
    found = gh.repo(f"{owner}/{repo}")
    logins = list(found.collaborators)
    for team in gh.repo_teams(found):
        logins += [m for m in team.members if m not in logins]
    permissions = {login: gh.permission(found, login) or "read" for login in logins}
    return listed(gh, request, [collaborator_json(gh, u, p) for u, p in permissions.items()])


@route("GET", REPO + r"/collaborators/(?P<login>[^/]+)")
def is_collaborator(
    gh: GitHubState, request: Request, caller: Identity, owner: str, repo: str, login: str
) -> Reply:
    if gh.permission(gh.repo(f"{owner}/{repo}"), login) is None:
        raise not_found()
    return Reply(204)


@route("GET", REPO + r"/collaborators/(?P<login>[^/]+)/permission")
def collaborator_permission(
    gh: GitHubState, request: Request, caller: Identity, owner: str, repo: str, login: str
) -> Reply:
    permission = gh.permission(gh.repo(f"{owner}/{repo}"), login)
    legacy = {None: "none", "triage": "read", "maintain": "write"}.get(permission, permission)
    return ok(
        {
            "permission": legacy,
            "role_name": permission or "none",
            "user": collaborator_json(gh, login, permission or "read"),
        }
    )


@route("GET", REPO + r"/teams")
def list_repo_teams(
    gh: GitHubState, request: Request, caller: Identity, owner: str, repo: str
) -> Reply:
    found = gh.repo(f"{owner}/{repo}")
    return listed(gh, request, [team_json(gh, t, found) for t in gh.repo_teams(found)])


@route("GET", r"/orgs/(?P<org>[^/]+)")
def get_org(gh: GitHubState, request: Request, caller: Identity, org: str) -> Reply:
    found = gh.users.get(org.lower())
    if found is None or found.type != "Organization":
        raise not_found()
    url = f"{gh.api}/orgs/{found.login}"
    return ok(
        {
            **user_json(gh, found.login),
            "url": url,
            "repos_url": f"{url}/repos",
            "members_url": f"{url}/members{{/member}}",
            "description": None,
            "name": found.name,
        }
    )


@route("GET", r"/orgs/(?P<org>[^/]+)/teams/(?P<slug>[^/]+)")
def get_team(gh: GitHubState, request: Request, caller: Identity, org: str, slug: str) -> Reply:
    return ok(team_json(gh, gh.team(org, slug)))


@route("GET", r"/orgs/(?P<org>[^/]+)/teams/(?P<slug>[^/]+)/members")
def team_members(gh: GitHubState, request: Request, caller: Identity, org: str, slug: str) -> Reply:
    team = gh.team(org, slug)
    return listed(gh, request, [user_json(gh, login) for login in team.members])


@route("GET", r"/organizations/(?P<org_id>\d+)/team/(?P<team_id>\d+)")
def get_team_by_id(
    gh: GitHubState, request: Request, caller: Identity, org_id: str, team_id: str
) -> Reply:
    return ok(team_json(gh, gh.team_by_id(int(team_id))))


@route("GET", r"/organizations/(?P<org_id>\d+)/team/(?P<team_id>\d+)/members")
def team_members_by_id(
    gh: GitHubState, request: Request, caller: Identity, org_id: str, team_id: str
) -> Reply:
    team = gh.team_by_id(int(team_id))
    return listed(gh, request, [user_json(gh, login) for login in team.members])


@route("GET", r"/users/(?P<login>[^/]+)")
def get_user(gh: GitHubState, request: Request, caller: Identity, login: str) -> Reply:
    if login.lower() not in gh.users:
        raise not_found()
    return ok(full_user_json(gh, login))


@route("GET", r"/user")
def get_authenticated_user(gh: GitHubState, request: Request, caller: Identity) -> Reply:
    if caller.kind != "token":
        raise GitHubError(403, "Resource not accessible by integration")
    return ok(full_user_json(gh, caller.login))


# ---- GitHub Apps ---------------------------------------------------------------------


@route("POST", r"/app/installations/(?P<installation_id>\d+)/access_tokens", auth="app")
def create_installation_token(
    gh: GitHubState, request: Request, caller: Identity, installation_id: str
) -> Reply:
    body = body_of(request) or {}
    issued = issue_token(gh, caller, int(installation_id), body.get("permissions"), gh.token_ttl)
    installation = gh.installations[int(installation_id)]
    selection = "all" if installation.repositories is None else "selected"
    return ok(token_json(issued, selection), 201)


@route("GET", r"/app/installations/(?P<installation_id>\d+)", auth="app")
def get_installation(
    gh: GitHubState, request: Request, caller: Identity, installation_id: str
) -> Reply:
    installation = gh.installations.get(int(installation_id))
    if installation is None or installation.app_id != caller.app_id:
        raise not_found()
    return ok(installation_json(gh, installation))


@route("GET", r"/orgs/(?P<org>[^/]+)/installation", auth="app")
def get_org_installation(gh: GitHubState, request: Request, caller: Identity, org: str) -> Reply:
    installation = gh.installation_of(org, caller.app_id)
    if installation is None:
        raise not_found()
    return ok(installation_json(gh, installation))


@route("GET", REPO + r"/installation", auth="app")
def get_repo_installation(
    gh: GitHubState, request: Request, caller: Identity, owner: str, repo: str
) -> Reply:
    installation = gh.installation_for(gh.repo(f"{owner}/{repo}"))
    if installation.app_id != caller.app_id:
        raise not_found()
    return ok(installation_json(gh, installation))


@route("GET", r"/app", auth="app")
def get_authenticated_app(gh: GitHubState, request: Request, caller: Identity) -> Reply:
    app = gh.apps[caller.app_id or 0]
    return ok({"id": app.id, "slug": app.slug, "node_id": f"A_{app.id}", "name": app.name,
               "description": "", "external_url": gh.web, "html_url": f"{gh.web}/apps/{app.slug}",
               "owner": user_json(gh, gh.ensure_user("octo-org").login),
               "created_at": "2020-01-01T00:00:00Z", "updated_at": "2020-01-01T00:00:00Z",
               "permissions": {"contents": "read", "pull_requests": "write"},
               "events": ["check_run", "pull_request"]})


# ---- rate limit ----------------------------------------------------------------------


@route("GET", r"/rate_limit")
def get_rate_limit(gh: GitHubState, request: Request, caller: Identity) -> Reply:
    """GitHub's docs: asking costs nothing of the limit (the fake never runs out here)."""
    window = {"limit": 5000, "used": 0, "remaining": 5000, "reset": int(time.time()) + 3600}
    resources = ("core", "search", "graphql", "integration_manifest", "source_import",
                 "code_scanning_upload", "actions_runner_registration", "scim")
    return ok({"resources": {name: dict(window) for name in resources}, "rate": dict(window)})
