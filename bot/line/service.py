"""Transport-level service verbs other parts may call (keyword-only; they flush, the caller commits)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, exists, or_, select
from sqlalchemy.orm import Session

from bot import crypto
from bot.city import CityConfig
from bot.conversations.models import Conversation, Resident
from bot.line.models import InboxEvent, OutboxMessage


def delete_resident_traffic(session: Session, *, resident_id: int) -> dict[str, int]:
    """削除 on request: forget every inbox/outbox row of this resident, and the resident itself.

    Runs inside the unit of work that processes the resident's own 削除 event, so that inbox row
    is still `pending` (and locked): it is left alone here and is reduced to a content-free stub
    when the worker marks it done in the same commit. Later events of the same person that are
    still pending are kept too — they were written after the request and will start afresh.

    Returns how many rows went, per table (for logs and tests).
    """
    resident = session.get(Resident, resident_id)
    counts = {"inbox": 0, "outbox": 0, "resident": 0}
    keys: list[str] = []
    sources: list[str] = []
    if resident is not None:
        line_id = resident.line_user_id
        # Every key in the ring: rows hashed before a rotation must go too.
        keys.extend(crypto.lookup_hashes(line_id))
        sources.extend(crypto.lookup_hashes(f"user:{line_id}"))
    # Pending pushes included: nothing queued earlier (e.g. a reminder) goes out after the delete.
    outbox_match = OutboxMessage.resident_id == resident_id
    if keys:
        outbox_match = or_(outbox_match, OutboxMessage.recipient_key.in_(keys))
    counts["outbox"] = session.execute(delete(OutboxMessage).where(outbox_match)).rowcount or 0
    if sources:
        counts["inbox"] = (
            session.execute(
                delete(InboxEvent).where(InboxEvent.source_key.in_(sources), InboxEvent.status != "pending")
            ).rowcount
            or 0
        )
    if resident is not None:
        # Conversations (FK) are already gone (conversations.delete_conversations); cases and
        # consent records were detached by handoff.withdraw_for_resident. The next message from
        # this LINE user creates a new, unrelated resident.
        session.delete(resident)
        counts["resident"] = 1
    session.flush()
    return counts


def run_retention(session: Session, *, now: datetime, city: CityConfig) -> dict[str, int]:
    """The periodic privacy purge (the worker runs it hourly, in its own unit of work).

    - unconsented conversations silent longer than `retention_days_unconsented` (dialogue);
    - content of cases closed longer ago than `retention_days_closed` (staff side);
    - residents left with nothing: no conversation, no case, no pending message, and not seen for
      the unconsented period — their encrypted LINE id is the last trace, so it goes too.
    """
    from bot.dialogs.retention import purge_unconsented
    from handoff import service as handoff
    from handoff.models import Case

    counts = {
        "conversations": purge_unconsented(session, now=now, city=city),
        "cases": handoff.purge_expired(session, now=now, retention_days_closed=city.retention_days_closed),
    }
    cutoff = now - timedelta(days=city.retention_days_unconsented)
    idle = (
        select(Resident.id)
        .where(Resident.last_seen_at < cutoff)
        .where(~exists().where(Conversation.resident_id == Resident.id))
        .where(~exists().where(Case.resident_id == Resident.id))
        .where(~exists().where(OutboxMessage.resident_id == Resident.id, OutboxMessage.status == "pending"))
    )
    ids = list(session.scalars(idle))
    if ids:
        session.execute(delete(Resident).where(Resident.id.in_(ids)))
    counts["residents"] = len(ids)
    session.flush()
    return counts
