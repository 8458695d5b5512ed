"""Placeholders in the team's button templates: `{sha}`, `{branch}`, … filled from a card.

A fixed set of names, substituted as plain text: no expressions, attribute access, format
specs or shell, so a branch name can never become code. `{{` and `}}` are literal braces.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from correlation.card import CheckLine, CommitCard

CARD_PLACEHOLDERS = ("sha", "short_sha", "repo", "branch", "pr")
CHECK_PLACEHOLDERS = ("check", "job", "build_number")  # need a check: `when.checks`
PLACEHOLDERS = CARD_PLACEHOLDERS + CHECK_PLACEHOLDERS

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


def placeholders_in(template: str) -> set[str]:
    """The placeholder names a template uses; ValueError for an unknown name or a stray
    brace."""
    names = set()
    for match in _TOKEN.finditer(template):
        token, name = match.group(0), match.group(1)
        if token in ("{{", "}}"):
            continue
        if name is None:
            raise ValueError(f"a lone {token!r} in {template!r}: write {token * 2} for a "
                             "literal brace")
        if name not in PLACEHOLDERS:
            raise ValueError(f"unknown placeholder {{{name}}} in {template!r}; known: "
                             + ", ".join(f"{{{n}}}" for n in PLACEHOLDERS))
        names.add(name)
    return names


def fill(template: str, values: Mapping[str, str], *,
         encode: Callable[[str], str] = str) -> str | None:
    """The template with each placeholder replaced by `encode(value)`; None when one of
    them has no value on this card (a `{pr}` on a commit without a pull request)."""
    missing = False

    def replace(match: re.Match[str]) -> str:
        nonlocal missing
        token, name = match.group(0), match.group(1)
        if token in ("{{", "}}"):
            return token[0]
        value = values.get(name) if name else None
        if not value:
            missing = True
            return ""
        return encode(value)

    filled = _TOKEN.sub(replace, template)
    return None if missing else filled


def placeholder_values(card: CommitCard, check: CheckLine | None = None) -> dict[str, str]:
    """What each placeholder stands for on this card (and check); absent ones are unknown."""
    values = {"sha": card.sha, "short_sha": card.short_sha, "repo": card.repo}
    if card.branch:
        values["branch"] = card.branch
    if card.pull_request is not None:
        values["pr"] = str(card.pull_request.number)
    if check is not None:
        values["check"] = check.name
    if check is not None and check.source == "jenkins":  # an Actions job's `job` is no Jenkins job
        for name in ("job", "build_number"):
            value = check.details.get(name)
            if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
                values[name] = str(value)
    return values
