"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.db import Base, import_all_models


def test_migrations_match_models(db_engine):
    import_all_models()
    with db_engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == [], f"models and migrations differ; write a new revision: {diff}"


def test_upgrade_is_idempotent(db_engine):
    from bot.migrate import upgrade_engine

    upgrade_engine(db_engine)  # already at head: nothing to do, no error
    with db_engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() is not None
