"""Which tickets a deploy updates: those of every commit it brings to the environment, over
what was live there before (GitHub's compare lists them), its own commit's among them.

A commit's tickets are those its card shows, when the bot has its card, and those its
message and pull requests name, read by the same rules (a commit the bot never saw, or a
card that only heard of a deploy). Pure: the application gathers the commits and cards.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from correlation.tickets import TicketRules, is_jira_key

__all__ = ["CarriedCommit", "DeployedTicket", "commit_texts", "deploy_tickets"]


@dataclass(frozen=True)
class CarriedCommit:
    """A commit a deploy brings: from GitHub's compare (`message`, `pulls`), its card
    (`card_tickets`: the keys its card shows; None when the bot has no card), or both."""

    sha: str
    message: str = ""
    url: str | None = None
    pulls: tuple[Mapping[str, Any], ...] = ()
    card_tickets: tuple[str, ...] | None = None

    @property
    def first_line(self) -> str:
        return self.message.strip().split("\n", 1)[0].strip()


@dataclass(frozen=True)
class DeployedTicket:
    """A Jira ticket a deploy updates, and the commit that names it (the deployed commit
    when it does, else the newest carried commit that does)."""

    key: str
    commit: CarriedCommit = field(compare=False)


def commit_texts(commit: Mapping[str, Any]) -> list[str]:
    """What of a compared commit names tickets: its message, its pull requests' titles and
    bodies (`{"message", "pulls": [{"title", "body"}]}`)."""
    texts = [str(commit.get("message") or "")]
    for pull in commit.get("pulls") or ():
        texts += [str(pull[k]) for k in ("title", "body") if pull.get(k)]
    return texts


def deploy_tickets(commits: Sequence[CarriedCommit], *, deployed: str,
                   rules: TicketRules) -> list[DeployedTicket]:
    """The Jira tickets a deploy of `deployed` updates, given the commits it brings (oldest
    first, as compared; the deployed commit need not be among them): each once, the
    deployed commit's first, then newest first."""
    ordered = sorted(reversed(commits), key=lambda c: c.sha != deployed)
    found: dict[str, DeployedTicket] = {}
    for commit in ordered:
        for key in _keys(commit, rules):
            found.setdefault(key, DeployedTicket(key, commit))
    return list(found.values())


def _keys(commit: CarriedCommit, rules: TicketRules) -> list[str]:
    keys = [k for k in commit.card_tickets or () if is_jira_key(k)]
    texts = commit_texts({"message": commit.message, "pulls": commit.pulls})
    for text in texts:
        keys += rules.jira_keys(text)
    return list(dict.fromkeys(keys))
