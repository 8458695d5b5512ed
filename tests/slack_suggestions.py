"""External select menus as Slack drives them: the options request (`block_suggestion`) sent
at each pause in typing, and the `block_actions` of a pick.

Both are interactions (`payload=<JSON>`, signed like any other: send them with
`SlackSender.interaction`). Slack answers an options request with the bot's JSON,
`{"options": [...]}` or `{"option_groups": [...]}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.fakes.slack_models import (
    APP_ID,
    TEAM_DOMAIN,
    TEAM_ID,
    USER_ID,
    USER_NAME,
    Json,
    Message,
)
from tests.slack_signing import (
    CHANNEL_ID,
    CHANNEL_NAME,
    VERIFICATION_TOKEN,
    _find_element,
    _user,
    block_actions_payload,
    message_json,
)


def block_suggestion_payload(
    action_id: str,
    value: str = "",
    *,
    message: Message | Mapping[str, Any],
    user_id: str = USER_ID,
    user_name: str = USER_NAME,
    channel_name: str = CHANNEL_NAME,
    team_id: str = TEAM_ID,
    team_domain: str = TEAM_DOMAIN,
    api_app_id: str = APP_ID,
    token: str = VERIFICATION_TOKEN,
) -> Json:
    """The options request of the menu `action_id` in `message` when the user has typed
    `value` (empty when the menu has just opened); `ValueError` if the message has no such
    menu, or it is not an external select."""
    msg = message_json(message)
    block_id, element = _find_element(msg, action_id)
    if element.get("type") not in ("external_select", "multi_external_select"):
        raise ValueError(f"{action_id!r} is a {element.get('type')}, not an external select")
    channel_id = message.channel if isinstance(message, Message) else CHANNEL_ID
    return {
        "type": "block_suggestion",
        "user": _user(user_id, user_name, team_id),
        "container": {
            "type": "message",
            "message_ts": msg["ts"],
            "channel_id": channel_id,
            "is_ephemeral": False,
        },
        "api_app_id": api_app_id,
        "token": token,
        "action_id": action_id,
        "block_id": block_id,
        "value": value,
        "team": {"id": team_id, "domain": team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": channel_name},
        "message": msg,
    }


def select_payload(
    action_id: str,
    option: Mapping[str, Any],
    *,
    message: Message | Mapping[str, Any],
    **fields: Any,
) -> Json:
    """The `block_actions` payload of picking `option` (one the options request returned)
    in the external select `action_id` of `message`."""
    msg = message_json(message)
    _, element = _find_element(msg, action_id)
    payload = block_actions_payload(action_id, message=message, **fields)
    picked = payload["actions"][0]
    picked.pop("text", None)
    picked.pop("value", None)
    picked.update(type=element["type"], selected_option=dict(option))
    if "placeholder" in element:
        picked["placeholder"] = element["placeholder"]
    return payload
