"""POST /callback over the real app: signature first, durable inbox, redelivery, every SDK event type."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.conversations.models import Resident
from bot.line.models import InboxEvent, OutboxMessage
from tests.support import events as ev
from tests.support.fixtures import make_app, make_settings


def _inbox(app) -> list[InboxEvent]:
    with app.state.session_factory() as s:
        return list(s.scalars(select(InboxEvent).order_by(InboxEvent.id)))


def _count(app, model) -> int:
    with app.state.session_factory() as s:
        return s.scalar(select(func.count()).select_from(model))


def _resident_words(app, user_id: str) -> list[str]:
    """What the resident said, in the order the dialogue received it (the conversation log)."""
    from bot.conversations import service as conversations
    from bot.conversations.models import Conversation

    with app.state.session_factory() as s:
        resident = conversations.resident_for_line_user(s, line_user_id=user_id)
        conv_ids = s.scalars(
            select(Conversation.id).where(Conversation.resident_id == resident.id).order_by(Conversation.id)
        ).all()
        return [
            e.text
            for cid in conv_ids
            for e in conversations.list_events(s, conversation_id=cid)
            if e.author == "resident" and e.kind == "text"
        ]


def test_forged_or_missing_signature_is_400_and_nothing_is_stored(app_client, fake_line):
    user = ev.new_user_id()
    body = ev.webhook_body([ev.text_event(user, "こんにちは", reply_token=fake_line.issue_reply_token())])
    forged = ev.sign(body, secret="0" * 32)
    assert ev.post_webhook(app_client, [], body=body, signature=forged).status_code == 400
    r = app_client.post("/callback", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    # A valid signature over different bytes: the body was tampered with.
    tampered = body.replace("こんにちは".encode(), "さようなら".encode())
    assert ev.post_webhook(app_client, [], body=tampered, signature=ev.sign(body)).status_code == 400
    app_client.app.state.line_worker.wait_idle()
    assert _count(app_client.app, InboxEvent) == 0
    assert _count(app_client.app, Resident) == 0
    assert fake_line.requests == []


def test_verify_button_empty_events_is_200(app_client):
    assert ev.post_webhook(app_client, []).status_code == 200
    assert _count(app_client.app, InboxEvent) == 0


def test_oversized_body_is_refused_before_parsing(app_client):
    limit = app_client.app.state.settings.max_body_bytes
    body = b'{"events": [], "pad": "' + b"x" * limit + b'"}'
    r = ev.post_webhook(app_client, [], body=body)
    assert r.status_code == 413
    assert _count(app_client.app, InboxEvent) == 0


def test_signed_garbage_is_400(app_client):
    assert ev.post_webhook(app_client, [], body=b"not json").status_code == 400


def test_event_is_stored_encrypted_and_answered(line, fake_line):
    user = ev.new_user_id()
    replies = line.say(user, "息子が仕事に行けなくなりました")
    assert replies, "the bot answered"
    assert fake_line.requests_to("reply"), "answered with the free reply token"
    app = line.client.app
    [row] = _inbox(app)
    assert row.status == "done" and row.attempts == 1
    with app.state.engine.connect() as conn:
        raw = conn.exec_driver_sql("SELECT payload FROM inbox_events").scalar_one()
        raw_out = conn.exec_driver_sql('SELECT "to", messages FROM outbox_messages').all()
    assert user not in raw and "息子" not in raw
    said = [m["text"][:10] for m in replies if m["type"] == "text"]
    assert raw_out and all(user not in to and not any(t in msgs for t in said) for to, msgs in raw_out)


def test_redelivered_event_is_not_processed_twice(line, fake_line):
    user = ev.new_user_id()
    token = fake_line.issue_reply_token(user_id=user)
    event = ev.text_event(user, "はじめまして", reply_token=token)
    line.send([event])
    line.settle()
    again = dict(event, deliveryContext={"isRedelivery": True})
    line.send([again])
    line.send(
        [event, ev.text_event(user, "もうひとつ", reply_token=fake_line.issue_reply_token(user_id=user))]
    )
    line.settle()
    app = line.client.app
    assert len(_inbox(app)) == 2
    assert _resident_words(app, user) == ["はじめまして", "もうひとつ"]  # each event's step ran once
    assert not [r for r in fake_line.requests if r.status == 400]


def test_one_users_events_are_processed_in_order(line, fake_line):
    user = ev.new_user_id()
    words = [f"メッセージ{i}" for i in range(12)]
    # Several webhooks, several events each, as LINE batches them.
    for batch in (words[:5], words[5:6], words[6:]):
        line.send(
            [ev.text_event(user, w, reply_token=fake_line.issue_reply_token(user_id=user)) for w in batch]
        )
    line.settle()
    from bot.conversations import service as conversations

    app = line.client.app
    with app.state.session_factory() as s:
        resident = conversations.resident_for_line_user(s, line_user_id=user)
        conv = conversations.active_conversation(s, resident_id=resident.id)
        said = [
            e.text for e in conversations.list_events(s, conversation_id=conv.id) if e.author == "resident"
        ]
    assert said == words
    assert len(fake_line.deliveries(user)) == 12


def test_every_event_in_the_line_sdk_fixture_is_handled_without_error(line, fake_line):
    events = ev.sdk_fixture_events()
    assert len(events) == 28
    for e in events:
        if "replyToken" in e:
            user = (e.get("source") or {}).get("userId")
            e["replyToken"] = fake_line.issue_reply_token(user_id=user)
    line.send(events)
    line.settle(30)
    rows = _inbox(line.client.app)
    assert len(rows) == 28
    assert {r.status for r in rows} == {"done"}, [
        (r.event_type, r.last_error) for r in rows if r.status != "done"
    ]
    assert all(r.payload.keys() <= {"type", "webhookEventId"} for r in rows), "raw events are not kept"
    # The bot left the group and the room it was in, after saying once why.
    assert {t for t, _ in fake_line.left_chats} == {"group", "room"}
    with line.client.app.state.session_factory() as s:
        failed = s.scalars(select(OutboxMessage).where(OutboxMessage.status == "failed")).all()
    assert failed == []
    # Nothing was ever downloaded (no content API), and the profile API was never called.
    assert all("/content" not in r.path and "/profile" not in r.path for r in fake_line.requests)


def test_unknown_event_types_are_logged_and_ignored(line, fake_line):
    user = ev.new_user_id()
    weird = {
        "type": "somethingNew",
        "mode": "active",
        "timestamp": ev.now_ms(),
        "source": {"type": "user", "userId": user},
        "webhookEventId": ev.new_event_id(),
        "deliveryContext": {"isRedelivery": False},
    }
    line.send([weird])
    line.settle()
    [row] = _inbox(line.client.app)
    assert row.status == "done"
    assert fake_line.requests == []


def test_database_down_answers_5xx_so_line_redelivers(tmp_path, fake_line):
    settings = make_settings(
        f"sqlite:///{tmp_path}/missing-dir/nope.db", fake_line, tmp_path / "var", run_worker=False
    )
    from bot.main import create_app

    app = create_app(settings)  # no schema, and the directory does not even exist
    with TestClient(app) as client:
        user = ev.new_user_id()
        r = ev.post_webhook(client, [ev.text_event(user, "こんにちは")])
        assert 500 <= r.status_code < 600


def test_standby_mode_sends_nothing(line, fake_line):
    user = ev.new_user_id()
    line.send(
        [
            ev.text_event(
                user, "こんにちは", reply_token=fake_line.issue_reply_token(user_id=user), mode="standby"
            )
        ]
    )
    line.settle()
    assert fake_line.requests == []
    assert [r.status for r in _inbox(line.client.app)] == ["done"]


def test_media_and_location_get_a_reply_without_downloading(line, fake_line):
    user = ev.new_user_id()
    for kind in ("sticker", "image", "video", "audio", "file", "location"):
        line.send([ev.media_event(user, kind, reply_token=fake_line.issue_reply_token(user_id=user))])
    line.settle()
    assert {r.status for r in _inbox(line.client.app)} == {"done"}
    assert fake_line.deliveries(user), "the resident is asked, kindly, for words"
    assert all(r.path.startswith("/v2/bot/") and "content" not in r.path for r in fake_line.requests)


def test_group_invite_says_once_and_leaves_and_stores_nothing_personal(line, fake_line):
    group = "C" + "a" * 32
    member = ev.new_user_id()
    line.send([ev.join_event(group, reply_token=fake_line.issue_reply_token(user_id=group))])
    line.send(
        [ev.group_text_event(group, member, "わたしの悩みは…", reply_token=fake_line.issue_reply_token())]
    )
    line.settle()
    assert len(fake_line.deliveries(group)) == 1, "one message"
    assert fake_line.left_chats == [("group", group)]
    assert fake_line.requests_to("push") == []
    app = line.client.app
    assert _count(app, Resident) == 0
    with app.state.engine.connect() as conn:
        payloads = conn.exec_driver_sql("SELECT payload FROM inbox_events").scalars().all()
    from bot import crypto

    assert all("悩み" not in crypto.decrypt(p) and member not in crypto.decrypt(p) for p in payloads)


def test_room_invite_leaves_the_room(line, fake_line):
    room = "R" + "b" * 32
    line.send([ev.join_event(room, reply_token=fake_line.issue_reply_token(user_id=room), room=True)])
    line.settle()
    assert len(fake_line.deliveries(room)) == 1
    assert fake_line.left_chats == [("room", room)]


def test_text_shows_the_loading_animation_before_the_reply(line, fake_line):
    user = ev.new_user_id()
    line.say(user, "相談したいことがあります")
    paths = [r.path for r in fake_line.requests]
    assert paths[0] == "/v2/bot/chat/loading/start" and paths[1] == "/v2/bot/message/reply"
    assert fake_line.loading_requests == [{"chatId": user, "loadingSeconds": 20}]


def test_db_down_app_factory_is_independent(tmp_path):
    # make_app is what other parts use: it migrates and builds a working app on a fresh SQLite file.
    app = make_app(make_settings(f"sqlite:///{tmp_path}/x.db", None, tmp_path / "var", run_worker=False))
    with TestClient(app) as client:
        assert ev.post_webhook(client, []).status_code == 200
