"""A bot wired to the fake Slack, for tests: settings, services and a waiting helper."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from devexbot.publish.outbox import OutboxPolicy
from devexbot.wiring import Services, build_services
from tests.conftest import make_settings
from tests.db_template import migrate
from tests.fakes.slack_api import DEFAULT_TOKEN as BOT_TOKEN

SIGNING_SECRET = "test-signing-secret"
DEFAULT_CHANNEL = "C0DEPLOYS"
FAST = OutboxPolicy(quiet=0.3, max_delay=1.0, retry_base=0.2, retry_max=2.0)


def slack_services(database_url: str, tmp_path: Path, base_url: str, *,
                   config: str | None = None, policy: OutboxPolicy = FAST,
                   **settings: Any) -> Services:
    """Services talking to the fake Slack at `base_url`, schema migrated."""
    config_path = tmp_path / "devexbot.yaml"
    if config is not None:
        config_path.write_text(config)
    values: dict[str, Any] = {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": base_url,
        "slack_default_channel": DEFAULT_CHANNEL,
        "devexbot_config": config_path,
    }
    values.update(settings)
    services = build_services(make_settings(database_url, tmp_path, **values),
                              outbox_policy=policy)
    migrate(services.db.engine)
    return services


def wait_for(condition: Callable[[], Any], *, timeout: float = 20.0, what: str = "") -> Any:
    """Poll until `condition()` is truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")
