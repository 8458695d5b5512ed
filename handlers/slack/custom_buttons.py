"""The team's own buttons: acknowledge, then run them in a worker thread like Merge.

A link button opens its page in the browser, and Slack still tells the bot about the
click: it is acknowledged and nothing else happens (an unacknowledged click shows the
clicker a warning sign).
"""

from __future__ import annotations

from slack_bolt import Ack, App

from devexbot.actions.ids import ActionId
from devexbot.actions.registry import Actions
from handlers.slack.card_actions import matching, register_clicks


def register(app: App, actions: Actions) -> None:
    register_clicks(app, actions, ActionId.CUSTOM)

    def acknowledge(ack: Ack) -> None:
        ack()  # a link button opens its URL in the browser; Slack still sends the click

    app.action({"action_id": matching(ActionId.LINK)})(acknowledge)
