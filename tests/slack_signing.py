"""Requests signed exactly as Slack signs them, carrying the payloads Slack sends a bot.

Slack signs `v0:{timestamp}:{raw body}` with HMAC-SHA256 under the app's signing secret
and sends `X-Slack-Request-Timestamp` and `X-Slack-Signature: v0=<hex>`. Slash commands
are form fields; interactions are one form field, `payload=<JSON>`. Identities default to
the fake workspace's (`tests.fakes.slack_models.TEAM_ID`, `APP_ID`, ...).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from tests.fakes.slack_models import (
    APP_ID,
    BOT_ID,
    TEAM_DOMAIN,
    TEAM_ID,
    USER_ID,
    USER_NAME,
    Json,
    Message,
)

FORM = "application/x-www-form-urlencoded"
USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
VERIFICATION_TOKEN = "gIkuvaNzQIHg97ATvDxqgjtO"  # deprecated, still sent by Slack
CHANNEL_ID, CHANNEL_NAME = "C0DEPLOYS", "deploys"

_serials = itertools.count(1)


def slack_signature(signing_secret: str, timestamp: int | str, body: bytes | str) -> str:
    """`v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}` under the signing secret."""
    raw = body.encode() if isinstance(body, str) else body
    base = f"v0:{timestamp}:".encode() + raw
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    body: bytes | str,
    *,
    signing_secret: str,
    timestamp: int | None = None,
    content_type: str = FORM,
) -> dict[str, str]:
    """The headers Slack sends with `body`; `timestamp` defaults to now (pass an old one to
    test the 5-minute replay window)."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": content_type,
        "User-Agent": USER_AGENT,
        "Accept": "application/json,*/*",
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": slack_signature(signing_secret, ts, body),
    }


def new_trigger_id() -> str:
    """A fresh trigger_id in Slack's shape (`13345224609.738474920.8088930838d88f008e0`)."""
    return f"{1_000_000_000 + next(_serials)}.{738474920}.{secrets.token_hex(16)}"


def _response_url(kind: str, team_id: str) -> str:
    return f"https://hooks.slack.com/{kind}/{team_id}/{next(_serials)}/{secrets.token_hex(12)}"


# ---- slash commands --------------------------------------------------------------------


def slash_command_fields(
    command: str = "/devex",
    text: str = "",
    *,
    channel_id: str = CHANNEL_ID,
    channel_name: str = CHANNEL_NAME,
    user_id: str = USER_ID,
    user_name: str = USER_NAME,
    response_url: str | None = None,
    trigger_id: str | None = None,
    team_id: str = TEAM_ID,
    team_domain: str = TEAM_DOMAIN,
    api_app_id: str = APP_ID,
    token: str = VERIFICATION_TOKEN,
    enterprise_id: str | None = None,
) -> dict[str, str]:
    """The form fields of a slash command, in the order Slack sends them (with
    `enterprise_id`: typed in a workspace of that Enterprise Grid organisation)."""
    grid = {"enterprise_id": enterprise_id, "enterprise_name": "Octo Corp"} \
        if enterprise_id else {}
    return {
        "token": token,
        "team_id": team_id,
        "team_domain": team_domain,
        **grid,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url or _response_url("commands", team_id),
        "trigger_id": trigger_id or new_trigger_id(),
    }


def slash_command_body(command: str = "/devex", text: str = "", **fields: Any) -> bytes:
    """A slash command's raw form-encoded body (see `slash_command_fields`)."""
    return urlencode(slash_command_fields(command, text, **fields)).encode()


# ---- interactions ----------------------------------------------------------------------


def interaction_body(payload: Mapping[str, Any]) -> bytes:
    """An interaction's raw body: one form field, `payload`, holding the JSON."""
    return urlencode({"payload": json.dumps(payload)}).encode()


def message_json(message: Message | Mapping[str, Any]) -> Json:
    """A message as Slack embeds it in interactions (a fake's `Message` or a dict as is)."""
    if not isinstance(message, Message):
        return dict(message)
    out: Json = {"user": message.user, "type": "message", "ts": message.ts, "text": message.text}
    for name in ("bot_id", "app_id", "team", "thread_ts"):
        if getattr(message, name) is not None:
            out[name] = getattr(message, name)
    if message.blocks:
        out["blocks"] = message.blocks
    return out


