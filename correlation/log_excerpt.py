"""The piece of a failed build's log a person needs in the failure reply: the lines around
the first error, the failed assertions and the closing summary, in the log's order, a
dozen or so lines in all (the reply links the full log). Pure: text in, text out."""

from __future__ import annotations

import re

MAX_LINES = 15
BEFORE, AFTER = 2, 3  # context around the first error
GAP = "…"

_GITHUB_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z ")
_NOISE = re.compile(r"^(##\[(group|endgroup)\]|Post job cleanup|Cleaning up orphan)")
_TROUBLE = re.compile(r"(?i)\b(error|failed|failure|fatal|exception|traceback|assert\w*)\b")
_ASSERTION = re.compile(r"(?i)(\bassert\w*error\b|^E\s{2,}\S|\bexpected\b.*\bgot\b)")
_SUMMARY = re.compile(
    r"(?i)(^=+ .*\b(failed|passed|errors?)\b.*=+$|\btests run:|\bbuild (failure|failed)\b"
    r"|process completed with exit code|^\s*\d+ (failing|failed)\b|^FAILED\b)")


def log_excerpt(text: str, *, max_lines: int = MAX_LINES) -> str:
    """The lines of `text` worth reading in a reply; the end of the log when none says
    what went wrong."""
    lines = [_GITHUB_TIMESTAMP.sub("", line) for line in text.splitlines()]
    lines = [line for line in lines if line.strip() and not _NOISE.match(line)]
    first = next((i for i, line in enumerate(lines) if _TROUBLE.search(line)), None)
    if first is None:
        return "\n".join(lines[-max_lines:])
    summary = [i for i, line in enumerate(lines) if _SUMMARY.search(line)][-3:]
    keep = {*range(max(0, first - BEFORE), min(len(lines), first + AFTER + 1)), *summary}
    for i, line in enumerate(lines):  # the failed assertions, as many as fit
        if len(keep) >= max_lines:
            break
        if _ASSERTION.search(line):
            keep.add(i)
    out: list[str] = []
    previous = None
    for i in sorted(keep):
        if previous is not None and i != previous + 1:
            out.append(GAP)
        out.append(lines[i])
        previous = i
    return "\n".join(out)
