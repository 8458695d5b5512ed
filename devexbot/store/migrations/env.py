"""Alembic environment: the engine comes from devexbot (see devexbot.store.migrate)."""

from __future__ import annotations

from alembic import context

from devexbot.store.models import Base

engine = context.config.attributes.get("engine")
if engine is None:  # `alembic` run by hand: use the settings' database
    from devexbot.settings import get_settings
    from devexbot.store.engine import make_engine

    engine = make_engine(get_settings().database_url)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
