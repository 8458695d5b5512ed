"""The Slack app manifest: paste it at api.slack.com/apps → Create New App → From a manifest."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from devexbot.runbooks.model import RunbookCommand

BOT_SCOPES = [
    "chat:write",  # post and update cards, thread replies
    "chat:write.public",  # post in public channels without being invited
    "channels:join",  # join a public channel a route names
    # Channel names in routes to IDs (conversations.list), public and private: Slack finds
    # a message by channel ID only.
    "channels:read",
    "groups:read",
    "channels:history",  # find a card posted just before a crash (by its metadata)
    "groups:history",
    "commands",  # /devex
    "users:read",
    "users:read.email",  # commit e-mail -> Slack user, for mentions
    "usergroups:read",  # permissions given to user groups
    "im:write",  # DM an author about a failure
]


def build_manifest(*, public_url: str | None, socket_mode: bool, name: str = "devexbot",
                   command: str = "/devex", runbooks: Sequence[RunbookCommand] = ()
                   ) -> dict[str, Any]:
    """The manifest for an app served at `public_url` (not needed in Socket Mode); each of
    `runbooks` gets a slash command of its own besides `/devex <runbook>`."""
    events_url = f"{public_url.rstrip('/')}/slack/events" if public_url else None
    slash: dict[str, Any] = {
        "command": command,
        "description": "Commit cards, subscriptions and runbooks",
        "usage_hint": "help | <runbook> [key=value ...] | history | subscribe owner/repo",
        "should_escape": False,
    }
    slashes = [slash]
    for runbook in runbooks:
        own: dict[str, Any] = {"command": f"/{runbook.name}",
                               "description": runbook.description[:100],
                               "should_escape": False}
        hint = runbook.usage("").removeprefix(runbook.name).strip()
        if hint:
            own["usage_hint"] = hint[:100]
        slashes.append(own)
    interactivity: dict[str, Any] = {"is_enabled": True}
    if events_url and not socket_mode:
        for each in slashes:
            each["url"] = events_url
        interactivity["request_url"] = events_url
        # Where Slack asks for the options of the cards' menus (Request review, Label).
        interactivity["message_menu_options_url"] = events_url
    events: dict[str, Any] = {"bot_events": ["app_home_opened"]}  # publish the Home tab
    if events_url and not socket_mode:
        events = {"request_url": events_url, **events}
    return {
        "display_information": {
            "name": name,
            "description": "One live card per commit: builds, deploys and the buttons to act.",
            "background_color": "#24292f",
        },
        "features": {
            "bot_user": {"display_name": name, "always_online": True},
            "slash_commands": slashes,
            # The Home tab: my PRs, what waits for me, my deploys and my notifications.
            "app_home": {"home_tab_enabled": True, "messages_tab_enabled": True,
                         "messages_tab_read_only_enabled": True},
        },
        "oauth_config": _oauth_config(public_url),
        "settings": {
            "interactivity": interactivity,
            "event_subscriptions": events,
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }


def _oauth_config(public_url: str | None) -> dict[str, Any]:
    """Bot scopes; with a public URL, also Sign in with Slack for the web workspace."""
    if not public_url:
        return {"scopes": {"bot": BOT_SCOPES}}
    return {"redirect_urls": [f"{public_url.rstrip('/')}/login/slack/callback"],
            "scopes": {"bot": BOT_SCOPES, "user": ["openid", "profile"]}}


def manifest_yaml(**kwargs: Any) -> str:
    return yaml.safe_dump(build_manifest(**kwargs), sort_keys=False, width=100)
