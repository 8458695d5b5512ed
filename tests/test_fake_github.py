"""FakeGitHub behaves like GitHub's REST API for the real PyGithub client, over real HTTP.

Each test also shows the exact PyGithub call the bot uses for an action: merge with the
head sha, re-run failed jobs, approve or reject pending deployments (PyGithub has no
helper: `requester.requestJsonAndCheck`), download a job's log, GitHub App auth.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from github import Auth, Github, GithubException, GithubIntegration, GithubRetry
from github.GithubException import BadCredentialsException, RateLimitExceededException

from tests.fakes import github_api
from tests.fakes.github_api import FakeGitHub
from tests.slack_app import wait_for

fake_github = github_api.fake_github  # the fixture

REPO = "octo/app"


def github_error(call: Any) -> GithubException:
    with pytest.raises(GithubException) as caught:
        call()
    return caught.value


def private_key_pem() -> tuple[str, str]:
    """(private PEM, public PEM) of a fresh RSA key, as a GitHub App has."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private.decode(), public.decode()


@pytest.fixture
def repo_with_pull(fake_github: FakeGitHub) -> int:
    fake_github.add_repo(REPO, allow_rebase_merge=False)
    fake_github.add_collaborator(REPO, "ana", "write")
    fake_github.add_collaborator(REPO, "bob", "write")
    return fake_github.add_pull(
        REPO, head="feature/login", title="Add login", labels=["backend"], body="Closes ABC-1"
    )


# ---- repositories and pull requests --------------------------------------------------


def test_repo_and_pull_read_like_github(fake_github: FakeGitHub, repo_with_pull: int) -> None:
    repo = fake_github.client().get_repo(REPO)
    assert (repo.full_name, repo.default_branch, repo.private) == (REPO, "main", True)
    assert (repo.allow_merge_commit, repo.allow_squash_merge, repo.allow_rebase_merge) == (
        True,
        True,
        False,
    )
    assert repo.owner.login == "octo" and repo.owner.type == "Organization"

    pull = repo.get_pull(repo_with_pull)
    assert (pull.number, pull.state, pull.draft, pull.merged) == (
        repo_with_pull,
        "open",
        False,
        False,
    )
    assert pull.head.ref == "feature/login" and pull.base.ref == "main"
    assert pull.head.sha == fake_github.branch_head(REPO, "feature/login")
    assert (pull.mergeable, pull.mergeable_state) == (True, "clean")
    assert [label.name for label in pull.labels] == ["backend"]
    assert pull.user.login == "ana" and pull.html_url.endswith(f"/{REPO}/pull/{repo_with_pull}")
    assert pull.base.repo.full_name == REPO


def test_merge_with_the_head_sha_merges_and_is_recorded(
    fake_github: FakeGitHub, repo_with_pull: int
) -> None:
    pull = fake_github.client().get_repo(REPO).get_pull(repo_with_pull)
    main_before = fake_github.branch_head(REPO)

    status = pull.merge(sha=pull.head.sha, merge_method="squash", commit_title="Add login (#1)")

    assert status.merged and status.message == "Pull Request successfully merged"
    (merge,) = fake_github.merges(REPO)
    assert (merge.number, merge.sha, merge.merge_method) == (
        repo_with_pull,
        pull.head.sha,
        "squash",
    )
    assert (merge.commit_title, merge.by, merge.merge_commit_sha) == (
        "Add login (#1)",
        "devexbot",
        status.sha,
    )
    after = fake_github.client().get_repo(REPO).get_pull(repo_with_pull)
    assert (after.state, after.merged, after.merge_commit_sha) == ("closed", True, status.sha)
    assert after.merged_by.login == "devexbot" and after.merged_at is not None
    assert fake_github.branch_head(REPO) == status.sha != main_before
    (call,) = fake_github.calls("PUT", "/repos/*/pulls/*/merge")
    assert call.json() == {
        "sha": pull.head.sha,
        "merge_method": "squash",
        "commit_title": "Add login (#1)",
    }
    assert call.status == 200 and call.user == "devexbot"


