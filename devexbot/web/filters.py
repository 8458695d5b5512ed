"""What the workspace shows: filters by repo, branch, status and environment, and a search
by SHA prefix or PR number. One predicate serves the page and the live stream."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, or_

from correlation.status import Status
from devexbot.store import Card
from devexbot.web.view import CardView

_HEX = re.compile(r"^[0-9a-f]{4,40}$")
_PR = re.compile(r"^#?([0-9]{1,9})$")
STATUSES = [s.value for s in Status]


@dataclass(frozen=True)
class CardFilter:
    repo: str = ""
    branch: str = ""
    status: str = ""
    environment: str = ""
    q: str = ""

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> CardFilter:
        """From a query string; values that cannot match anything are dropped."""
        def value(name: str, limit: int = 200) -> str:
            given = str(params.get(name) or "")
            if "\x00" in given:  # no card has one, and PostgreSQL cannot compare with it
                return ""
            return " ".join(given.split())[:limit]

        status = value("status").lower()
        return cls(repo=value("repo").lower(), branch=value("branch", 255),
                   status=status if status in STATUSES else "",
                   environment=value("environment", 100), q=value("q", 60).lower())

    @property
    def active(self) -> bool:
        return any((self.repo, self.branch, self.status, self.environment, self.q))

    def query_params(self) -> dict[str, str]:
        return {k: v for k, v in vars(self).items() if v}

    def narrow(self, query: Select[Any]) -> Select[Any]:
        """What SQL can decide on indexed columns; `matches` decides the rest."""
        if self.repo:
            query = query.where(Card.repo == self.repo)
        if self.branch:
            query = query.where(Card.branch == self.branch)
        if self.status:
            query = query.where(Card.overall == self.status)
        if self.q:
            sha, pr = _search(self.q)
            terms = ([Card.sha.startswith(sha)] if sha else []) + (
                [Card.pr_number == pr] if pr is not None else [])
            query = query.where(or_(*terms)) if terms else query.where(Card.id < 0)
        return query

    def matches(self, view: CardView) -> bool:
        if self.repo and view.repo != self.repo:
            return False
        if self.branch and view.branch != self.branch:
            return False
        if self.status and view.overall != self.status:
            return False
        if self.environment and self.environment.casefold() not in {
            e.casefold() for e in view.environments
        }:
            return False
        if self.q:
            sha, pr = _search(self.q)
            by_sha = bool(sha) and view.sha.startswith(sha or "")
            if not (by_sha or (pr is not None and view.pr_number == pr)):
                return False
        return True


def _search(q: str) -> tuple[str | None, int | None]:
    """A search term as a SHA prefix (4+ hex digits) and/or a PR number (`12`, `#12`)."""
    pr = _PR.match(q)
    return (q if _HEX.match(q) else None), (int(pr.group(1)) if pr else None)
