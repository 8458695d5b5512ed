"""GitHub REST v3 JSON shapes, rendered from the fake's state with URLs that point back at it.

PyGithub completes objects lazily by GETting their `url`, and follows `*_url` fields, so
every object carries the URLs GitHub gives (docs.github.com/en/rest, "Response schema").
"""

from __future__ import annotations

import base64
import time
from typing import TYPE_CHECKING

from tests.fakes.github_models import (
    PERMISSIONS,
    CheckRun,
    Commit,
    Installation,
    Job,
    Json,
    Label,
    PendingDeployment,
    Pull,
    Repo,
    Review,
    Status,
    Team,
    WorkflowRun,
)

if TYPE_CHECKING:
    from tests.fakes.github_state import GitHubState


def iso(epoch: float | None = None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if epoch is None else epoch))


def node_id(kind: str, number: int) -> str:
    """Shaped like GitHub's legacy global ids (`MDQ6VXNlcjE=` is base64 of `04:User1`)."""
    return base64.b64encode(f"{len(kind):02d}:{kind}{number}".encode()).decode()


def user_json(gh: GitHubState, login: str) -> Json:
    user = gh.ensure_user(login)
    url, web = f"{gh.api}/users/{login}", f"{gh.web}/{login}"
    return {
        "login": user.login,
        "id": user.id,
        "node_id": node_id(user.type, user.id),
        "avatar_url": f"{gh.web}/avatars/u/{user.id}?v=4",
        "gravatar_id": "",
        "url": url,
        "html_url": web,
        "followers_url": f"{url}/followers",
        "following_url": f"{url}/following{{/other_user}}",
        "gists_url": f"{url}/gists{{/gist_id}}",
        "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{url}/subscriptions",
        "organizations_url": f"{url}/orgs",
        "repos_url": f"{url}/repos",
        "events_url": f"{url}/events{{/privacy}}",
        "received_events_url": f"{url}/received_events",
        "type": user.type,
        "user_view_type": "public",
        "site_admin": False,
    }


def full_user_json(gh: GitHubState, login: str) -> Json:
    user = gh.ensure_user(login)
    return {
        **user_json(gh, login),
        "name": user.name,
        "email": user.email,
        "company": None,
        "blog": "",
        "location": None,
        "bio": None,
        "public_repos": 0,
        "followers": 0,
        "following": 0,
        "created_at": "2020-01-01T00:00:00Z",
        "updated_at": "2020-01-01T00:00:00Z",
    }


def repo_json(gh: GitHubState, repo: Repo) -> Json:
    url, web = f"{gh.api}/repos/{repo.full_name}", f"{gh.web}/{repo.full_name}"
    return {
        "id": repo.id,
        "node_id": node_id("Repository", repo.id),
        "name": repo.name,
        "full_name": repo.full_name,
        "owner": user_json(gh, repo.owner),
        "private": repo.private,
        "visibility": "private" if repo.private else "public",
        "html_url": web,
        "description": repo.description,
        "fork": False,
        "url": url,
        "archived": False,
        "disabled": False,
        "default_branch": repo.default_branch,
        **({"allow_merge_commit": repo.allow_merge_commit,
            "allow_squash_merge": repo.allow_squash_merge,
            "allow_rebase_merge": repo.allow_rebase_merge}
           if repo.merge_settings_visible else {}),
        "allow_auto_merge": False,
        "delete_branch_on_merge": False,
        "squash_merge_commit_title": "COMMIT_OR_PR_TITLE",
        "squash_merge_commit_message": "COMMIT_MESSAGES",
        "merge_commit_title": "MERGE_MESSAGE",
        "merge_commit_message": "PR_TITLE",
        "permissions": {
            "admin": True,
            "maintain": True,
            "push": True,
            "triage": True,
            "pull": True,
        },
        "clone_url": f"{web}.git",
        "git_url": f"{web}.git",
        "ssh_url": f"git@127.0.0.1:{repo.full_name}.git",
        "svn_url": web,
        "homepage": None,
        "size": 1,
        "stargazers_count": 0,
        "watchers_count": 0,
        "forks_count": 0,
        "open_issues_count": 0,
        "has_issues": True,
        "has_projects": False,
        "has_wiki": False,
        "has_pages": False,
        "has_downloads": True,
        "language": "Python",
        "topics": [],
        "created_at": "2020-01-01T00:00:00Z",
        "updated_at": "2020-01-01T00:00:00Z",
        "pushed_at": "2020-01-01T00:00:00Z",
        "archive_url": f"{url}/{{archive_format}}{{/ref}}",
        "branches_url": f"{url}/branches{{/branch}}",
        "collaborators_url": f"{url}/collaborators{{/collaborator}}",
        "commits_url": f"{url}/commits{{/sha}}",
        "compare_url": f"{url}/compare/{{base}}...{{head}}",
        "contents_url": f"{url}/contents/{{+path}}",
        "deployments_url": f"{url}/deployments",
        "events_url": f"{url}/events",
        "hooks_url": f"{url}/hooks",
        "issues_url": f"{url}/issues{{/number}}",
        "labels_url": f"{url}/labels{{/name}}",
        "merges_url": f"{url}/merges",
        "pulls_url": f"{url}/pulls{{/number}}",
        "statuses_url": f"{url}/statuses/{{sha}}",
        "teams_url": f"{url}/teams",
    }


