"""Service verbs for cases: handoff from the bot, and what staff do with a case.

All keyword-only; they flush and never commit — the caller commits once, so a handoff, its sheet,
the consent and the audit row (or a staff reply, its push and its audit row) land together.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from bot.conversations import service as conversations
from bot.conversations.models import Conversation
from bot.db import utcnow
from bot.messages import Outbound, Sender
from handoff.models import (
    CLOSED,
    IN_PROGRESS,
    NORMAL,
    OPEN_STATUSES,
    OUTCOME_LABELS,
    REFERRED,
    ROLE_SUPERVISOR,
    URGENT,
    WAITING,
    WITHDRAWN,
    AuditEvent,
    Case,
    ConsentRecord,
    Note,
    ReferralSheet,
    StaffUser,
)
from handoff.notifier import ResidentNotifier
from handoff.schemas import SheetDraft

# What the resident reads when staff step back. Short, kind, no promises.
RELEASE_MESSAGE = (
    "担当者とのやりとりは、ここでいったん区切ります。\n"
    "このあとは自動でお返事します。続けて相談したいときは、いつでも書いてください。"
)
CLOSE_MESSAGE = (
    "ご相談ありがとうございました。担当者とのやりとりは、ここで終わります。\n"
    "また困ったときは、いつでもこちらに書いてください。"
)
# LINE shows at most 20 characters of a sender name.
SENDER_NAME_MAX = 20


class HandoffError(Exception):
    """Base for errors a route turns into an HTTP status."""


class CaseNotFound(HandoffError):
    pass


class CaseConflict(HandoffError):
    """The case is in a state that does not allow this (owned by another, closed, withdrawn)."""


class Forbidden(HandoffError):
    pass


class SheetChanged(CaseConflict):
    """Someone saved the sheet after this editor opened it: their save would silently undo it."""

    def __init__(self, *, base: int, current: int) -> None:
        super().__init__(f"the sheet changed since you opened it (revision {base}, now {current})")
        self.base = base
        self.current = current


class DuplicateSubmission(HandoffError):
    """The same staff form (same idempotency key) was already carried out."""


# --- audit -------------------------------------------------------------------------------------


def audit(
    session: Session,
    *,
    action: str,
    actor: str = "staff",
    staff_id: int | None = None,
    case_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    ev = AuditEvent(
        at=utcnow(), actor=actor, staff_id=staff_id, action=action, case_id=case_id, detail=detail
    )
    session.add(ev)
    session.flush()
    return ev


# --- the bot's side ----------------------------------------------------------------------------


def _sheet_json(sheet: SheetDraft) -> dict[str, Any]:
    return sheet.model_dump(mode="json")


def _apply_sheet_facts(case: Case, sheet: SheetDraft) -> None:
    """Copy the non-personal facts the queue filters on out of the (encrypted) sheet."""
    case.categories = list(sheet.categories)
    case.primary = sheet.primary
    case.subcategories = list(sheet.subcategories)
    case.risk = list(sheet.risk)
    case.writer_type = sheet.writer_type
    if sheet.contact_preference:
        case.contact_preference = sheet.contact_preference


def _next_revision(session: Session, case_id: int) -> int:
    current = session.scalar(select(func.max(ReferralSheet.revision)).where(ReferralSheet.case_id == case_id))
    return (current or 0) + 1


def _add_revision(
    session: Session, *, case_id: int, sheet: SheetDraft, author: str, staff_id: int | None = None
) -> ReferralSheet:
    rev = ReferralSheet(
        case_id=case_id,
        revision=_next_revision(session, case_id),
        author=author,
        author_staff_id=staff_id,
        content=_sheet_json(sheet),
        created_at=utcnow(),
    )
    session.add(rev)
    session.flush()
    return rev


def request_handoff(
    session: Session,
    *,
    resident_id: int,
    conversation_id: int,
    sheet: SheetDraft,
    consent_text_version: str,
    consent_text: str,
    urgent: bool,
) -> Case:
    """Put a consented conversation in the staff queue with its draft つなぐシート.

    Idempotent per conversation: calling again adds a sheet revision, raises the priority to
    urgent if asked, and reopens the case if staff had closed it.
    """
    now = utcnow()
    text_hash = hashlib.sha256(consent_text.encode()).hexdigest()
    case = session.scalars(
        select(Case).where(Case.conversation_id == conversation_id).with_for_update()
    ).one_or_none()
    created = case is None
    reopened = False
    if case is None:
        case = Case(
            resident_id=resident_id,
            conversation_id=conversation_id,
            status=WAITING,
            priority=URGENT if urgent else NORMAL,
            created_at=now,
            waiting_since=now,
            updated_at=now,
        )
        session.add(case)
        session.flush()
    else:
        if urgent:
            case.priority = URGENT
        if case.status not in OPEN_STATUSES:
            reopened = True
            case.status = WAITING
            case.owner_id = None
            case.waiting_since = now
            case.closed_at = None
            case.outcome = None
        case.updated_at = now

    consent = session.scalars(
        select(ConsentRecord).where(
            ConsentRecord.case_id == case.id,
            ConsentRecord.withdrawn_at.is_(None),
            ConsentRecord.text_hash == text_hash,
        )
    ).first()
    if consent is None:
        consent = ConsentRecord(
            case_id=case.id,
            resident_id=resident_id,
            text_version=consent_text_version,
            text_hash=text_hash,
            given_at=now,
        )
        session.add(consent)
        session.flush()

    sheet = sheet.model_copy(deep=True)
    sheet.consent.given = True
    sheet.consent.at = consent.given_at
    sheet.consent.text_version = consent.text_version
    sheet.consent.withdrawn_at = None
    _apply_sheet_facts(case, sheet)
    rev = _add_revision(session, case_id=case.id, sheet=sheet, author="bot")

    conversations.append_event(
        session,
        conversation_id=conversation_id,
        author="system",
        # "handoff" marks entering the queue; later calls only update the sheet or the urgency.
        kind="handoff" if created or reopened else "handoff_update",
        meta={"case_id": case.id, "urgent": case.priority == URGENT, "revision": rev.revision},
    )
    audit(
        session,
        actor="bot",
        action="handoff" if created else "handoff_update",
        case_id=case.id,
        detail={
            "revision": rev.revision,
            "urgent": case.priority == URGENT,
            "consent_text_version": consent_text_version,
        },
    )
    return case


def open_case_for_resident(session: Session, *, resident_id: int) -> Case | None:
    """The resident's case that is waiting for or being handled by staff, if any."""
    return session.scalars(
        select(Case)
        .where(Case.resident_id == resident_id, Case.status.in_(OPEN_STATUSES))
        .order_by(Case.id.desc())
        .limit(1)
    ).one_or_none()


