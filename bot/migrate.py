"""Schema management. Until the first Alembic revision is cut, the schema comes from the models."""

from __future__ import annotations

from sqlalchemy import Engine

from bot.db import Base, import_all_models, make_engine


def upgrade_engine(engine: Engine) -> None:
    import_all_models()
    Base.metadata.create_all(engine)


def upgrade(url: str) -> None:
    engine = make_engine(url)
    try:
        upgrade_engine(engine)
    finally:
        engine.dispose()
