"""Card buttons: acknowledge at once, then act in a worker thread (Bolt's lazy listeners).

Slack wants the acknowledgement within 3 seconds; GitHub or Jenkins may take longer, so
nothing but parsing happens before `ack()`.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from devexbot.actions.core import Click
from devexbot.actions.ids import ACTION_PATTERN, ActionId, ButtonValue
from devexbot.actions.registry import Actions
from devexbot.errors import DevexbotError

log = logging.getLogger(__name__)


def click_of(body: dict[str, Any], extra: dict[str, Any] | None = None) -> Click:
    """The click a `block_actions` payload describes; DevexbotError if it is not ours."""
    action = body["actions"][0]
    try:
        action_id = ActionId(str(action["action_id"]).split(":", 1)[0])
    except ValueError:
        raise DevexbotError(f"unknown button {action['action_id']!r}") from None
    raw = action.get("value") or (action.get("selected_option") or {}).get("value")
    container = body.get("container") or {}
    return Click(
        action=action_id,
        value=ButtonValue.decode(raw),
        user_id=body["user"]["id"],
        channel_id=(body.get("channel") or {}).get("id") or container.get("channel_id"),
        message_ts=container.get("message_ts") or (body.get("message") or {}).get("ts"),
        extra=extra or {},
    )


def register(app: App, actions: Actions) -> None:
    register_clicks(app, actions, ActionId.MERGE, ActionId.RETRY, ActionId.APPROVE,
                    ActionId.ENQUEUE)


def register_clicks(app: App, actions: Actions, *ids: ActionId) -> None:
    """Buttons whose click runs an action: ack at once, then `Actions.run` in a worker."""

    def acknowledge(ack: Ack) -> None:
        ack()

    def act(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        def tell(text: str) -> None:
            if body.get("response_url"):
                respond(text=text, response_type="ephemeral", replace_original=False)
            else:  # a click on the Home tab: no message to answer under, so a DM
                client.chat_postMessage(channel=body["user"]["id"], text=text)

        try:
            click = click_of(body)
        except DevexbotError as exc:
            tell(f"Not done: {exc.message}")
            return
        tell(actions.run(click))

    app.action({"action_id": matching(*ids)})(ack=acknowledge, lazy=[act])


def matching(*ids: ActionId) -> Any:
    """A pattern for the action ids of buttons of these actions (`card.merge:<target>`)."""
    names = "|".join(re.escape(i.value) for i in ids)
    assert ACTION_PATTERN.pattern.startswith("^card")
    return re.compile(rf"^({names})(:.*)?$")