def update_contact_preference(session: Session, *, case_id: int, preference: str, phone: str | None) -> Case:
    if preference not in ("line", "phone", "visit"):
        raise ValueError(f"unknown contact preference {preference!r}")
    case = get_case(session, case_id=case_id)
    case.contact_preference = preference
    case.contact_phone = phone if preference == "phone" else None
    case.updated_at = utcnow()
    sheet = latest_sheet(session, case_id=case_id)
    if sheet is not None:
        sheet.contact_preference = preference  # type: ignore[assignment]
        sheet.person.phone = case.contact_phone
        _add_revision(session, case_id=case_id, sheet=sheet, author="bot")
    audit(
        session, actor="bot", action="contact_preference", case_id=case_id, detail={"preference": preference}
    )
    session.flush()
    return case


def queue_position(session: Session, *, case_id: int) -> int:
    """How many waiting cases are ahead of this one (urgent first, then longest waiting)."""
    case = get_case(session, case_id=case_id)
    if case.status != WAITING:
        return 0
    same_priority_earlier = and_(
        Case.priority == case.priority,
        or_(
            Case.waiting_since < case.waiting_since,
            and_(Case.waiting_since == case.waiting_since, Case.id < case.id),
        ),
    )
    ahead = same_priority_earlier
    if case.priority != URGENT:
        ahead = or_(Case.priority == URGENT, same_priority_earlier)
    return (
        session.scalar(
            select(func.count()).select_from(Case).where(Case.status == WAITING, Case.id != case.id, ahead)
        )
        or 0
    )


