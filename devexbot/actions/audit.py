"""The audit log: one entry per click, whatever its end, and per refused command; and the
API's view of it."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from slack_sdk import WebClient
from sqlalchemy import select

from devexbot.actions.core import Click
from devexbot.slack.people import People
from devexbot.store import AuditEntry, Database
from devexbot.store.models import utcnow

log = logging.getLogger(__name__)


class Permalinks(Protocol):
    """The link to a Slack message; None when there is none to give."""

    def __call__(self, channel: str, message_ts: str) -> str | None: ...


class SlackPermalinks:
    """Slack's `chat.getPermalink`; None when Slack does not answer."""

    def __init__(self, client: WebClient) -> None:
        self._client = client

    def __call__(self, channel: str, message_ts: str) -> str | None:
        try:
            link: str = self._client.chat_getPermalink(channel=channel,
                                                       message_ts=message_ts)["permalink"]
            return link
        except Exception:
            return None


def no_permalinks(channel: str, message_ts: str) -> None:
    """Slack is off: no message has a link."""
    return None


class AuditLog:
    """Writes the audit entry of each click, and of each refused command."""

    def __init__(self, db: Database, people: People, permalinks: Permalinks) -> None:
        self._db, self._people, self._permalinks = db, people, permalinks

    def write(self, click: Click, result: str, *, detail: str | None = None,
              error_id: str | None = None, target: str | None = None,
              environment: str | None = None) -> None:
        self._add(click.user_id, click.action.value, result, detail=detail,
                  error_id=error_id, repo=click.value.repo, sha=click.value.sha,
                  environment=environment or click.extra.get("environment"),
                  target=target or click.value.target, permalink=self._permalink(click))

    def refused_command(self, user_id: str, command: str, *, repo: str | None,
                        channel: str, detail: str) -> None:
        """A slash command refused (`/devex subscribe` by someone the config does not
        allow): who, which command, on what, in which channel, and what they were told."""
        self._add(user_id, command, "refused", detail=detail, repo=repo, target=channel)

    def preference(self, user_id: str, change: str, *, where: str) -> None:
        """A person changed their own notification preferences (`/devex me`, the Home
        tab): `change` as `/devex me` words it, `where` they did it."""
        self._add(user_id, "prefs", "ok", detail=f"{change} ({where})", repo=None,
                  target=user_id)

    def _add(self, user_id: str, action: str, result: str, *, detail: str | None,
             repo: str | None, target: str | None, sha: str | None = None,
             environment: str | None = None, error_id: str | None = None,
             permalink: str | None = None) -> None:
        try:
            with self._db.write() as session:
                session.add(AuditEntry(
                    at=utcnow(), slack_user=user_id,
                    github_login=self._people.github_login(user_id),
                    action=action, repo=repo, sha=sha, environment=environment,
                    target=target, result=result, detail=detail, error_id=error_id,
                    permalink=permalink,
                ))
        except Exception:
            log.exception("could not write the audit entry of %s by %s", action, user_id)

    def _permalink(self, click: Click) -> str | None:
        if not click.channel_id or not click.message_ts:
            return None
        return self._permalinks(click.channel_id, click.message_ts)


def audit_entries(db: Database, *, limit: int, repo: str | None = None,
                  sha: str | None = None) -> list[dict[str, Any]]:
    """The newest audit entries as the API serves them."""
    with db.read() as session:
        query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        if repo:
            query = query.where(AuditEntry.repo == repo.lower())
        if sha:
            query = query.where(AuditEntry.sha == sha.lower())
        rows = session.scalars(query.limit(limit))
        return [
            {
                "at": row.at.isoformat().replace("+00:00", "Z"),
                "slack_user": row.slack_user,
                "github_login": row.github_login,
                "action": row.action,
                "repo": row.repo,
                "sha": row.sha,
                "environment": row.environment,
                "target": row.target,
                "result": row.result,
                "detail": row.detail,
                "error_id": row.error_id,
                "permalink": row.permalink,
            }
            for row in rows
        ]
