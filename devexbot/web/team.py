"""Whose people may sign in with Slack, click and run commands: SLACK_TEAM_ID, else the bot
token's own workspace (asked of Slack once); with neither, nobody (the sign-in says to set
SLACK_TEAM_ID)."""

from __future__ import annotations

import logging
from typing import Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)


class SlackTeam(Protocol):
    def team_id(self) -> str | None:
        """The Slack workspace's id, or None when it is not known."""
        ...


class KnownTeam:
    """SLACK_TEAM_ID."""

    def __init__(self, team_id: str) -> None:
        self._team_id = team_id

    def team_id(self) -> str | None:
        return self._team_id


class BotTokenTeam:
    """The bot token's own workspace (`auth.test`), asked until Slack answers."""

    def __init__(self, client: WebClient) -> None:
        self._client = client
        self._team_id: str | None = None

    def team_id(self) -> str | None:
        if self._team_id is None:
            try:
                self._team_id = str(self._client.auth_test()["team_id"])
            except (SlackApiError, OSError, KeyError) as exc:
                log.warning("cannot learn the bot's Slack workspace (auth.test): %s", exc)
        return self._team_id


class NoTeam:
    """Slack is off and SLACK_TEAM_ID is not set: no workspace is known."""

    def team_id(self) -> str | None:
        return None


def slack_team(team_id: str | None, client: WebClient | None) -> SlackTeam:
    """SLACK_TEAM_ID when set; else the bot token's workspace; else none."""
    if team_id:
        return KnownTeam(team_id)
    return BotTokenTeam(client) if client is not None else NoTeam()
