"""Running a click: authorise, claim, act, stamp the card, audit; one error handler.

Every action goes through `Actions.run`, after Slack has been acknowledged: the work may
take as long as GitHub or Jenkins take, and its result reaches the clicker as an ephemeral
reply and everyone else as a stamp on the card ("Merged by @ana 14:02").
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from correlation import Event
from correlation.card import CommitCard
from devexbot.actions.ids import ActionId, ButtonValue
from devexbot.errors import DevexbotError
from devexbot.store import ActionClaim, AuditEntry
from devexbot.store.cards import card_state, get_card
from devexbot.store.models import utcnow

if TYPE_CHECKING:
    from devexbot.services import Services

log = logging.getLogger(__name__)

CLAIM_TIMEOUT = timedelta(minutes=10)  # a claim left `running` by a crash expires


class Refused(DevexbotError):
    """The action is not allowed or not possible now; the message says why, to the clicker."""


@dataclass(frozen=True)
class Click:
    """A button press, as the action code needs it."""

    action: ActionId
    value: ButtonValue
    user_id: str
    channel_id: str | None = None
    message_ts: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. a modal's reason


@dataclass(frozen=True)
class Outcome:
    """What an action did: the clicker's reply, and the stamp the card gets."""

    reply: str
    stamp: str | None = None
    until_news_of: tuple[str, str, str] | None = None  # the stamp goes when this slot has news
    target: str | None = None
    environment: str | None = None


@dataclass
class ActionContext:
    services: Services
    click: Click
    card: CommitCard

    @property
    def github_login(self) -> str | None:
        return self.services.people.github_login(self.click.user_id)


Handler = Callable[[ActionContext], Outcome]


@dataclass(frozen=True)
class ActionSpec:
    permission: str  # the key under `permissions:` that says who may
    claim_key: Callable[[ActionContext], str | None]  # None: no claim (repeatable)
    handler: Handler
    verb: str | None = None  # "you may not <verb> on octo/app"; the permission's name if None


class Actions:
    """The registry of actions, and the one path every click takes."""

    def __init__(self) -> None:
        self._specs: dict[ActionId, ActionSpec] = {}

    def register(self, action: ActionId, *, permission: str,
                 claim_key: Callable[[ActionContext], str | None],
                 verb: str | None = None) -> Callable[[Handler], Handler]:
        def decorate(handler: Handler) -> Handler:
            self._specs[action] = ActionSpec(permission, claim_key, handler, verb)
            return handler

        return decorate

    def run(self, services: Services, click: Click) -> str:
        """Do the click's action and say how it went, in a line for the clicker."""
        spec = self._specs.get(click.action)
        value = click.value
        audit = AuditRecord(services, click)
        try:
            if spec is None:
                raise Refused(f"this bot does not know the action {click.action}")
            card = _load_card(services, value.repo, value.sha)
            ctx = ActionContext(services, click, card)
            allowed = _allowed(services, spec.permission, value.repo, ctx)
            if not services.authorizer.allows(click.user_id, allowed):
                raise Refused(f"you may not {spec.verb or spec.permission} on {value.repo}: "
                              "ask someone "
                              f"listed under `permissions.{spec.permission}` in the bot's "
                              "config")
            key = spec.claim_key(ctx)
            if key is not None and not claim(services, key, click.user_id):
                audit.write("duplicate", detail=key)
                return "That is already done or under way; the card shows how it goes."
            try:
                outcome = spec.handler(ctx)
            except BaseException:
                if key is not None:
                    release_claim(services, key)
                raise
            if key is not None:
                finish_claim(services, key)
            if outcome.stamp:
                _stamp(services, click, outcome)
            audit.write("ok", detail=outcome.reply, target=outcome.target,
                        environment=outcome.environment)
            return outcome.reply
        except Refused as exc:
            audit.write("refused", detail=exc.message)
            return f"Not done: {exc.message}"
        except DevexbotError as exc:
            error_id = uuid.uuid4().hex[:8]
            log.warning("action %s by %s failed (error %s): %s", click.action, click.user_id,
                        error_id, exc.message)
            audit.write("failed", detail=exc.message, error_id=error_id)
            return f"That failed: {exc.message} (error id `{error_id}`)"
        except Exception as exc:
            error_id = uuid.uuid4().hex[:8]
            log.exception("action %s by %s failed (error %s)", click.action, click.user_id,
                          error_id)
            audit.write("failed", detail=f"{type(exc).__name__}: {exc}"[:2000],
                        error_id=error_id)
            return (f"That failed on my side (error id `{error_id}`); nothing else changed. "
                    "Tell whoever runs the bot.")


