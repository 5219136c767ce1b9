"""Shared fixtures: real SQLite and the real PostgreSQL on 127.0.0.1:5432 (own schema per test).

Every test that takes `db_url` (or anything built on it) runs on both databases. Without a
reachable PostgreSQL the postgres half is skipped locally, but fails in CI (CI=true) where it
must be there.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot import crypto
from bot.db import make_engine, make_session_factory

TEST_SECRET_KEY = "test-only-secret-key-0123456789abcdef-0123456789"
PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=3"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _postgres_reachable() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_DSN):
            return True
    except Exception:
        return False


POSTGRES_UP = _postgres_reachable()


def pytest_sessionfinish(session, exitstatus) -> None:
    # Apps built by tests keep daemon worker threads until the interpreter exits; once the test
    # schemas are dropped they could only log "table does not exist" noise after the summary.
    logging.disable(logging.CRITICAL)


@pytest.fixture(autouse=True)
def _crypto_keys() -> None:
    crypto.configure(TEST_SECRET_KEY)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema on the shared PostgreSQL, dropped afterwards."""
    if not POSTGRES_UP:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL on 127.0.0.1:5432 is not reachable in CI")
        pytest.skip("PostgreSQL on 127.0.0.1:5432 is not reachable")
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request) -> str:
    return request.getfixturevalue(f"{request.param}_url")


def create_schema(engine: Engine) -> None:
    """The schema comes from the Alembic migrations, exactly as in production."""
    from bot.migrate import upgrade_engine

    upgrade_engine(engine)


@pytest.fixture
def db_engine(db_url) -> Iterator[Engine]:
    engine = make_engine(db_url)
    create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(db_engine) -> sessionmaker[Session]:
    return make_session_factory(db_engine)


@pytest.fixture
def session(session_factory) -> Iterator[Session]:
    with session_factory() as s:
        yield s
