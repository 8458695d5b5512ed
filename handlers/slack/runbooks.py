"""Runbooks in Slack: `/devex <runbook> ...` (and `/<runbook>` where the manifest adds it),
`/devex history`, the Run / Cancel buttons of a confirmation, the parameters modal and
Run again. Every listener acknowledges first; runs go to the runner's worker threads."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from devexbot.runbooks.actions import (
    PARAM_BLOCK,
    ModalState,
    RunbookAction,
    RunbookView,
    RunButton,
)
from devexbot.runbooks.model import ArgumentError, RunbookCommand
from devexbot.runbooks.parse import bind, read_words, split_words
from devexbot.runbooks.registry import Runbooks
from devexbot.runbooks.render import (
    history_lines,
    modal_values,
    params_modal,
    usage,
)
from devexbot.runbooks.runner import (
    AskConfirmation,
    AskParameters,
    Decision,
    Refused,
    RunbookRunner,
    Started,
)
from devexbot.runbooks.runs import Requester, RunStore
from devexbot.slack.authz import Authorizer
from devexbot.store.models import utcnow
from handlers.slack.commands import (
    DEVEX,
    CommandGroup,
    Handler,
    Invocation,
    Reply,
    Subcommand,
    answer,
)

log = logging.getLogger(__name__)

HISTORY = 10


class RunbookCommands(CommandGroup):
    """The config's runbooks as `/devex` subcommands (and their own slash commands),
    `/devex history`, and the listeners of their buttons and modals."""

    def __init__(self, runbooks: Runbooks, runner: RunbookRunner, runs: RunStore,
                 authorizer: Authorizer, client: WebClient) -> None:
        self._runbooks, self._runner, self._runs = runbooks, runner, runs
        self._authorizer, self._client = authorizer, client

    # --- `/devex` ---------------------------------------------------------------------------

    def subcommands(self) -> Sequence[Subcommand]:
        return (Subcommand("history", "history [command]",
                           "the last runs of the runbooks you may run", self.history),)

    def handler(self, name: str) -> Handler | None:
        command = self._runbooks.get(name)
        if command is None:
            return None
        return lambda inv: self.run_command(command, inv, f"{DEVEX} ")

    def help_lines(self, inv: Invocation) -> list[str]:
        mine = [c for c in self._runbooks if self._authorizer.allows(inv.user_id, c.allowed)]
        if not mine:
            return []
        return ["*Runbooks* you may run:"] + [
            f"• `{c.usage(DEVEX + ' ')}` — {c.description}" for c in mine]

    def usage(self, inv: Invocation, name: str) -> str | None:
        command = self._runbooks.get(name)
        if command is None or not self._authorizer.allows(inv.user_id, command.allowed):
            return None
        return usage(command, f"{DEVEX} ")

    def run_command(self, command: RunbookCommand, inv: Invocation, prefix: str) -> Reply:
        """`/devex cleanup env=staging`: decide now, run in the background."""
        if inv.words in (["--help"], ["-h"]):
            return Reply(usage(command, prefix))
        decision = self._runner.request(command, read_words(command, inv.words),
                                        _requester(inv))
        trigger_id = inv.raw.get("trigger_id")
        return self._reply(decision, trigger_id, ModalState(
            command=command.name, channel_id=inv.channel_id, channel_name=inv.channel_name))

    def runbook_slash(self, name: str, command: dict[str, Any]) -> Reply:
        """`/cleanup-test-data env=staging`: a runbook's own slash command."""
        found = self._runbooks.get(name)
        if found is None:
            return Reply(f"`/{name}` is not a runbook of this bot.")
        try:
            words = split_words(command.get("text") or "")
        except ArgumentError as exc:
            return Reply(str(exc))
        inv = Invocation(command["user_id"], command["channel_id"], words, command)
        return self.run_command(found, inv, "/")

    def _reply(self, decision: Decision, trigger_id: str | None, state: ModalState) -> Reply:
        match decision:
            case Refused(text):
                return Reply(text)
            case AskConfirmation(text, blocks):
                return Reply(text, blocks=blocks)
            case AskParameters(command, given):
                return Reply("", after=lambda: _open_modal(self._client, trigger_id,
                                                           command, given, state))
            case Started():
                return Reply("")
        raise AssertionError(decision)

    def history(self, inv: Invocation) -> Reply:
        visible = [c.name for c in self._runbooks
                   if self._authorizer.allows(inv.user_id, c.allowed)]
        name = inv.words[0].lower() if inv.words else None
        if name is not None and self._runbooks.get(name) is None:
            return Reply(f"There is no runbook `{inv.words[0]}`. `/devex help` lists them.")
        runs = self._runs.recent(limit=HISTORY, command=name, visible=visible,
                                 user_id=inv.user_id)
        if not runs:
            return Reply("No runs yet." if name is None else f"`{name}` has not run yet.")
        title = "Last runs" + (f" of `{name}`" if name else "") + ":"
        return Reply("\n".join([title, *history_lines(runs, utcnow())]))

    # --- the listeners ------------------------------------------------------------------------

    def register(self, app: App) -> None:
        """The listeners for runbook buttons and modals, and the runbooks' own slash
        commands."""
        names = [c.name for c in self._runbooks]
        if names:
            pattern = re.compile("^/(" + "|".join(re.escape(n) for n in names) + ")$")

            @app.command(pattern)
            def _runbook_slash(ack: Ack, command: dict[str, Any]) -> None:
                name = command["command"].lstrip("/")
                answer(ack, f"/{name} {command.get('text')}",
                       lambda: self.runbook_slash(name, command))

        app.action(RunbookAction.CONFIRM_RUN)(self._confirm)
        app.action(RunbookAction.CONFIRM_CANCEL)(self._cancel)
        app.action(RunbookAction.RUN_AGAIN)(self._again)
        app.view(RunbookView.PARAMS)(self._submitted)

    def _confirm(self, ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        button = _button(body)
        pending = self._runs.get(button.run) if button else None
        command = self._runbooks.get(pending.command) if pending else None
        if button is None or command is None:
            respond(text="That runbook is gone from the bot's config.", replace_original=True)
            return
        who = _clicker(body)
        decision = self._runner.confirm(command, button, who)
        if isinstance(decision, Started):
            respond(delete_original=True)
        elif isinstance(decision, AskParameters):
            _open_modal(self._client, body.get("trigger_id"), command,
                        decision.given, ModalState(command=command.name,
                                                   channel_id=who.channel_id,
                                                   channel_name=who.channel_name))
        elif isinstance(decision, Refused):
            respond(text=decision.text, replace_original=True)

    def _cancel(self, ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        button = _button(body)
        if button is None:
            return
        respond(text=self._runner.cancel(button, body["user"]["id"]), replace_original=True)

    def _again(self, ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        button = _button(body)
        previous = self._runs.get(button.run) if button else None
        command = self._runbooks.get(previous.command) if previous else None
        if button is None or command is None:
            respond(text="That runbook is gone from the bot's config.", response_type="ephemeral",
                    replace_original=False)
            return
        who = _clicker(body)
        decision = self._runner.request(command, bind(command, button.args), who,
                                        rerun_of=button.run)
        state = ModalState(command=command.name, channel_id=who.channel_id,
                           channel_name=who.channel_name, rerun_of=button.run)
        reply = self._reply(decision, body.get("trigger_id"), state)
        if reply.after is not None:
            reply.after()
        elif reply.text:
            respond(text=reply.text, blocks=reply.blocks, response_type="ephemeral",
                    replace_original=False)

    def _submitted(self, ack: Ack, body: dict[str, Any], view: dict[str, Any],
                   client: WebClient) -> None:
        try:
            state = ModalState.model_validate_json(view.get("private_metadata") or "")
        except ValidationError:
            ack()
            return
        command = self._runbooks.get(state.command)
        if command is None:
            ack(response_action="errors", errors={_first_block(view): "This runbook is gone "
                                                   "from the bot's config."})
            return
        args = bind(command, modal_values(view.get("state", {}).get("values", {})))
        if args.errors or args.missing:
            errors = {PARAM_BLOCK + name: text for name, text in args.by_param.items()}
            errors.update({PARAM_BLOCK + name: "Required" for name in args.missing})
            if not errors:
                errors[_first_block(view)] = " ".join(args.errors)[:150]
            ack(response_action="errors", errors=errors)
            return
        ack()
        user = body["user"]
        who = Requester(user["id"], state.channel_id, user.get("username") or user.get("name"),
                        state.channel_name)
        # The modal's Run button is the confirmation.
        decision = self._runner.request(command, args, who, confirmed=True,
                                        rerun_of=state.rerun_of)
        if isinstance(decision, Refused):
            try:
                client.chat_postEphemeral(channel=state.channel_id, user=who.user_id,
                                          text=decision.text)
            except SlackApiError as exc:
                log.warning("could not tell %s why %s did not run: %s", who.user_id,
                            command.name, exc.response.get("error"))


def _requester(inv: Invocation) -> Requester:
    return Requester(inv.user_id, inv.channel_id, inv.user_name, inv.channel_name)


def _clicker(body: dict[str, Any]) -> Requester:
    user, channel = body["user"], body.get("channel") or {}
    channel_id = channel.get("id") or body.get("container", {}).get("channel_id", "")
    return Requester(user["id"], channel_id, user.get("username") or user.get("name"),
                     channel.get("name"))


def _button(body: dict[str, Any]) -> RunButton | None:
    try:
        return RunButton.model_validate(json.loads(body["actions"][0]["value"]))
    except (KeyError, IndexError, ValueError, ValidationError):
        log.warning("a runbook button without a readable value")
        return None


def _first_block(view: dict[str, Any]) -> str:
    inputs = [b["block_id"] for b in view.get("blocks", []) if b.get("type") == "input"]
    return inputs[0] if inputs else "none"


def _open_modal(client: WebClient, trigger_id: str | None, command: RunbookCommand,
                given: Mapping[str, str], state: ModalState) -> None:
    if not trigger_id:
        return
    try:
        client.views_open(trigger_id=trigger_id, view=params_modal(command, given, state))
    except SlackApiError as exc:
        log.warning("views.open for %s failed: %s", command.name, exc.response.get("error"))