def _allowed(services: Services, permission: str, repo: str, ctx: ActionContext) -> list[str]:
    if permission.startswith("policy:"):  # the action checks itself (approval policies)
        return ["*"]
    return services.config.permissions.who_may(permission, repo)


def _load_card(services: Services, repo: str, sha: str) -> CommitCard:
    with services.db.read() as session:
        row = get_card(session, repo, sha)
        if row is None:
            raise Refused(f"there is no card for {repo}@{sha[:7]} any more")
        return services.card_loader.load(row)


def claim(services: Services, key: str, user: str) -> bool:
    """Take the claim on `key`; False if someone has it (running, or done)."""
    now = utcnow()
    try:
        with services.db.write() as session:
            session.add(ActionClaim(key=key, state="running", slack_user=user,
                                    created_at=now, updated_at=now))
        return True
    except IntegrityError:
        pass
    # A failed attempt, or one a crash left running long ago, may be tried again.
    with services.db.write() as session:
        taken = session.execute(
            update(ActionClaim)
            .where(ActionClaim.key == key,
                   (ActionClaim.state == "failed")
                   | ((ActionClaim.state == "running")
                      & (ActionClaim.updated_at < now - CLAIM_TIMEOUT)))
            .values(state="running", slack_user=user, updated_at=now)
        ).rowcount  # type: ignore[attr-defined]
    return bool(taken)


def claim_state(services: Services, key: str) -> str | None:
    """`running`, `done` or `failed`; None if nobody ever claimed `key`."""
    with services.db.read() as session:
        state: str | None = session.scalar(select(ActionClaim.state)
                                           .where(ActionClaim.key == key))
        return state


def finish_claim(services: Services, key: str) -> None:
    with services.db.write() as session:
        session.execute(update(ActionClaim).where(ActionClaim.key == key)
                        .values(state="done", updated_at=utcnow()))


def release_claim(services: Services, key: str) -> None:
    with services.db.write() as session:
        session.execute(update(ActionClaim).where(ActionClaim.key == key)
                        .values(state="failed", updated_at=utcnow()))


def _stamp(services: Services, click: Click, outcome: Outcome) -> None:
    """The stamp is an event of the card, so it folds, publishes and survives like one."""
    now = utcnow()
    data: dict[str, Any] = {"action": click.action.value.split(".", 1)[1],
                            "text": outcome.stamp, "by": click.user_id}
    if outcome.until_news_of:
        data["until_news_of"] = list(outcome.until_news_of)
        with services.db.read() as session:
            row = get_card(session, click.value.repo, click.value.sha)
            current = card_state(row).get(outcome.until_news_of) if row else None
        data["seen_at"] = current.at.isoformat() if current else None
    event = Event(repo=click.value.repo, sha=click.value.sha, source="devexbot", kind="stamp",
                  name=f"{data['action']}:{outcome.target or ''}:{now.isoformat()}", at=now,
                  data=data)
    services.ingest.record(source="devexbot", delivery_id=f"stamp:{uuid.uuid4()}",
                           event_type="stamp", events=[event])


def slack_time(moment: datetime) -> str:
    """A time every reader sees in their own time zone (Slack's date token)."""
    epoch = int(moment.timestamp())
    return f"<!date^{epoch}^{{time}}|{moment:%H:%M} UTC>"


class AuditRecord:
    """Writes the audit entry of one click, whatever its end."""

    def __init__(self, services: Services, click: Click) -> None:
        self.services, self.click = services, click

    def write(self, result: str, *, detail: str | None = None, error_id: str | None = None,
              target: str | None = None, environment: str | None = None) -> None:
        click = self.click
        try:
            with self.services.db.write() as session:
                session.add(AuditEntry(
                    at=utcnow(), slack_user=click.user_id,
                    github_login=self.services.people.github_login(click.user_id),
                    action=click.action.value, repo=click.value.repo, sha=click.value.sha,
                    environment=environment or click.extra.get("environment"),
                    target=target or click.value.target, result=result, detail=detail,
                    error_id=error_id, permalink=self._permalink(),
                ))
        except Exception:
            log.exception("could not write the audit entry of %s by %s", click.action,
                          click.user_id)

    def _permalink(self) -> str | None:
        client, click = self.services.slack_client, self.click
        if client is None or not click.channel_id or not click.message_ts:
            return None
        try:
            link: str = client.chat_getPermalink(channel=click.channel_id,
                                                 message_ts=click.message_ts)["permalink"]
            return link
        except Exception:
            return None


def audit_entries(services: Services, *, limit: int, repo: str | None = None,
                  sha: str | None = None) -> list[dict[str, Any]]:
    """The newest audit entries as the API serves them."""
    with services.db.read() as session:
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


actions = Actions()
