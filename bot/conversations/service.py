"""Keyword-only service verbs for residents and conversations. They flush; callers commit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot import crypto
from bot.conversations.models import Conversation, ConversationEvent, Resident
from bot.db import utcnow


def resident_for_line_user(session: Session, *, line_user_id: str) -> Resident:
    """Find or create the resident for a LINE user id (looked up by keyed hash, stored encrypted)."""
    hashes = crypto.lookup_hashes(line_user_id)
    found = {r.user_hash: r for r in session.scalars(select(Resident).where(Resident.user_hash.in_(hashes)))}
    resident = next((found[h] for h in hashes if h in found), None)  # the current hash first
    if resident is None:
        resident = Resident(user_hash=hashes[0], line_user_id=line_user_id)
        session.add(resident)
        session.flush()
    elif resident.user_hash != hashes[0]:
        # Hashed under a secret that was since rotated: move it to the current one now.
        resident.user_hash = hashes[0]
        session.flush()
    return resident


def active_conversation(session: Session, *, resident_id: int) -> Conversation | None:
    return session.scalars(
        select(Conversation)
        .where(Conversation.resident_id == resident_id, Conversation.active.is_(True))
        .order_by(Conversation.id.desc())
        .limit(1)
    ).one_or_none()


def start_conversation(session: Session, *, resident_id: int, state: str) -> Conversation:
    for old in session.scalars(
        select(Conversation).where(Conversation.resident_id == resident_id, Conversation.active.is_(True))
    ):
        old.active = False
    conv = Conversation(resident_id=resident_id, state=state, data={})
    session.add(conv)
    session.flush()
    return conv


def append_event(
    session: Session,
    *,
    conversation_id: int,
    author: str,
    kind: str,
    text: str | None = None,
    payload: Any = None,
    meta: dict[str, Any] | None = None,
    staff_id: int | None = None,
) -> ConversationEvent:
    ev = ConversationEvent(
        conversation_id=conversation_id,
        author=author,
        kind=kind,
        text=text,
        payload=payload,
        meta=meta,
        staff_id=staff_id,
        created_at=utcnow(),
    )
    session.add(ev)
    session.flush()
    return ev


def list_events(session: Session, *, conversation_id: int) -> list[ConversationEvent]:
    return list(
        session.scalars(
            select(ConversationEvent)
            .where(ConversationEvent.conversation_id == conversation_id)
            .order_by(ConversationEvent.id)
        )
    )


def delete_conversations(session: Session, *, resident_id: int) -> int:
    """Delete every conversation and event of a resident (deletion on request, retention purge)."""
    conv_ids = list(session.scalars(select(Conversation.id).where(Conversation.resident_id == resident_id)))
    if conv_ids:
        session.execute(delete(ConversationEvent).where(ConversationEvent.conversation_id.in_(conv_ids)))
        session.execute(delete(Conversation).where(Conversation.id.in_(conv_ids)))
    session.flush()
    return len(conv_ids)
