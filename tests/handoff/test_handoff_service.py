"""handoff.service on both databases: handoff, queue, claim race, replies, withdrawal, audit."""

from __future__ import annotations

import threading

import pytest
from handoff_support import CONSENT_TEXT, RecordingNotifier, make_sheet
from sqlalchemy import select, text

from bot.conversations import service as conversations
from handoff import service
from handoff.models import (
    CLOSED,
    IN_PROGRESS,
    NORMAL,
    REFERRED,
    URGENT,
    WAITING,
    WITHDRAWN,
    AuditEvent,
    Case,
    ConsentRecord,
    Note,
    ReferralSheet,
)


def audit_actions(session, case_id):
    return [
        a.action
        for a in session.scalars(
            select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.id)
        )
    ]


def test_handoff_writes_case_sheet_consent_and_audit_in_one_unit(session, make_case, db_engine):
    case = make_case()
    assert case.status == WAITING and case.priority == NORMAL
    assert case.categories[0] == "family" and case.primary == "family"
    rows = session.scalars(select(ReferralSheet).where(ReferralSheet.case_id == case.id)).all()
    assert [(r.revision, r.author) for r in rows] == [(1, "bot")]
    sheet = service.latest_sheet(session, case_id=case.id)
    assert sheet.consent.given and sheet.consent.text_version == "v1" and sheet.consent.at is not None
    consent = session.scalars(select(ConsentRecord)).one()
    assert consent.text_version == "v1" and len(consent.text_hash) == 64 and consent.withdrawn_at is None
    assert audit_actions(session, case.id) == ["handoff"]
    # The sheet is personal data: encrypted at rest.
    with db_engine.connect() as conn:
        raw = conn.execute(text("SELECT content FROM referral_sheets")).scalar_one()
    assert "ひきこもり" not in raw and "息子" not in raw


def test_handoff_is_idempotent_per_conversation_and_raises_urgency(session, make_case, city, directory):
    case = make_case()
    again = service.request_handoff(
        session,
        resident_id=case.resident_id,
        conversation_id=case.conversation_id,
        sheet=make_sheet(city, directory),
        consent_text_version="v1",
        consent_text=CONSENT_TEXT,
        urgent=True,
    )
    session.commit()
    assert again.id == case.id
    assert session.scalar(select(text("count(*)")).select_from(Case)) == 1
    assert again.priority == URGENT
    revisions = [r.revision for r in service.sheet_revisions(session, case_id=case.id)]
    assert revisions == [1, 2]
    # Same wording → the one consent record stands.
    assert len(session.scalars(select(ConsentRecord)).all()) == 1


def test_open_case_for_resident(session, make_case, make_staff, notifier):
    case = make_case()
    assert service.open_case_for_resident(session, resident_id=case.resident_id).id == case.id
    staff = make_staff("sato")
    service.claim(session, case_id=case.id, staff=staff)
    assert service.open_case_for_resident(session, resident_id=case.resident_id).status == IN_PROGRESS
    service.close(session, case_id=case.id, staff=staff, outcome="info_only", notifier=notifier)
    session.commit()
    assert service.open_case_for_resident(session, resident_id=case.resident_id) is None


def test_queue_position_urgent_first_then_longest_waiting(session, make_case):
    first = make_case()
    second = make_case()
    urgent = make_case(urgent=True)
    assert service.queue_position(session, case_id=urgent.id) == 0
    assert service.queue_position(session, case_id=first.id) == 1
    assert service.queue_position(session, case_id=second.id) == 2


def test_update_contact_preference_keeps_phone_encrypted_and_revises_sheet(session, make_case, db_engine):
    case = make_case()
    service.update_contact_preference(session, case_id=case.id, preference="phone", phone="090-1234-5678")
    session.commit()
    assert case.contact_preference == "phone"
    sheet = service.latest_sheet(session, case_id=case.id)
    assert sheet.contact_preference == "phone" and sheet.person.phone == "090-1234-5678"
    with db_engine.connect() as conn:
        raw = conn.execute(text("SELECT contact_phone FROM cases")).scalar_one()
    assert "1234" not in raw
    service.update_contact_preference(session, case_id=case.id, preference="line", phone="090-1234-5678")
    assert case.contact_phone is None
    with pytest.raises(ValueError):
        service.update_contact_preference(session, case_id=case.id, preference="fax", phone=None)


def test_claim_is_exclusive_and_double_click_safe(session, make_case, make_staff):
    case = make_case()
    a, b = make_staff("a_staff"), make_staff("b_staff")
    service.claim(session, case_id=case.id, staff=a)
    session.commit()
    service.claim(session, case_id=case.id, staff=a)  # second click: no error
    session.commit()
    with pytest.raises(service.CaseConflict):
        service.claim(session, case_id=case.id, staff=b)
    session.rollback()
    assert session.get(Case, case.id).owner_id == a.id
    assert audit_actions(session, case.id).count("claim") == 1


