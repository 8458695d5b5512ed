"""Slack listeners: the Bolt app, built once per process by `build_bolt_app`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from pydantic import SecretStr
from slack_bolt import App
from slack_bolt.middleware import Middleware
from slack_sdk import WebClient

from handlers.slack.commands import BUILTIN_SUBCOMMANDS

log = logging.getLogger(__name__)

# Without a signing secret (Socket Mode) Bolt still wants a value; HTTP requests are then
# refused by /slack/events before they reach Bolt. With one, /slack/events verifies every
# request by the bot's clock and Bolt does not check again (by the wall clock).
_SOCKET_MODE_ONLY = "socket-mode-only"

Registrar = Callable[[App], None]
"""Adds some listeners to the app (`commands.register`, `RunbookCommands.register`, …)."""


def build_bolt_app(client: WebClient, registrars: Sequence[Registrar], *,
                   signing_secret: SecretStr | None, workspace: Middleware) -> App:
    """The Bolt app on `client`, with the listeners each registrar adds; `workspace`
    refuses requests from other workspaces before any listener sees them."""
    app = App(
        signing_secret=(signing_secret.get_secret_value() if signing_secret
                        else _SOCKET_MODE_ONLY),
        client=client,
        token_verification_enabled=False,  # no Slack call at start-up: Slack may be down
        request_verification_enabled=False,
        before_authorize=workspace,
        logger=logging.getLogger("devexbot.slack.bolt"),
    )
    for register in registrars:
        register(app)
    return app


def builtin_subcommands() -> frozenset[str]:
    """The `/devex` subcommands the code defines: no runbook may take their names."""
    return BUILTIN_SUBCOMMANDS
