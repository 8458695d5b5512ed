"""The command line as a person uses it: real processes, one-line errors, exit status 2."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devexbot.store.migrate import head_revision
from tests.conftest import GITHUB_SECRET
from tests.e2e.serve_process import REPO_ROOT, process_env, start_serve
from tests.github_sender import GitHubSender, load_fixture

EXAMPLE_CONFIG = REPO_ROOT / "config" / "devexbot.example.yaml"


def run(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "devexbot", *args], cwd=cwd,
                          env=process_env(**env), capture_output=True, text=True, timeout=60)


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines and all(line.startswith("devexbot: error: ") for line in lines), lines
    for fragment in fragments:
        assert fragment in result.stderr


def test_check_config_accepts_the_example(tmp_path: Path) -> None:
    result = run("check-config", str(EXAMPLE_CONFIG), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "OK (2 routes, 2 people, 3 environments, 1 runbooks)" in result.stdout
    assert result.stderr == ""  # the example uses no deprecated key


def test_check_config_warns_in_one_line_about_the_old_expiry_key(tmp_path: Path) -> None:
    config = tmp_path / "devexbot.yaml"
    config.write_text("schedule:\n  timezone: UTC\n  approval_expires_after_hours: 2\n")
    result = run("check-config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"{config}: OK" in result.stdout
    (warning,) = result.stderr.splitlines()
    assert warning.startswith(f"devexbot: warning: {config}:3: "
                              "schedule.approval_expires_after_hours: deprecated: set "
                              "approvals.<environment>.expires_after instead"), warning


def test_check_config_names_file_and_line_of_each_mistake(tmp_path: Path) -> None:
    config = tmp_path / "devexbot.yaml"
    config.write_text(
        "routes:\n"
        "  - repos: [octo-org/*]\n"
        "    chanel: '#deploys'\n"  # line 3: typo
        "people:\n"
        "  ana: not-a-slack-id\n"  # line 5
    )
    result = run("check-config", str(config), cwd=tmp_path)
    assert_one_line_error(result, f"{config}:3: routes[0].chanel: Extra inputs",
                          f"{config}:5: people.ana.slack")


def test_check_config_reports_yaml_syntax_errors_with_their_line(tmp_path: Path) -> None:
    config = tmp_path / "devexbot.yaml"
    config.write_text("routes:\n  - repos: [a/b\n    channel: x\n")
    assert_one_line_error(run("check-config", str(config), cwd=tmp_path), f"{config}:",
                          "invalid YAML")


def test_check_config_of_a_missing_file_says_the_defaults_apply_as_serve_does(
        tmp_path: Path) -> None:
    result = run("check-config", "nope.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ("nope.yaml: no such file, so the bot runs on the defaults: OK "
                             "(0 routes, 0 people, 0 environments, 0 runbooks)\n")


def test_an_unreadable_config_stops_serve_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("environments: staging\n")
    result = run("serve", cwd=tmp_path, DEVEXBOT_CONFIG="bad.yaml")
    assert_one_line_error(result, "bad.yaml:1: environments: Input should be a valid list")


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("mysql://root@localhost/x", "DATABASE_URL: unsupported database 'mysql'"),
        ("not a url", "DATABASE_URL: not a database URL"),
        ("sqlite:////no/such/dir/devexbot.db", "unable to open database file"),
    ],
)
def test_a_bad_database_url_is_one_line_and_exit_2(tmp_path: Path, url: str, fragment: str
                                                   ) -> None:
    assert_one_line_error(run("db", "upgrade", cwd=tmp_path, DATABASE_URL=url), fragment)


def test_a_bad_port_is_one_line_and_exit_2(tmp_path: Path) -> None:
    assert_one_line_error(run("serve", cwd=tmp_path, PORT="eighty"), "PORT:")


def test_db_upgrade_creates_the_schema_in_wal_mode(tmp_path: Path) -> None:
    result = run("db", "upgrade", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"is at revision {head_revision()}" in result.stdout
    with sqlite3.connect(tmp_path / "devexbot.db") as conn:
        tables = {r[0] for r in conn.execute("select name from sqlite_master where type='table'")}
        assert {"deliveries", "events", "cards", "alembic_version"} <= tables
        assert conn.execute("pragma journal_mode").fetchone()[0] == "wal"


def test_serve_refuses_a_postgres_schema_that_is_not_upgraded(tmp_path: Path,
                                                              postgres_schema_url: str) -> None:
    result = run("serve", cwd=tmp_path, DATABASE_URL=postgres_schema_url)
    assert_one_line_error(result, "run `devexbot db upgrade`")
    assert run("db", "upgrade", cwd=tmp_path, DATABASE_URL=postgres_schema_url).returncode == 0


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """`devexbot serve` as a real process on the embedded default (SQLite in the cwd)."""
    proc, base = start_serve(tmp_path, {"GITHUB_WEBHOOK_SECRET": GITHUB_SECRET})
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_serve_with_no_configuration_takes_deliveries_and_serves_cards(served: str,
                                                                       tmp_path: Path) -> None:
    assert (tmp_path / "devexbot.db").exists()  # created and migrated by itself
    with httpx.Client(base_url=served, timeout=10) as client:
        assert GitHubSender(client, GITHUB_SECRET).deliver(
            "check_run", load_fixture("check_run.completed")).status_code == 202
        card = client.get("/api/cards/octo-org/octo-app/6dcb09b").json()
    assert card["checks"][0]["name"] == "build"
    assert card["checks"][0]["status"] == "success"
    assert json.loads(json.dumps(card))["slack"] is None
