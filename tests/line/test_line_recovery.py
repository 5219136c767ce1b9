"""Kill -9 and restart: events stored but not processed, and messages stored but not sent, are
handled after the restart exactly once. The first process is a real subprocess killed with SIGKILL."""

from __future__ import annotations

import time

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.line.models import InboxEvent, OutboxMessage
from tests.support import events as ev
from tests.support.fixtures import AppProcess, make_app, make_settings, process_env


def _post(base_url: str, events) -> int:
    body = ev.webhook_body(events)
    r = httpx.post(
        base_url + "/callback",
        content=body,
        headers={"Content-Type": "application/json", "X-Line-Signature": ev.sign(body)},
        timeout=10,
    )
    return r.status_code


def _events_for(users, fake_line, n_each: int):
    batches = []
    for i in range(n_each):
        batches.append(
            [
                ev.text_event(u, f"{i}番目の相談です", reply_token=fake_line.issue_reply_token(user_id=u))
                for u in users
            ]
        )
    return batches


def _counts(app) -> tuple[dict[str, int], dict[str, int]]:
    with app.state.session_factory() as s:
        inbox = dict(s.execute(select(InboxEvent.status, func.count()).group_by(InboxEvent.status)).all())
        outbox = dict(
            s.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
        )
    return inbox, outbox


def test_events_stored_before_a_kill_are_answered_once_after_restart(db_url, fake_line, tmp_path):
    first = AppProcess(
        process_env(db_url, tmp_path / "var", fake_line, CONSULT_RUN_WORKER="false"),
        log_path=tmp_path / "first.log",
    )
    try:
        first.wait_ready()
        users = [ev.new_user_id() for _ in range(3)]
        for batch in _events_for(users, fake_line, 3):
            assert _post(first.base_url, batch) == 200
    finally:
        first.kill()  # SIGKILL: nothing processed, nothing sent
    assert fake_line.requests == []

    settings = make_settings(db_url, fake_line, tmp_path / "var")
    app = make_app(settings)
    with TestClient(app):
        assert app.state.line_worker.wait_idle(30)
    inbox, outbox = _counts(app)
    assert inbox == {"done": 9}
    assert set(outbox) == {"sent"}
    replies = fake_line.requests_to("reply")
    assert replies and all(r.status == 200 for r in replies)
    tokens = [r.body["replyToken"] for r in replies]
    assert len(tokens) == len(set(tokens)), "no reply token used twice"
    for u in users:
        assert fake_line.deliveries(u)

    # A second restart finds nothing left to do: no message is sent again.
    before = len(fake_line.requests)
    app2 = make_app(settings)
    with TestClient(app2):
        assert app2.state.line_worker.wait_idle(10)
        time.sleep(0.5)
    assert len(fake_line.requests) == before


def test_messages_stored_before_a_kill_are_sent_once_after_restart(db_url, fake_line, tmp_path):
    # LINE is down while the first process runs: the dialogue steps are done, the outbox fills up.
    fake_line.fail_next(100_000, status=503)
    first = AppProcess(process_env(db_url, tmp_path / "var", fake_line), log_path=tmp_path / "first.log")
    settings = make_settings(db_url, fake_line, tmp_path / "var")
    probe = make_app(settings)  # only to read the database; its workers are never started
    try:
        first.wait_ready()
        users = [ev.new_user_id() for _ in range(2)]
        for batch in _events_for(users, fake_line, 2):
            assert _post(first.base_url, batch) == 200
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            inbox, outbox = _counts(probe)
            if inbox.get("done") == 4 and outbox.get("pending"):
                break
            time.sleep(0.1)
        assert inbox.get("done") == 4 and outbox.get("pending")
        assert fake_line.requests, "the first process tried to send"
    finally:
        first.kill()
    with fake_line.state.lock:
        fake_line.state.failures.clear()  # LINE is back

    app = make_app(settings)
    with TestClient(app):
        assert app.state.line_worker.wait_idle(30)
    inbox, outbox = _counts(app)
    assert inbox == {"done": 4}
    assert set(outbox) == {"sent"}
    with app.state.session_factory() as s:
        rows = s.scalars(select(OutboxMessage)).all()
    accepted = fake_line.accepted()
    assert len(accepted) == len(rows), "each stored message accepted by LINE exactly once"
    pushed_keys = [a.retry_key for a in accepted if a.via == "push"]
    assert len(pushed_keys) == len(set(pushed_keys))
