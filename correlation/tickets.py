"""Ticket references in commit messages, branch names and pull requests: Jira-style keys
(`ABC-123`) and GitHub issues (`#12`, `fixes #12`, `GH-12`, `octo/app#12`).

Pure text work. Without a project list, anything shaped like a Jira key counts except
words that only look like one (`UTF-8`, `SHA-256`, `ISO-8601`…); with one, only keys of
those projects count, and branch names are read without regard to case
(`feature/abc-123-login`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

__all__ = [
    "NOT_PROJECTS", "TicketRef", "TicketRules", "github_web_of", "is_jira_key",
    "ticket_entries", "ticket_refs",
]

# Jira's own rule: a project key is an upper-case letter then 1-9 letters, digits or `_`;
# issue numbers start at 1.
_JIRA_KEY = r"(?<![A-Za-z0-9_])([A-Z][A-Z0-9_]{1,9})-([1-9][0-9]{0,8})(?![A-Za-z0-9])"
# Prefixes of encodings, hashes, standards and versions that are written like keys.
NOT_PROJECTS = frozenset({
    "AES", "ARM", "CVE", "CWE", "DES", "ECMA", "ES", "GPT", "GH", "HMAC", "HTTP", "IEC",
    "IEEE", "ISO", "MD", "MR", "PEP", "PR", "RFC", "RSA", "SHA", "SSL", "TLS", "UCS", "UTF",
    "WIN", "X", "COVID",
})
_GITHUB_REF = re.compile(
    r"(?<![\w&/#.-])(?:(?P<repo>[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9_.-]+)#|#|GH-)"
    r"(?P<number>[1-9][0-9]{0,6})(?![\w-])"
)
# A merge commit's or a squash commit's pull request is no issue reference.
_MERGED_PR = re.compile(r"^Merge pull request #[0-9]+|\(#[0-9]+\)\s*$", re.MULTILINE)
MAX_TEXT = 20_000  # a pull request body can be 64 KB; its references are near the top


@dataclass(frozen=True, order=True)
class TicketRef:
    """A reference: a Jira key (`repo` and `number` unset) or a GitHub issue."""

    key: str
    repo: str | None = None  # the GitHub repository of an issue
    number: int | None = None

    @property
    def is_jira(self) -> bool:
        return self.repo is None


@dataclass(frozen=True)
class TicketRules:
    """How keys are recognised and linked (the config's `tickets:` section)."""

    projects: tuple[str, ...] = ()
    pattern: str | None = None  # a regex matching a whole key, instead of Jira's shape
    url: str | None = None  # Jira's base URL: keys link to `{url}/browse/{key}`
    github_issues: bool = True
    ignore: tuple[str, ...] = ()  # more prefixes that are not projects

    @cached_property
    def _key(self) -> re.Pattern[str]:
        return re.compile(self.pattern or _JIRA_KEY)

    @cached_property
    def _key_any_case(self) -> re.Pattern[str]:
        return re.compile(self.pattern or _JIRA_KEY, re.IGNORECASE)

    @cached_property
    def _projects(self) -> frozenset[str]:
        return frozenset(p.upper() for p in self.projects)

    @cached_property
    def _not_projects(self) -> frozenset[str]:
        return NOT_PROJECTS | {p.upper() for p in self.ignore}

    def jira_keys(self, text: str, *, any_case: bool = False) -> list[str]:
        """The Jira keys in `text`, upper-cased, in order of appearance, once each."""
        # Lower-case keys (branch names) only count for a known project: `utf-8` is no key.
        regex = self._key_any_case if any_case and self._projects else self._key
        found: list[str] = []
        for match in regex.finditer(text[:MAX_TEXT]):
            key = match.group(0).upper()
            project = key.rsplit("-", 1)[0]
            if self._projects and project not in self._projects:
                continue
            if not self._projects and project in self._not_projects:
                continue
            if key not in found:
                found.append(key)
        return found

    def github_refs(self, text: str, *, repo: str) -> list[TicketRef]:
        """The GitHub issues `text` refers to, less its own merged pull request."""
        if not self.github_issues:
            return []
        text = _MERGED_PR.sub("", text[:MAX_TEXT])
        refs: list[TicketRef] = []
        for match in _GITHUB_REF.finditer(text):
            target = (match.group("repo") or repo).lower()
            number = int(match.group("number"))
            key = f"#{number}" if target == repo else f"{target}#{number}"
            ref = TicketRef(key=key, repo=target, number=number)
            if ref not in refs:
                refs.append(ref)
        return refs

    def link(self, ref: TicketRef, *, github_web: str = "https://github.com") -> str | None:
        if ref.repo is not None:
            return f"{github_web.rstrip('/')}/{ref.repo}/issues/{ref.number}"
        return f"{self.url.rstrip('/')}/browse/{ref.key}" if self.url else None


def ticket_refs(
    rules: TicketRules,
    *,
    repo: str,
    texts: Iterable[str] = (),
    branches: Iterable[str] = (),
    own_pulls: Sequence[int] = (),
) -> list[TicketRef]:
    """Every reference in the texts and branch names, Jira keys first, each sorted; a
    commit's own pull requests (`own_pulls`) are left out."""
    jira: set[str] = set()
    github: set[TicketRef] = set()
    for text in texts:
        jira.update(rules.jira_keys(text))
        github.update(rules.github_refs(text, repo=repo))
    for branch in branches:
        jira.update(rules.jira_keys(branch, any_case=True))
    github = {g for g in github if not (g.repo == repo and g.number in own_pulls)}
    return [TicketRef(key) for key in sorted(jira, key=_jira_order)] + sorted(
        github, key=lambda g: (g.repo != repo, g.repo or "", g.number or 0))


def _jira_order(key: str) -> tuple[str, int, str]:
    project, _, number = key.rpartition("-")
    return (project, int(number) if number.isdigit() else 0, key)


def ticket_entries(
    refs: Iterable[TicketRef], rules: TicketRules, *, github_web: str = "https://github.com"
) -> tuple[dict[str, Any], ...]:
    """The card's `tickets`: title and status are filled in later, from the tracker."""
    return tuple(
        {"key": ref.key, "url": rules.link(ref, github_web=github_web), "title": None,
         "status": None}
        for ref in refs
    )


def github_web_of(url: object, repo: str) -> str:
    """`https://github.com` (or an Enterprise host) out of a commit or PR URL of `repo`."""
    if isinstance(url, str) and url.startswith(("http://", "https://")):
        at = url.lower().find(f"/{repo.lower()}/")
        if at > 0:
            return url[:at]
    return "https://github.com"


def is_jira_key(key: str) -> bool:
    """A card ticket's key names a Jira issue (not a GitHub one)."""
    return "#" not in key
