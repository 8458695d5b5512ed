"""`/devex where owner/repo`: each environment's live commit, since when, by whom, with a
link to its card. `/devex where <sha> [owner/repo]`: which environments run that commit
or a later one (GitHub's compare API says whether a live commit contains it)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from correlation.mrkdwn import escape, link, one_line
from devexbot.actions.core import slack_time
from devexbot.store import Database
from devexbot.store.cards import find_cards
from devexbot.store.commit_ranges import CommitRanges
from devexbot.store.environments import Live, live_environments
from handlers.slack.commands import CommandGroup, Invocation, Reply, Subcommand

REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
SHA = re.compile(r"^[0-9a-fA-F]{7,40}$")
USAGE = ("Usage: `/devex where owner/repo` (what runs in each environment) or "
         "`/devex where <sha> [owner/repo]` (which environments run that commit or a later one)")


class Where(CommandGroup):
    """`/devex where`: what the environments run, from the deployments the bot has seen;
    `ranges` asks GitHub whether a live commit contains an older one."""

    def __init__(self, db: Database, environments: Sequence[str], ranges: CommitRanges) -> None:
        self._db, self._order, self._ranges = db, environments, ranges

    def subcommands(self) -> Sequence[Subcommand]:
        return (Subcommand("where", "where owner/repo | where <sha> [owner/repo]",
                           "what runs in each environment; which environments run a commit",
                           self.where),)

    def where(self, inv: Invocation) -> Reply:
        words = inv.words
        if len(words) == 1 and REPO.match(words[0]) and not SHA.match(words[0]):
            return Reply(self._environments(words[0].lower(), inv.raw))
        if words and SHA.match(words[0]) and (len(words) == 1 or
                                              (len(words) == 2 and REPO.match(words[1]))):
            return self._commit(words[0].lower(),
                                words[1].lower() if len(words) == 2 else None, inv.raw)
        return Reply(USAGE)

    def _environments(self, repo: str, raw: dict[str, Any]) -> str:
        with self._db.read() as session:
            live = live_environments(session, repo, self._order)
        if not live:
            return (f"No deployment of *{escape(repo)}* has succeeded yet, as far as I know "
                    "(I learn of them from GitHub deployments and the deploy webhook).")
        lines = [f"*{escape(repo)}* runs:"]
        for env in live:
            line = f"• *{_env(env)}* {_commit_link(env)}"
            if env.message:
                line += f" {escape(one_line(env.message), 80)}"
            line += f" — since {slack_time(env.since)}"
            if env.by:
                line += f" by {escape(one_line(env.by), 40)}"
            if card := _card_link(env, raw):
                line += f" · {card}"
            lines.append(line)
        return "\n".join(lines)

    def _commit(self, sha: str, repo: str | None, raw: dict[str, Any]) -> Reply:
        with self._db.read() as session:
            cards = find_cards(session, repo=repo, sha_prefix=sha, limit=5)
        if not cards and len(sha) == 40 and repo:
            full, repo_of = sha, repo
        elif not cards:
            where = f" in *{escape(repo)}*" if repo else ""
            return Reply(f"I know no commit `{escape(sha)}`{where}. Give the full SHA and the "
                         "repo (`/devex where <sha> owner/repo`) to ask about any commit.")
        elif len({c.sha for c in cards}) > 1:
            found = ", ".join(sorted(f"{c.repo}@{c.sha[:10]}" for c in cards))
            return Reply(f"`{escape(sha)}` is ambiguous ({escape(found)}): give more digits or "
                         "the repo.")
        else:
            full, repo_of = cards[0].sha, cards[0].repo
        with self._db.read() as session:
            live = live_environments(session, repo_of, self._order)
        if not live:
            return Reply(f"No deployment of *{escape(repo_of)}* has succeeded yet, as far as I "
                         "know.")
        if all(env.sha == full for env in live) or not self._ranges.available:
            return Reply(self._running(repo_of, full, live, raw))
        return Reply(f"Looking up which environments run `{full[:7]}` or a later commit…",
                     later=lambda: Reply(self._running(repo_of, full, live, raw)))

    def _running(self, repo: str, sha: str, live: list[Live], raw: dict[str, Any]) -> str:
        runs, later, not_in, unknown = [], [], [], []
        for env in live:
            name = f"*{_env(env)}*"
            if env.sha == sha:
                runs.append(f"{name} (since {slack_time(env.since)})")
                continue
            found = self._ranges.get(repo, sha, env.sha)
            if found is None:
                unknown.append(f"{name} (runs {_commit_link(env)})")
            elif found.contains_base:
                later.append(f"{name} (in {_commit_link(env)}, {found.ahead_by} commit"
                             f"{'s' if found.ahead_by != 1 else ''} later)")
            else:
                why = "older" if found.status == "behind" else "another line of history"
                not_in.append(f"{name} (runs {_commit_link(env)}, {why})")
        head = f"`{sha[:7]}` of *{escape(repo)}*"
        if not runs and not later:
            lines = [f"{head} runs in no environment yet."]
        else:
            lines = [f"{head} runs in:"]
            lines += [f"• {r}" for r in runs]
            lines += [f"• {r}" for r in later]
        if not_in:
            lines.append("Not in: " + ", ".join(not_in))
        if unknown:
            lines.append("Cannot tell (GitHub could not compare the commits): "
                         + ", ".join(unknown))
        return "\n".join(lines)


def _env(env: Live) -> str:
    return escape(one_line(env.environment), 60)


def _commit_link(env: Live) -> str:
    url = env.commit_url or f"https://github.com/{env.repo}/commit/{env.sha}"
    return link(url, f"`{env.short_sha}`")


def _card_link(env: Live, raw: dict[str, Any]) -> str | None:
    """The card's Slack message: its stored permalink, or one made from the workspace's
    domain (Slack's permalinks are `https://<domain>.slack.com/archives/<channel>/p<ts>`)."""
    if env.slack_permalink:
        return link(env.slack_permalink, "card")
    domain = raw.get("team_domain")
    if env.slack_channel and env.slack_ts and isinstance(domain, str) and \
            re.fullmatch(r"[a-z0-9-]+", domain):
        ts = env.slack_ts.replace(".", "")
        url = f"https://{domain}.slack.com/archives/{env.slack_channel}/p{ts}"
        if env.slack_thread_ts:  # a reply in its PR's thread: Slack's link to a reply
            url += f"?thread_ts={env.slack_thread_ts}&cid={env.slack_channel}"
        return link(url, "card")
    return None
