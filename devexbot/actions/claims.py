"""Claims: what makes an action happen once, whoever clicks and however often, on every
replica (a row per key in `action_claims`)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from devexbot.store import ActionClaim, Database
from devexbot.store.models import utcnow

CLAIM_TIMEOUT = timedelta(minutes=10)  # a claim left `running` by a crash expires


class Claims:
    def __init__(self, db: Database) -> None:
        self._db = db

    def take(self, key: str, user: str) -> bool:
        """Take the claim on `key`; False if someone has it (running, or done)."""
        now = utcnow()
        try:
            with self._db.write() as session:
                session.add(ActionClaim(key=key, state="running", slack_user=user,
                                        created_at=now, updated_at=now))
            return True
        except IntegrityError:
            pass
        # A failed attempt, or one a crash left running long ago, may be tried again.
        with self._db.write() as session:
            taken = session.execute(
                update(ActionClaim)
                .where(ActionClaim.key == key,
                       (ActionClaim.state == "failed")
                       | ((ActionClaim.state == "running")
                          & (ActionClaim.updated_at < now - CLAIM_TIMEOUT)))
                .values(state="running", slack_user=user, updated_at=now)
            ).rowcount  # type: ignore[attr-defined]
        return bool(taken)

    def state(self, key: str) -> str | None:
        """`running`, `done` or `failed`; None if nobody ever claimed `key`."""
        with self._db.read() as session:
            state: str | None = session.scalar(select(ActionClaim.state)
                                               .where(ActionClaim.key == key))
            return state

    def finish(self, key: str) -> None:
        with self._db.write() as session:
            session.execute(update(ActionClaim).where(ActionClaim.key == key)
                            .values(state="done", updated_at=utcnow()))

    def release(self, key: str) -> None:
        """The attempt failed: someone may try again."""
        with self._db.write() as session:
            session.execute(update(ActionClaim).where(ActionClaim.key == key)
                            .values(state="failed", updated_at=utcnow()))
