"""What a deploy carries over what is live in its environment, as one line of the card:
the pull requests and tickets between the live commit and this one, capped with `+N more`.

Pure: the application fetches the commits between the two (GitHub's compare API) and hands
them here as plain dicts `{"sha", "message", "pulls": [{"number", "title", "url", "body"}]}`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from correlation.deploy_tickets import commit_texts
from correlation.mrkdwn import clip, escape, link, one_line, slack_len
from correlation.tickets import TicketRules, ticket_refs

__all__ = ["MAX_PULLS", "DeployContents", "PullSummary", "deploy_contents",
           "render_deploy_contents"]

MAX_PULLS = 5
MAX_TICKETS = 8
MAX_LINE = 700  # a note of the card: the notes (stamps, reasons) hold 1,000 units in all
PULLS_TEXT = 380
TICKETS_TEXT = 250


@dataclass(frozen=True)
class PullSummary:
    number: int
    title: str | None
    url: str | None


@dataclass(frozen=True)
class DeployContents:
    """`status`: ahead (brings commits), identical (already live), behind (a rollback),
    diverged (brings some, drops some)."""

    environment: str
    status: str
    live_sha: str | None = None
    live_url: str | None = None
    ahead_by: int = 0
    behind_by: int = 0
    pulls: tuple[PullSummary, ...] = ()  # newest first
    tickets: tuple[tuple[str, str | None], ...] = ()  # (key, url)
    listed_commits: int = 0  # how many of the ahead_by commits were looked at


def deploy_contents(
    *,
    environment: str,
    repo: str,
    status: str,
    live_sha: str | None,
    live_url: str | None = None,
    ahead_by: int = 0,
    behind_by: int = 0,
    commits: Sequence[Mapping[str, Any]] = (),
    rules: TicketRules | None = None,
    github_web: str = "https://github.com",
) -> DeployContents:
    """The summary of a range whose commits are listed oldest first."""
    rules = rules or TicketRules()
    pulls: dict[int, PullSummary] = {}
    texts: list[str] = []
    for commit in reversed(commits):
        texts += commit_texts(commit)  # what names tickets, as for the tickets a deploy updates
        for pull in commit.get("pulls") or ():
            number = pull.get("number")
            if isinstance(number, int) and number not in pulls:
                pulls[number] = PullSummary(number, pull.get("title"), pull.get("url"))
    refs = ticket_refs(rules, repo=repo, texts=texts, own_pulls=list(pulls))
    return DeployContents(
        environment=environment, status=status, live_sha=live_sha, live_url=live_url,
        ahead_by=ahead_by, behind_by=behind_by, pulls=tuple(pulls.values()),
        tickets=tuple((r.key, rules.link(r, github_web=github_web)) for r in refs),
        listed_commits=len(commits),
    )


def render_deploy_contents(contents: DeployContents, *, max_pulls: int = MAX_PULLS,
                           max_tickets: int = MAX_TICKETS) -> str:
    """One mrkdwn line: "📦 *production* brings 12 commits over live 1a2b3c4: #14 Add login ·
    #15 Fix logout · +3 more PRs · 🎫 ABC-1, ABC-2"."""
    env = f"*{escape(one_line(contents.environment), 60) or '(unnamed)'}*"
    live = link(contents.live_url, f"`{escape(contents.live_sha or '')[:7]}`")
    if contents.status == "identical":
        return f"📦 {env} already runs this commit"
    if contents.status == "behind":
        return (f"⏪ {env} goes back {_commits(contents.behind_by)} from live {live} "
                "(a rollback)")
    head = f"📦 {env} gets {_commits(contents.ahead_by)} over live {live}"
    if contents.status == "diverged":
        head += f" and loses {_commits(contents.behind_by)} it has"
    parts = [_pulls_part(contents, max_pulls)]
    if contents.tickets:
        tickets = [link(url, escape(key, 40)) for key, url in contents.tickets]
        parts.append("🎫 " + _capped(tickets, max_tickets, TICKETS_TEXT, sep=", "))
    body = " · ".join(p for p in parts if p)
    return clip(f"{head}: {body}" if body else head, MAX_LINE)


def _pulls_part(contents: DeployContents, max_pulls: int) -> str:
    unlisted = max(contents.ahead_by - contents.listed_commits, 0)
    if not contents.pulls and not unlisted:
        return "no pull requests"
    pulls = [link(p.url, escape(one_line(f"#{p.number} {p.title or ''}"), 80))
             for p in contents.pulls]
    text = _capped(pulls, max_pulls, PULLS_TEXT, noun=" PRs") if pulls else ""
    if unlisted:
        text += (" · " if text else "") + f"+{_commits(unlisted)} not listed"
    return text


def _capped(items: Sequence[str], most: int, limit: int, *, sep: str = " · ",
            noun: str = "") -> str:
    """At most `most` items within `limit` units, the rest counted as `+N more`."""
    for keep in range(min(most, len(items)), -1, -1):
        hidden = len(items) - keep
        text = sep.join([*items[:keep], *([f"+{hidden} more{noun}"] if hidden else [])])
        if slack_len(text) <= limit:
            return text
    return f"+{len(items)} more{noun}"


def _commits(n: int) -> str:
    return f"{n} commit{'s' if n != 1 else ''}"

