"""Inbox and outbox: every webhook event is stored before the 200; every message before it is sent.

Both tables are work queues. An inbox row is processed inside one transaction that locks it
(FOR UPDATE SKIP LOCKED on PostgreSQL) and marks it done with the step's effects. An outbox row is
sent outside any transaction (HTTP must not hold locks), so on PostgreSQL, where several processes
may send, it is first claimed with a compare-and-set UPDATE that writes a lease (`locked_until`)
and a fresh `claim_token`; the result is recorded only if the token is still ours. `locked_until`
doubles as the back-off ("not before") time after a failed attempt.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.crypto import EncryptedJSON, EncryptedText
from bot.db import Base, UTCDateTime, utcnow


class InboxEvent(Base):
    __tablename__ = "inbox_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_event_id: Mapped[str] = mapped_column(String(64), unique=True)
    # Orders processing: one source's events strictly in order (keyed hash of user/group/room id).
    source_key: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(32))
    # The raw event (may hold free text, so encrypted); replaced by a stub once processed.
    payload: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON)
    event_timestamp_ms: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # pending → done | failed
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # "Retry not before" after a failed attempt.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (Index("ix_inbox_events_status_source", "status", "source_key", "id"),)


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int | None] = mapped_column(Integer, index=True, nullable=True)
    # Keyed hash of the recipient: rows for one recipient are sent strictly in order.
    recipient_key: Mapped[str] = mapped_column(String(64))
    # The LINE id to send to (a user, or a group/room the bot is leaving), encrypted.
    to: Mapped[str] = mapped_column(EncryptedText)
    # message (reply/push of `messages`) | leave_group | leave_room
    action: Mapped[str] = mapped_column(String(16), default="message")
    messages: Mapped[list[dict[str, Any]]] = mapped_column(EncryptedJSON)  # ≤ 5 LINE message objects
    reply_token: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    reply_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # X-Line-Retry-Key for push: the same UUID on every attempt, so LINE never delivers twice.
    retry_key: Mapped[str] = mapped_column(String(36), unique=True)
    # pending → sent | failed (permanent 4xx, too many attempts) | cancelled (resident blocked)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Lease while a sender holds the row, or "retry not before" after a failed attempt.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    claim_token: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sent_via: Mapped[str | None] = mapped_column(String(8), nullable=True)  # reply | push
    line_request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (Index("ix_outbox_messages_status_recipient", "status", "recipient_key", "id"),)
