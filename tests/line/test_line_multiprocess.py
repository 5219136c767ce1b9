"""PostgreSQL: several worker processes share the inbox and outbox (here: two apps on one database).
Every event is processed once, each user's events in order, and nothing is sent twice."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.line.models import InboxEvent, OutboxMessage
from tests.support import events as ev
from tests.support.fixtures import make_app, make_settings


@pytest.mark.postgres
def test_two_workers_share_the_queues_without_double_processing(postgres_url, fake_line, tmp_path):
    settings = make_settings(postgres_url, fake_line, tmp_path / "var")
    a, b = make_app(settings), make_app(settings)
    for app in (a, b):
        # A busy test machine may answer slowly; a reply retried after a client timeout is the one
        # duplicate LINE's API cannot rule out (no retry key on reply), and not what this tests.
        app.state.line_worker_options["api_timeout"] = 10.0
    users = [ev.new_user_id() for _ in range(6)]
    with TestClient(a) as client_a, TestClient(b):
        for i in range(6):
            batch = [
                ev.text_event(u, f"{i}: 相談です", reply_token=fake_line.issue_reply_token(user_id=u))
                for u in users
            ]
            assert ev.post_webhook(client_a, batch).status_code == 200
        b.state.line_signals.inbox.set()  # the second process learns of work by polling; hurry it up
        assert a.state.line_worker.wait_idle(60) and b.state.line_worker.wait_idle(60)

    with a.state.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(InboxEvent).where(InboxEvent.status != "done")) == 0
        assert s.scalar(select(func.count()).select_from(InboxEvent).where(InboxEvent.attempts != 1)) == 0
        assert set(s.scalars(select(OutboxMessage.status))) == {"sent"}
    from bot.conversations import service as conversations
    from bot.conversations.models import Conversation

    with a.state.session_factory() as s:
        for u in users:
            resident = conversations.resident_for_line_user(s, line_user_id=u)
            conv_ids = s.scalars(select(Conversation.id).where(Conversation.resident_id == resident.id)).all()
            said = [
                e.text
                for cid in sorted(conv_ids)
                for e in conversations.list_events(s, conversation_id=cid)
                if e.author == "resident" and e.kind == "text"
            ]
            assert said == [f"{i}: 相談です" for i in range(6)]
    bad = [
        (r.path, r.status, r.body.get("replyToken"), str(r.body)[:80])
        for r in fake_line.requests
        if r.status >= 400
    ]
    assert not bad, bad
    tokens = [r.body["replyToken"] for r in fake_line.requests_to("reply")]
    assert len(tokens) == len(set(tokens))
