"""What the bot asks Slack's directory about people and user groups: `WebDirectory` asks
the Web API; `NoDirectory` is Slack being off, where nobody is found and no group has
members."""

from __future__ import annotations

from typing import Protocol

from slack_sdk import WebClient


class SlackDirectory(Protocol):
    """Raises `SlackApiError` when Slack refuses or fails."""

    def user_id_by_email(self, email: str) -> str | None: ...

    def user_name(self, user_id: str) -> str | None:
        """The name people know the user by (`users.info`), None when Slack has none."""
        ...

    def usergroup_ids(self) -> dict[str, str]:
        """Each user group's handle and its id."""
        ...

    def usergroup_members(self, group: str) -> frozenset[str]: ...


class WebDirectory:
    def __init__(self, client: WebClient) -> None:
        self._client = client

    def user_id_by_email(self, email: str) -> str | None:
        user_id: str | None = self._client.users_lookupByEmail(email=email)["user"]["id"]
        return user_id

    def user_name(self, user_id: str) -> str | None:
        user = self._client.users_info(user=user_id)["user"]
        profile = user.get("profile") or {}
        for name in (profile.get("real_name"), user.get("real_name"),
                     profile.get("display_name"), user.get("name")):
            if isinstance(name, str) and name.strip():
                return name.strip()
        return None

    def usergroup_ids(self) -> dict[str, str]:
        groups = self._client.usergroups_list()["usergroups"]
        return {g["handle"]: g["id"] for g in groups}

    def usergroup_members(self, group: str) -> frozenset[str]:
        return frozenset(self._client.usergroups_users_list(usergroup=group)["users"])


class NoDirectory:
    """Slack is off: no lookup finds anyone."""

    def user_id_by_email(self, email: str) -> str | None:
        return None

    def user_name(self, user_id: str) -> str | None:
        return None

    def usergroup_ids(self) -> dict[str, str]:
        return {}

    def usergroup_members(self, group: str) -> frozenset[str]:
        return frozenset()
