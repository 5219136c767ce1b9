"""Retention runs by itself: the worker's periodic job purges unconsented conversations, the
content of long-closed cases, and residents nothing is left of (periods from the city config)."""

from __future__ import annotations

import time
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot import crypto
from bot.conversations import service as conversations
from bot.conversations.models import Conversation, ConversationEvent, Resident
from bot.db import utcnow
from handoff.models import CLOSED, Case, Note
from tests.hardening.hardening_support import decrypted_text


def _seed(app) -> dict[str, int]:
    now = utcnow()
    long_ago = now - timedelta(days=app.state.city.retention_days_unconsented + 5)
    with app.state.session_factory() as s:
        old = conversations.resident_for_line_user(s, line_user_id="U" + "a" * 32)
        old.last_seen_at = long_ago
        conv = conversations.start_conversation(s, resident_id=old.id, state="telling")
        conversations.append_event(
            s, conversation_id=conv.id, author="resident", kind="text", text="古い話ミント"
        )
        conv.last_activity_at = long_ago

        recent = conversations.resident_for_line_user(s, line_user_id="U" + "b" * 32)
        conv2 = conversations.start_conversation(s, resident_id=recent.id, state="telling")
        conversations.append_event(
            s, conversation_id=conv2.id, author="resident", kind="text", text="新しい話バジル"
        )

        closed_long_ago = now - timedelta(days=app.state.city.retention_days_closed + 1)
        case = Case(
            status=CLOSED, closed_at=closed_long_ago, categories=["poverty"], contact_phone="090-0000-1111"
        )
        s.add(case)
        s.flush()
        s.add(Note(case_id=case.id, text="古いメモタイム"))
        s.commit()
        return {"old": old.id, "recent": recent.id, "case": case.id}


def test_worker_purges_on_its_own(line_app):
    app = line_app
    ids = _seed(app)
    with TestClient(app):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with app.state.session_factory() as s:
                if s.get(Resident, ids["old"]) is None:
                    break
            time.sleep(0.2)
    with app.state.session_factory() as s:
        assert s.get(Resident, ids["old"]) is None, "the worker never ran the retention purge"
        assert s.get(Resident, ids["recent"]) is not None
        assert [c.resident_id for c in s.scalars(select(Conversation))] == [ids["recent"]]
        assert [e.text for e in s.scalars(select(ConversationEvent))] == ["新しい話バジル"]
        case = s.get(Case, ids["case"])
        assert case.contact_phone is None and case.categories == ["poverty"]  # statistics stay
        assert [n.text for n in s.scalars(select(Note))] == [None]
    readable = decrypted_text(app.state.engine)
    assert "古い話ミント" not in readable and "古いメモタイム" not in readable
    assert "U" + "a" * 32 not in readable and crypto.lookup_hash("U" + "a" * 32) not in readable
    assert "新しい話バジル" in readable


def test_running_twice_changes_nothing_more(line_app):
    """The job runs hourly in every process: a second run must not add audit rows or delete more."""
    from bot.line.service import run_retention
    from handoff.models import AuditEvent

    app = line_app
    _seed(app)
    with app.state.session_factory() as s:
        first = run_retention(s, now=utcnow(), city=app.state.city)
        s.commit()
        audits = s.scalar(select(func.count()).select_from(AuditEvent))
        second = run_retention(s, now=utcnow(), city=app.state.city)
        s.commit()
        assert first == {"conversations": 1, "cases": 1, "residents": 1}
        assert second == {"conversations": 0, "cases": 0, "residents": 0}
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == audits
