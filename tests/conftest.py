"""Shared fixtures: a real database per test (SQLite file, or a PostgreSQL schema) and the app."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from devexbot.app import create_app
from devexbot.settings import Settings, load_settings, normalise_database_url
from devexbot.store import Database
from devexbot.wiring import Services, build_services
from tests.db_template import migrate
from tests.deploy_sender import DeploySender
from tests.fakes.github_api import FakeGitHub
from tests.fakes.jenkins_api import FakeJenkins
from tests.fakes.slack_api import FakeSlack
from tests.github_sender import GitHubSender
from tests.jenkins_sender import JenkinsSender
from tests.web_client import local_client

pytest_plugins = ["tests.fakes.slack_api", "tests.bot"]

GITHUB_SECRET = "test-github-secret"
JENKINS_TOKEN = "test-jenkins-token"
DEPLOY_SECRET = "test-deploy-secret"
POSTGRES_ENV = "DEVEXBOT_TEST_POSTGRES_URL"


def postgres_url() -> str | None:
    raw = os.environ.get(POSTGRES_ENV)
    return normalise_database_url(raw) if raw else None


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'devexbot.db'}"


@pytest.fixture
def postgres_schema_url() -> Iterator[str]:
    """A fresh schema in the test PostgreSQL database, dropped afterwards."""
    base = postgres_url()
    if base is None:
        if os.environ.get("CI"):
            pytest.fail(f"{POSTGRES_ENV} is not set in CI: the PostgreSQL tests must run")
        pytest.skip(f"{POSTGRES_ENV} is not set (CI sets it and runs these)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test of the database runs once on SQLite and once on PostgreSQL; one marked
    `sqlite_only` (what it shows does not depend on the engine) on SQLite only."""
    if "database_url" not in metafunc.fixturenames:
        return
    engines: list[Any] = ["sqlite"]
    if metafunc.definition.get_closest_marker("sqlite_only") is None:
        engines.append(pytest.param("postgres", marks=pytest.mark.postgres))
    metafunc.parametrize("database_url", engines, indirect=True)


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> str:
    """The test's database: SQLite, or a PostgreSQL schema (see `pytest_generate_tests`)."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_schema_url"
    url: str = request.getfixturevalue(name)
    return url


def make_settings(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "_env_file": None,
        "database_url": database_url,
        "devexbot_config": tmp_path / "devexbot.yaml",
        "github_webhook_secret": GITHUB_SECRET,
        "jenkins_webhook_token": JENKINS_TOKEN,
        "deploy_webhook_secret": DEPLOY_SECRET,
    }
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = build_services(settings)
    migrate(built.db.engine)
    yield built
    built.db.dispose()


@pytest.fixture
def db(services: Services) -> Database:
    return services.db


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    """The app, Slack off: no background thread it would start (the scheduler's) runs."""
    with local_client(create_app(services.settings, services=services,
                               background=False)) as test_client:
        yield test_client


@pytest.fixture
def github(client: TestClient) -> GitHubSender:
    return GitHubSender(client, GITHUB_SECRET)


@pytest.fixture
def jenkins(client: TestClient) -> JenkinsSender:
    return JenkinsSender(client, JENKINS_TOKEN)


@pytest.fixture
def deploy(client: TestClient) -> DeploySender:
    return DeploySender(client, DEPLOY_SECRET)


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """The fake Slack, stamping messages with wall-clock `ts` as Slack does."""
    with FakeSlack(clock=time.time) as fake:
        yield fake


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    """The fake GitHub REST API, with the scenario's repository."""
    with FakeGitHub() as fake:
        fake.add_repo("octo-org/octo-app")
        yield fake


@pytest.fixture
def fake_jenkins() -> Iterator[FakeJenkins]:
    """The fake Jenkins remote API."""
    with FakeJenkins() as fake:
        yield fake
