"""Slack's JSON objects (user, conversation, view) in the shapes its Web API returns them."""

from __future__ import annotations

from typing import Any

from tests.fakes.slack_models import Channel, Json


def user_object(
    user_id: str,
    name: str,
    *,
    team_id: str,
    email: str | None = None,
    real_name: str | None = None,
    is_bot: bool = False,
    is_admin: bool = False,
    deleted: bool = False,
    tz: str = "Europe/London",
    bot_id: str | None = None,
) -> Json:
    """A user as `users.info` / `users.lookupByEmail` return it."""
    real = real_name or name
    profile: Json = {
        "avatar_hash": "g0000000000a",
        "status_text": "",
        "status_emoji": "",
        "real_name": real,
        "display_name": name,
        "real_name_normalized": real,
        "display_name_normalized": name,
        "image_24": f"https://avatars.slack-edge.invalid/{user_id}_24.png",
        "image_48": f"https://avatars.slack-edge.invalid/{user_id}_48.png",
        "image_72": f"https://avatars.slack-edge.invalid/{user_id}_72.png",
        "team": team_id,
    }
    if email is not None:
        profile["email"] = email
    if bot_id is not None:
        profile["bot_id"] = bot_id
    return {
        "id": user_id,
        "team_id": team_id,
        "name": name,
        "deleted": deleted,
        "color": "9f69e7",
        "real_name": real,
        "tz": tz,
        "tz_label": "Greenwich Mean Time",
        "tz_offset": 0,
        "profile": profile,
        "is_admin": is_admin,
        "is_owner": False,
        "is_primary_owner": False,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "is_bot": is_bot,
        "is_app_user": False,
        "updated": 1700000000,
        "has_2fa": False,
    }


def channel_object(channel: Channel, *, team_id: str, creator: str) -> Json:
    """A conversation as `conversations.info` / `conversations.join` return it."""
    if channel.is_im:
        return {
            "id": channel.id,
            "created": channel.created,
            "is_im": True,
            "is_org_shared": False,
            "user": channel.user,
            "is_user_deleted": False,
            "priority": 0,
        }
    return {
        "id": channel.id,
        "name": channel.name,
        "is_channel": not channel.is_private,
        "is_group": channel.is_private,
        "is_im": False,
        "is_mpim": False,
        "is_private": channel.is_private,
        "created": channel.created,
        "is_archived": channel.is_archived,
        "is_general": channel.name == "general",
        "unlinked": 0,
        "name_normalized": channel.name,
        "is_shared": False,
        "is_org_shared": False,
        "is_ext_shared": False,
        "is_pending_ext_shared": False,
        "pending_shared": [],
        "context_team_id": team_id,
        "creator": creator,
        "is_member": channel.is_member,
        "topic": {"value": "", "creator": "", "last_set": 0},
        "purpose": {"value": "", "creator": "", "last_set": 0},
        "previous_names": [],
    }


def view_object(
    view: Json,
    *,
    view_id: str,
    view_hash: str,
    team_id: str,
    app_id: str,
    bot_id: str,
    root_view_id: str | None = None,
    previous_view_id: str | None = None,
) -> Json:
    """A modal as `views.open` / `views.update` return it (and `view_submission` carries it)."""
    out: dict[str, Any] = {
        "id": view_id,
        "team_id": team_id,
        "type": view.get("type", "modal"),
        "title": view.get("title"),
        "close": view.get("close"),
        "submit": view.get("submit"),
        "blocks": view.get("blocks", []),
        "private_metadata": view.get("private_metadata", ""),
        "callback_id": view.get("callback_id", ""),
        "external_id": view.get("external_id", ""),
        "state": {"values": {}},
        "hash": view_hash,
        "clear_on_close": bool(view.get("clear_on_close", False)),
        "notify_on_close": bool(view.get("notify_on_close", False)),
        "root_view_id": root_view_id or view_id,
        "previous_view_id": previous_view_id,
        "app_id": app_id,
        "app_installed_team_id": team_id,
        "bot_id": bot_id,
    }
    return out
