"""The ready-to-paste deploy senders of docs/senders.md really are accepted by the bot.

The shell recipe and the GitHub Actions step run as written, in bash with the real
`openssl` and `curl`, against the bot served on a local port; the Argo CD template is
rendered (tests/go_template.py) and posted the way Argo CD would.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
import yaml

from devexbot.app import build_services, create_app
from tests.conftest import DEPLOY_SECRET, make_settings
from tests.db_template import migrate
from tests.flux_sender import FluxSender, flux_body, go_json
from tests.go_template import render
from tests.slack_app import wait_for
from tests.web_client import local_client

SENDERS = Path(__file__).parent.parent / "docs" / "senders.md"
HEAD = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
REPO = "octo-org/octo-app"


def readme_block(sender: str) -> str:
    """The fenced block after `<!-- sender: NAME -->` in docs/senders.md."""
    match = re.search(rf"<!-- sender: {sender} -->\n```\w+\n(.*?)\n```", SENDERS.read_text(),
                      re.DOTALL)
    assert match, f"docs/senders.md has no {sender} sender"
    return match.group(1)


@pytest.fixture
def live_bot(tmp_path: Path) -> Iterator[str]:
    """The bot on a free local port, for senders that are real programs."""
    settings = make_settings(f"sqlite:///{tmp_path / 'bot.db'}", tmp_path)
    services = build_services(settings)
    migrate(services.db.engine)
    server = uvicorn.Server(uvicorn.Config(create_app(settings, services=services),
                                           log_level="warning", lifespan="off"))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_for(lambda: server.started, timeout=10, what="the bot to start")
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
    services.db.dispose()


def _card(bot: str) -> dict[str, Any]:
    import httpx

    response = httpx.get(f"{bot}/api/cards/{REPO}/{HEAD}")
    assert response.status_code == 200, response.text
    card: dict[str, Any] = response.json()
    return card


def _bash(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # GitHub Actions runs `run:` with `bash -e`; a deploy script would too.
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script],
                          env={"PATH": os.environ["PATH"], **env},
                          capture_output=True, text=True, timeout=30, check=False)


needs = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("bash", "openssl", "curl")),
    reason="needs bash, openssl and curl")


@needs
def test_the_shell_recipe_is_accepted(live_bot: str) -> None:
    done = _bash(readme_block("shell"), {
        "REPO": REPO, "SHA": HEAD, "ENVIRONMENT": "test", "STATUS": "in_progress",
        "DEPLOY_URL": "https://test.octo-app.example.com", "DEVEXBOT_URL": live_bot,
        "DEPLOY_WEBHOOK_SECRET": DEPLOY_SECRET,
    })
    assert done.returncode == 0, done.stderr
    assert '"status":"stored"' in done.stdout
    (line,) = _card(live_bot)["deployments"]
    assert (line["environment"], line["status"], line["source"], line["url"]) == (
        "test", "running", "deploy", "https://test.octo-app.example.com")


@needs
def test_the_shell_recipe_with_the_wrong_secret_fails_the_script(live_bot: str) -> None:
    done = _bash(readme_block("shell"), {
        "REPO": REPO, "SHA": HEAD, "ENVIRONMENT": "test", "STATUS": "success",
        "DEPLOY_URL": "https://test.octo-app.example.com", "DEVEXBOT_URL": live_bot,
        "DEPLOY_WEBHOOK_SECRET": "not-the-secret",
    })
    assert done.returncode != 0
    assert "401" in done.stderr


GITHUB_EXPRESSIONS = {
    "${{ vars.DEVEXBOT_URL }}": "<bot>",
    "${{ secrets.DEVEXBOT_DEPLOY_WEBHOOK_SECRET }}": DEPLOY_SECRET,
    "${{ job.status == 'success' && 'success' || 'failure' }}": "success",
}


@needs
@pytest.mark.skipif(shutil.which("jq") is None, reason="needs jq, as GitHub's runners have")
def test_the_github_actions_step_is_accepted(live_bot: str) -> None:
    (step,) = yaml.safe_load(readme_block("github-actions"))
    assert step["if"] == "always()"
    env = {name: GITHUB_EXPRESSIONS.get(value, value).replace("<bot>", live_bot)
           for name, value in step["env"].items()}
    env.update(GITHUB_REPOSITORY=REPO, GITHUB_SHA=HEAD, GITHUB_RUN_ID="30433700",
               GITHUB_RUN_ATTEMPT="1", GITHUB_WORKFLOW="Deploy", GITHUB_RUN_NUMBER="12")
    done = _bash(step["run"], env)
    assert done.returncode == 0, done.stderr
    (line,) = _card(live_bot)["deployments"]
    assert (line["environment"], line["status"], line["deployment_id"], line["description"]) == (
        "test", "success", "30433700-1", "Deploy #12")


def _argo_config() -> tuple[dict[str, Any], dict[str, Any]]:
    config_map, secret = yaml.safe_load_all(readme_block("argocd"))
    return config_map["data"], secret


def _argo_app(phase: str, health: str, *, deployed: str = HEAD, compared: str = HEAD,
              started: str = "2026-11-20T10:10:00Z") -> dict[str, Any]:
    """An Application as Argo CD's notifications engine hands it to templates (`.app` is
    the object as a map): `status.sync.revision` is what the app is compared with (the
    branch's newest commit), `operationState.syncResult.revision` what the sync deployed."""
    return {
        "app": {
            "metadata": {"name": "octo-app-staging", "labels": {"environment": "staging"}},
            "spec": {"source": {"repoURL": "https://github.com/octo-org/octo-app.git",
                                "targetRevision": "main", "path": "deploy"}},
            "status": {
                "sync": {"revision": compared,
                         "status": "Synced" if deployed == compared else "OutOfSync"},
                "health": {"status": health},
                "operationState": {
                    "phase": phase, "startedAt": started,
                    "operation": {"sync": {"revision": deployed}},
                    "syncResult": {"revision": deployed, "source": {
                        "repoURL": "https://github.com/octo-org/octo-app.git",
                        "targetRevision": "main", "path": "deploy"}},
                },
            },
        },
        "context": {"argocdUrl": "https://argocd.octo.example.com"},
    }


CHART = {"repoURL": "https://charts.example.com", "chart": "octo-app",
         "targetRevision": "1.4.2",
         "helm": {"valueFiles": ["$values/deploy/values-staging.yaml"]}}
GIT = {"repoURL": "https://github.com/octo-org/octo-app.git", "targetRevision": "main",
       "ref": "values"}


def _multi_source(app: dict[str, Any], sources: list[dict[str, Any]],
                  revisions: list[str]) -> dict[str, Any]:
    """The same Application with `spec.sources` (Argo CD then sets no `spec.source` and no
    `sync.revision`, but `sync.revisions` and `syncResult.revisions`, one per source)."""
    spec, status = app["app"]["spec"], app["app"]["status"]
    del spec["source"]
    spec["sources"] = sources
    status["sync"] = {"revisions": revisions, "status": "Synced"}
    status["operationState"]["operation"] = {"sync": {"revisions": revisions}}
    status["operationState"]["syncResult"] = {"revisions": revisions, "sources": sources}
    return app


def _post_rendered(client: Any, app: dict[str, Any], now: datetime) -> Any:
    data, _ = _argo_config()
    webhook = yaml.safe_load(data["template.devexbot-deploy"])["webhook"]["devexbot"]
    body = render(webhook["body"], app, now=now)
    return client.post(webhook["path"], content=body.encode(), headers={
        "Content-Type": "application/json", "X-Devexbot-Token": DEPLOY_SECRET})


def test_the_argocd_config_is_wired_together() -> None:
    data, secret = _argo_config()
    service = yaml.safe_load(data["service.webhook.devexbot"])
    assert {"name": "X-Devexbot-Token", "value": "$devexbot-deploy-secret"} in service["headers"]
    assert "devexbot-deploy-secret" in secret["stringData"]
    webhook = yaml.safe_load(data["template.devexbot-deploy"])["webhook"]["devexbot"]
    assert (webhook["method"], webhook["path"]) == ("POST", "/webhooks/deploy")
    for condition in yaml.safe_load(data["trigger.on-devexbot-deploy"]):
        assert condition["send"] == ["devexbot-deploy"]
    body = webhook["body"]
    for field in (".app.status.sync.revision", ".app.status.operationState.phase",
                  ".app.status.health.status"):
        assert field in body


@pytest.mark.parametrize(
    ("phase", "health", "status"),
    [("Running", "Progressing", "running"), ("Succeeded", "Progressing", "running"),
     ("Succeeded", "Healthy", "success"), ("Succeeded", "Degraded", "failure"),
     ("Failed", "Missing", "failure"), ("Error", "Healthy", "failure")],
)
def test_the_argocd_template_renders_events_the_bot_accepts(
    sqlite_url: str, tmp_path: Path, phase: str, health: str, status: str
) -> None:
    data, _ = _argo_config()
    webhook = yaml.safe_load(data["template.devexbot-deploy"])["webhook"]["devexbot"]
    body = render(webhook["body"], _argo_app(phase, health),
                  now=datetime(2026, 11, 20, 10, 12, tzinfo=UTC))
    settings = make_settings(sqlite_url, tmp_path)
    with local_client(create_app(settings)) as client:
        migrate(client.app.state.db.engine)
        response = client.post(webhook["path"], content=body.encode(), headers={
            "Content-Type": "application/json", "X-Devexbot-Token": DEPLOY_SECRET})
        assert response.status_code == 202, response.text
        (line,) = client.get(f"/api/cards/{REPO}/{HEAD}").json()["deployments"]
    assert (line["environment"], line["status"], line["updated_at"]) == (
        "staging", status, "2026-11-20T10:12:00Z")
    assert line["url"] == "https://argocd.octo.example.com/applications/octo-app-staging"
    assert line["description"] == f"Argo CD sync {phase}, health {health}"


def test_an_application_without_the_environment_label_is_told_why(
    sqlite_url: str, tmp_path: Path
) -> None:
    data, _ = _argo_config()
    webhook = yaml.safe_load(data["template.devexbot-deploy"])["webhook"]["devexbot"]
    app = _argo_app("Succeeded", "Healthy")
    del app["app"]["metadata"]["labels"]["environment"]
    body = render(webhook["body"], app, now=datetime(2026, 11, 20, 10, 12, tzinfo=UTC))
    with local_client(create_app(make_settings(sqlite_url, tmp_path))) as client:
        response = client.post(webhook["path"], content=body.encode(), headers={
            "Content-Type": "application/json", "X-Devexbot-Token": DEPLOY_SECRET})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("field environment is '<no value>'")


@pytest.mark.parametrize(
    ("sources", "revisions"),
    [([GIT, CHART], [HEAD, "1.4.2"]), ([CHART, GIT], ["1.4.2", HEAD]),
     ([GIT], [HEAD])],
    ids=["git-first", "chart-first", "git-only"],
)
def test_the_argocd_template_serves_multi_source_applications(
    sqlite_url: str, tmp_path: Path, sources: list[dict[str, Any]], revisions: list[str]
) -> None:
    app = _multi_source(_argo_app("Succeeded", "Healthy"), sources, revisions)
    with local_client(create_app(make_settings(sqlite_url, tmp_path))) as client:
        migrate(client.app.state.db.engine)
        response = _post_rendered(client, app, datetime(2026, 11, 20, 10, 12, tzinfo=UTC))
        assert response.status_code == 202, response.text
        (line,) = client.get(f"/api/cards/{REPO}/{HEAD}").json()["deployments"]
    assert (line["environment"], line["status"]) == ("staging", "success")


def test_a_multi_source_application_of_charts_only_is_told_why(
    sqlite_url: str, tmp_path: Path
) -> None:
    app = _multi_source(_argo_app("Succeeded", "Healthy"), [CHART], ["1.4.2"])
    with local_client(create_app(make_settings(sqlite_url, tmp_path))) as client:
        response = _post_rendered(client, app, datetime(2026, 11, 20, 10, 12, tzinfo=UTC))
    assert response.status_code == 400
    assert response.json()["detail"] == "missing field repository"


OLDER = "7638417db6d59f3c431d3e1f261cc637155684cd"


def test_an_argocd_rollback_shows_the_older_commit_live(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path)
    services = build_services(settings)
    migrate(services.db.engine)
    with local_client(create_app(settings, services=services)) as client:
        for deployed, at in [(OLDER, 9), (HEAD, 10)]:  # two syncs of main, then...
            app = _argo_app("Succeeded", "Healthy", deployed=deployed, compared=deployed,
                            started=f"2026-11-20T{at:02}:00:00Z")
            assert _post_rendered(client, app, datetime(2026, 11, 20, at, 1, tzinfo=UTC)
                                  ).status_code == 202
        # ...`argocd app rollback` to the first: main still names HEAD, the sync OLDER.
        app = _argo_app("Succeeded", "Healthy", deployed=OLDER, compared=HEAD,
                        started="2026-11-20T11:00:00Z")
        response = _post_rendered(client, app, datetime(2026, 11, 20, 11, 1, tzinfo=UTC))
        assert response.json()["card"] == f"/api/cards/{REPO}/{OLDER}"
        (live,) = client.get(f"/api/environments?repo={REPO}").json()["environments"]
        older = client.get(f"/api/cards/{REPO}/{OLDER}").json()["deployments"]
    services.db.dispose()
    assert (live["environment"], live["sha"], live["since"]) == (
        "staging", OLDER, "2026-11-20T11:01:00Z")
    assert [(line["status"], line["updated_at"]) for line in older] == [
        ("success", "2026-11-20T11:01:00Z")]


def test_the_flux_objects_are_wired_together_and_their_events_land(
    sqlite_url: str, tmp_path: Path
) -> None:
    secret, provider, alert = yaml.safe_load_all(readme_block("flux"))
    assert provider["spec"]["type"] == "generic-hmac"
    assert provider["spec"]["secretRef"]["name"] == secret["metadata"]["name"]
    assert alert["spec"]["providerRef"]["name"] == provider["metadata"]["name"]
    address = secret["stringData"]["address"]
    assert address.endswith("/webhooks/flux")
    # notification-controller adds the Alert's eventMetadata to the event, and signs it
    # with the Secret's token (the bot's DEPLOY_WEBHOOK_SECRET).
    event = json.loads(flux_body("kustomization.succeeded"))
    event["metadata"] |= alert["spec"]["eventMetadata"]
    with local_client(create_app(make_settings(sqlite_url, tmp_path))) as client:
        migrate(client.app.state.db.engine)
        sender = FluxSender(client, DEPLOY_SECRET, path=address.split("example.com", 1)[1])
        assert sender.send(go_json(event)).status_code == 202
        (live,) = client.get(f"/api/environments?repo={REPO}").json()["environments"]
    assert (live["environment"], live["sha"]) == ("production", HEAD)
