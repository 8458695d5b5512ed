"""Running a click: authorise, claim, act, stamp the card, audit; one error handler.

Every action goes through `Actions.run`, after Slack has been acknowledged: the work may
take as long as GitHub or Jenkins take, and its result reaches the clicker as an ephemeral
reply and everyone else as a stamp on the card ("Merged by @ana 14:02").
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable

from correlation.card import CommitCard
from devexbot.actions.audit import AuditLog
from devexbot.actions.claims import Claims
from devexbot.actions.core import Action, ActionContext, ActionSpec, Click, Refused
from devexbot.actions.ids import ActionId
from devexbot.actions.stamps import Stamps
from devexbot.config.permissions import Permissions
from devexbot.errors import DevexbotError
from devexbot.slack.authz import Authorizer
from devexbot.slack.people import People
from devexbot.store import Database
from devexbot.store.cards import CardLoader, get_card

log = logging.getLogger(__name__)


class Actions:
    """The actions the bot knows, and the one path every click takes."""

    def __init__(self, db: Database, card_loader: CardLoader, *, authorizer: Authorizer,
                 permissions: Permissions, people: People, claims: Claims, stamps: Stamps,
                 audit: AuditLog, specs: Iterable[Action]) -> None:
        self._db, self._card_loader = db, card_loader
        self._authorizer, self._permissions, self._people = authorizer, permissions, people
        self._claims, self._stamps, self._audit = claims, stamps, audit
        self._actions: dict[ActionId, Action] = {}
        for action in specs:
            assert action.spec.action not in self._actions, f"two {action.spec.action}"
            self._actions[action.spec.action] = action

    def run(self, click: Click) -> str:
        """Do the click's action and say how it went, in a line for the clicker."""
        action = self._actions.get(click.action)
        value, audit = click.value, self._audit
        try:
            if action is None:
                raise Refused(f"this bot does not know the action {click.action}")
            spec = action.spec
            card = self._load_card(value.repo, value.sha)
            ctx = ActionContext(click, card, self._people.github_login(click.user_id))
            access = self._authorizer.check(click.user_id, self._allowed(spec, value.repo))
            if not access.allowed:
                why_not = f". {access.why_not}" if access.why_not else ""
                raise Refused(f"you may not {spec.verb or spec.permission} on {value.repo}: "
                              "ask someone "
                              f"listed under `permissions.{spec.permission}` in the bot's "
                              f"config{why_not}")
            key = action.claim_key(ctx)
            if key is not None and not self._claims.take(key, click.user_id):
                audit.write(click, "duplicate", detail=key)
                return "That is already done or under way; the card shows how it goes."
            try:
                outcome = action(ctx)
            except BaseException:
                if key is not None:
                    self._claims.release(key)
                raise
            if key is not None:
                self._claims.finish(key)
            if outcome.stamp:
                self._stamps.stamp(click, outcome)
            audit.write(click, "ok", detail=outcome.reply, target=outcome.target,
                        environment=outcome.environment)
            return outcome.reply
        except Refused as exc:
            audit.write(click, "refused", detail=exc.message)
            return f"Not done: {exc.message}"
        except DevexbotError as exc:
            error_id = uuid.uuid4().hex[:8]
            log.warning("action %s by %s failed (error %s): %s", click.action, click.user_id,
                        error_id, exc.message)
            audit.write(click, "failed", detail=exc.message, error_id=error_id)
            return f"That failed: {exc.message} (error id `{error_id}`)"
        except Exception as exc:
            error_id = uuid.uuid4().hex[:8]
            log.exception("action %s by %s failed (error %s)", click.action, click.user_id,
                          error_id)
            audit.write(click, "failed", detail=f"{type(exc).__name__}: {exc}"[:2000],
                        error_id=error_id)
            return (f"That failed on my side (error id `{error_id}`); nothing else changed. "
                    "Tell whoever runs the bot.")

    def _allowed(self, spec: ActionSpec, repo: str) -> list[str]:
        if spec.permission.startswith("policy:"):  # the action checks itself (approvals)
            return ["*"]
        return self._permissions.who_may(spec.permission, repo)

    def _load_card(self, repo: str, sha: str) -> CommitCard:
        with self._db.read() as session:
            row = get_card(session, repo, sha)
            if row is None:
                raise Refused(f"there is no card for {repo}@{sha[:7]} any more")
            return self._card_loader.load(row)