def _find_element(message: Json, action_id: str) -> tuple[str, Json]:
    """(block_id, element) of the interactive element `action_id` in the message's blocks."""
    for block in message.get("blocks", []):
        candidates = list(block.get("elements", []))
        if "accessory" in block:
            candidates.append(block["accessory"])
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return block.get("block_id", ""), element
    raise ValueError(f"the message has no element with action_id {action_id!r} to click")


def _user(user_id: str, user_name: str, team_id: str) -> Json:
    return {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id}


def block_actions_payload(
    action_id: str,
    value: str | None = None,
    *,
    message: Message | Mapping[str, Any] | None = None,
    channel_id: str | None = None,
    channel_name: str = CHANNEL_NAME,
    message_ts: str | None = None,
    block_id: str | None = None,
    user_id: str = USER_ID,
    user_name: str = USER_NAME,
    response_url: str | None = None,
    trigger_id: str | None = None,
    action: Mapping[str, Any] | None = None,
    team_id: str = TEAM_ID,
    team_domain: str = TEAM_DOMAIN,
    api_app_id: str = APP_ID,
    token: str = VERIFICATION_TOKEN,
    enterprise_id: str | None = None,
) -> Json:
    """The payload of a click on element `action_id` of a message (a button by default),
    by someone in workspace `team_id` (of Enterprise Grid organisation `enterprise_id`).

    With `message` (as the fake stores it, or as Slack returned it) the element is looked
    up there: its block_id, type, text, style and value come from the message, and a
    click on an element the message lacks raises `ValueError`. `action` overrides fields
    of the action (e.g. `selected_option` for a select menu).
    """
    msg = message_json(message) if message is not None else None
    element: Json = {"type": "button", "text": {"type": "plain_text", "text": action_id}}
    if msg is not None:
        found_block, element = _find_element(msg, action_id)
        block_id = block_id or found_block
    channel_id = channel_id or (message.channel if isinstance(message, Message) else CHANNEL_ID)
    ts = message_ts or (msg or {}).get("ts") or "1700000000.000100"
    clicked: Json = {
        "action_id": action_id,
        "block_id": block_id or "b0",
        "text": {**element.get("text", {}), "emoji": True},
        "value": value if value is not None else element.get("value"),
        "type": element.get("type", "button"),
        "action_ts": f"{time.time():.6f}",
    }
    if "style" in element:
        clicked["style"] = element["style"]
    if clicked["value"] is None:
        del clicked["value"]
    clicked.update(action or {})
    container: Json = {
        "type": "message",
        "message_ts": ts,
        "channel_id": channel_id,
        "is_ephemeral": False,
    }
    if msg is not None and msg.get("thread_ts") and msg["thread_ts"] != ts:
        container["thread_ts"] = msg["thread_ts"]
    team: Json = {"id": team_id, "domain": team_domain}
    if enterprise_id:
        team.update(enterprise_id=enterprise_id, enterprise_name="Octo Corp")
    payload: Json = {
        "type": "block_actions",
        "user": _user(user_id, user_name, team_id),
        "api_app_id": api_app_id,
        "token": token,
        "container": container,
        "trigger_id": trigger_id or new_trigger_id(),
        "team": team,
        "enterprise": {"id": enterprise_id, "name": "Octo Corp"} if enterprise_id else None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": channel_name},
        "message": msg if msg is not None else {"type": "message", "ts": ts, "text": ""},
        "state": {"values": {}},
        "response_url": response_url or _response_url("actions", team_id),
        "actions": [clicked],
    }
    return payload


def clicked_again(payload: Mapping[str, Any]) -> Json:
    """The same element clicked once more (a double click): Slack sends a new payload, with
    its own trigger_id and action time, signed afresh. (The very same signed request sent
    again is a replay, which the bot refuses.)"""
    again: Json = {**payload, "trigger_id": new_trigger_id()}
    again["actions"] = [{**action, "action_ts": f"{time.time():.6f}"}
                        for action in payload.get("actions", [])]
    return again


def _state_values(values: Mapping[str, Mapping[str, Any]]) -> Json:
    """`{block: {action: "text"}}` shorthand expanded to Slack's typed input states."""
    return {
        block_id: {
            action_id: {"type": "plain_text_input", "value": state}
            if isinstance(state, str) or state is None
            else dict(state)
            for action_id, state in actions.items()
        }
        for block_id, actions in values.items()
    }


