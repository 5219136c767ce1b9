"""Schema management with Alembic (migrations live in bot/migrations/, shipped in the package)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from bot.db import make_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade_engine(engine: Engine) -> None:
    """Apply every migration on this engine's database (used by tests and the embedded default)."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def upgrade(url: str) -> None:
    engine = make_engine(url)
    try:
        upgrade_engine(engine)
    finally:
        engine.dispose()


def autogenerate(url: str, message: str) -> None:
    """Developers: write a new revision from the difference between models and `url`'s schema."""
    cfg = alembic_config(url)
    command.revision(cfg, message=message, autogenerate=True)
