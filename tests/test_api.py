"""The read API: card lookup, listing, and clear 4xx answers."""

from __future__ import annotations

import copy

import pytest
from fastapi.testclient import TestClient

from tests.github_sender import GitHubSender, load_fixture
from tests.scenario import HEAD, REPO


def _status_for(sha: str, updated_at: str, repo: str = "octo-org/octo-app") -> dict:
    payload = copy.deepcopy(load_fixture("status.success"))
    payload.update(sha=sha, updated_at=updated_at, created_at=updated_at)
    payload["repository"]["full_name"] = repo
    payload.pop("commit")
    return payload


def test_cards_list_newest_first_filtered_and_limited(github: GitHubSender, client: TestClient
                                                      ) -> None:
    shas = [f"{i:x}" * 40 for i in range(1, 5)]
    for minute, sha in enumerate(shas):
        github.deliver("status", _status_for(sha, f"2026-11-20T10:0{minute}:00Z"))
    github.deliver("status", _status_for("f" * 40, "2026-11-20T11:00:00Z", repo="octo-org/other"))

    listed = client.get("/api/cards", params={"repo": REPO}).json()["cards"]
    assert [c["sha"] for c in listed] == list(reversed(shas))
    assert [c["sha"] for c in client.get("/api/cards", params={"limit": 2}).json()["cards"]] == [
        "f" * 40, shas[-1]]
    assert {c["repo"] for c in client.get("/api/cards").json()["cards"]} == {
        REPO, "octo-org/other"}


def test_a_card_can_be_read_by_a_sha_prefix_and_repo_in_any_case(github: GitHubSender,
                                                                  client: TestClient) -> None:
    github.deliver("check_run", load_fixture("check_run.completed"))
    assert client.get(f"/api/cards/Octo-Org/Octo-App/{HEAD[:7]}").json()["sha"] == HEAD
    assert client.get(f"/api/cards/{REPO}/{HEAD.upper()}").json()["sha"] == HEAD


def test_an_ambiguous_prefix_is_400(github: GitHubSender, client: TestClient) -> None:
    github.deliver("status", _status_for("abcd1" + "0" * 35, "2026-11-20T10:00:00Z"))
    github.deliver("status", _status_for("abcd2" + "0" * 35, "2026-11-20T10:00:00Z"))
    response = client.get(f"/api/cards/{REPO}/abcd")
    assert response.status_code == 400
    assert "ambiguous" in response.json()["detail"]


@pytest.mark.sqlite_only
def test_unknown_cards_are_404_with_a_reason(client: TestClient) -> None:
    for path in [f"/api/cards/{REPO}/{'0' * 40}", f"/api/cards/{REPO}/xyz",
                 f"/api/cards/{REPO}/abc"]:
        response = client.get(path)
        assert response.status_code == 404
        assert response.json() == {"detail": f"no card for {REPO}@{path.rsplit('/', 1)[1]}"}


@pytest.mark.sqlite_only
def test_bad_list_parameters_are_a_one_line_4xx(client: TestClient) -> None:
    response = client.get("/api/cards", params={"repo": "not a repo"})
    assert response.status_code == 400
    assert "owner/repo" in response.json()["detail"]
    for limit in ["0", "201", "ten"]:
        response = client.get("/api/cards", params={"limit": limit})
        assert response.status_code == 422
        assert response.json()["detail"].startswith("limit: ")


def test_runs_of_a_command_that_cannot_be_a_runbook_are_a_400(client: TestClient) -> None:
    # A NUL made PostgreSQL refuse the query: a 500, found by tests/test_openapi_fuzz.py.
    for command in ["\x00", "Deploy Now", "deploy\n"]:
        response = client.get("/api/runs", params={"command": command})
        assert response.status_code == 400
        assert "runbook's name" in response.json()["detail"]
    assert client.get("/api/runs", params={"command": "deploy"}).json() == {"runs": []}


@pytest.mark.sqlite_only
def test_healthz_checks_the_database(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}