def view_submission_payload(
    view: Mapping[str, Any],
    values: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    user_id: str = USER_ID,
    user_name: str = USER_NAME,
    trigger_id: str | None = None,
    response_urls: list[Json] | None = None,
    team_id: str = TEAM_ID,
    team_domain: str = TEAM_DOMAIN,
    api_app_id: str = APP_ID,
    token: str = VERIFICATION_TOKEN,
) -> Json:
    """The payload of a modal's Submit: `view` as `views.open` returned it (or a bare view,
    given defaults), with `state.values` from `values` (`{block_id: {action_id: "text"}}`
    or Slack's typed states)."""
    submitted: Json = {
        "id": "V0SUBMIT01",
        "team_id": team_id,
        "type": "modal",
        "private_metadata": "",
        "callback_id": "",
        "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
        "clear_on_close": False,
        "notify_on_close": False,
        "previous_view_id": None,
        "root_view_id": view.get("id", "V0SUBMIT01"),
        "app_id": api_app_id,
        "external_id": "",
        "app_installed_team_id": team_id,
        "bot_id": BOT_ID,
        **view,
        "state": {"values": _state_values(values or {})},
    }
    return {
        "type": "view_submission",
        "team": {"id": team_id, "domain": team_domain},
        "user": _user(user_id, user_name, team_id),
        "api_app_id": api_app_id,
        "token": token,
        "trigger_id": trigger_id or new_trigger_id(),
        "view": submitted,
        "response_urls": response_urls or [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


class SlackSender:
    """Posts signed Slack requests to a bot through any httpx-style client (e.g. TestClient),
    stamped with `clock`'s time (a test bot's: Slack's clock agrees with the bot's)."""

    def __init__(self, client: Any, signing_secret: str, path: str = "/slack/events", *,
                 clock: Callable[[], float] = time.time) -> None:
        self.client, self.signing_secret, self.path = client, signing_secret, path
        self.clock = clock

    def headers(self, body: bytes, *, content_type: str = FORM,
                timestamp: int | None = None) -> dict[str, str]:
        """The headers Slack would send `body` with, stamped now by the clock by default."""
        return signed_headers(body, signing_secret=self.signing_secret,
                              timestamp=int(self.clock()) if timestamp is None else timestamp,
                              content_type=content_type)

    def send(self, body: bytes, *, content_type: str = FORM, timestamp: int | None = None) -> Any:
        headers = self.headers(body, content_type=content_type, timestamp=timestamp)
        return self.client.post(self.path, content=body, headers=headers)

    def command(self, command: str = "/devex", text: str = "", **fields: Any) -> Any:
        """Run a slash command as a user typing `command text` would."""
        return self.send(slash_command_body(command, text, **fields))

    def interaction(self, payload: Mapping[str, Any]) -> Any:
        """Deliver a `block_actions` / `view_submission` payload."""
        return self.send(interaction_body(payload))


def app_home_opened_body(user_id: str = USER_ID, *, tab: str = "home",
                         team_id: str = TEAM_ID, api_app_id: str = APP_ID) -> bytes:
    """The Events API callback Slack sends when `user_id` opens the app's Home tab (JSON,
    signed like every Slack request)."""
    now = time.time()
    return json.dumps({
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "api_app_id": api_app_id,
        "event": {"type": "app_home_opened", "user": user_id, "channel": f"D{user_id[1:]}",
                  "tab": tab, "event_ts": f"{now:.6f}"},
        "type": "event_callback",
        "event_id": f"Ev0{next(_serials):08d}",
        "event_time": int(now),
        "authorizations": [{"enterprise_id": None, "team_id": team_id, "user_id": "U0BOT",
                            "is_bot": True, "is_enterprise_install": False}],
        "is_ext_shared_channel": False,
    }).encode()


def home_tab_click_payload(view: Mapping[str, Any], action_id: str, *, user_id: str,
                           team_id: str = TEAM_ID) -> Json:
    """A click on element `action_id` of a published Home tab `view` (as views.publish
    returned it): the container is the view, and Slack sends no response_url."""
    block_id, element = _find_element(dict(view), action_id)
    return {
        "type": "block_actions",
        "user": _user(user_id, user_id.lower(), team_id),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": {"type": "view", "view_id": view["id"]},
        "trigger_id": new_trigger_id(),
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "view": dict(view),
        "actions": [{"action_id": action_id, "block_id": block_id,
                     "text": element.get("text"), "value": element.get("value"),
                     "type": "button", "action_ts": f"{time.time():.6f}"}],
    }