def test_merge_settings_change_and_may_be_hidden_from_the_token(
    fake_github: FakeGitHub, repo_with_pull: int
) -> None:
    gh = fake_github.client()
    fake_github.update_repo(REPO, allow_merge_commit=False, allow_rebase_merge=True)
    repo = gh.get_repo(REPO)
    assert (repo.allow_merge_commit, repo.allow_squash_merge, repo.allow_rebase_merge) == (
        False, True, True)
    fake_github.update_repo(REPO, merge_settings_visible=False)  # some fine-grained tokens
    hidden = gh.get_repo(REPO)
    assert (hidden.allow_merge_commit, hidden.allow_squash_merge,
            hidden.allow_rebase_merge) == (None, None, None)
    pull = hidden.get_pull(repo_with_pull)
    refused = github_error(lambda: pull.merge(sha=pull.head.sha, merge_method="merge"))
    assert (refused.status, refused.data["message"]) == (
        405, "Merge commits are not allowed on this repository.")


def test_merge_refusals_are_github_exceptions_with_status(
    fake_github: FakeGitHub, repo_with_pull: int
) -> None:
    gh = fake_github.client()
    pull = gh.get_repo(REPO).get_pull(repo_with_pull)
    stale_sha = pull.head.sha

    fake_github.push(REPO, "feature/login", "Fix typo")  # the head moves under the button
    moved = github_error(lambda: pull.merge(sha=stale_sha))
    assert moved.status == 409
    assert moved.data["message"] == "Head branch was modified. Review and try the merge again."

    fresh = gh.get_repo(REPO).get_pull(repo_with_pull)
    assert github_error(lambda: fresh.merge(sha=fresh.head.sha, merge_method="rebase")).data[
        "message"
    ] == ("Rebase merges are not allowed on this repository.")
    assert github_error(lambda: fresh.merge(merge_method="octopus")).status == 422

    fake_github.update_pull(REPO, repo_with_pull, mergeable=False)  # a conflict
    conflicted = github_error(lambda: fresh.merge(sha=fresh.head.sha))
    assert (
        conflicted.status == 405 and conflicted.data["message"] == "Pull Request is not mergeable"
    )
    assert gh.get_repo(REPO).get_pull(repo_with_pull).mergeable_state == "dirty"

    fake_github.update_pull(REPO, repo_with_pull, mergeable=True, draft=True)
    assert github_error(lambda: fresh.merge(sha=fresh.head.sha)).status == 405

    fake_github.update_pull(REPO, repo_with_pull, draft=False, state="closed")
    assert github_error(lambda: fresh.merge(sha=fresh.head.sha)).status == 405
    assert fake_github.merges() == []


def test_required_checks_are_rechecked_before_merge(
    fake_github: FakeGitHub, repo_with_pull: int
) -> None:
    fake_github.protect_branch(REPO, "main", ["ci/build", "test"])
    gh = fake_github.client()
    repo = gh.get_repo(REPO)
    pull = repo.get_pull(repo_with_pull)
    sha = pull.head.sha
    fake_github.set_status(REPO, sha, "ci/build", "pending", target_url="http://ci/1")
    fake_github.add_check_run(REPO, sha, "test", conclusion="failure")

    required = repo.get_branch("main").get_required_status_checks()
    assert required.contexts == ["ci/build", "test"] and required.strict is False
    commit = repo.get_commit(sha)
    combined = commit.get_combined_status()
    assert combined.state == "pending"
    assert [(s.context, s.state, s.target_url) for s in combined.statuses] == [
        ("ci/build", "pending", "http://ci/1")
    ]
    assert [(r.name, r.status, r.conclusion) for r in commit.get_check_runs()] == [
        ("test", "completed", "failure")
    ]
    assert repo.get_pull(repo_with_pull).mergeable_state == "blocked"
    blocked = github_error(lambda: pull.merge(sha=sha))
    assert blocked.status == 405
    assert blocked.data["message"] == 'Required status check "ci/build" is expected.'

    fake_github.set_status(REPO, sha, "ci/build", "success")
    fake_github.add_check_run(REPO, sha, "test", conclusion="success")  # a re-run went green
    assert commit.get_combined_status().state == "success"
    assert [r.conclusion for r in commit.get_check_runs()] == ["success"]  # filter=latest
    assert len(list(commit.get_check_runs(filter="all"))) == 2
    assert repo.get_pull(repo_with_pull).mergeable_state == "clean"
    assert pull.merge(sha=sha).merged

    unprotected = github_error(
        lambda: repo.get_branch("feature/login").get_required_status_checks()
    )
    assert unprotected.status == 404 and unprotected.data["message"] == "Branch not protected"


