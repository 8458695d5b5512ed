"""Slack listeners: the Bolt app, built once per process by `build_bolt_app`."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond

from devexbot.services import Services
from handlers.slack import card_actions, custom_buttons, pr_selects, reject_form, runbooks
from handlers.slack import subscriptions as _subscriptions  # noqa: F401 - registers commands
from handlers.slack import where as _where  # noqa: F401 - registers commands
from handlers.slack.commands import answer, devex

log = logging.getLogger(__name__)

# Without a signing secret (Socket Mode) Bolt still wants a value; HTTP requests are then
# refused by /slack/events before they reach Bolt.
_SOCKET_MODE_ONLY = "socket-mode-only"


def build_bolt_app(services: Services) -> App:
    settings = services.settings
    assert settings.slack_bot_token is not None and services.slack_client is not None
    secret = settings.slack_signing_secret
    app = App(
        signing_secret=secret.get_secret_value() if secret else _SOCKET_MODE_ONLY,
        client=services.slack_client,
        token_verification_enabled=False,  # no Slack call at start-up: Slack may be down
        logger=logging.getLogger("devexbot.slack.bolt"),
    )

    @app.command(devex.command)
    def _devex(ack: Ack, respond: Respond, command: dict[str, Any]) -> None:
        answer(ack, f"{devex.command} {command.get('text')}",
               lambda: devex.dispatch(services, command["user_id"], command["channel_id"],
                                      command.get("text") or "", command), respond)

    card_actions.register(app, services.actions)
    custom_buttons.register(app, services.actions)
    pr_selects.register(app, services.actions, services.repo_choices, services.db)
    reject_form.register(app, services.actions)
    runbooks.register(app, services)
    return app


def builtin_subcommands() -> frozenset[str]:
    """The `/devex` subcommands the code defines: no runbook may take their names."""
    return devex.builtin_names()
