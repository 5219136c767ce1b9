"""Key rotation end to end, both databases: data written under secret A, the service rotated to B
(A kept as old), `rekey` run while the app keeps working, then A dropped: everything readable,
lookups work (a returning resident is still the same resident, in the same conversation), no
ciphertext opens under A any more, and a second run changes nothing."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import crypto, rekey
from bot.conversations import service as conversations
from bot.conversations.models import ConversationEvent, Resident
from bot.db import utcnow
from bot.line.models import InboxEvent, OutboxMessage
from handoff import accounts
from handoff import service as handoff
from handoff.models import Case
from tests.hardening.hardening_support import consult_until_consent, decrypted_text, tap
from tests.support import events as ev
from tests.support.fixtures import TEST_SECRET_KEY

SECRET_A = TEST_SECRET_KEY  # what the app fixtures write with
SECRET_B = "the-new-secret-after-an-incident-0123456789-abcdef"
WORDS = "借金の返済が苦しくて眠れません。カモミール"
REPLY = "担当の佐藤です。ゆっくりお聞きします。"
PENDING_WORDS = "まだ処理されていない言葉です。ミモザ"


def _ciphertexts(engine) -> list[str]:
    """Every encrypted value as stored."""
    values = []
    with engine.connect() as conn:
        for tbl, names in rekey.encrypted_columns():
            raw, _ = rekey._raw(tbl, names)
            for row in conn.execute(select(*(raw.c[n] for n in names))):
                values += [v for v in row if v is not None]
    return values


def _opens(value: str) -> bool:
    try:
        crypto.decrypt(value)
        return True
    except Exception:
        return False


def _write_under_a(line, app, fake_line) -> tuple[str, int, int]:
    """A consented case with a staff reply still waiting for LINE, a follower, an unprocessed event."""
    user = ev.new_user_id()
    got = consult_until_consent(line, user, WORDS)
    got = tap(line, user, got, "同意する")
    tap(line, user, got, "このままLINEで")
    line.follow(ev.new_user_id())
    fake_line.fail_next(10_000, status=503, endpoint="push")
    with app.state.session_factory() as s:
        case = s.scalars(select(Case)).one()
        staff = accounts.create_staff(s, username="sato", password="correct horse battery 9", role="staff")
        handoff.claim(s, case_id=case.id, staff=staff)
        handoff.staff_reply(s, case_id=case.id, staff=staff, text=REPLY, notifier=app.state.notifier)
        # An event the worker has not reached (its retry time is tomorrow).
        stranger = ev.new_user_id()
        s.add(
            InboxEvent(
                webhook_event_id="pending-across-rotation",
                source_key=crypto.lookup_hash(f"user:{stranger}"),
                event_type="message",
                payload=ev.text_event(stranger, PENDING_WORDS),
                event_timestamp_ms=0,
                status="pending",
                locked_until=utcnow() + timedelta(days=1),
            )
        )
        resident_id, conversation_id = case.resident_id, case.conversation_id
        s.commit()
    return user, resident_id, conversation_id


def test_rotate_reencrypt_and_drop_the_old_secret(line, app_client, fake_line):
    app = app_client.app
    engine = app.state.engine
    user, resident_id, conversation_id = _write_under_a(line, app, fake_line)
    assert all(_opens(v) for v in _ciphertexts(engine))

    # The service restarts with B as the current secret and A as the old one.
    crypto.configure(SECRET_B, [SECRET_A])
    with app.state.session_factory() as s:  # before any re-encryption, lookups still work
        assert conversations.resident_for_line_user(s, line_user_id=user).id == resident_id
        s.commit()

    report = rekey.rekey(engine, batch_size=3, echo=lambda _: None)
    assert report.complete and report.unreadable == 0 and report.duplicate_residents == 0
    assert report.reencrypted["conversation_events.text"] > 0
    assert report.reencrypted["residents.line_user_id"] >= 2
    assert report.reencrypted["referral_sheets.content"] > 0
    assert report.reencrypted["outbox_messages.messages"] > 0
    # The returning resident was re-hashed on the spot; the follower by rekey.
    assert report.rehashed["residents.user_hash"] == 1
    assert report.rehashed["outbox_messages.recipient_key"] > 0
    assert report.rehashed["inbox_events.source_key"] > 0

    # A second run finds nothing to do.
    again = rekey.rekey(engine, batch_size=3, echo=lambda _: None)
    assert again.complete and sum(again.reencrypted.values()) == 0 and sum(again.rehashed.values()) == 0

    # Drop A: everything still opens, the words are there, lookups land on the same rows.
    crypto.configure(SECRET_B)
    stored = _ciphertexts(engine)
    assert stored and all(_opens(v) for v in stored)
    plain = decrypted_text(engine)
    assert WORDS in plain and REPLY in plain and PENDING_WORDS in plain
    with app.state.session_factory() as s:
        assert conversations.resident_for_line_user(s, line_user_id=user).id == resident_id
        assert s.scalar(select(Resident.id).where(Resident.user_hash == crypto.lookup_hash(user)))
        pending = s.scalars(select(InboxEvent).where(InboxEvent.status == "pending")).one()
        stranger = pending.payload["source"]["userId"]
        assert pending.source_key == crypto.lookup_hash(f"user:{stranger}")
        waiting = s.scalars(select(OutboxMessage).where(OutboxMessage.status == "pending")).all()
        assert waiting and all(m.recipient_key == crypto.lookup_hash(user) for m in waiting)
        pending.locked_until = None  # the worker may take it now, under B only
        s.commit()

    # LINE is back; the resident writes again: the same conversation, the message reaches staff,
    # and the push that waited across the rotation is delivered.
    with fake_line.state.lock:
        fake_line.state.failures.clear()
    line.say(user, "ありがとうございます。ジャスミン", wait=True)
    with app.state.session_factory() as s:
        said = {e.text: e.conversation_id for e in s.scalars(select(ConversationEvent))}
        assert said["ありがとうございます。ジャスミン"] == conversation_id
        assert (
            s.scalar(select(Resident.id).where(Resident.user_hash == crypto.lookup_hash(user))) == resident_id
        )

    assert any(REPLY in m.get("text", "") for m in fake_line.delivered(user))

    # Under A alone, nothing stored opens any more.
    crypto.configure(SECRET_A)
    assert not any(_opens(v) for v in _ciphertexts(engine))
    crypto.configure(SECRET_B)


def test_an_interrupted_run_resumes(line, app_client, fake_line):
    app = app_client.app
    engine = app.state.engine
    _write_under_a(line, app, fake_line)
    with fake_line.state.lock:
        fake_line.state.failures.clear()
    crypto.configure(SECRET_B, [SECRET_A])

    class Interrupted(Exception):
        pass

    lines: list[str] = []

    def stop_after_first_table(message: str) -> None:
        lines.append(message)
        if len(lines) == 2:  # the header, then the first table's count
            raise Interrupted

    with pytest.raises(Interrupted):
        rekey.rekey(engine, batch_size=2, echo=stop_after_first_table)
    assert rekey.count_old_values(engine) > 0
    first_table = lines[1].split(":")[0].strip()

    # The operator runs the command again: it finishes the rest and leaves the first table alone.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONSULT_", "DATABASE_", "LINE_"))}
    env |= {
        "DATABASE_URL": app.state.settings.effective_database_url,
        "CONSULT_SECRET_KEY": SECRET_B,
        "CONSULT_OLD_SECRET_KEYS": SECRET_A,
        "CONSULT_VAR_DIR": str(app.state.settings.var_dir),
    }
    done = subprocess.run(
        [str(Path(sys.executable).parent / "consult-bot"), "keys", "reencrypt", "--batch-size", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"  {first_table}: 0 value(s) re-encrypted" in done.stdout
    assert re.search(r"re-encrypted [1-9]\d* value", done.stdout)
    assert "CONSULT_OLD_SECRET_KEYS can be removed" in done.stdout
    crypto.configure(SECRET_B)
    assert all(_opens(v) for v in _ciphertexts(engine))