# ---- GitHub Actions ------------------------------------------------------------------


def test_rerun_failed_jobs_starts_a_new_attempt(fake_github: FakeGitHub) -> None:
    fake_github.add_repo(REPO)
    run_id = fake_github.add_workflow_run(
        REPO, conclusion="failure", jobs={"build": "success", "test": "failure"}
    )
    run = fake_github.client().get_repo(REPO).get_workflow_run(run_id)
    assert (run.status, run.conclusion, run.run_attempt) == ("completed", "failure", 1)

    assert run.rerun_failed_jobs() is True

    (rerun,) = fake_github.reruns(REPO, run_id)
    assert (rerun.kind, rerun.jobs, rerun.attempt, rerun.by) == (
        "failed_jobs",
        ("test",),
        2,
        "devexbot",
    )
    run.update()
    assert (run.status, run.conclusion, run.run_attempt) == ("queued", None, 2)
    jobs = {j.name: (j.status, j.run_attempt) for j in run.jobs()}
    assert jobs == {"build": ("completed", 2), "test": ("queued", 2)}
    assert run.rerun_failed_jobs() is False  # 403: this workflow is already running

    fake_github.complete_run(REPO, run_id, "success")
    assert run.rerun() is True
    assert [r.kind for r in fake_github.reruns(REPO, run_id)] == ["failed_jobs", "all"]
    assert fake_github.run(REPO, run_id).run_attempt == 3


def test_pending_deployments_are_approved_and_rejected_through_the_requester(
    fake_github: FakeGitHub,
) -> None:
    fake_github.add_repo(REPO)
    fake_github.add_token("ghp_carol", "carol")
    fake_github.add_team("octo", "release", members=["carol"], repos={REPO: "write"})
    run_id = fake_github.add_workflow_run(REPO, status="in_progress", jobs={"deploy": None})
    staging = fake_github.add_pending_deployment(REPO, run_id, "staging", reviewers=["devexbot"])
    production = fake_github.add_pending_deployment(REPO, run_id, "production", teams=["release"])
    gh = fake_github.client()
    run = gh.get_repo(REPO).get_workflow_run(run_id)
    assert run.status == "waiting"

    # What the bot calls: PyGithub has no helper for pending deployments.
    _, pending = gh.requester.requestJsonAndCheck("GET", f"{run.url}/pending_deployments")
    assert [(p["environment"]["id"], p["environment"]["name"]) for p in pending] == [
        (staging, "staging"),
        (production, "production"),
    ]
    assert [p["current_user_can_approve"] for p in pending] == [True, False]
    assert pending[1]["reviewers"][0]["type"] == "Team"

    _, deployments = gh.requester.requestJsonAndCheck(
        "POST",
        f"{run.url}/pending_deployments",
        input={"environment_ids": [staging], "state": "approved", "comment": "Approved by @ana"},
    )
    assert [(d["environment"], d["sha"]) for d in deployments] == [("staging", run.head_sha)]

    again = github_error(
        lambda: gh.requester.requestJsonAndCheck(
            "POST",
            f"{run.url}/pending_deployments",
            input={"environment_ids": [staging], "state": "approved", "comment": "again"},
        )
    )
    assert again.status == 422
    refused = github_error(
        lambda: gh.requester.requestJsonAndCheck(
            "POST",
            f"{run.url}/pending_deployments",
            input={"environment_ids": [production], "state": "approved", "comment": "me?"},
        )
    )
    assert refused.status == 422 and "not a required reviewer" in refused.data["message"]

    carol = Github(auth=Auth.Token("ghp_carol"), **fake_github.client_options())
    carol.requester.requestJsonAndCheck(
        "POST",
        f"{run.url}/pending_deployments",
        input={"environment_ids": [production], "state": "rejected", "comment": "Not today"},
    )

    reviews = fake_github.deployment_reviews(REPO, run_id)
    assert [(r.environments, r.state, r.comment, r.by) for r in reviews] == [
        (("staging",), "approved", "Approved by @ana", "devexbot"),
        (("production",), "rejected", "Not today", "carol"),
    ]
    run.update()
    assert (run.status, run.conclusion) == ("completed", "failure")
    assert gh.requester.requestJsonAndCheck("GET", f"{run.url}/pending_deployments")[1] == []


