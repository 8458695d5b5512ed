"""Settings: environment variables, URL rewriting, secrets that never print."""

from __future__ import annotations

from pathlib import Path

import pytest

from devexbot.errors import SettingsError
from devexbot.settings import Settings, load_settings


def test_defaults_are_the_embedded_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    settings = load_settings(_env_file=None)
    assert settings.database_url == "sqlite:///./devexbot.db"
    assert settings.devexbot_config == Path("config/devexbot.yaml")
    assert settings.port == 8000
    assert settings.slack_bot_token is None
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.github_api_url == "https://api.github.com"


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgres://bot:pw@db:5432/devex", "postgresql+psycopg://bot:pw@db:5432/devex"),
        ("postgresql://bot@db/devex", "postgresql+psycopg://bot@db/devex"),
        ("postgresql+psycopg://bot@db/devex", "postgresql+psycopg://bot@db/devex"),
        ("sqlite:////var/lib/devexbot.db", "sqlite:////var/lib/devexbot.db"),
    ],
)
def test_database_urls_are_normalised(monkeypatch: pytest.MonkeyPatch, given: str, used: str
                                      ) -> None:
    monkeypatch.setenv("DATABASE_URL", given)
    assert load_settings(_env_file=None).database_url == used


def test_secrets_come_from_the_environment_and_dot_env_and_never_print(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("SLACK_BOT_TOKEN=xoxb-from-dotenv\nGITHUB_WEBHOOK_SECRET=\n")
    monkeypatch.setenv("JIRA_API_TOKEN", "jira-secret-value")
    settings = load_settings(_env_file=env_file)
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-from-dotenv"
    assert settings.github_webhook_secret is None  # empty means unset
    shown = repr(settings) + str(settings) + settings.model_dump_json()
    assert "xoxb-from-dotenv" not in shown and "jira-secret-value" not in shown


def test_bad_values_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "99999")
    with pytest.raises(SettingsError, match=r"^PORT: .*less than or equal to 65535"):
        load_settings(_env_file=None)


def test_enterprise_grid_organisations_are_a_list_of_e_ids(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_ENTERPRISE_IDS", " E0OCTO, E0SISTER ,")
    assert load_settings(_env_file=None).enterprise_ids == {"E0OCTO", "E0SISTER"}
    monkeypatch.setenv("SLACK_ENTERPRISE_IDS", "E0OCTO,T0DEVEXBOT")
    with pytest.raises(SettingsError, match=r"^SLACK_ENTERPRISE_IDS: not a Slack organisation "
                                            r"id \(E…\): 'T0DEVEXBOT'$"):
        load_settings(_env_file=None)


@pytest.mark.parametrize(("variable", "value"), [("DEVEXBOT_HEADER_TIMEOUT", "0"),
                                                 ("DEVEXBOT_BODY_TIMEOUT", "-1"),
                                                 ("DEVEXBOT_MAX_CONNECTIONS", "0")])
def test_limits_on_slow_clients_must_be_positive(monkeypatch: pytest.MonkeyPatch,
                                                 variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=rf"^{variable}: .*greater than"):
        load_settings(_env_file=None)