def label_json(gh: GitHubState, repo: Repo, label: Label) -> Json:
    return {
        "id": label.id,
        "node_id": node_id("Label", label.id),
        "url": f"{gh.api}/repos/{repo.full_name}/labels/{label.name}",
        "name": label.name,
        "color": label.color,
        "default": False,
        "description": label.description,
    }


def team_json(gh: GitHubState, team: Team, repo: Repo | None = None) -> Json:
    org = gh.ensure_user(team.org, kind="Organization")
    url = f"{gh.api}/organizations/{org.id}/team/{team.id}"
    found = {
        "id": team.id,
        "node_id": node_id("Team", team.id),
        "url": url,
        "html_url": f"{gh.web}/orgs/{team.org}/teams/{team.slug}",
        "name": team.name,
        "slug": team.slug,
        "description": team.description,
        "privacy": "closed",
        "notification_setting": "notifications_enabled",
        "permission": "pull",
        "members_url": f"{url}/members{{/member}}",
        "repositories_url": f"{url}/repos",
        "parent": None,
    }
    if repo is not None:
        permission = team.repos.get(repo.full_name, "read")
        found["permission"] = {"read": "pull", "write": "push"}.get(permission, permission)
        found["permissions"] = permission_flags(permission)
    return found


def permission_flags(permission: str) -> dict[str, bool]:
    rank = PERMISSIONS.index(permission)
    names = ("pull", "triage", "push", "maintain", "admin")
    return {name: rank >= i for i, name in enumerate(names)}


def collaborator_json(gh: GitHubState, login: str, permission: str) -> Json:
    return {
        **user_json(gh, login),
        "permissions": permission_flags(permission),
        "role_name": permission,
    }


def commit_json(gh: GitHubState, repo: Repo, commit: Commit) -> Json:
    url = f"{gh.api}/repos/{repo.full_name}/commits/{commit.sha}"
    author = gh.ensure_user(commit.author)
    signature = {
        "name": author.name or author.login,
        "email": author.email or f"{author.login}@users.noreply.github.com",
        "date": commit.at,
    }
    return {
        "sha": commit.sha,
        "node_id": node_id("Commit", commit.order),
        "url": url,
        "html_url": f"{gh.web}/{repo.full_name}/commit/{commit.sha}",
        "comments_url": f"{url}/comments",
        "commit": {
            "url": f"{gh.api}/repos/{repo.full_name}/git/commits/{commit.sha}",
            "author": signature,
            "committer": signature,
            "message": commit.message,
            "tree": {
                "sha": "0" * 40,
                "url": f"{gh.api}/repos/{repo.full_name}/git/trees/{'0' * 40}",
            },
            "comment_count": 0,
            "verification": {
                "verified": False,
                "reason": "unsigned",
                "signature": None,
                "payload": None,
            },
        },
        "author": user_json(gh, commit.author),
        "committer": user_json(gh, commit.author),
        "parents": [
            {
                "sha": parent,
                "url": f"{gh.api}/repos/{repo.full_name}/commits/{parent}",
                "html_url": f"{gh.web}/{repo.full_name}/commit/{parent}",
            }
            for parent in commit.parents
        ],
    }