def withdraw_for_resident(session: Session, *, resident_id: int) -> None:
    """The resident asked for deletion: close their cases as 取り下げ and remove every content.

    Category ids and timestamps stay (they are not about the person and feed the yearly counts);
    sheets, notes and the phone number are emptied. Staff see the case as 取り下げ with no content.
    """
    now = utcnow()
    cases = list(
        session.scalars(select(Case).where(Case.resident_id == resident_id, Case.status != WITHDRAWN))
    )
    for case in cases:
        case.status = WITHDRAWN
        case.contact_phone = None
        case.closed_at = now
        case.updated_at = now
        case.resident_id = None
        case.conversation_id = None
        session.execute(update(ReferralSheet).where(ReferralSheet.case_id == case.id).values(content=None))
        session.execute(update(Note).where(Note.case_id == case.id).values(text=None))
        session.execute(
            update(ConsentRecord)
            .where(ConsentRecord.case_id == case.id, ConsentRecord.withdrawn_at.is_(None))
            .values(withdrawn_at=now)
        )
        audit(session, actor="resident", action="withdrawn", case_id=case.id)
    session.execute(
        update(ConsentRecord)
        .where(ConsentRecord.resident_id == resident_id, ConsentRecord.withdrawn_at.is_(None))
        .values(withdrawn_at=now)
    )
    session.execute(
        update(ConsentRecord).where(ConsentRecord.resident_id == resident_id).values(resident_id=None)
    )
    session.flush()


# --- reading -----------------------------------------------------------------------------------


# Ids come from URLs: anything outside a 32-bit key cannot exist, and must not reach the driver
# (SQLite and psycopg raise on out-of-range integers, which would be a 500).
MAX_ID = 2**31 - 1


def get_case(session: Session, *, case_id: int) -> Case:
    if not 1 <= case_id <= MAX_ID:
        raise CaseNotFound(case_id)
    case = session.get(Case, case_id)
    if case is None:
        raise CaseNotFound(case_id)
    return case


def latest_sheet(session: Session, *, case_id: int) -> SheetDraft | None:
    row = latest_sheet_row(session, case_id=case_id)
    if row is None or row.content is None:
        return None
    return SheetDraft.model_validate(row.content)


def latest_sheet_row(session: Session, *, case_id: int) -> ReferralSheet | None:
    return session.scalars(
        select(ReferralSheet).where(ReferralSheet.case_id == case_id).order_by(ReferralSheet.revision.desc())
    ).first()


def sheet_revisions(session: Session, *, case_id: int) -> list[ReferralSheet]:
    return list(
        session.scalars(
            select(ReferralSheet).where(ReferralSheet.case_id == case_id).order_by(ReferralSheet.revision)
        )
    )


def active_consent(session: Session, *, case_id: int) -> ConsentRecord | None:
    return session.scalars(
        select(ConsentRecord)
        .where(ConsentRecord.case_id == case_id, ConsentRecord.withdrawn_at.is_(None))
        .order_by(ConsentRecord.given_at.desc())
    ).first()


def can_view(staff: StaffUser, case: Case) -> bool:
    """Staff see unassigned cases and their own; supervisors and admins see all."""
    return staff.has_role(ROLE_SUPERVISOR) or case.owner_id is None or case.owner_id == staff.id


def visible_cases_query(staff: StaffUser):
    q = select(Case)
    if not staff.has_role(ROLE_SUPERVISOR):
        q = q.where(or_(Case.owner_id.is_(None), Case.owner_id == staff.id))
    return q


def queue_order():
    """Urgent first, then longest waiting."""
    urgent_first = (Case.priority != URGENT).label("urgent_first")
    return [urgent_first, Case.waiting_since, Case.id]


def _lock_conversation_of(session: Session, *, case_id: int) -> None:
    """Lock the case's conversation before the case: the dialogue engine locks the conversation
    and then the case (a handoff update), so taking them in the other order — the case, then the
    conversation when a staff action logs its event — could deadlock with the resident's next
    message or their 削除 on PostgreSQL. (SQLite ignores FOR UPDATE; its writes are serial.)"""
    conversation_id = session.scalar(select(Case.conversation_id).where(Case.id == case_id))
    if conversation_id is not None:
        session.execute(select(Conversation.id).where(Conversation.id == conversation_id).with_for_update())


