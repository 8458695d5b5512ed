"""Row counts, to show that refused input leaves nothing behind."""

from __future__ import annotations

from sqlalchemy import func, select

from devexbot.store import Card, Database, Delivery, EventRecord


def row_counts(db: Database) -> dict[str, int]:
    with db.read() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Delivery, EventRecord, Card)
        }
