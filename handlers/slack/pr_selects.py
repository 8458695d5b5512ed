"""A pull request card's "Request review" and "Label" menus.

Options (`block_suggestion`) are answered in the request itself, within Slack's 3 seconds,
from the cached lists of `RepoChoices`. A pick (`block_actions`) is acknowledged at once
and done in a worker thread through `Actions.run`, like a button.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from slack_bolt import Ack, App, Respond

from devexbot.actions.core import Click
from devexbot.actions.ids import ActionId, ButtonValue
from devexbot.actions.pr_selects import Reviewer, card_ref_of
from devexbot.actions.registry import Actions
from devexbot.actions.repo_choices import RepoChoices, matching
from devexbot.errors import DevexbotError
from devexbot.store import Database
from devexbot.store.cards import get_card

log = logging.getLogger(__name__)


def _action_id(action: ActionId) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(action.value)}:")


def pick_of(body: dict[str, Any]) -> Click:
    """The pick a menu's `block_actions` payload describes; DevexbotError if unusable."""
    action = body["actions"][0]
    action_id = str(action["action_id"])
    kind = ActionId(action_id.split(":", 1)[0])
    choice = str((action.get("selected_option") or {}).get("value") or "")
    ref = card_ref_of(action_id)
    if kind is ActionId.REQUEST_REVIEW:
        shown = Reviewer.decode(choice).shown(ref.repo.split("/", 1)[0])
    else:
        shown = choice
    container = body.get("container") or {}
    return Click(
        action=kind,
        value=ref.model_copy(update={"target": shown[:150]}),
        user_id=body["user"]["id"],
        channel_id=(body.get("channel") or {}).get("id") or container.get("channel_id"),
        message_ts=container.get("message_ts") or (body.get("message") or {}).get("ts"),
        extra={"choice": choice},
    )


def register(app: App, actions: Actions, choices: RepoChoices, db: Database) -> None:
    """The menus' options come from `choices`, less what the card in `db` already has."""

    def pr_facts(ref: ButtonValue) -> tuple[str | None, tuple[str, ...]]:
        """The pull request's author and labels as the card knows them, to leave out."""
        with db.read() as session:
            row = get_card(session, ref.repo, ref.sha)
            pull = (row.doc or {}).get("pull_request") if row is not None else None
        pull = pull if isinstance(pull, dict) else {}
        author, labels = pull.get("author"), pull.get("labels")
        return (author if isinstance(author, str) else None,
                tuple(str(name) for name in labels) if isinstance(labels, list) else ())

    def answer(ack: Ack, body: dict[str, Any], kind: ActionId) -> None:
        try:
            ref = card_ref_of(str(body["action_id"]))
            author, labels = pr_facts(ref)
            if kind is ActionId.REQUEST_REVIEW:
                found = matching(choices.reviewers(ref.repo), str(body.get("value") or ""),
                                 leave_out=[author] if author else [])
            else:
                found = matching(choices.labels(ref.repo), str(body.get("value") or ""),
                                 leave_out=labels)
        except DevexbotError as exc:
            log.warning("no options for %s: %s", body.get("action_id"), exc.message)
            found = []
        except Exception:
            log.exception("error %s listing options for %s", uuid.uuid4().hex[:8],
                          body.get("action_id"))
            found = []
        ack(options=[choice.option() for choice in found])

    def reviewers(ack: Ack, body: dict[str, Any]) -> None:
        answer(ack, body, ActionId.REQUEST_REVIEW)

    def labels(ack: Ack, body: dict[str, Any]) -> None:
        answer(ack, body, ActionId.LABEL)

    def acknowledge(ack: Ack) -> None:
        ack()

    def act(body: dict[str, Any], respond: Respond) -> None:
        try:
            click = pick_of(body)
        except (DevexbotError, ValueError, KeyError) as exc:
            message = exc.message if isinstance(exc, DevexbotError) else "this menu is broken"
            respond(text=f"Not done: {message}", response_type="ephemeral",
                    replace_original=False)
            return
        reply = actions.run(click)
        respond(text=reply, response_type="ephemeral", replace_original=False)

    app.options({"action_id": _action_id(ActionId.REQUEST_REVIEW)})(reviewers)
    app.options({"action_id": _action_id(ActionId.LABEL)})(labels)
    for kind in (ActionId.REQUEST_REVIEW, ActionId.LABEL):
        app.action({"action_id": _action_id(kind)})(ack=acknowledge, lazy=[act])