def _locked_case(session: Session, *, case_id: int) -> Case:
    """The case, read after taking its row lock (a no-op UPDATE: a row lock on PostgreSQL, the
    write lock on SQLite). Two staff actions on one case — or a staff action and the resident's
    deletion — then run one after the other, and each checks the state the other left, not the
    state it read before (a reply from someone the case was just transferred away from, a reply
    after the close message, a push to a resident who has just withdrawn)."""
    if not 1 <= case_id <= MAX_ID:
        raise CaseNotFound(case_id)
    _lock_conversation_of(session, case_id=case_id)
    session.execute(
        update(Case)
        .where(Case.id == case_id)
        .values(updated_at=Case.updated_at)
        .execution_options(synchronize_session=False)
    )
    case = session.get(Case, case_id, populate_existing=True)
    if case is None:
        raise CaseNotFound(case_id)
    return case


FORM_KEY_DAYS = 2


def record_submission(session: Session, *, key: str, staff: StaffUser, case_id: int) -> None:
    """Remember a staff form's idempotency key; DuplicateSubmission if it was already used.

    Call it first in the unit of work: the unique key makes a concurrent twin wait for this
    transaction and then fail, so only one of them goes on to message the resident. After the
    error the session must be rolled back (the caller's error path does that).
    """
    from sqlalchemy.exc import IntegrityError

    from handoff.models import FormSubmission

    if not key or len(key) > 64:
        raise ValueError("bad form key")
    now = utcnow()
    session.execute(
        delete(FormSubmission).where(FormSubmission.created_at < now - timedelta(days=FORM_KEY_DAYS))
    )
    session.add(FormSubmission(key=key, staff_id=staff.id, case_id=case_id, created_at=now))
    try:
        session.flush()
    except IntegrityError:
        raise DuplicateSubmission(key) from None


def view_case(session: Session, *, case_id: int, staff: StaffUser, via: str = "ui") -> Case:
    """Load a case for a staff member, checking the role rules and writing the audit row."""
    case = get_case(session, case_id=case_id)
    if not can_view(staff, case):
        raise Forbidden("this case belongs to another staff member")
    audit(session, action="view", staff_id=staff.id, case_id=case.id, detail={"via": via})
    return case


# --- staff actions -----------------------------------------------------------------------------


def _require_owner(staff: StaffUser, case: Case, *, allow_supervisor: bool = True) -> None:
    if case.status == WITHDRAWN:
        raise CaseConflict("the resident withdrew this case")
    if case.owner_id == staff.id:
        return
    if allow_supervisor and staff.has_role(ROLE_SUPERVISOR):
        return
    if case.owner_id is None:
        raise CaseConflict("claim the case first")
    raise Forbidden("another staff member owns this case")


