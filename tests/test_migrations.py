"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from devexbot.store import Database
from devexbot.store.migrate import alembic_config, current_revision, head_revision, upgrade
from devexbot.store.models import Base


def test_migrations_match_the_models(database_url: str) -> None:
    db = Database(database_url)
    upgrade(db.engine)
    upgrade(db.engine)  # a second upgrade is a no-op
    assert current_revision(db.engine) == head_revision()
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    db.dispose()
    assert diff == []


# The revision ids a database released before the files were renumbered carries: the files
# are named in the order they run, and their ids stay, so such a database upgrades untouched.
RELEASED_REVISIONS = ("0001", "0002", "0003_actions", "0003_web", "0004_approvals",
                      "0003_runbooks", "0006_scheduler", "0005_tickets", "0007_claim_owner")


def test_migration_files_are_named_in_the_order_they_run() -> None:
    scripts = ScriptDirectory.from_config(alembic_config())
    chain = list(reversed(list(scripts.walk_revisions())))
    numbers = [int(Path(script.path).name.split("_", 1)[0]) for script in chain]
    assert numbers == list(range(1, len(chain) + 1))
    assert [script.revision for script in chain][: len(RELEASED_REVISIONS)] == list(
        RELEASED_REVISIONS)


def test_a_database_at_a_released_head_upgrades_cleanly(database_url: str) -> None:
    db = Database(database_url)
    command.upgrade(alembic_config(db.engine), RELEASED_REVISIONS[-1])
    with db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO cards (repo, sha, state, doc, overall, dirty, version, flush_attempts,"
            " updated_at, created_at, changed_at)"
            " VALUES ('octo/app', :sha, '[]', '{}', 'neutral', false, 1, 0, :now, :now, :now)"),
            {"sha": "a" * 40, "now": datetime(2026, 11, 20, tzinfo=UTC)})
    upgrade(db.engine)
    assert current_revision(db.engine) == head_revision()
    with db.engine.connect() as conn:
        kept = conn.execute(text("SELECT repo FROM cards")).scalars().all()
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    db.dispose()
    assert kept == ["octo/app"]
    assert diff == []


def test_a_deploys_updates_become_once_per_ticket_and_environment(database_url: str) -> None:
    """Before 0011 a ticket was owed a deploy's comment per commit: the first row of each
    ticket, environment and kind stays, and a decision's rows all stay."""
    db = Database(database_url)
    command.upgrade(alembic_config(db.engine), "0010_lookups")
    now = datetime(2026, 11, 20, tzinfo=UTC)
    rows = [("comment", "a"), ("transition", "a"), ("comment", "b"), ("transition", "b"),
            ("decision:approved", "a"), ("decision:approved", "b")]
    with db.engine.begin() as conn:
        for kind, sha in rows:
            conn.execute(text(
                "INSERT INTO ticket_updates (ticket, environment, sha, kind, repo, state,"
                " attempts, next_attempt_at, created_at)"
                " VALUES ('ABC-1', 'production', :sha, :kind, 'octo/app', 'done', 1, :now, :now)"),
                {"sha": sha * 40, "kind": kind, "now": now})
    upgrade(db.engine)
    with db.engine.connect() as conn:
        kept = conn.execute(text(
            "SELECT kind, sha FROM ticket_updates ORDER BY id")).all()
    db.dispose()
    assert [(kind, sha[0]) for kind, sha in kept] == [
        ("comment", "a"), ("transition", "a"), ("decision:approved", "a"),
        ("decision:approved", "b")]
