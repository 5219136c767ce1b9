"""Staff-side tables: cases, つなぐシート revisions, consent, staff accounts, notes, audit, directory.

Statuses and roles are stored as ascii ids; the Japanese labels live here, in one place.
Personal content (sheets, notes, phone numbers) is encrypted at rest; the plain columns hold only
non-personal facts the queue filters and statistics need (category ids, risk flags, timestamps).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.crypto import EncryptedJSON, EncryptedText
from bot.db import Base, UTCDateTime, utcnow

WAITING = "waiting"
IN_PROGRESS = "in_progress"
REFERRED = "referred"
CLOSED = "closed"
WITHDRAWN = "withdrawn"

STATUS_LABELS: dict[str, str] = {
    WAITING: "待機",
    IN_PROGRESS: "対応中",
    REFERRED: "つなぎ済",
    CLOSED: "終了",
    WITHDRAWN: "取り下げ",
}
OPEN_STATUSES = (WAITING, IN_PROGRESS)

URGENT = "urgent"
NORMAL = "normal"
PRIORITY_LABELS = {URGENT: "緊急", NORMAL: "通常"}

ROLE_STAFF = "staff"
ROLE_SUPERVISOR = "supervisor"
ROLE_ADMIN = "admin"
ROLE_LABELS = {ROLE_STAFF: "相談員", ROLE_SUPERVISOR: "スーパーバイザー", ROLE_ADMIN: "管理者"}
ROLE_RANK = {ROLE_STAFF: 1, ROLE_SUPERVISOR: 2, ROLE_ADMIN: 3}

# 相談結果・方針 on the paper form. "connected" ends the case as つなぎ済; the rest as 終了.
OUTCOME_LABELS: dict[str, str] = {
    "info_only": "情報提供や相談のみで終了",
    "connected": "他の制度や専門機関で対応が可能であり、つなぐ",
    "continues": "引き続き紹介先で相談を継続",
    "multi_agency_plan": "多機関協働プランを作成する（重層的支援の導入）",
    "seek_consent": "本人同意を得て取り次ぐ支援先の検討（重層的支援の導入）",
}

WRITER_LABELS = {
    "self": "本人",
    "family": "家族",
    "acquaintance": "知人・地域の方",
    "professional": "関係機関",
    "unknown": "不明",
}

CONTACT_LABELS = {"line": "LINEで", "phone": "電話で", "visit": "窓口・訪問で"}


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=ROLE_STAFF)
    display_name: Mapped[str] = mapped_column(String(64))
    icon_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Bumped on password change / deactivation: old sessions and tokens stop working.
    auth_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    def has_role(self, role: str) -> bool:
        return ROLE_RANK.get(self.role, 0) >= ROLE_RANK[role]


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="SET NULL"), index=True, nullable=True
    )
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), unique=True, nullable=True
    )
    status: Mapped[str] = mapped_column(String(16), default=WAITING)
    priority: Mapped[str] = mapped_column(String(8), default=NORMAL)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    writer_type: Mapped[str] = mapped_column(String(16), default="unknown")
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    primary: Mapped[str | None] = mapped_column(String(32), nullable=True)
    subcategories: Mapped[list[str]] = mapped_column(JSON, default=list)
    risk: Mapped[list[str]] = mapped_column(JSON, default=list)
    contact_preference: Mapped[str | None] = mapped_column(String(8), nullable=True)
    contact_phone: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    waiting_since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Any change staff should see live (new message, status, sheet) bumps this; SSE polls it.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    owner: Mapped[StaffUser | None] = relationship(lazy="raise")

    __table_args__ = (Index("ix_cases_status_priority_waiting", "status", "priority", "waiting_since"),)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class ReferralSheet(Base):
    """One revision of a case's つなぐシート. Revision 1 is the bot's draft; later ones are staff edits."""

    __tablename__ = "referral_sheets"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(8))  # bot | staff | system
    author_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"), nullable=True
    )
    content: Mapped[dict[str, Any] | None] = mapped_column(EncryptedJSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("case_id", "revision", name="uq_referral_sheets_case_revision"),)


class ConsentRecord(Base):
    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="SET NULL"), nullable=True, index=True
    )
    text_version: Mapped[str] = mapped_column(String(64))
    # The hash proves which exact wording was shown without keeping a copy per record.
    text_hash: Mapped[str] = mapped_column(String(64))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Note(Base):
    """A private note by staff on a case; never shown to the resident."""

    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    text: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    staff: Mapped[StaffUser | None] = relationship(lazy="raise")


class AuditEvent(Base):
    """Append-only: who did what to which case, when. `detail` holds only non-personal facts."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(16))  # staff | bot | system | resident
    staff_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    action: Mapped[str] = mapped_column(String(40))
    case_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _audit_is_append_only(_mapper, _connection, target: AuditEvent) -> None:
    raise RuntimeError("audit events are append-only")


class CannedReply(Base):
    __tablename__ = "canned_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class AgencyRow(Base):
    """A row of the city's 相談機関一覧, editable by admins (loaded from the city's CSV)."""

    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    no: Mapped[int | None] = mapped_column(Integer, nullable=True)
    topic: Mapped[str] = mapped_column(String(100))
    consultation: Mapped[str] = mapped_column(Text, default="")
    name: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str] = mapped_column(String(100), default="")
    hours: Mapped[str] = mapped_column(String(100), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    subcategories: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class LoginFailure(Base):
    """One failed staff login, by client address: the sliding window for per-IP rate limiting.

    In the database (not in memory) so the limit holds across every server process. The address
    is personal data, so only its keyed hash is kept, and rows older than the window are purged.
    """

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    ip_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    __table_args__ = (Index("ix_login_failures_ip_hash_at", "ip_hash", "at"),)


class FormSubmission(Base):
    """Idempotency keys of staff forms that message a resident: a double click, a resubmitted
    form or two tabs posting the same form send once. The unique key makes the second insert
    wait for the first transaction and then fail, on SQLite and PostgreSQL alike."""

    __tablename__ = "form_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    case_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
