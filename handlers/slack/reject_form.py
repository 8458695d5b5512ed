"""Reject (and "Request changes"): the click opens a form asking why; its submission
records the rejection and carries it out.

A `trigger_id` is good for 3 seconds, so the form is opened first thing in the worker,
before any database, GitHub or Slack lookup; whether the person may reject is decided on
submission, like every action, by `Actions.run`.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from devexbot.actions.core import Click
from devexbot.actions.ids import ActionId, ButtonValue
from devexbot.actions.registry import Actions
from devexbot.errors import DevexbotError
from handlers.slack.card_actions import click_of, matching

log = logging.getLogger(__name__)

FORM = "devexbot.reject"  # the modal's callback_id
REASON = "reason"  # block_id and action_id of the reason input
MAX_REASON = 2000


def reject_form(click: Click, *, request_changes: bool) -> dict[str, Any]:
    """The modal asking why; the click's card and message ride in `private_metadata`."""
    env = click.value.target or "the deployment"
    title = "Request changes" if request_changes else "Reject deployment"
    ask = (f"What should change before *{env}* is accepted?" if request_changes
           else f"Why reject the deployment to *{env}*?")
    metadata = {"v": click.value.encode(), "c": click.channel_id, "ts": click.message_ts}
    return {
        "type": "modal",
        "callback_id": FORM,
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps(metadata, separators=(",", ":")),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": ask}},
            {
                "type": "input",
                "block_id": REASON,
                "label": {"type": "plain_text", "text": "Reason"},
                "hint": {"type": "plain_text",
                         "text": "Recorded with the decision, shown on the card and sent "
                                 "where the deployment waits."},
                "element": {"type": "plain_text_input", "action_id": REASON,
                            "multiline": True, "max_length": MAX_REASON},
            },
        ],
    }


def reason_of(view: dict[str, Any]) -> str:
    state = ((view.get("state") or {}).get("values") or {}).get(REASON) or {}
    return str((state.get(REASON) or {}).get("value") or "").strip()


def click_of_form(body: dict[str, Any], view: dict[str, Any], reason: str) -> Click:
    """The Reject click a submitted form completes."""
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        metadata = {}
    return Click(
        action=ActionId.REJECT,
        value=ButtonValue.decode(metadata.get("v")),
        user_id=body["user"]["id"],
        channel_id=metadata.get("c"),
        message_ts=metadata.get("ts"),
        extra={"reason": reason},
    )


def register(app: App, actions: Actions) -> None:
    def acknowledge(ack: Ack) -> None:
        ack()

    def open_form(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        try:
            click = click_of(body)
        except DevexbotError as exc:
            respond(text=f"Not done: {exc.message}", response_type="ephemeral",
                    replace_original=False)
            return
        clicked = str(((body["actions"][0].get("text") or {}).get("text")) or "")
        form = reject_form(click, request_changes=clicked.startswith("Request changes"))
        try:
            client.views_open(trigger_id=body["trigger_id"], view=form)
        except SlackApiError as exc:
            error_id = uuid.uuid4().hex[:8]
            log.warning("views.open for %s failed (error %s): %s", click.user_id, error_id,
                        exc.response.get("error"))
            respond(text=f"I could not open the form (error id `{error_id}`); click again.",
                    response_type="ephemeral", replace_original=False)

    def check_reason(ack: Ack, view: dict[str, Any]) -> None:
        if reason_of(view):
            ack()
        else:
            ack(response_action="errors",
                errors={REASON: "Say why, so whoever deploys knows what to change."})

    def submit(body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        reason = reason_of(view)
        if not reason:
            return  # refused in the acknowledgement; the form is still open
        try:
            click = click_of_form(body, view, reason[:MAX_REASON])
        except DevexbotError as exc:
            _tell(client, body["user"]["id"], None, f"Not done: {exc.message}")
            return
        _tell(client, click.user_id, click.channel_id, actions.run(click))

    app.action({"action_id": matching(ActionId.REJECT)})(ack=acknowledge, lazy=[open_form])
    app.view(FORM)(ack=check_reason, lazy=[submit])


def _tell(client: WebClient, user: str, channel: str | None, text: str) -> None:
    """The outcome, to the person only: where they clicked, else in a direct message."""
    if channel:
        try:
            client.chat_postEphemeral(channel=channel, user=user, text=text)
            return
        except SlackApiError as exc:
            log.info("ephemeral reply in %s failed (%s): sending a DM", channel,
                     exc.response.get("error"))
    try:
        client.chat_postMessage(channel=user, text=text)
    except SlackApiError as exc:
        log.warning("could not tell %s how their rejection went: %s", user,
                    exc.response.get("error"))
