"""Retention: conversations that never reached consent are deleted after the city's period.

The transport's worker calls `purge_unconsented` periodically (e.g. hourly), in its own unit of
work; it flushes and the caller commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.city import CityConfig
from bot.conversations.models import Conversation, ConversationEvent


def purge_unconsented(session: Session, *, now: datetime, city: CityConfig, batch: int = 500) -> int:
    """Delete unconsented conversations (and their events) silent for longer than the retention.

    Returns how many conversations were deleted. Consented ones belong to a case and follow the
    staff side's retention instead.
    """
    cutoff = now - timedelta(days=city.retention_days_unconsented)
    deleted = 0
    while True:
        ids = list(
            session.scalars(
                select(Conversation.id)
                .where(Conversation.consented.is_(False), Conversation.last_activity_at < cutoff)
                .limit(batch)
            )
        )
        if not ids:
            break
        session.execute(delete(ConversationEvent).where(ConversationEvent.conversation_id.in_(ids)))
        session.execute(delete(Conversation).where(Conversation.id.in_(ids)))
        session.flush()
        deleted += len(ids)
    return deleted
