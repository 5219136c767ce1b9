"""Inbox and outbox: every webhook event is stored before the 200; every message before it is sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.crypto import EncryptedJSON
from bot.db import Base, UTCDateTime, utcnow


class InboxEvent(Base):
    __tablename__ = "inbox_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_event_id: Mapped[str] = mapped_column(String(64), unique=True)
    # Orders processing: one source's events strictly in order (keyed hash of user/group id).
    source_key: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON)  # the raw event; may hold free text
    event_timestamp_ms: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # pending → done | failed
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (Index("ix_inbox_events_status_source", "status", "source_key", "id"),)


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int | None] = mapped_column(Integer, index=True, nullable=True)
    # The encrypted LINE id to push to (a user, or a group/room the bot is leaving).
    to: Mapped[str] = mapped_column(EncryptedJSON)
    messages: Mapped[list[dict[str, Any]]] = mapped_column(EncryptedJSON)  # ≤ 5 LINE message objects
    reply_token: Mapped[str | None] = mapped_column(EncryptedJSON, nullable=True)
    reply_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    retry_key: Mapped[str] = mapped_column(String(36), unique=True)
    # pending → sent | failed (permanent 4xx) | cancelled (resident deleted, blocked)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sent_via: Mapped[str | None] = mapped_column(String(8), nullable=True)  # reply | push
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (Index("ix_outbox_messages_status_next", "status", "next_attempt_at"),)