def test_job_logs_download_follows_the_redirect(fake_github: FakeGitHub) -> None:
    fake_github.add_repo(REPO)
    run_id = fake_github.add_workflow_run(REPO, conclusion="failure")
    fake_github.add_job(
        REPO, run_id, "test", conclusion="failure", log="2026-01-01T12:00:00Z FAILED test_x\n"
    )
    gh = fake_github.client()
    (job,) = gh.get_repo(REPO).get_workflow_run(run_id).jobs()

    link = job.logs_url()  # GitHub answers 302 to a short-lived download URL
    assert link.startswith(fake_github.base_url + "/")
    assert requests.get(link, timeout=2).text == "2026-01-01T12:00:00Z FAILED test_x\n"

    status, headers, chunks = gh.requester.getStream(f"{job.url}/logs")  # follows the 302
    assert status == 200 and headers["content-type"].startswith("text/plain")
    assert b"".join(chunks) == b"2026-01-01T12:00:00Z FAILED test_x\n"
    assert [c.status for c in fake_github.calls("GET", f"/repos/{REPO}/actions/jobs/*/logs")] == [
        302,
        302,
    ]
    assert requests.get(link + "x", timeout=2).status_code == 403  # not a link GitHub gave


# ---- what is in a deploy -------------------------------------------------------------


def test_compare_lists_the_commits_of_a_deploy(fake_github: FakeGitHub) -> None:
    deployed = fake_github.add_repo(REPO)
    fake_github.add_commit(REPO, "Fix login (ABC-1)")
    number = fake_github.add_pull(REPO, head="feature/search", title="Add search")
    head = fake_github.branch_head(REPO, "feature/search")
    repo = fake_github.client().get_repo(REPO)
    merged = repo.get_pull(number).merge(sha=head, merge_method="merge")

    comparison = repo.compare(deployed, merged.sha)

    assert (comparison.status, comparison.ahead_by, comparison.behind_by) == ("ahead", 3, 0)
    assert [c.commit.message.splitlines()[0] for c in comparison.commits] == [
        "Fix login (ABC-1)",
        "Add search",
        f"Merge pull request #{number} from octo/feature/search",
    ]
    assert [p.number for p in repo.get_commit(merged.sha).get_pulls()] == [number]
    assert [p.number for p in repo.get_commit(head).get_pulls()] == [number]
    assert repo.compare(merged.sha, merged.sha).status == "identical"


# ---- people and labels ---------------------------------------------------------------


def test_a_permission_github_does_not_have_is_refused_at_setup(fake_github: FakeGitHub) -> None:
    fake_github.add_repo(REPO)
    with pytest.raises(ValueError, match="permission must be one of"):
        fake_github.add_team("octo", "backend", repos={REPO: "push"})  # the legacy name
    with pytest.raises(ValueError, match="permission must be one of"):
        fake_github.add_collaborator(REPO, "bob", "push")


