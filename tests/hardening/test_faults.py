"""Faults: LINE's Messaging API down for a while (5xx, 429, timeouts), the database cut off and
back. Nothing acknowledged is lost, nothing is delivered twice, and it all recovers by itself."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.line.models import InboxEvent, OutboxMessage
from tests.hardening.tcp_proxy import TcpProxy
from tests.support import events as ev
from tests.support.fixtures import make_app, make_settings


def _status_counts(app, model) -> dict[str, int]:
    with app.state.session_factory() as s:
        return dict(s.execute(select(model.status, func.count()).group_by(model.status)).all())


@pytest.mark.parametrize("failure", ["503", "429", "timeout"])
def test_messaging_api_outage_drains_afterwards_exactly_once(line, app_client, fake_line, failure):
    app = app_client.app
    users = [ev.new_user_id() for _ in range(4)]
    for u in users:
        line.say(u, "はじめまして")  # each user's reply token is used up by now
    line.settle()
    sent_before = len(fake_line.accepted())

    if failure == "timeout":
        # LINE receives the push but answers too late: the retry must not deliver it again.
        fake_line.fail_next(4, status=None, endpoint="push", delay=3.5)
    else:
        fake_line.fail_next(10_000, status=int(failure), endpoint="push")
    for round_ in range(3):
        for u in users:
            # No reply token: every answer is a push, so all of them meet the outage.
            line.send([ev.text_event(u, f"{round_}回目のメッセージです")])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and _status_counts(app, InboxEvent).get("pending"):
        time.sleep(0.1)
    assert _status_counts(app, InboxEvent).get("pending", 0) == 0, "the dialogue does not wait for LINE"
    if failure != "timeout":
        time.sleep(1.0)  # a few rounds of back-off against the outage
        waiting = _status_counts(app, OutboxMessage).get("pending", 0)
        assert waiting >= len(users), "messages wait while LINE is down"
        assert len(fake_line.accepted()) == sent_before
        with fake_line.state.lock:
            fake_line.state.failures.clear()  # LINE is back
    line.settle(60)

    outbox = _status_counts(app, OutboxMessage)
    assert set(outbox) == {"sent"}, outbox
    with app.state.session_factory() as s:
        rows = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    accepted = fake_line.accepted()
    assert len(accepted) == len(rows), "every message accepted by LINE exactly once"
    keys = Counter(a.retry_key for a in accepted if a.retry_key)
    assert all(n == 1 for n in keys.values())
    # Per user, LINE received the messages in the order they were written.
    for u in users:
        mine = [r for r in rows if r.to == u]
        got = [a.messages for a in accepted if a.to == u]
        assert got == [r.messages for r in mine]


def test_database_cut_off_gives_503_and_recovers_by_itself(postgres_url, fake_line, tmp_path):
    from sqlalchemy.engine import make_url

    from tests.support.fixtures import ensure_schema

    ensure_schema(postgres_url)
    real = make_url(postgres_url)
    proxy = TcpProxy((real.host, real.port))
    via_proxy = real.set(port=proxy.port).render_as_string(hide_password=False)
    app = make_app(make_settings(via_proxy, fake_line, tmp_path / "var"))
    try:
        with TestClient(app) as client:
            user = ev.new_user_id()
            ok = ev.post_webhook(
                client,
                [ev.text_event(user, "はじめまして", reply_token=fake_line.issue_reply_token(user_id=user))],
            )
            assert ok.status_code == 200

            proxy.cut()
            lost = ev.text_event(user, "データベースが止まっている間の相談")
            r = ev.post_webhook(client, [lost])
            assert r.status_code == 503, "never 200-and-lose"
            assert client.get("/healthz").status_code == 503
            assert client.get("/metrics").status_code == 503

            proxy.restore()
            # LINE redelivers the same event; the app takes it without any restart.
            deadline = time.monotonic() + 15
            while True:
                r = ev.post_webhook(client, [lost])
                if r.status_code == 200 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            assert r.status_code == 200
            assert app.state.line_worker.wait_idle(30)
            counts = _status_counts(app, InboxEvent)
            assert counts == {"done": 2}
            assert len(fake_line.deliveries(user)) >= 2
    finally:
        proxy.close()


def test_sqlite_locked_by_another_writer_never_200_and_lose(sqlite_url, fake_line, tmp_path):
    """SQLite's 'unavailable' is another writer holding the lock (a backup, a migration). The
    webhook either waits for the lock and answers 200 once the event is stored, or answers 503 so
    LINE redelivers — never 200 for an event it did not store. Afterwards it works by itself."""
    import sqlite3
    import threading

    from tests.support.fixtures import ensure_schema

    ensure_schema(sqlite_url)
    app = make_app(make_settings(sqlite_url, fake_line, tmp_path / "var"))
    path = sqlite_url.removeprefix("sqlite:///")
    user = ev.new_user_id()
    event = ev.text_event(user, "ロック中の相談", reply_token=fake_line.issue_reply_token(user_id=user))
    with TestClient(app) as client:
        blocker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        blocker.execute("BEGIN EXCLUSIVE")
        released = threading.Event()

        def release() -> None:
            time.sleep(1.5)
            blocker.execute("COMMIT")
            blocker.close()
            released.set()

        releaser = threading.Thread(target=release)
        releaser.start()
        r = ev.post_webhook(client, [event])
        locked_when_answered = not released.is_set()
        releaser.join(10)
        if r.status_code == 200:
            assert not locked_when_answered, "200 while the event could not have been stored"
        else:
            assert r.status_code == 503 and locked_when_answered
            assert _status_counts(app, InboxEvent) == {}
            r = ev.post_webhook(client, [event])  # LINE's redelivery, same webhookEventId
            assert r.status_code == 200
        assert app.state.line_worker.wait_idle(30)
        assert _status_counts(app, InboxEvent) == {"done": 1}
        assert len(fake_line.deliveries(user)) >= 1
