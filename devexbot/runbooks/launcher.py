"""Card buttons that start a runbook (`buttons: - runbook: {...}`): the same request path as
`/devex <command>`, on behalf of the person who clicked, already confirmed by the click."""

from __future__ import annotations

from collections.abc import Mapping

from devexbot.errors import DevexbotError
from devexbot.runbooks.parse import bind
from devexbot.runbooks.registry import Runbooks
from devexbot.runbooks.runner import AskConfirmation, AskParameters, RunbookRunner, Started
from devexbot.runbooks.runner import Refused as RunRefused
from devexbot.runbooks.runs import Requester


class RunnerLauncher:
    def __init__(self, runbooks: Runbooks, runner: RunbookRunner) -> None:
        self._runbooks, self._runner = runbooks, runner

    def launch(self, command: str, args: Mapping[str, str], *, user_id: str,
               channel_id: str | None, thread_ts: str | None) -> str:
        spec = self._runbooks.get(command)
        if spec is None:
            raise DevexbotError(f"the bot has no runbook named {command!r}")
        if channel_id is None:
            raise DevexbotError("a runbook needs a channel to post its output in")
        decision = self._runner.request(spec, bind(spec, dict(args)),
                                        Requester(user_id=user_id, channel_id=channel_id),
                                        confirmed=True)
        if isinstance(decision, RunRefused):
            raise DevexbotError(decision.text)
        if isinstance(decision, AskParameters | AskConfirmation):
            raise DevexbotError(f"`{command}` needs parameters the button does not give: run "
                                f"it with `/devex {command}`")
        assert isinstance(decision, Started)
        return f"Started `{command}` (run {decision.run_id}); its output follows in the channel."


class ScheduledLauncher:
    """The scheduler's way in: a command with `schedule:` runs as the bot, in its channel."""

    def __init__(self, runbooks: Runbooks, runner: RunbookRunner) -> None:
        self._runbooks, self._runner = runbooks, runner

    def __call__(self, command: str, *, params: Mapping[str, str], channel: str | None,
                 by: str) -> str:
        spec = self._runbooks.get(command)
        if spec is None or channel is None:
            raise DevexbotError(f"no runbook {command!r} with a channel to run in")
        decision = self._runner.request(spec, bind(spec, dict(params)),
                                        Requester(user_id=by, channel_id=channel),
                                        confirmed=True, scheduled=True)
        if isinstance(decision, RunRefused):
            raise DevexbotError(decision.text)
        if not isinstance(decision, Started):
            raise DevexbotError(f"`{command}` needs parameters its schedule does not give")
        return f"started run {decision.run_id}"
