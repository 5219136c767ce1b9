"""Privacy at rest, checked on the raw database: no LINE id or resident text in clear, and 削除
really deletes (conversation, case content, inbox, outbox, the resident row itself)."""

from __future__ import annotations

from sqlalchemy import func, select

from bot import crypto
from bot.conversations.models import Conversation, Resident
from bot.line.models import InboxEvent, OutboxMessage
from handoff import accounts
from handoff import service as handoff
from handoff.models import Case
from tests.hardening.hardening_support import (
    consult_until_consent,
    decrypted_text,
    raw_text,
    tap,
    texts,
)
from tests.support import events as ev

WORDS = "夫からの暴言がつらくて、家計のことも相談したいです。シナモン柄のマグカップ"
STAFF_WORDS = "担当の者です。ゆっくりお話を聞かせてください。"


def _hand_off(line, user: str) -> None:
    got = consult_until_consent(line, user, WORDS)
    got = tap(line, user, got, "同意する")
    got = tap(line, user, got, "このままLINEで")
    assert "相談員" in texts(got)


def _staff_replies(app, resident_reply: str | None = None) -> int:
    factory = app.state.session_factory
    with factory() as s:
        staff = accounts.create_staff(s, username="tanaka", password="correct horse battery 9", role="staff")
        (case,) = s.scalars(select(Case)).all()
        handoff.claim(s, case_id=case.id, staff=staff)
        handoff.staff_reply(s, case_id=case.id, staff=staff, text=STAFF_WORDS, notifier=app.state.notifier)
        s.commit()
        return case.id


def test_nothing_personal_is_stored_in_clear(line, app_client, fake_line):
    app = app_client.app
    user = ev.new_user_id()
    _hand_off(line, user)
    _staff_replies(app)
    line.settle()
    later = "ありがとうございます。明日また連絡します。ローズマリー"
    line.say(user, later)
    assert any(STAFF_WORDS in m.get("text", "") for m in fake_line.delivered(user))

    engine = app.state.engine
    stored = raw_text(engine)
    for secret in (user, WORDS, "シナモン柄", STAFF_WORDS, later, "ローズマリー"):
        assert secret not in stored, f"{secret!r} stored in clear"
    # …and it *is* there, encrypted: the check above is not vacuous.
    readable = decrypted_text(engine)
    assert user in readable and "シナモン柄" in readable and STAFF_WORDS in readable


def test_deletion_on_request_removes_everything(line, app_client, fake_line):
    app = app_client.app
    user = ev.new_user_id()
    other = ev.new_user_id()
    _hand_off(line, user)
    _staff_replies(app)
    line.say(other, "別の人の相談です。パセリ")  # must survive the deletion
    line.settle()

    got = line.say(user, "削除")
    got = tap(line, user, got, "削除する")
    assert "削除しました" in texts(got)
    line.settle()

    engine = app.state.engine
    readable = decrypted_text(engine)
    for secret in (WORDS, "シナモン柄", STAFF_WORDS):
        assert secret not in readable, f"{secret!r} still stored after 削除"
    with app.state.session_factory() as s:
        (case,) = s.scalars(select(Case)).all()
        assert case.status == "withdrawn" and case.resident_id is None
        assert handoff.latest_sheet(s, case_id=case.id) is None or WORDS not in str(
            handoff.latest_sheet(s, case_id=case.id)
        )
        assert s.scalar(select(func.count()).select_from(Resident)) == 1  # only `other`
        assert s.scalar(select(func.count()).select_from(Conversation)) == 1
        # Of their inbox rows only the 削除 event itself is left, as a content-free stub.
        theirs = s.scalars(
            select(InboxEvent).where(InboxEvent.source_key == crypto.lookup_hash(f"user:{user}"))
        ).all()
        assert len(theirs) == 1 and set(theirs[0].payload) == {"type", "webhookEventId"}
        # The outbox keeps only the goodbye, addressed to them until LINE accepted it (see
        # docs/security.md: sent rows are purged with the transport records).
        mine = [r for r in s.scalars(select(OutboxMessage)) if r.to == user]
        assert len(mine) == 1 and "削除しました" in str(mine[0].messages)
    assert "パセリ" in readable  # the other resident's data is untouched

    # Writing again starts afresh, as a new resident.
    got = line.say(user, "こんにちは")
    assert got
    with app.state.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Resident)) == 2