def status_json(gh: GitHubState, repo: Repo, status: Status, sha: str) -> Json:
    return {
        "url": f"{gh.api}/repos/{repo.full_name}/statuses/{sha}",
        "avatar_url": None,
        "id": status.id,
        "node_id": node_id("StatusContext", status.id),
        "state": status.state,
        "description": status.description,
        "target_url": status.target_url,
        "context": status.context,
        "created_at": status.created_at,
        "updated_at": status.updated_at,
        "creator": user_json(gh, status.creator),
    }


def check_run_json(gh: GitHubState, repo: Repo, run: CheckRun) -> Json:
    url = f"{gh.api}/repos/{repo.full_name}/check-runs/{run.id}"
    return {
        "id": run.id,
        "node_id": node_id("CheckRun", run.id),
        "head_sha": run.head_sha,
        "external_id": run.external_id,
        "url": url,
        "html_url": f"{gh.web}/{repo.full_name}/runs/{run.id}",
        "details_url": run.details_url,
        "status": run.status,
        "conclusion": run.conclusion,
        "started_at": run.started_at,
        "completed_at": run.completed_at,
        "output": {
            "title": run.title,
            "summary": run.summary,
            "text": None,
            "annotations_count": 0,
            "annotations_url": f"{url}/annotations",
        },
        "name": run.name,
        "check_suite": {"id": run.id},
        "app": {
            "id": run.app_id,
            "slug": run.app_slug,
            "node_id": node_id("App", run.app_id),
            "name": run.app_slug.replace("-", " ").title(),
            "owner": user_json(gh, "github"),
            "html_url": f"{gh.web}/apps/{run.app_slug}",
            "created_at": "2018-07-30T09:30:17Z",
            "updated_at": "2019-12-10T19:04:12Z",
            "permissions": {},
            "events": [],
        },
        "pull_requests": [],
    }


def review_json(gh: GitHubState, repo: Repo, pull: Pull, review: Review) -> Json:
    return {
        "id": review.id,
        "node_id": node_id("PullRequestReview", review.id),
        "user": user_json(gh, review.user),
        "body": review.body,
        "state": review.state,
        "html_url": f"{gh.web}/{repo.full_name}/pull/{pull.number}#pullrequestreview-{review.id}",
        "pull_request_url": f"{gh.api}/repos/{repo.full_name}/pulls/{pull.number}",
        "commit_id": review.commit_id,
        "submitted_at": review.submitted_at,
        "author_association": "COLLABORATOR",
    }


def _pull_end(gh: GitHubState, repo: Repo, ref: str, sha: str) -> Json:
    return {
        "label": f"{repo.owner}:{ref}",
        "ref": ref,
        "sha": sha,
        "user": user_json(gh, repo.owner),
        "repo": repo_json(gh, repo),
    }