def test_collaborators_teams_labels_and_review_requests(
    fake_github: FakeGitHub, repo_with_pull: int
) -> None:
    fake_github.add_team("octo", "backend", members=["bob", "dan"], repos={REPO: "maintain"})
    fake_github.add_label(REPO, "deploy:staging", color="0e8a16")
    gh = fake_github.client()
    repo = gh.get_repo(REPO)

    assert {u.login: u.permissions.push for u in repo.get_collaborators()} == {
        "ana": True,
        "bob": True,
        "dan": True,
    }
    assert repo.get_collaborator_permission("dan") == "write"  # maintain, in the legacy field
    assert [(t.slug, t.permission) for t in repo.get_teams()] == [("backend", "maintain")]
    team = gh.get_organization("octo").get_team_by_slug("backend")
    assert [m.login for m in team.get_members()] == ["bob", "dan"]
    assert {label.name for label in repo.get_labels()} == {"backend", "deploy:staging"}

    pull = repo.get_pull(repo_with_pull)
    pull.add_to_labels("deploy:staging", "hotfix")  # an unknown label is created
    pull.create_review_request(reviewers=["bob"], team_reviewers=["backend"])
    after = fake_github.pull(REPO, repo_with_pull)
    assert after.labels == ["backend", "deploy:staging", "hotfix"]
    assert (after.requested_reviewers, after.requested_teams) == (["bob"], ["backend"])
    users, teams = repo.get_pull(repo_with_pull).get_review_requests()
    assert [u.login for u in users] == ["bob"] and [t.slug for t in teams] == ["backend"]

    outsider = github_error(lambda: pull.create_review_request(reviewers=["mallory"]))
    assert outsider.status == 422 and "not a collaborator" in outsider.data["message"]
    author = github_error(lambda: pull.create_review_request(reviewers=["ana"]))
    assert author.data["message"] == "Review cannot be requested from pull request author."


# ---- authentication ------------------------------------------------------------------


def test_token_auth_and_bad_credentials(fake_github: FakeGitHub) -> None:
    fake_github.add_repo(REPO)
    options = fake_github.client_options()
    assert Github(auth=Auth.Token(fake_github.token), **options).get_user().login == "devexbot"

    wrong = Github(auth=Auth.Token("ghp_wrong"), **options)
    with pytest.raises(BadCredentialsException) as caught:
        wrong.get_repo(REPO)
    assert caught.value.status == 401 and caught.value.data["message"] == "Bad credentials"
    anonymous = Github(**options)
    assert github_error(lambda: anonymous.get_repo(REPO)).status == 401
    bearer = requests.get(
        f"{fake_github.base_url}/repos/{REPO}",
        headers={"Authorization": f"Bearer {fake_github.token}"},
        timeout=2,
    )
    assert bearer.status_code == 200 and bearer.headers["X-RateLimit-Limit"] == "5000"
    assert github_error(lambda: fake_github.client().get_repo("octo/missing")).status == 404


def test_github_app_installation_tokens(fake_github: FakeGitHub) -> None:
    private, public = private_key_pem()
    fake_github.add_app(42, public, slug="devexbot")
    fake_github.add_installation(7, 42, "octo")
    fake_github.add_repo(REPO)
    fake_github.add_repo("other/lib")
    number = fake_github.add_pull(REPO, head="feature/x")

    app_auth = Auth.AppAuth(42, private)
    options = fake_github.client_options()
    installation = GithubIntegration(auth=app_auth, **options)
    assert installation.get_repo_installation("octo", "app").id == 7
    gh = Github(auth=app_auth.get_installation_auth(7), **options)

    pull = gh.get_repo(REPO).get_pull(number)
    assert pull.merge(sha=pull.head.sha).merged
    assert fake_github.merges()[0].by == "devexbot[bot]"
    (issued,) = fake_github.issued_tokens()
    assert issued.installation_id == 7 and issued.expires_at > time.time() + 3000
    (token_call,) = fake_github.calls("POST", "/app/installations/7/access_tokens")
    assert token_call.headers["authorization"].startswith("Bearer ey") and token_call.status == 201
    assert github_error(lambda: gh.get_repo("other/lib")).status == 404  # not installed there

    fake_github.expire_tokens()  # PyGithub only refreshes near expires_at: GitHub says 401
    assert github_error(lambda: gh.get_repo(REPO)).status == 401

    def expired(payload: dict[str, Any]) -> str:
        return jwt.encode({**payload, "exp": payload["iat"] + 30}, private, algorithm="RS256")

    stale = GithubIntegration(auth=Auth.AppAuth(42, sign_func=expired), **options)
    assert "'Expiration time'" in github_error(lambda: stale.get_access_token(7)).data["message"]
    forged, _ = private_key_pem()
    forger = GithubIntegration(auth=Auth.AppAuth(42, forged), **options)
    bad = github_error(lambda: forger.get_access_token(7))
    assert bad.status == 401 and bad.data["message"] == "A JSON web token could not be decoded"


