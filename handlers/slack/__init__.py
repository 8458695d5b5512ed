"""Slack listeners: the Bolt app, built once per process by `build_bolt_app`."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager

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

# Bolt reads these from the process's environment by itself. The bot's settings (which
# also come from `.env`) already gave it the client: seeing SLACK_BOT_TOKEN, Bolt warns on
# every start that the token goes unused, and seeing SLACK_CLIENT_ID and
# SLACK_CLIENT_SECRET (Sign in with Slack's) it would authorise every request against an
# OAuth installation store the bot does not keep, so no click or command would work.
_BOLT_READS = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_CLIENT_ID",
               "SLACK_CLIENT_SECRET")

Registrar = Callable[[App], None]
"""Adds some listeners to the app (`commands.register`, `RunbookCommands.register`, …)."""


def build_bolt_app(client: WebClient, registrars: Sequence[Registrar], *,
                   signing_secret: SecretStr | None, workspace: Middleware) -> App:
    """The Bolt app on `client`, with the listeners each registrar adds; `workspace`
    refuses requests from other workspaces before any listener sees them."""
    with _unseen(_BOLT_READS):
        app = App(
            name="devexbot",  # else Bolt reads the whole call stack to name the app
            signing_secret=(signing_secret.get_secret_value() if signing_secret
                            else _SOCKET_MODE_ONLY),
            client=client,
            token_verification_enabled=False,  # the watch asks Slack (auth.test), not Bolt
            request_verification_enabled=False,
            before_authorize=workspace,
            logger=logging.getLogger("devexbot.slack.bolt"),
        )
    for register in registrars:
        register(app)
    return app


@contextmanager
def _unseen(names: Iterable[str]) -> Iterator[None]:
    """Hide these environment variables for a moment (the process is still starting: no
    other thread reads them)."""
    hidden = {name: os.environ.pop(name) for name in names if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(hidden)


def builtin_subcommands() -> frozenset[str]:
    """The `/devex` subcommands the code defines: no runbook may take their names."""
    return BUILTIN_SUBCOMMANDS
