"""Who the config says may act: one kind of principal wherever it names people
(permissions, runbooks' `allowed`, approvers), parsed in one place, its mistakes in words.

`*` (everyone), a Slack user id (`U…`/`W…`), a Slack user group (`S…` or `@handle`),
a GitHub user (`github:<login>`) or a GitHub team (`github-team:<org>/<team slug>`).
GitHub users and teams count through the config's `people:` map (Slack id to login).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class PrincipalKind(StrEnum):
    EVERYONE = "everyone"
    SLACK_USER = "slack user"
    SLACK_GROUP = "slack group"
    SLACK_HANDLE = "slack handle"  # a user group by its @handle
    GITHUB_USER = "github user"
    GITHUB_TEAM = "github team"

    @property
    def on_github(self) -> bool:
        return self in (PrincipalKind.GITHUB_USER, PrincipalKind.GITHUB_TEAM)


@dataclass(frozen=True)
class Principal:
    kind: PrincipalKind
    name: str  # the id, the handle without `@`, the login, or `org/slug`


GITHUB_USER, GITHUB_TEAM = "github:", "github-team:"
FORMS = ("*, a Slack user id (U…), a user group (S… or @handle), github:<login> or "
         "github-team:<org>/<team>")

_LOGIN = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})"
_FORMS: tuple[tuple[PrincipalKind, re.Pattern[str]], ...] = (
    (PrincipalKind.EVERYONE, re.compile(r"(\*)")),
    (PrincipalKind.SLACK_USER, re.compile(r"([UW][A-Z0-9]+)")),
    (PrincipalKind.SLACK_GROUP, re.compile(r"(S[A-Z0-9]+)")),
    (PrincipalKind.SLACK_HANDLE, re.compile(r"@([a-z0-9._-]+)")),
    (PrincipalKind.GITHUB_USER, re.compile(rf"github:({_LOGIN})")),
    (PrincipalKind.GITHUB_TEAM, re.compile(rf"github-team:({_LOGIN}/[A-Za-z0-9._-]+)")),
)
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_BARE_LOGIN = re.compile(_LOGIN)
_TEAM_ALONE = re.compile(rf"(?:github:)?({_LOGIN}/[A-Za-z0-9._-]+)")


def parse_principal(text: str) -> Principal:
    """The principal `text` names; ValueError in words for anything else."""
    for kind, pattern in _FORMS:
        if found := pattern.fullmatch(text):
            return Principal(kind, found.group(1))
    raise ValueError(f"{text!r} is not a principal — use {FORMS}{_hint(text)}")


def _hint(text: str) -> str:
    """What the writer probably meant, for the mistakes people make."""
    if found := _MENTION.fullmatch(text):
        return f" (write the id alone: {found.group(1)})"
    if found := _TEAM_ALONE.fullmatch(text):
        return f" (a GitHub team is github-team:{found.group(1)})"
    if text.startswith(GITHUB_TEAM):
        return " (a GitHub team is github-team:<org>/<team>)"
    if text.startswith("#"):
        return " (a channel cannot act: name its people or a user group)"
    if text.casefold() in ("everyone", "all", "anyone", "everybody"):
        return " (everyone is *)"
    if _BARE_LOGIN.fullmatch(text):
        return f" (a GitHub user is github:{text})"
    return ""


def person_count(principals: list[str]) -> int | None:
    """How many people the principals name, when each names one person (a Slack user or
    a GitHub user); None when a group, a team or everyone makes the number open."""
    people = {parse_principal(p) for p in principals}
    if all(p.kind in (PrincipalKind.SLACK_USER, PrincipalKind.GITHUB_USER) for p in people):
        return len(people)
    return None


def allows_everyone(principals: list[str]) -> bool:
    """Whether the principals include everyone (`*`): all a reader nobody knows may pass."""
    return any(p.strip() == "*" for p in principals)
