"""Block Kit and mrkdwn for runbooks: the run's messages, the confirmation, the modal,
help and history. Pure functions of their arguments."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from correlation.mrkdwn import code, escape, link, mention, section, slack_len
from devexbot.runbooks.actions import (
    PARAM_ACTION,
    PARAM_BLOCK,
    ModalState,
    RunbookAction,
    RunbookView,
    RunButton,
)
from devexbot.runbooks.model import Param, ParamType, RunbookCommand, RunStatus, render_value
from devexbot.runbooks.redact import REDACTED, Redactor
from devexbot.store import RunbookRun

Block = dict[str, Any]
OUTPUT_CHARS = 2600  # of output shown in the thread reply (a section holds 3000)

EMOJI = {
    RunStatus.CONFIRMING: ":grey_question:",
    RunStatus.CANCELLED: ":heavy_minus_sign:",
    RunStatus.REFUSED: ":no_entry:",
    RunStatus.RUNNING: ":hourglass_flowing_sand:",
    RunStatus.SUCCEEDED: ":white_check_mark:",
    RunStatus.FAILED: ":x:",
    RunStatus.TIMED_OUT: ":alarm_clock:",
    RunStatus.INTERRUPTED: ":warning:",
    RunStatus.ERROR: ":warning:",
    RunStatus.LOST: ":warning:",
}


def shown_args(command: RunbookCommand, values: Mapping[str, Any],
               redact: Redactor) -> dict[str, str]:
    """Arguments as shown and stored: secret parameters as [redacted], the rest redacted."""
    return {p.name: REDACTED if p.secret else redact(render_value(values[p.name]))
            for p in command.params if p.name in values}


def rerun_args(command: RunbookCommand, values: Mapping[str, Any],
               redact: Redactor) -> dict[str, str]:
    """Arguments a button may carry to run again: never a secret, nor anything redaction
    would change (a modal asks for those)."""
    out = {}
    for p in command.params:
        if p.name in values and not p.secret:
            text = render_value(values[p.name])
            if redact(text) == text:
                out[p.name] = text
    return out


def args_line(name: str, args: Mapping[str, str]) -> str:
    """`cleanup-test-data env=staging note='two words'`: quoted only where it must be to be
    typed again."""
    return " ".join([name] + [f"{key}={_quoted(value)}" for key, value in args.items()])


def _quoted(value: str) -> str:
    return shlex.quote(value) if not value or re.search(r"[\s'\"\\]", value) else value


def ran_text(user_id: str, command: str, args: Mapping[str, str]) -> str:
    return f"{mention(user_id)} ran {code(args_line(command, args), 2000)}"


def duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s" if seconds % 60 else f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def ago(then: datetime, now: datetime) -> str:
    seconds = round((now - then).total_seconds())
    if seconds < 5:
        return "just now"
    if seconds < 60:
        return f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} d ago"


def code_block(text: str, limit: int = 2900) -> str:
    """Output as a code block within `limit` units: the end is kept, whole lines first."""
    if not text.strip():
        return "_no output_"
    body = escape(text.rstrip("\n").replace("```", "``\u200b`"))
    while slack_len(body) > limit - 8:
        cut = body.find("\n", max(1, slack_len(body) - (limit - 8)))
        body = body[cut + 1:] if cut > 0 else body[-(limit - 12):]
    return f"```\n{body}\n```"


def progress_blocks(elapsed: float, tail: str, note: str | None) -> tuple[str, list[Block]]:
    status = f"{EMOJI[RunStatus.RUNNING]} Running for {duration(elapsed)}"
    if note:
        status += f" · {escape(note, 200)}"
    return status, [section(status), section(code_block(tail))]


def outcome_line(status: RunStatus, exit_code: int | None, seconds: float | None,
                 detail: str | None) -> str:
    words = [EMOJI.get(status, ""), status.replace("_", " ").capitalize()]
    if exit_code is not None:
        words.append(f"(exit {exit_code})")
    if seconds is not None:
        words.append(f"in {duration(seconds)}")
    line = " ".join(w for w in words if w)
    return f"{line} · {escape(detail, 300)}" if detail else line


def final_blocks(status: RunStatus, exit_code: int | None, seconds: float, tail: str,
                 detail: str | None, url: str | None, again: RunButton | None
                 ) -> tuple[str, list[Block]]:
    line = outcome_line(status, exit_code, seconds, detail)
    if url:
        line += f" · {link(url, 'Jenkins build')}"
    blocks = [section(line), section(code_block(tail))]
    if again is not None:
        blocks.append({"type": "actions", "elements": [{
            "type": "button", "action_id": RunbookAction.RUN_AGAIN,
            "text": {"type": "plain_text", "text": "Run again"}, "value": again.value()}]})
    return line, blocks


def confirm_blocks(command: RunbookCommand, args: Mapping[str, str], button: RunButton
                   ) -> tuple[str, list[Block]]:
    text = f"Run {code(args_line(command.name, args), 2000)} in this channel?"
    return text, [
        section(f"{text}\n{escape(command.description, 500)}"),
        {"type": "actions", "elements": [
            {"type": "button", "action_id": RunbookAction.CONFIRM_RUN, "style": "primary",
             "text": {"type": "plain_text", "text": "Run"}, "value": button.value()},
            {"type": "button", "action_id": RunbookAction.CONFIRM_CANCEL,
             "text": {"type": "plain_text", "text": "Cancel"}, "value": button.value()},
        ]},
    ]


def params_modal(command: RunbookCommand, given: Mapping[str, str], state: ModalState
                 ) -> dict[str, Any]:
    """A modal with one input per parameter, filled with what was given and the defaults."""
    blocks: list[Block] = [section(escape(command.description, 2000))]
    for param in command.params:
        initial = given.get(param.name)
        if initial is None and param.default is not None:
            initial = render_value(param.default)
        block: Block = {
            "type": "input", "block_id": PARAM_BLOCK + param.name,
            "label": {"type": "plain_text", "text": param.name},
            "element": _input_element(param, initial), "optional": not param.required,
        }
        if param.description:
            block["hint"] = {"type": "plain_text", "text": param.description[:150]}
        blocks.append(block)
    title = command.name if len(command.name) <= 24 else command.name[:23] + "…"
    return {
        "type": "modal", "callback_id": RunbookView.PARAMS,
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Run"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": state.model_dump_json(), "blocks": blocks[:100],
    }


def _input_element(param: Param, initial: str | None) -> Block:
    element: Block
    if param.type in (ParamType.CHOICE, ParamType.BOOL):
        values = [render_value(c) for c in param.choices] if param.type is ParamType.CHOICE \
            else ["true", "false"]
        options = [{"text": {"type": "plain_text", "text": v[:75]}, "value": v}
                   for v in values[:100]]
        element = {"type": "static_select", "action_id": PARAM_ACTION, "options": options}
        chosen = next((o for o in options if o["value"] == initial), None)
        if chosen is not None:
            element["initial_option"] = chosen
        return element
    if param.type is ParamType.INT:
        element = {"type": "number_input", "action_id": PARAM_ACTION,
                   "is_decimal_allowed": False}
        if param.min is not None:
            element["min_value"] = str(param.min)
        if param.max is not None:
            element["max_value"] = str(param.max)
    else:
        element = {"type": "plain_text_input", "action_id": PARAM_ACTION,
                   "max_length": min(param.max_length, 3000)}
    if initial:
        element["initial_value"] = initial
    return element


def modal_values(state_values: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """What a submitted modal holds, by parameter (empty optional inputs left out)."""
    out = {}
    for block_id, actions in state_values.items():
        if not block_id.startswith(PARAM_BLOCK):
            continue
        action = actions.get(PARAM_ACTION) or {}
        value = (action.get("selected_option") or {}).get("value") \
            if "selected_option" in action else action.get("value")
        if value is not None and value != "":
            out[block_id[len(PARAM_BLOCK):]] = str(value)
    return out


def usage(command: RunbookCommand, prefix: str) -> str:
    """`/devex help <cmd>`: the usage line, each parameter, and the rules."""
    lines = [f"{code(command.usage(prefix), 500)} — {escape(command.description, 300)}"]
    for p in command.params:
        words = [f"• `{p.name}`: {p.hint() if p.type is not ParamType.STR else 'text'}"]
        if p.default is not None:
            words.append(f"(default {code(render_value(p.default), 100)})")
        else:
            words.append("(required)")
        if p.pattern:
            words.append(f"matching {code(p.pattern, 200)}")
        if p.description:
            words.append(f"— {escape(p.description, 200)}")
        lines.append(" ".join(words))
    rules = [f"times out after {duration(command.timeout)}"]
    if command.confirm:
        rules.insert(0, "asks for confirmation")
    rules.append("one run at a time" if command.concurrency == 1
                 else f"{command.concurrency} runs at a time")
    if command.channels:
        rules.append("only in " + ", ".join(_channel(c) for c in command.channels))
    lines.append("_" + "; ".join(rules) + "._")
    lines.append(f"Values by position or `key=value`; quote values with spaces: "
                 f"{code(prefix + command.name + ' note=' + chr(34) + 'two words' + chr(34), 80)}")
    return "\n".join(lines)


def _channel(ref: str) -> str:
    return f"<#{ref}>" if not ref.startswith("#") else escape(ref)


def history_lines(runs: Sequence[RunbookRun], now: datetime) -> list[str]:
    lines = []
    for run in runs:
        status = RunStatus(run.status)
        seconds = (run.finished_at - run.started_at).total_seconds() \
            if run.finished_at and run.started_at else None
        words = [f"{EMOJI.get(status, '')} {code(args_line(run.command, run.args), 300)}",
                 f"— {mention(run.user_id)}, {ago(run.created_at, now)}"]
        if status is RunStatus.RUNNING:
            words.append("· running")
        elif status in (RunStatus.REFUSED, RunStatus.CANCELLED, RunStatus.LOST,
                        RunStatus.ERROR):
            words.append(f"· {status.replace('_', ' ')}"
                         + (f": {escape(run.reason, 150)}" if run.reason else ""))
        else:
            words.append("· " + outcome_line(status, run.exit_code, seconds, None)
                         .split(" ", 1)[1].lower())
        lines.append(" ".join(words))
    return lines
