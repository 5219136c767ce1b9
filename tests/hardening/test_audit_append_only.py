"""The audit log is append-only in the database itself (triggers), not only at the ORM."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from handoff import service as handoff


def _one_audit_row(session_factory) -> int:
    with session_factory() as s:
        handoff.audit(s, actor="system", action="test", case_id=None)
        s.commit()
        return s.execute(text("SELECT max(id) FROM audit_events")).scalar_one()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET action = 'forged' WHERE id = :id",
        "UPDATE audit_events SET staff_id = 99 WHERE id = :id",
        "DELETE FROM audit_events WHERE id = :id",
    ],
)
def test_raw_sql_cannot_change_or_remove_audit_rows(session_factory, db_engine, statement):
    row_id = _one_audit_row(session_factory)
    with pytest.raises(DBAPIError, match="append-only"), db_engine.begin() as conn:
        conn.execute(text(statement), {"id": row_id})
    with db_engine.connect() as conn:
        assert (
            conn.execute(text("SELECT action FROM audit_events WHERE id = :id"), {"id": row_id}).scalar()
            == "test"
        )


def test_truncate_is_refused_on_postgresql(session_factory, db_engine):
    if db_engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    _one_audit_row(session_factory)
    with pytest.raises(DBAPIError, match="append-only"), db_engine.begin() as conn:
        conn.execute(text("TRUNCATE audit_events"))


def test_appending_still_works(session_factory):
    first = _one_audit_row(session_factory)
    second = _one_audit_row(session_factory)
    assert second > first