def pull_json(gh: GitHubState, repo: Repo, pull: Pull) -> Json:
    url = f"{gh.api}/repos/{repo.full_name}/pulls/{pull.number}"
    issue = f"{gh.api}/repos/{repo.full_name}/issues/{pull.number}"
    web = f"{gh.web}/{repo.full_name}/pull/{pull.number}"
    merged_or_closed = pull.state == "closed"
    return {
        "url": url,
        "id": pull.id,
        "node_id": node_id("PullRequest", pull.id),
        "html_url": web,
        "diff_url": f"{web}.diff",
        "patch_url": f"{web}.patch",
        "issue_url": issue,
        "commits_url": f"{url}/commits",
        "review_comments_url": f"{url}/comments",
        "review_comment_url": f"{gh.api}/repos/{repo.full_name}/pulls/comments{{/number}}",
        "comments_url": f"{issue}/comments",
        "statuses_url": f"{gh.api}/repos/{repo.full_name}/statuses/{pull.head_sha}",
        "number": pull.number,
        "state": pull.state,
        "locked": False,
        "title": pull.title,
        "user": user_json(gh, pull.user),
        "body": pull.body,
        "labels": [label_json(gh, repo, gh.label(repo, name)) for name in pull.labels],
        "milestone": None,
        "active_lock_reason": None,
        "created_at": pull.created_at,
        "updated_at": pull.updated_at,
        "closed_at": pull.closed_at,
        "merged_at": pull.merged_at,
        "merge_commit_sha": pull.merge_commit_sha,
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [user_json(gh, login) for login in pull.requested_reviewers],
        "requested_teams": [
            team_json(gh, gh.team(repo.owner, slug)) for slug in pull.requested_teams
        ],
        "head": _pull_end(gh, repo, pull.head_ref, pull.head_sha),
        "base": _pull_end(gh, repo, pull.base_ref, repo.branches.get(pull.base_ref, "")),
        "_links": {
            "self": {"href": url},
            "html": {"href": web},
            "issue": {"href": issue},
            "comments": {"href": f"{issue}/comments"},
            "review_comments": {"href": f"{url}/comments"},
            "review_comment": {
                "href": f"{gh.api}/repos/{repo.full_name}/pulls/comments{{/number}}"
            },
            "commits": {"href": f"{url}/commits"},
            "statuses": {"href": f"{gh.api}/repos/{repo.full_name}/statuses/{pull.head_sha}"},
        },
        "author_association": "COLLABORATOR",
        "auto_merge": None,
        "draft": pull.draft,
        "merged": pull.merged,
        "mergeable": None if merged_or_closed else pull.mergeable,
        "rebaseable": None if merged_or_closed else pull.mergeable,
        "mergeable_state": gh.mergeable_state(repo, pull),
        "merged_by": user_json(gh, pull.merged_by) if pull.merged_by else None,
        "comments": 0,
        "review_comments": 0,
        "maintainer_can_modify": False,
        "commits": 1,
        "additions": 1,
        "deletions": 0,
        "changed_files": 1,
    }


def run_json(gh: GitHubState, repo: Repo, run: WorkflowRun) -> Json:
    url = f"{gh.api}/repos/{repo.full_name}/actions/runs/{run.id}"
    head = gh.commits[repo.full_name].get(run.head_sha)
    return {
        "id": run.id,
        "name": run.name,
        "node_id": node_id("WorkflowRun", run.id),
        "head_branch": run.head_branch,
        "head_sha": run.head_sha,
        "path": run.path,
        "display_title": head.message.splitlines()[0] if head else run.name,
        "run_number": run.run_number,
        "event": run.event,
        "status": run.status,
        "conclusion": run.conclusion,
        "workflow_id": run.workflow_id,
        "check_suite_id": run.id + 1,
        "check_suite_node_id": node_id("CheckSuite", run.id + 1),
        "url": url,
        "html_url": f"{gh.web}/{repo.full_name}/actions/runs/{run.id}",
        "pull_requests": [],
        "created_at": run.created_at,
        "updated_at": run.updated_at,
        "actor": user_json(gh, run.actor),
        "triggering_actor": user_json(gh, run.actor),
        "run_attempt": run.run_attempt,
        "referenced_workflows": [],
        "run_started_at": run.run_started_at,
        "jobs_url": f"{url}/jobs",
        "logs_url": f"{url}/logs",
        "check_suite_url": f"{gh.api}/repos/{repo.full_name}/check-suites/{run.id + 1}",
        "artifacts_url": f"{url}/artifacts",
        "cancel_url": f"{url}/cancel",
        "rerun_url": f"{url}/rerun",
        "previous_attempt_url": (
            f"{url}/attempts/{run.run_attempt - 1}" if run.run_attempt > 1 else None
        ),
        "workflow_url": f"{gh.api}/repos/{repo.full_name}/actions/workflows/{run.workflow_id}",
        "head_commit": (
            {
                "id": head.sha,
                "tree_id": "0" * 40,
                "message": head.message,
                "timestamp": head.at,
                "author": {"name": head.author, "email": f"{head.author}@users.noreply.github.com"},
                "committer": {
                    "name": head.author,
                    "email": f"{head.author}@users.noreply.github.com",
                },
            }
            if head
            else None
        ),
        "repository": repo_json(gh, repo),
        "head_repository": repo_json(gh, repo),
    }


