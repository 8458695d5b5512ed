"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from devexbot.db import Database
from devexbot.db.migrate import current_revision, head_revision, upgrade
from devexbot.db.models import Base


def test_migrations_match_the_models(database_url: str) -> None:
    db = Database(database_url)
    upgrade(db.engine)
    upgrade(db.engine)  # a second upgrade is a no-op
    assert current_revision(db.engine) == head_revision()
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    db.dispose()
    assert diff == []
