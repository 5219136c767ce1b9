"""The sender against a strict fake LINE: reply vs push, retry keys, back-off, limits, blocking."""

from __future__ import annotations

import itertools
import time
import uuid

from fastapi.testclient import TestClient
from sqlalchemy import select, text

from bot.conversations import service as conversations
from bot.conversations.models import Resident
from bot.line.models import OutboxMessage
from bot.messages import Outbound, QuickReply
from tests.support import events as ev


def _rows(app) -> list[OutboxMessage]:
    with app.state.session_factory() as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _staff_send(app, user_id: str, messages: list[Outbound]) -> None:
    """What the staff side does: notifier.send inside its unit of work, then one commit."""
    with app.state.session_factory() as s:
        resident = conversations.resident_for_line_user(s, line_user_id=user_id)
        app.state.notifier.send(s, resident_id=resident.id, messages=messages)
        s.commit()


def test_stale_reply_token_is_not_used_the_message_is_pushed(line, fake_line):
    user = ev.new_user_id()
    old = ev.now_ms() - 55_000  # the event happened 55 s ago (e.g. the service was restarting)
    token = fake_line.issue_reply_token(user_id=user, age_seconds=55)
    line.send([ev.text_event(user, "こんにちは", reply_token=token, timestamp_ms=old)])
    line.settle()
    assert fake_line.requests_to("reply") == []
    pushes = fake_line.requests_to("push")
    assert pushes and all(p.body["to"] == user for p in pushes)
    rows = _rows(line.client.app)
    assert [(r.status, r.sent_via) for r in rows] == [("sent", "push")] * len(pushes)
    assert [r.retry_key for r in rows] == [p.headers["x-line-retry-key"] for p in pushes]
    for r in rows:
        uuid.UUID(r.retry_key)


def test_rejected_reply_token_falls_back_to_push(line, fake_line):
    user = ev.new_user_id()
    # A token LINE does not know (already used, or expired on LINE's clock): 400 Invalid reply token.
    line.send([ev.text_event(user, "こんにちは", reply_token="0" * 32)])
    line.settle()
    assert [r.status for r in fake_line.requests_to("reply")] == [400]
    assert [r.status for r in fake_line.requests_to("push")] == [200]
    assert "x-line-retry-key" not in fake_line.requests_to("reply")[0].headers
    assert fake_line.deliveries(user) and {d.via for d in fake_line.deliveries(user)} == {"push"}


def test_push_retried_after_5xx_with_the_same_retry_key_delivers_once(line, fake_line):
    user = ev.new_user_id()
    line.follow(user)
    fake_line.fail_next(2, status=500, endpoint="push")
    _staff_send(line.client.app, user, [Outbound(text="担当の者です。お話を聞かせてください。")])
    line.settle()
    pushes = fake_line.requests_to("push")
    assert [p.status for p in pushes] == [500, 500, 200]
    assert len({p.headers["x-line-retry-key"] for p in pushes}) == 1
    assert [d.via for d in fake_line.deliveries(user)][-2:] == ["reply", "push"]
    assert len([d for d in fake_line.deliveries(user) if d.via == "push"]) == 1


def test_timeout_after_line_accepted_is_not_delivered_twice(line, fake_line):
    user = ev.new_user_id()
    line.follow(user)
    # LINE takes the push but answers after our 3 s client timeout (test setting); the retry gets 409.
    fake_line.fail_next(1, status=None, endpoint="push", delay=3.5)
    _staff_send(line.client.app, user, [Outbound(text="お返事をお送りします。")])
    line.settle()
    pushes = fake_line.requests_to("push")
    assert [p.status for p in pushes][-1] == 409
    assert len({p.headers["x-line-retry-key"] for p in pushes}) == 1
    assert len([d for d in fake_line.deliveries(user) if d.via == "push"]) == 1
    row = _rows(line.client.app)[-1]
    assert row.status == "sent" and row.line_request_id == fake_line.deliveries(user)[-1].request_id


def test_429_backs_off_then_delivers(line, fake_line):
    user = ev.new_user_id()
    fake_line.fail_next(3, status=429, endpoint="reply")
    replies = line.say(user, "こんにちは")
    assert replies
    attempts = fake_line.requests_to("reply")
    assert [a.status for a in attempts] == [429, 429, 429, 200]
    gaps = [b.at - a.at for a, b in itertools.pairwise(attempts)]
    assert all(g > 0.02 for g in gaps), gaps  # it waited between attempts instead of hammering


def test_other_4xx_is_not_retried(line, fake_line):
    user = ev.new_user_id()
    line.follow(user)
    fake_line.fail_next(1, status=403, endpoint="push")
    _staff_send(line.client.app, user, [Outbound(text="お知らせ")])
    line.settle()
    assert [p.status for p in fake_line.requests_to("push")] == [403]
    assert _rows(line.client.app)[-1].status == "failed"