def test_two_staff_claiming_at_once_exactly_one_wins(session_factory, session, make_case, make_staff):
    """The race, with two threads and two connections on the real database."""
    for _ in range(5):
        case = make_case()
        staff = [make_staff(f"racer{case.id}_{i}") for i in range(2)]
        barrier = threading.Barrier(2)
        outcomes: dict[int, str] = {}

        def attempt(user, case_id=case.id, barrier=barrier, outcomes=outcomes):
            with session_factory() as s:
                me = s.merge(user, load=True)
                barrier.wait()
                try:
                    service.claim(s, case_id=case_id, staff=me)
                    s.commit()
                    outcomes[me.id] = "won"
                except service.CaseConflict:
                    s.rollback()
                    outcomes[me.id] = "lost"

        threads = [threading.Thread(target=attempt, args=(u,)) for u in staff]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(outcomes.values()) == ["lost", "won"], outcomes
        session.expire_all()
        winner = next(uid for uid, o in outcomes.items() if o == "won")
        assert session.get(Case, case.id).owner_id == winner
        assert audit_actions(session, case.id).count("claim") == 1


def test_staff_reply_pushes_with_sender_logs_and_audits(session, make_case, make_staff, notifier):
    case = make_case()
    staff = make_staff("suzuki", display_name="相談員 鈴木")
    staff.icon_url = "https://example.invalid/icon.png"
    with pytest.raises(service.CaseConflict):  # not claimed yet
        service.staff_reply(session, case_id=case.id, staff=staff, text="こんにちは", notifier=notifier)
    service.claim(session, case_id=case.id, staff=staff)
    service.staff_reply(
        session, case_id=case.id, staff=staff, text="はじめまして、鈴木です。", notifier=notifier
    )
    session.commit()
    ((resident_id, messages),) = notifier.sent
    assert resident_id == case.resident_id
    assert messages[0].text == "はじめまして、鈴木です。"
    assert messages[0].sender.name == "相談員 鈴木" and messages[0].sender.icon_url.endswith("icon.png")
    events = conversations.list_events(session, conversation_id=case.conversation_id)
    staff_events = [e for e in events if e.author == "staff"]
    assert staff_events[0].text == "はじめまして、鈴木です。" and staff_events[0].staff_id == staff.id
    assert "message" in audit_actions(session, case.id)


def test_other_staff_cannot_reply_or_release(session, make_case, make_staff, notifier):
    case = make_case()
    owner, other = make_staff("owner1"), make_staff("other1")
    service.claim(session, case_id=case.id, staff=owner)
    with pytest.raises(service.Forbidden):
        service.staff_reply(session, case_id=case.id, staff=other, text="x", notifier=notifier)
    with pytest.raises(service.Forbidden):
        service.release(session, case_id=case.id, staff=other, notifier=notifier)
    assert notifier.sent == []


def test_release_returns_resident_to_bot_with_closing_message(session, make_case, make_staff, notifier):
    case = make_case()
    staff = make_staff("tanaka")
    service.claim(session, case_id=case.id, staff=staff)
    service.release(session, case_id=case.id, staff=staff, notifier=notifier)
    session.commit()
    assert case.status == WAITING and case.owner_id is None
    assert notifier.sent[-1][1][0].text == service.RELEASE_MESSAGE
    assert notifier.sent[-1][1][0].sender is None  # the bot's voice again
    kinds = [e.kind for e in conversations.list_events(session, conversation_id=case.conversation_id)]
    assert "staff_left" in kinds


def test_transfer_needs_supervisor(session, make_case, make_staff):
    case = make_case()
    staff, other, boss = make_staff("s1"), make_staff("s2"), make_staff("boss", role="supervisor")
    service.claim(session, case_id=case.id, staff=staff)
    with pytest.raises(service.Forbidden):
        service.transfer(session, case_id=case.id, staff=staff, to_staff_id=other.id)
    service.transfer(session, case_id=case.id, staff=boss, to_staff_id=other.id)
    session.commit()
    assert case.owner_id == other.id and case.status == IN_PROGRESS
    assert "transfer" in audit_actions(session, case.id)


@pytest.mark.parametrize(("outcome", "status"), [("connected", REFERRED), ("info_only", CLOSED)])
def test_close_with_outcome(session, make_case, make_staff, notifier, outcome, status):
    case = make_case()
    staff = make_staff("closer")
    service.claim(session, case_id=case.id, staff=staff)
    service.close(session, case_id=case.id, staff=staff, outcome=outcome, notifier=notifier)
    service.close(session, case_id=case.id, staff=staff, outcome=outcome, notifier=notifier)  # double click
    session.commit()
    assert case.status == status and case.outcome == outcome and case.closed_at is not None
    assert [m[1][0].text for m in notifier.sent] == [service.CLOSE_MESSAGE]
    assert service.latest_sheet(session, case_id=case.id).result_policy


