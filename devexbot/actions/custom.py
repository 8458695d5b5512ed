"""A click on one of the team's own buttons: start its Jenkins job or its runbook command.

The button is looked up in the config as it is now and re-checked against the card as it
is now ("Build without tests" is for a failed build; if the build is running again, the
click is refused). Each button runs once per build it shows for (once per commit when it
is about the card): a double click, or a second person, finds the claim. A Jenkins button
that re-uses the check's build reads it from Jenkins first (`correlation.custom_buttons`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from correlation.card import CheckLine
from correlation.custom_buttons import button_subjects, reuses_build
from correlation.mrkdwn import escape
from correlation.placeholders import fill, placeholder_values
from correlation.retry import built_elsewhere
from devexbot.actions.core import ActionContext, ActionSpec, Outcome, Refused, slack_time
from devexbot.actions.ids import ActionId
from devexbot.actions.retry import recorded_build
from devexbot.clients.jenkins import JenkinsJobs
from devexbot.config.buttons import CustomButton
from devexbot.store.models import utcnow

MAX_KEY = 400  # action_claims.key
MAX_TARGET = 150  # the audit's target, and part of the stamp's event name


class RunbookLauncher(Protocol):
    """What a card button needs of the runbooks: start a command on someone's behalf."""

    def launch(self, command: str, args: Mapping[str, str], *, user_id: str,
               channel_id: str | None, thread_ts: str | None) -> str:
        """Start the run and say so in a line for the clicker; DevexbotError if it cannot."""
        ...


class NoRunbooks:
    """The launcher of a bot without runbooks (Slack off): every button says so."""

    def launch(self, command: str, args: Mapping[str, str], *, user_id: str,
               channel_id: str | None, thread_ts: str | None) -> str:
        raise Refused("runbooks are not set up on this bot")


def resolve(buttons: Sequence[CustomButton], ctx: ActionContext
            ) -> tuple[CustomButton, CheckLine | None]:
    """The clicked button and the check it was shown for, if it still applies."""
    value, card = ctx.click.value, ctx.card
    button = next((b for b in buttons if b.key == value.button), None)
    if button is None or button.kind == "link":
        raise Refused("the bot's config no longer has this button")
    statuses = " or ".join(s.value for s in button.when.status)
    subjects = button_subjects(button.policy(), card)
    if button.when.checks is None:
        if None not in subjects:
            raise Refused(f"{button.label} is for {statuses} commits; this one is "
                          f"{card.overall.value} now")
        return button, None
    for check in subjects:
        if check is not None and check.name == value.target:
            return button, check
    current = next((c for c in card.checks if c.name == value.target), None)
    if current is None:
        raise Refused(f"this card has no check named {value.target!r}")
    raise Refused(f"{current.name} is {current.status.value} now; {button.label} is for "
                  f"{statuses} ones")


def _generation(check: CheckLine) -> str:
    """Which run of the check: a new build of it may be acted on again."""
    details = check.details
    for name in ("build_number", "check_run_id"):
        if details.get(name) is not None:
            return str(details[name])
    if details.get("run_id") is not None:
        return f"{details['run_id']}.{details.get('run_attempt') or 1}"
    return check.updated_at.isoformat()


class Custom:
    """The team's own buttons (`buttons:` in the config): start a Jenkins job or a runbook."""

    spec = ActionSpec(ActionId.CUSTOM, permission="custom", verb="use the team's buttons")

    def __init__(self, buttons: Sequence[CustomButton], jenkins: JenkinsJobs,
                 runbooks: RunbookLauncher) -> None:
        self._buttons, self._jenkins, self._runbooks = tuple(buttons), jenkins, runbooks

    def claim_key(self, ctx: ActionContext) -> str:
        button, check = resolve(self._buttons, ctx)
        value = ctx.click.value
        key = f"custom:{button.key}:{value.repo}@{value.sha}"
        if check is not None:
            key += f":{check.name}#{_generation(check)}"
        if len(key) > MAX_KEY:
            key = key[: MAX_KEY - 17] + "~" + hashlib.sha256(key.encode()).hexdigest()[:16]
        return key

    def __call__(self, ctx: ActionContext) -> Outcome:
        button, check = resolve(self._buttons, ctx)
        values = placeholder_values(ctx.card, check)

        def filled(template: str) -> str:
            text = fill(template, values)
            if text is None:
                raise Refused(f"{button.label} needs details this card does not have")
            return text

        if button.jenkins is not None:
            return self._start_jenkins(ctx, button, check, filled)
        return self._launch_runbook(ctx, button, check, filled)

    def _start_jenkins(self, ctx: ActionContext, button: CustomButton, check: CheckLine | None,
                       filled: Callable[[str], str]) -> Outcome:
        spec = button.jenkins
        assert spec is not None
        job = filled(spec.job)
        parameters: dict[str, str] = {}
        if check is not None and reuses_build(button.policy(), check):
            # What the card says of the build came from a notification: ask Jenkins.
            build = recorded_build(self._jenkins, check.details)
            why_not = built_elsewhere(build, ctx.card.sha)
            if why_not is not None:
                raise Refused(why_not)
            if spec.same_parameters:
                parameters.update(build.parameters)
        parameters.update({name: filled(text) for name, text in spec.parameters.items()})
        queue_id = self._jenkins.build_job(job, parameters=parameters or None)
        shown = ", ".join(f"{k}={v}" for k, v in sorted(parameters.items()))
        return Outcome(
            reply=f"{button.label}: started {job}{' with ' + shown if shown else ''} "
                  f"(queue item {queue_id}); the card updates when it reports.",
            stamp=f"{_about(button, check)} started by <@{ctx.click.user_id}> "
                  f"{slack_time(utcnow())}",
            until_news_of=check.slot if check is not None else None,
            target=f"{button.key}: {job}"[:MAX_TARGET],
        )

    def _launch_runbook(self, ctx: ActionContext, button: CustomButton,
                        check: CheckLine | None, filled: Callable[[str], str]) -> Outcome:
        spec = button.runbook
        assert spec is not None
        args = {name: filled(text) for name, text in spec.args.items()}
        said = self._runbooks.launch(spec.command, args, user_id=ctx.click.user_id,
                                     channel_id=ctx.click.channel_id,
                                     thread_ts=ctx.click.message_ts)
        return Outcome(
            reply=said,
            stamp=f"{_about(button, check)} run by <@{ctx.click.user_id}> "
                  f"{slack_time(utcnow())}",
            target=f"{button.key}: {spec.command}"[:MAX_TARGET],
        )


def _about(button: CustomButton, check: CheckLine | None) -> str:
    """The stamp's subject, as mrkdwn: "octo-app/main: Build without tests"."""
    label = escape(button.label)
    return label if check is None else f"{escape(check.name, 150)}: {label}"