# ---- faults --------------------------------------------------------------------------


def test_scripted_failures_and_rate_limits(fake_github: FakeGitHub, repo_with_pull: int) -> None:
    pull = fake_github.client().get_repo(REPO).get_pull(repo_with_pull)

    fake_github.fail_next("PUT /repos/*/pulls/*/merge", status=502)
    assert github_error(lambda: pull.merge(sha=pull.head.sha)).status == 502
    assert fake_github.merges() == []  # a failed call does nothing

    fake_github.rate_limit_next("GET", retry_after=None)
    with pytest.raises(RateLimitExceededException):
        fake_github.client().get_repo(REPO)

    fake_github.rate_limit_next(f"/repos/{REPO}", retry_after=0)
    retrying = fake_github.client(retry=GithubRetry())  # PyGithub's default: waits, retries
    assert retrying.get_repo(REPO).full_name == REPO
    assert [c.status for c in fake_github.calls("GET", f"/repos/{REPO}")][-2:] == [403, 200]
    assert fake_github.calls("GET", f"/repos/{REPO}")[-2].response_headers["Retry-After"] == "0"

    assert pull.merge(sha=pull.head.sha).merged


def test_slow_github_delays_answers_not_effects(
    fake_github: FakeGitHub, repo_with_pull: int
) -> None:
    pull = fake_github.client().get_repo(REPO).get_pull(repo_with_pull)
    fake_github.delay = 0.2  # every call: "GitHub takes a while" (while Slack must ack)
    started = time.monotonic()
    assert fake_github.client().get_repo(REPO).name == "app"
    assert time.monotonic() - started >= 0.2
    fake_github.delay = 0.0

    fake_github.slow_next("PUT", 0.4)  # merges at once, answers late (a client may time out)
    with ThreadPoolExecutor(1) as pool:
        answer = pool.submit(pull.merge, sha=pull.head.sha)
        wait_for(fake_github.merges, timeout=2, what="the merge, before its answer")
        assert len(fake_github.merges()) == 1 and not answer.done()
        assert answer.result(timeout=2).merged
    (call,) = fake_github.calls("PUT")
    assert call.fault == "slow" and call.duration is not None and call.duration >= 0.4


def test_enterprise_path_prefix_and_pagination() -> None:
    with FakeGitHub(path_prefix="/api/v3") as fake:
        fake.add_repo(REPO)
        for name in ("a", "b", "c"):
            fake.add_label(REPO, name)
        gh = fake.client(per_page=2)
        assert fake.base_url.endswith("/api/v3")

        labels = gh.get_repo(REPO).get_labels()

        assert [label.name for label in labels] == ["a", "b", "c"]
        pages = fake.calls("GET", f"/repos/{REPO}/labels")
        assert [c.query.get("page") for c in pages] == [None, ["2"]]
        assert 'rel="next"' in pages[0].response_headers["Link"]
        assert "/api/v3/repos/" in pages[0].response_headers["Link"]
        headers = {"Authorization": f"token {fake.token}"}
        unprefixed = requests.get(f"{fake.url}/repos/{REPO}", headers=headers, timeout=2)
        assert unprefixed.status_code == 404  # a client without /api/v3 fails, as on GHES
