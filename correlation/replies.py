"""Thread replies under a card that bring a decision point to a human: what failed (with
the telling piece of the log), or a deployment waiting for approval.

A failure shows what its CheckLine carries: `summary` (a check run's output title), and
these optional `details` keys, read defensively (a wrong type is skipped):

- `output_summary`: str, a check run's `output.summary` (first lines, quoted)
- `failed_steps`: list[str], the failed steps of a workflow job
- `tests`: {"failed", "skipped", "passed", "total": int}, e.g. Jenkins' test summary
- `failed_tests`: list of str or {"name": str, "message": str}
- `annotations`: int (a count) or list of {"path", "start_line", "message", "title"}
- `log_url`: str, where the full log is
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from correlation.blocks import SlackMessage, first_line
from correlation.card import CheckLine, CommitCard, DeploymentLine
from correlation.checklist import (
    STATUS_EMOJI,
    FailedTest,
    check_line,
    failed_tests,
    failures,
    leaves,
)
from correlation.mrkdwn import (
    MAX_MESSAGE_TEXT,
    MAX_TEXT,
    Block,
    clip,
    clip_start,
    code,
    context,
    escape,
    link,
    mention,
    names,
    one_line,
    pack,
    section,
    slack_len,
    text_size,
)
from correlation.status import Status

__all__ = ["log_tail", "render_approval_request", "render_failure_reply",
           "render_tryout_request"]

MAX_DETAILED_FAILURES = 10
MAX_LOGS = 5
# Shares of MAX_MESSAGE_TEXT: the failures' details (each at most FAILURE_TEXT) and the
# failed deployments; log tails get what is left, in the order of the failures.
DETAILS_TEXT = 4000
FAILURE_TEXT = 1500
DEPLOYS_TEXT = 1000
MIN_PART_TEXT = 200
MAX_ITEMS = 10  # failed tests, annotations
MAX_MENTIONS = 20
MAX_REPLY_TEXT = 280
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
_FENCE_OPEN, _FENCE_CLOSE = "```\n", "\n```"
_NO_LOGS: Mapping[str, str] = MappingProxyType({})


def render_failure_reply(
    card: CommitCard,
    *,
    mention: str | None,
    log_excerpts: Mapping[str, str] = _NO_LOGS,
    checks: Sequence[CheckLine] | None = None,
    deployments: Sequence[DeploymentLine] | None = None,
) -> SlackMessage:
    """A reply naming who should look, each failed check with what its payload said, and
    the end of its log when one is given (`log_excerpts` is keyed by check name). It tells
    the failed `checks` and `deployments` given, by default every failure on the card."""
    who = _who([mention] if mention else [])
    failed = list(checks) if checks is not None else failures(card.checks)
    failed_deploys = (list(deployments) if deployments is not None
                      else [d for d in card.deployments if d.status is Status.FAILURE])
    what = _what_failed(failed, len(leaves(card.checks)), [d.environment for d in failed_deploys])
    head = f"{who}❌ {what} on *{escape(card.repo, 100)}* {_where(card)}"
    if subject := first_line(card.message):
        head += f"\n{escape(subject, 300)}"
    # The list of what failed comes before any log: logs get what text is left.
    details = _failure_details(failed)
    rest = [c.name for c in failed[len(details):]]
    more_failed = [context([f"… +{len(rest)} more failed: {names(rest, shown=5)}"])] if rest else []
    deploy_blocks = pack(
        [_deploy_failure_line(d.environment, d.url, d.description) for d in failed_deploys],
        max_chars=DEPLOYS_TEXT,
        max_lines=10,
    )
    head_block = section(head)
    logs = _LogRoom(MAX_MESSAGE_TEXT - text_size(
        [head_block, *more_failed, *deploy_blocks, *(b for _, blocks in details for b in blocks)]
    ))

    blocks: list[Block] = [head_block]
    for check, detail in details:
        blocks += detail
        if log := log_excerpts.get(check.name):
            blocks += logs.tail(log)
    blocks += more_failed + deploy_blocks
    # Excerpts for something that is not a failed check (a deploy log, say) come last.
    failed_names = {c.name for c in failed}
    for name, log in log_excerpts.items():
        if name not in failed_names:
            blocks += logs.tail(log, label=f"*{escape(one_line(name), 100)}*\n")

    text = clip(f"{who}❌ {_plain(what)} on {escape(card.repo, 100)} {card.short_sha}",
                MAX_REPLY_TEXT)
    return SlackMessage(text=text, blocks=blocks)


def render_approval_request(
    card: CommitCard, *, environment: str, mentions: Sequence[str]
) -> SlackMessage:
    """A reply asking the approvers to decide on the deployment of this commit to
    `environment`."""
    deployment = next((d for d in card.deployments if d.environment == environment), None)
    env = escape(one_line(environment), 60) or "(unnamed)"
    who = _who(mentions)
    target = link(deployment.url if deployment else None, env)
    lines = [f"{who}✋ Deploy of *{escape(card.repo, 100)}* {_where(card)} to *{target}* "
             "is waiting for your approval."]
    if subject := first_line(card.message):
        lines.append(escape(subject, 300))
    notes = []
    if deployment and deployment.approval and deployment.approval.reviewers:
        notes.append(f"Requested reviewers: {names(deployment.approval.reviewers, shown=10)}")
    if deployment and deployment.description:
        notes.append(escape(one_line(deployment.description), 300))
    notes.append("Please approve or reject the deployment.")
    blocks = [*pack(lines, max_chars=MAX_TEXT), context(notes)]
    text_who = _who(mentions[:3]) + (f"+{len(mentions) - 3} " if len(mentions) > 3 else "")
    text = clip(
        f"{text_who}✋ {escape(card.repo, 100)} {card.short_sha}: deploy to {env} "
        "is waiting for your approval",
        MAX_REPLY_TEXT,
    )
    return SlackMessage(text=text, blocks=blocks)


def render_tryout_request(
    card: CommitCard, *, environment: str, actions: Sequence[Mapping[str, object]] = ()
) -> SlackMessage:
    """A direct message to the person who asked for a change: it is on `environment`, here
    is where to try it, and (`actions`) buttons to accept it or ask for changes."""
    deployment = next((d for d in card.deployments if d.environment == environment), None)
    env = escape(one_line(environment), 60) or "(unnamed)"
    url = deployment.url if deployment else None
    pr = card.pull_request
    what = (link(pr.url, escape(one_line(f"#{pr.number} {pr.title}"), 200)) if pr
            else escape(first_line(card.message), 200) or card.short_sha)
    lines = [f"👋 The change you asked for, *{what}* ({escape(card.repo, 100)} "
             f"{_where(card)}), is on *{link(url, env)}*."]
    lines.append(f"Try it {link(url, 'here')} and tell us: does it do what you asked?" if url
                 else "Try it there and tell us: does it do what you asked?")
    blocks: list[Block] = [*pack(lines, max_chars=MAX_TEXT)]
    if actions:
        blocks.append({"type": "actions", "elements": [dict(a) for a in actions[:5]]})
    text = clip(f"👋 {escape(card.repo, 100)} {card.short_sha} is on {env}: try it and approve "
                "it or ask for changes", MAX_REPLY_TEXT)
    return SlackMessage(text=text, blocks=blocks)


def _failure_details(failed: Sequence[CheckLine]) -> list[tuple[CheckLine, list[Block]]]:
    """Each failure with its section, in order, until their share of the text runs out."""
    details: list[tuple[CheckLine, list[Block]]] = []
    for check in failed[:MAX_DETAILED_FAILURES]:
        left = DETAILS_TEXT - sum(text_size(blocks) for _, blocks in details)
        if left < MIN_PART_TEXT:
            break
        details.append((check, pack(_failure_lines(check), max_chars=min(FAILURE_TEXT, left))))
    return details


@dataclass
class _LogRoom:
    """The text a reply has left for log tails, and how many more it may show."""

    text: int
    logs: int = MAX_LOGS

    def tail(self, log: str, label: str = "") -> list[Block]:
        room = min(MAX_TEXT, self.text) - slack_len(label)
        tail = log_tail(log, limit=room) if self.logs > 0 and room >= MIN_PART_TEXT else ""
        if not tail:
            return []
        self.text -= slack_len(label + tail)
        self.logs -= 1
        return [section(label + tail)]


def log_tail(log: str, *, limit: int = MAX_TEXT) -> str:
    """The end of a log as a mrkdwn code block of at most `limit` units; the end is where
    the error is, so earlier lines go first, counted in `… (trimmed, N more lines)`."""
    lines = [_log_line(line) for line in _ANSI.sub("", log).replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1].strip():
        lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        return ""
    room = limit - slack_len(_FENCE_OPEN + _FENCE_CLOSE)
    if sum(slack_len(line) + 1 for line in lines) - 1 <= room:
        return _FENCE_OPEN + "\n".join(lines) + _FENCE_CLOSE
    room -= slack_len(_trimmed(len(lines)))
    if room < 2:
        return ""  # no room for even the end of a line
    kept: list[str] = []
    used = 0
    for line in reversed(lines):
        size = slack_len(line) + (1 if kept else 0)
        if used + size > room:
            break
        kept.append(line)
        used += size
    if not kept:  # one enormous last line: keep its end
        kept = [clip_start(lines[-1], room)]
    kept.reverse()
    return _trimmed(len(lines) - len(kept)) + _FENCE_OPEN + "\n".join(kept) + _FENCE_CLOSE


def _trimmed(dropped: int) -> str:
    if not dropped:
        return "… (trimmed)\n"
    return f"… (trimmed, {dropped} more line{'' if dropped == 1 else 's'})\n"


def _log_line(line: str) -> str:
    # A carriage return redraws the line (progress bars): what is left is its last state.
    line = line.rsplit("\r", 1)[-1].rstrip()
    return escape(line.replace("```", "'''"))


def _who(mentions: Sequence[str]) -> str:
    shown = [mention(m) for m in mentions[:MAX_MENTIONS] if m and m.strip()]
    extra = f" +{len(mentions) - MAX_MENTIONS} more" if len(mentions) > MAX_MENTIONS else ""
    return " ".join(shown) + extra + " " if shown else ""


def _where(card: CommitCard) -> str:
    branch = f"{code(card.branch, 80)} " if card.branch else ""
    return branch + link(card.url, card.short_sha)


def _what_failed(failed: Sequence[CheckLine], counted: int, environments: Sequence[str]) -> str:
    parts = []
    if len(failed) == 1:
        parts.append(f"*{escape(one_line(failed[0].name), 100)}* failed")
    elif failed:
        parts.append(f"{len(failed)} of {counted} checks failed")
    if environments:
        parts.append(f"deploy to *{names(environments, shown=3)}* failed")
    return ", ".join(parts) or "something failed"


def _plain(mrkdwn: str) -> str:
    return mrkdwn.replace("*", "")


def _failure_lines(check: CheckLine) -> list[str]:
    """The failed check's line, then what its payload carried about the failure."""
    lines = [check_line(check)]
    details = check.details
    summary = details.get("output_summary")
    if isinstance(summary, str) and summary.strip():
        quoted = [f"> {escape(line.rstrip(), 200)}" for line in summary.strip().splitlines()]
        lines += quoted[:8] + ([f"> … +{len(quoted) - 8} more lines"] if len(quoted) > 8 else [])
    steps = _strings(details.get("failed_steps"))
    if steps:
        lines.append(f"Failed steps: {names(steps, shown=5)}")
    if tests := _test_counts(details.get("tests")):
        lines.append(f"Tests: {tests}")
    lines += _items("Failed tests", failed_tests(check), _failed_test)
    annotations = details.get("annotations")
    if isinstance(annotations, int) and not isinstance(annotations, bool) and annotations > 0:
        lines.append(f"{annotations} annotation{'s' if annotations != 1 else ''}")
    else:
        lines += _items("Annotations", annotations, _annotation)
    if log_url := details.get("log_url"):
        lines.append(link(log_url, "full log"))
    return lines


