"""Real processes: several app processes on one PostgreSQL share the work, one user's events stay
strictly in order even when consecutive events reach different processes, and a burst survives a
kill -9 in the middle of it: every acknowledged event is answered exactly once."""

from __future__ import annotations

import threading
import time
from collections import Counter

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.conversations import service as conversations
from bot.conversations.models import Conversation
from bot.line.models import InboxEvent, OutboxMessage
from tests.support import events as ev
from tests.support.fixtures import AppProcess, ensure_schema, make_app, make_settings, process_env


def _post(client: httpx.Client, base_url: str, events) -> int:
    body = ev.webhook_body(events)
    try:
        r = client.post(
            base_url + "/callback",
            content=body,
            headers={"Content-Type": "application/json", "X-Line-Signature": ev.sign(body)},
            timeout=10,
        )
    except httpx.HTTPError:
        return 0  # connection refused/reset: not acknowledged, LINE would redeliver
    return r.status_code


def _resident_texts(session, user: str) -> list[str]:
    resident = conversations.resident_for_line_user(session, line_user_id=user)
    conv_ids = session.scalars(select(Conversation.id).where(Conversation.resident_id == resident.id)).all()
    return [
        e.text
        for cid in sorted(conv_ids)
        for e in conversations.list_events(session, conversation_id=cid)
        if e.author == "resident" and e.kind == "text"
    ]


def _wait_done(probe, expected: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with probe.state.session_factory() as s:
            inbox_pending = s.scalar(
                select(func.count()).select_from(InboxEvent).where(InboxEvent.status == "pending")
            )
            done = s.scalar(select(func.count()).select_from(InboxEvent).where(InboxEvent.status == "done"))
            out_pending = s.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
            )
        if inbox_pending == 0 and out_pending == 0 and done >= expected:
            return
        time.sleep(0.2)
    raise AssertionError(
        f"not drained: inbox pending {inbox_pending}, done {done}, outbox pending {out_pending}"
    )


@pytest.mark.slow
@pytest.mark.postgres
def test_three_processes_keep_each_users_order(postgres_url, fake_line, tmp_path):
    ensure_schema(postgres_url)
    procs = [
        AppProcess(process_env(postgres_url, tmp_path / "var", fake_line), log_path=tmp_path / f"p{i}.log")
        for i in range(3)
    ]
    probe = make_app(make_settings(postgres_url, fake_line, tmp_path / "var"))  # reads only
    users = [ev.new_user_id() for _ in range(5)]
    rounds = 6
    try:
        for p in procs:
            p.wait_ready()
        with httpx.Client() as client:
            n = 0
            for i in range(rounds):
                for u in users:
                    # Consecutive events of one user land on different processes.
                    target = procs[n % len(procs)]
                    n += 1
                    event = ev.text_event(u, f"{i}番目", reply_token=fake_line.issue_reply_token(user_id=u))
                    assert _post(client, target.base_url, [event]) == 200
        _wait_done(probe, rounds * len(users))
    finally:
        for p in procs:
            p.kill()
    with probe.state.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(InboxEvent).where(InboxEvent.attempts != 1)) == 0
        for u in users:
            assert _resident_texts(s, u) == [f"{i}番目" for i in range(rounds)]
        rows = s.scalars(select(OutboxMessage)).all()
    assert {r.status for r in rows} == {"sent"}
    assert len(fake_line.accepted()) == len(rows), "each message accepted once"
    tokens = [r.body["replyToken"] for r in fake_line.requests_to("reply") if r.status == 200]
    assert len(tokens) == len(set(tokens))


@pytest.mark.slow
def test_kill_during_a_burst_every_acknowledged_event_answered_once(db_url, fake_line, tmp_path):
    ensure_schema(db_url)
    first = AppProcess(process_env(db_url, tmp_path / "var", fake_line), log_path=tmp_path / "first.log")
    users = [ev.new_user_id() for _ in range(8)]
    acked: list[dict] = []
    lock = threading.Lock()
    stop = threading.Event()

    def sender(my_users: list[str]) -> None:
        i = 0
        with httpx.Client() as client:
            while not stop.is_set():
                for u in my_users:
                    event = ev.text_event(u, f"{i}番目", reply_token=fake_line.issue_reply_token(user_id=u))
                    if _post(client, first.base_url, [event]) == 200:
                        with lock:
                            acked.append(event)
                i += 1

    try:
        first.wait_ready()
        threads = [threading.Thread(target=sender, args=(users[k::4],)) for k in range(4)]
        for t in threads:
            t.start()
        time.sleep(2.0)  # a burst in full flow: some events processed, some replies on the wire
        first.kill()  # SIGKILL mid-burst
        stop.set()
        for t in threads:
            t.join(15)
    finally:
        first.kill()
    assert len(acked) >= 20, "the burst really happened"

    settings = make_settings(db_url, fake_line, tmp_path / "var")
    app = make_app(settings)
    with TestClient(app):
        assert app.state.line_worker.wait_idle(90)
    with app.state.session_factory() as s:
        stored = {r.webhook_event_id: r for r in s.scalars(select(InboxEvent))}
        for e in acked:
            assert stored[e["webhookEventId"]].status == "done", "an acknowledged event was lost"
        texts = {u: _resident_texts(s, u) for u in users}
        rows = s.scalars(select(OutboxMessage)).all()
    # Each acknowledged event reached the dialogue exactly once, in order.
    for u in users:
        mine = [e["message"]["text"] for e in acked if e["source"]["userId"] == u]
        got = texts[u]
        assert Counter(got)[mine[0]] == 1 if mine else True
        assert [t for t in got if t in set(mine)] == mine
    # Every stored message was accepted by LINE exactly once.
    assert {r.status for r in rows} == {"sent"}, Counter(r.status for r in rows)
    accepted = fake_line.accepted()
    pushes = Counter(a.retry_key for a in accepted if a.retry_key)
    assert all(n == 1 for n in pushes.values())
    tokens = Counter(r.body["replyToken"] for r in fake_line.requests_to("reply") if r.status == 200)
    assert all(n == 1 for n in tokens.values())
    # The one duplicate LINE's API cannot rule out: a *reply* LINE accepted in the instant before
    # the kill, not yet recorded as sent. Replies carry no retry key; after the restart the used
    # token is refused (400) and the row is pushed. At most one per sender thread in flight, and
    # always reply-then-push of the same messages — never a lost message (docs/security.md).
    replied = {r.body["replyToken"] for r in fake_line.requests_to("reply") if r.status == 200}
    twice = [r for r in rows if r.sent_via == "push" and r.reply_token in replied]
    assert len(accepted) - len(rows) == len(twice) <= 4  # the outbox pool size: sends in flight


# Staff live updates (SSE) across processes: tests/hardening/test_notify.py.
