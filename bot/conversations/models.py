"""Residents (anonymous LINE users), their conversations, and the append-only event log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.crypto import EncryptedJSON, EncryptedText
from bot.db import Base, UTCDateTime, utcnow


class Resident(Base):
    """A LINE user, known only by an encrypted id and a keyed hash. No name, no picture, ever."""

    __tablename__ = "residents"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_hash: Mapped[str] = mapped_column(String(64), unique=True)
    line_user_id: Mapped[str] = mapped_column(EncryptedText)
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Conversation(Base):
    """One intake conversation. `state` and `data` belong to the dialogue state machine."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(40))
    # Answers, free text and the last analysis: personal data, so encrypted.
    data: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON, default=dict)
    consented: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_conversations_active_activity", "active", "last_activity_at"),)


class ConversationEvent(Base):
    """Append-only log of everything said, both sides, in order. Never updated, only deleted on request."""

    __tablename__ = "conversation_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    # resident | bot | staff | system
    author: Mapped[str] = mapped_column(String(16))
    # text, postback, follow, media, state, handoff, ... (free-form, for the log)
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str | None] = mapped_column(EncryptedText, nullable=True)
    payload: Mapped[Any] = mapped_column(EncryptedJSON, nullable=True)
    # Non-personal facts that staff views and statistics filter on (state names, category ids).
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    staff_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