def job_json(gh: GitHubState, repo: Repo, run: WorkflowRun, job: Job) -> Json:
    return {
        "id": job.id,
        "run_id": run.id,
        "run_url": f"{gh.api}/repos/{repo.full_name}/actions/runs/{run.id}",
        "run_attempt": job.run_attempt,
        "node_id": node_id("CheckRun", job.id),
        "head_sha": run.head_sha,
        "head_branch": run.head_branch,
        "url": f"{gh.api}/repos/{repo.full_name}/actions/jobs/{job.id}",
        "html_url": f"{gh.web}/{repo.full_name}/actions/runs/{run.id}/job/{job.id}",
        "status": job.status,
        "conclusion": job.conclusion,
        "created_at": job.started_at,
        "started_at": job.started_at,
        "completed_at": job.completed_at,
        "name": job.name,
        "steps": job.steps,
        "check_run_url": f"{gh.api}/repos/{repo.full_name}/check-runs/{job.id}",
        "labels": ["ubuntu-latest"],
        "runner_id": 1,
        "runner_name": "GitHub Actions 1",
        "runner_group_id": 1,
        "runner_group_name": "GitHub Actions",
        "workflow_name": run.name,
    }


def environment_json(gh: GitHubState, repo: Repo, pending: PendingDeployment) -> Json:
    return {
        "id": pending.environment_id,
        "node_id": node_id("Environment", pending.environment_id),
        "name": pending.environment,
        "url": f"{gh.api}/repos/{repo.full_name}/environments/{pending.environment}",
        "html_url": f"{gh.web}/{repo.full_name}/deployments/activity_log?environments_filter="
        f"{pending.environment}",
    }


def pending_deployment_json(
    gh: GitHubState, repo: Repo, pending: PendingDeployment, viewer: str | None
) -> Json:
    reviewers = [{"type": "User", "reviewer": user_json(gh, login)} for login in pending.reviewers]
    for ref in pending.teams:
        org, _, slug = ref.partition("/")
        reviewers.append({"type": "Team", "reviewer": team_json(gh, gh.team(org, slug))})
    return {
        "environment": environment_json(gh, repo, pending),
        "wait_timer": pending.wait_timer,
        "wait_timer_started_at": pending.created_at if pending.wait_timer else None,
        "current_user_can_approve": viewer is not None and gh.may_review(pending, viewer),
        "reviewers": reviewers,
    }


def deployment_json(
    gh: GitHubState, repo: Repo, run: WorkflowRun, pending: PendingDeployment, by: str, number: int
) -> Json:
    url = f"{gh.api}/repos/{repo.full_name}/deployments/{number}"
    return {
        "url": url,
        "id": number,
        "node_id": node_id("Deployment", number),
        "sha": run.head_sha,
        "ref": run.head_branch,
        "task": "deploy",
        "payload": {},
        "original_environment": pending.environment,
        "environment": pending.environment,
        "description": None,
        "creator": user_json(gh, by),
        "created_at": iso(),
        "updated_at": iso(),
        "statuses_url": f"{url}/statuses",
        "repository_url": f"{gh.api}/repos/{repo.full_name}",
        "transient_environment": False,
        "production_environment": pending.environment == "production",
    }


def installation_json(gh: GitHubState, installation: Installation) -> Json:
    app = gh.apps[installation.app_id]
    account = gh.ensure_user(installation.account)
    return {
        "id": installation.id,
        "client_id": f"Iv1.{installation.app_id:016x}",
        "account": user_json(gh, account.login),
        "repository_selection": "all" if installation.repositories is None else "selected",
        "access_tokens_url": f"{gh.api}/app/installations/{installation.id}/access_tokens",
        "repositories_url": f"{gh.api}/installation/repositories",
        "html_url": f"{gh.web}/organizations/{account.login}/settings/installations/"
        f"{installation.id}",
        "app_id": app.id,
        "app_slug": app.slug,
        "target_id": account.id,
        "target_type": account.type,
        "permissions": installation.permissions,
        "events": ["check_run", "pull_request", "workflow_run"],
        "created_at": "2020-01-01T00:00:00Z",
        "updated_at": "2020-01-01T00:00:00Z",
        "single_file_name": None,
        "has_multiple_single_files": False,
        "single_file_paths": [],
        "suspended_by": None,
        "suspended_at": None,
    }