def test_more_than_five_messages_and_long_text_are_split_into_valid_requests(line, fake_line):
    user = ev.new_user_id()
    line.follow(user)
    long_text = ("今日はお話ししてくださってありがとうございます。" * 20 + "\n") * 15  # ~7,500 chars
    messages = [Outbound(text=f"{i}件目のお知らせです。") for i in range(6)]
    messages.append(Outbound(text=long_text, quick_replies=[QuickReply(label="わかった", data="ok")]))
    _staff_send(line.client.app, user, messages)
    line.settle()
    pushes = [p for p in fake_line.requests_to("push") if p.status == 200]
    assert [len(p.body["messages"]) for p in pushes] == [5, 3]
    delivered = [m for p in pushes for m in p.body["messages"]]
    assert [m["text"] for m in delivered[:6]] == [f"{i}件目のお知らせです。" for i in range(6)]
    assert "".join(m["text"] for m in delivered[6:]) == long_text
    assert delivered[-1]["quickReply"]["items"][0]["action"]["data"] == "ok"
    assert all(r.status != 400 for r in fake_line.requests)


def test_unfollow_blocks_pushes_and_follow_again_unblocks(line, fake_line):
    user = ev.new_user_id()
    line.follow(user)
    app = line.client.app
    greeting_rows = len(_rows(app))
    fake_line.fail_next(1, status=503, endpoint="push")  # a push is pending (backing off) …
    _staff_send(app, user, [Outbound(text="まだ届いていないお知らせ")])
    line.send([ev.unfollow_event(user)])  # … when the resident blocks the account
    line.settle()
    _staff_send(app, user, [Outbound(text="ブロック中のお知らせ")])
    line.settle()
    with app.state.session_factory() as s:
        resident = conversations.resident_for_line_user(s, line_user_id=user)
        assert resident.blocked
    assert {d.via for d in fake_line.deliveries(user)} == {"reply"}  # only the greeting
    assert {r.status for r in _rows(app)[greeting_rows:]} == {"cancelled"}

    token = fake_line.issue_reply_token(user_id=user)
    line.send([ev.follow_event(user, reply_token=token, unblocked=True)])
    line.settle()
    _staff_send(app, user, [Outbound(text="おかえりなさい")])
    line.settle()
    with app.state.session_factory() as s:
        assert not s.scalars(select(Resident).where(Resident.id == resident.id)).one().blocked
    assert fake_line.delivered(user)[-1]["text"] == "おかえりなさい"


def test_poison_event_is_given_up_and_later_events_still_flow(db_url, fake_line, tmp_path):
    """An event that can never be processed (here: stored under a key the service no longer has)
    is retried with back-off, then marked failed — and the same person's next message still flows."""
    from bot import crypto
    from bot.line.models import InboxEvent
    from tests.support.fixtures import TEST_SECRET_KEY, make_app, make_settings

    user = ev.new_user_id()
    stored = make_app(make_settings(db_url, fake_line, tmp_path / "var", run_worker=False))
    with TestClient(stored) as client:
        poison = ev.text_event(user, "最初の相談", reply_token=fake_line.issue_reply_token(user_id=user))
        later = ev.text_event(user, "こんにちは", reply_token=fake_line.issue_reply_token(user_id=user))
        assert ev.post_webhook(client, [poison, later]).status_code == 200
    crypto.configure("a-key-this-service-has-never-had-" * 2)
    unreadable = crypto.encrypt('{"type": "message"}')
    crypto.configure(TEST_SECRET_KEY)
    with stored.state.session_factory() as s:
        first_id = s.scalars(select(InboxEvent.id).order_by(InboxEvent.id)).first()
        s.execute(
            text("UPDATE inbox_events SET payload = :p WHERE id = :i"), {"p": unreadable, "i": first_id}
        )
        s.commit()

    app = make_app(make_settings(db_url, fake_line, tmp_path / "var"))
    with TestClient(app):
        assert app.state.line_worker.wait_idle(30)
    with app.state.session_factory() as s:
        rows = s.execute(
            select(InboxEvent.status, InboxEvent.attempts, InboxEvent.last_error).order_by(InboxEvent.id)
        ).all()
    assert [(r.status, r.attempts) for r in rows] == [("failed", 5), ("done", 1)]
    assert "key" in rows[0].last_error
    assert fake_line.deliveries(user), "the later message was answered"


def test_wakes_promptly_after_commit(line, fake_line):
    user = ev.new_user_id()
    line.follow(user)
    started = time.monotonic()
    _staff_send(line.client.app, user, [Outbound(text="すぐ届きます")])
    assert fake_line.wait_for(lambda: fake_line.delivered(user)[-1].get("text") == "すぐ届きます", timeout=5)
    # Not a speed assertion: the sender's poll interval is 0.5 s, so this only shows the wake-up works.
    assert time.monotonic() - started < 5