def _deploy_failure_line(environment: str, url: str | None, description: str | None) -> str:
    env = link(url, escape(one_line(environment), 60))
    line = f"{STATUS_EMOJI[Status.FAILURE]} deploy to *{env}* failed"
    if description:
        line += f" — {escape(one_line(description), 200)}"
    return line


def _items(title: str, raw: object, render: Callable[[object], str | None]) -> list[str]:
    if not isinstance(raw, list) or not raw:
        return []
    rendered = [line for item in raw if (line := render(item))]
    if not rendered:
        return []
    extra = [f"• … +{len(rendered) - MAX_ITEMS} more"] if len(rendered) > MAX_ITEMS else []
    return [f"{title}:", *(f"• {line}" for line in rendered[:MAX_ITEMS]), *extra]


def _failed_test(item: object) -> str | None:
    if not isinstance(item, FailedTest):
        return None
    line = code(item.name, 150)
    if item.message:
        line += f" — {escape(one_line(item.message), 200)}"
    return line


def _annotation(item: object) -> str | None:
    if not isinstance(item, Mapping):
        return None
    where = str(item.get("path") or "")
    if isinstance(item.get("start_line"), int):
        where += f":{item['start_line']}"
    message = item.get("message") or item.get("title")
    if not where and not isinstance(message, str):
        return None
    line = code(where, 120) if where else ""
    if isinstance(message, str) and message.strip():
        line += f" {escape(one_line(message), 200)}"
    return line.strip()


def _test_counts(raw: object) -> str | None:
    if not isinstance(raw, Mapping):
        return None
    counts = {k: v for k, v in raw.items()
              if k in ("failed", "skipped", "passed", "total") and isinstance(v, int)}
    text = ", ".join(f"{counts[k]} {k}" for k in ("failed", "skipped", "passed") if k in counts)
    if "total" in counts:
        text += f" of {counts['total']}" if text else f"{counts['total']} in all"
    return text or None


def _strings(raw: object) -> list[str]:
    return [s for s in raw if isinstance(s, str) and s.strip()] if isinstance(raw, list) else []