def test_sheet_revision_by_staff_keeps_every_version_and_consent(session, make_case, make_staff):
    case = make_case()
    staff = make_staff("editor")
    service.claim(session, case_id=case.id, staff=staff)
    sheet = service.latest_sheet(session, case_id=case.id)
    sheet.summary = "相談員が書き直した要約"
    sheet.primary = "medical_welfare"
    sheet.consent.given = False  # staff cannot change the recorded consent
    service.revise_sheet(session, case_id=case.id, staff=staff, sheet=sheet, base_revision=1)
    session.commit()
    revs = service.sheet_revisions(session, case_id=case.id)
    assert [(r.revision, r.author) for r in revs] == [(1, "bot"), (2, "staff")]
    assert revs[0].content["summary"] != revs[1].content["summary"]
    latest = service.latest_sheet(session, case_id=case.id)
    assert latest.consent.given and case.primary == "medical_welfare"
    latest.summary = "古い画面からの編集"
    with pytest.raises(service.CaseConflict):
        service.revise_sheet(session, case_id=case.id, staff=staff, sheet=latest, base_revision=1)


def test_withdraw_removes_content_and_withdraws_consent(session, make_case, make_staff, db_engine):
    case = make_case()
    staff = make_staff("notes")
    service.claim(session, case_id=case.id, staff=staff)
    service.add_note(session, case_id=case.id, staff=staff, text="母親は足が悪い")
    session.commit()
    resident_id = case.resident_id
    service.withdraw_for_resident(session, resident_id=resident_id)
    conversations.delete_conversations(session, resident_id=resident_id)
    session.commit()
    session.expire_all()
    case = session.get(Case, case.id)
    assert case.status == WITHDRAWN and case.resident_id is None and case.conversation_id is None
    assert all(r.content is None for r in service.sheet_revisions(session, case_id=case.id))
    assert all(n.text is None for n in session.scalars(select(Note)))
    assert all(c.withdrawn_at is not None for c in session.scalars(select(ConsentRecord)))
    assert service.open_case_for_resident(session, resident_id=resident_id) is None
    assert "withdrawn" in audit_actions(session, case.id)
    with pytest.raises(service.CaseConflict):
        service.staff_reply(session, case_id=case.id, staff=staff, text="x", notifier=RecordingNotifier())


def test_view_is_audited_and_role_checked(session, make_case, make_staff):
    case = make_case()
    a, b, boss = make_staff("v1"), make_staff("v2"), make_staff("vboss", role="supervisor")
    service.view_case(session, case_id=case.id, staff=b)  # unassigned: any staff may look
    service.claim(session, case_id=case.id, staff=a)
    with pytest.raises(service.Forbidden):
        service.view_case(session, case_id=case.id, staff=b)
    service.view_case(session, case_id=case.id, staff=boss)
    session.commit()
    views = session.scalars(select(AuditEvent).where(AuditEvent.action == "view")).all()
    assert {v.staff_id for v in views} == {b.id, boss.id}
    with pytest.raises(service.CaseNotFound):
        service.view_case(session, case_id=99999, staff=boss)


def test_audit_rows_cannot_be_changed_or_deleted(session, make_case):
    case = make_case()
    row = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id)).first()
    row.action = "tampered"
    with pytest.raises(RuntimeError, match="append-only"):
        session.flush()
    session.rollback()
    session.delete(session.get(AuditEvent, row.id))
    with pytest.raises(RuntimeError, match="append-only"):
        session.flush()
    session.rollback()


def test_saving_an_unchanged_sheet_twice_makes_no_revision(session, make_case, make_staff):
    case = make_case()
    staff = make_staff("twice")
    service.claim(session, case_id=case.id, staff=staff)
    sheet = service.latest_sheet(session, case_id=case.id)
    sheet.summary = "書き直し"
    first = service.revise_sheet(
        session, case_id=case.id, staff=staff, sheet=sheet.model_copy(deep=True), base_revision=1
    )
    again = service.revise_sheet(
        session, case_id=case.id, staff=staff, sheet=sheet.model_copy(deep=True), base_revision=1
    )
    assert first.id == again.id and first.revision == 2


def test_retention_purge_empties_old_closed_cases(session, make_case, make_staff, notifier):
    from datetime import timedelta

    from bot.db import utcnow

    old, recent = make_case(), make_case()
    staff = make_staff("purger")
    for c in (old, recent):
        service.claim(session, case_id=c.id, staff=staff)
        service.add_note(session, case_id=c.id, staff=staff, text="メモ")
        service.close(session, case_id=c.id, staff=staff, outcome="info_only", notifier=notifier)
    old.closed_at = utcnow() - timedelta(days=400)
    session.commit()
    assert service.purge_expired(session, now=utcnow(), retention_days_closed=365) == 1
    session.commit()
    assert all(r.content is None for r in service.sheet_revisions(session, case_id=old.id))
    assert service.latest_sheet(session, case_id=recent.id) is not None
    assert [n.text for n in service.list_notes(session, case_id=old.id)] == [None]
    assert session.get(Case, old.id).categories  # counts for statistics stay