def claim(session: Session, *, case_id: int, staff: StaffUser, via: str = "ui") -> Case:
    """Take ownership. Exclusive even under a race: a conditional UPDATE, so one claimer wins.

    Claiming a case you already own is a no-op (a double click is harmless).
    """
    if not 1 <= case_id <= MAX_ID:
        raise CaseNotFound(case_id)
    _lock_conversation_of(session, case_id=case_id)
    now = utcnow()
    result = session.execute(
        update(Case)
        .where(Case.id == case_id, Case.owner_id.is_(None), Case.status == WAITING)
        .values(owner_id=staff.id, status=IN_PROGRESS, claimed_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    case = get_case(session, case_id=case_id)
    session.refresh(case)
    if result.rowcount != 1:
        if case.owner_id == staff.id and case.status == IN_PROGRESS:
            return case
        raise CaseConflict(
            "another staff member owns this case" if case.owner_id else f"case is {case.status}"
        )
    if case.first_claimed_at is None:
        case.first_claimed_at = now
    audit(session, action="claim", staff_id=staff.id, case_id=case.id, detail={"via": via})
    if case.conversation_id:
        conversations.append_event(
            session,
            conversation_id=case.conversation_id,
            author="system",
            kind="staff_joined",
            meta={"case_id": case.id},
            staff_id=staff.id,
        )
    session.flush()
    return case


def _send_to_resident(
    session: Session, *, notifier: ResidentNotifier, case: Case, messages: list[Outbound]
) -> None:
    if case.resident_id is None:
        raise CaseConflict("the resident is no longer reachable")
    notifier.send(session, resident_id=case.resident_id, messages=messages)


def sender_for(staff: StaffUser) -> Sender:
    return Sender(name=staff.display_name[:SENDER_NAME_MAX], icon_url=staff.icon_url or None)


def staff_reply(
    session: Session,
    *,
    case_id: int,
    staff: StaffUser,
    text: str,
    notifier: ResidentNotifier,
    via: str = "ui",
) -> None:
    """Send `text` to the resident as this staff member (LINE `sender`), log it and audit it."""
    text = text.strip()
    if not text:
        raise ValueError("empty message")
    if len(text) > 5000:
        raise ValueError("a LINE text message holds at most 5000 characters")
    case = _locked_case(session, case_id=case_id)
    _require_owner(staff, case, allow_supervisor=False)
    if case.status != IN_PROGRESS:
        raise CaseConflict(f"case is {case.status}")
    _send_to_resident(
        session, notifier=notifier, case=case, messages=[Outbound(text=text, sender=sender_for(staff))]
    )
    if case.conversation_id:
        conversations.append_event(
            session,
            conversation_id=case.conversation_id,
            author="staff",
            kind="text",
            text=text,
            staff_id=staff.id,
            meta={"case_id": case.id},
        )
    case.updated_at = utcnow()
    audit(
        session, action="message", staff_id=staff.id, case_id=case.id, detail={"via": via, "chars": len(text)}
    )


def _return_to_bot(
    session: Session, *, case: Case, staff: StaffUser, notifier: ResidentNotifier, message: str, kind: str
) -> None:
    """Tell the resident staff stepped back (in the bot's voice) and log it for the dialogue."""
    _send_to_resident(session, notifier=notifier, case=case, messages=[Outbound(text=message)])
    if case.conversation_id:
        conversations.append_event(
            session,
            conversation_id=case.conversation_id,
            author="system",
            kind=kind,
            text=message,
            meta={"case_id": case.id},
            staff_id=staff.id,
        )


def release(session: Session, *, case_id: int, staff: StaffUser, notifier: ResidentNotifier) -> Case:
    """Give the case back to the queue; the resident hears a short note and the bot answers again."""
    case = _locked_case(session, case_id=case_id)
    _require_owner(staff, case)
    if case.status != IN_PROGRESS:
        raise CaseConflict(f"case is {case.status}")
    previous_owner = case.owner_id
    case.status = WAITING
    case.owner_id = None
    case.claimed_at = None
    case.updated_at = utcnow()
    _return_to_bot(
        session, case=case, staff=staff, notifier=notifier, message=RELEASE_MESSAGE, kind="staff_left"
    )
    audit(session, action="release", staff_id=staff.id, case_id=case.id, detail={"owner": previous_owner})
    session.flush()
    return case


def transfer(session: Session, *, case_id: int, staff: StaffUser, to_staff_id: int) -> Case:
    """A supervisor hands the case to another staff member."""
    if not staff.has_role(ROLE_SUPERVISOR):
        raise Forbidden("only supervisors can transfer cases")
    case = _locked_case(session, case_id=case_id)
    if not case.is_open:
        raise CaseConflict(f"case is {case.status}")
    target = session.get(StaffUser, to_staff_id)
    if target is None or not target.active:
        raise CaseNotFound(f"staff {to_staff_id}")
    now = utcnow()
    previous = case.owner_id
    case.owner_id = target.id
    case.status = IN_PROGRESS
    case.claimed_at = now
    if case.first_claimed_at is None:
        case.first_claimed_at = now
    case.updated_at = now
    audit(
        session,
        action="transfer",
        staff_id=staff.id,
        case_id=case.id,
        detail={"from": previous, "to": target.id},
    )
    session.flush()
    return case


def close(
    session: Session, *, case_id: int, staff: StaffUser, outcome: str, notifier: ResidentNotifier
) -> Case:
    """End the case with a 相談結果・方針; つなぎ済 when it was connected to another agency."""
    if outcome not in OUTCOME_LABELS:
        raise ValueError(f"unknown outcome {outcome!r}")
    case = _locked_case(session, case_id=case_id)
    _require_owner(staff, case)
    if not case.is_open:
        if case.outcome == outcome:
            return case  # a double click
        raise CaseConflict(f"case is {case.status}")
    now = utcnow()
    case.status = REFERRED if outcome == "connected" else CLOSED
    case.outcome = outcome
    case.closed_at = now
    case.updated_at = now
    if case.owner_id is None:
        case.owner_id = staff.id
    sheet = latest_sheet(session, case_id=case.id)
    if sheet is not None:
        sheet.result_policy = OUTCOME_LABELS[outcome]
        _add_revision(session, case_id=case.id, sheet=sheet, author="staff", staff_id=staff.id)
    if case.resident_id is not None:
        _return_to_bot(
            session, case=case, staff=staff, notifier=notifier, message=CLOSE_MESSAGE, kind="case_closed"
        )
    audit(session, action="close", staff_id=staff.id, case_id=case.id, detail={"outcome": outcome})
    session.flush()
    return case


def revise_sheet(
    session: Session, *, case_id: int, staff: StaffUser, sheet: SheetDraft, base_revision: int | None = None
) -> ReferralSheet:
    """Save staff edits as a new revision. `base_revision` guards against overwriting a newer edit."""
    case = _locked_case(session, case_id=case_id)
    _require_owner(staff, case)
    current = latest_sheet_row(session, case_id=case_id)
    # Consent is a fact recorded from the resident, never something staff edit.
    previous = latest_sheet(session, case_id=case_id)
    if previous is not None:
        sheet.consent = previous.consent
    if current is not None and current.content == _sheet_json(sheet):
        return current  # nothing changed (or the same form arrived twice): no new revision
    if base_revision is not None and current is not None and current.revision != base_revision:
        raise SheetChanged(base=base_revision, current=current.revision)
    _apply_sheet_facts(case, sheet)
    case.updated_at = utcnow()
    rev = _add_revision(session, case_id=case_id, sheet=sheet, author="staff", staff_id=staff.id)
    audit(session, action="edit_sheet", staff_id=staff.id, case_id=case_id, detail={"revision": rev.revision})
    return rev


def add_note(session: Session, *, case_id: int, staff: StaffUser, text: str) -> Note:
    case = _locked_case(session, case_id=case_id)
    if not can_view(staff, case):
        raise Forbidden("another staff member owns this case")
    if case.status == WITHDRAWN:
        raise CaseConflict("the resident withdrew this case")
    text = text.strip()
    if not text:
        raise ValueError("empty note")
    note = Note(case_id=case_id, staff_id=staff.id, text=text, created_at=utcnow())
    session.add(note)
    session.flush()
    audit(session, action="note", staff_id=staff.id, case_id=case_id, detail={"note_id": note.id})
    return note


def list_notes(session: Session, *, case_id: int) -> list[Note]:
    return list(session.scalars(select(Note).where(Note.case_id == case_id).order_by(Note.id)))


def waiting_minutes(case: Case, now: datetime | None = None) -> int:
    return int(((now or utcnow()) - case.waiting_since).total_seconds() // 60)


def purge_expired(session: Session, *, now: datetime, retention_days_closed: int) -> int:
    """Empty the content of cases closed longer ago than the city's retention period.

    Sheets, notes and phone numbers go; the case row with its category ids and dates stays for
    the yearly statistics. Returns how many cases were emptied. For the periodic job.
    """
    cutoff = now - timedelta(days=retention_days_closed)
    ids = list(
        session.scalars(
            select(Case.id).where(
                Case.status.in_((REFERRED, CLOSED)),
                Case.closed_at.is_not(None),
                Case.closed_at < cutoff,
                # Only cases that still hold content: the hourly job must not re-audit old ones.
                or_(
                    Case.contact_phone.is_not(None),
                    exists().where(ReferralSheet.case_id == Case.id, ReferralSheet.content.is_not(None)),
                    exists().where(Note.case_id == Case.id, Note.text.is_not(None)),
                ),
            )
        )
    )
    if not ids:
        return 0
    session.execute(update(ReferralSheet).where(ReferralSheet.case_id.in_(ids)).values(content=None))
    session.execute(update(Note).where(Note.case_id.in_(ids)).values(text=None))
    session.execute(update(Case).where(Case.id.in_(ids)).values(contact_phone=None))
    for case_id in ids:
        audit(session, actor="system", action="retention_purge", case_id=case_id)
    session.flush()
    return len(ids)
