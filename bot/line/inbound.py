"""One stored LINE webhook event → its effects (dialogue step, block/unblock, leaving groups).

Runs inside the worker's unit of work: everything here flushes, the worker commits once together
with marking the inbox row done. Nothing here calls LINE directly except the best-effort loading
animation; messages go to the outbox.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import crypto
from bot.conversations import service as conversations
from bot.db import utcnow
from bot.line import outbound
from bot.line.models import OutboxMessage
from bot.messages import Inbound, Outbound

log = logging.getLogger(__name__)

MEDIA_TYPES = {"sticker", "image", "video", "audio", "file"}
# Event types the bot takes note of but has nothing to say to (LINE sends them; they are not errors).
QUIET_TYPES = {
    "leave",
    "memberLeft",
    "unsend",
    "beacon",
    "accountLink",
    "things",
    "videoPlayComplete",
    "membership",
    "activated",
    "deactivated",
    "botSuspended",
    "botResumed",
    "messageEdited",
    "module",
}

GROUP_NOTICE = (
    "ご招待ありがとうございます。\n"
    "このアカウントでのご相談は、ひとりひとりのプライバシーを守るため、1対1のトークでお受けしています。"
    "ご相談のある方は、このアカウントを友だち追加して、個別にメッセージを送ってください。\n"
    "このグループからは退出します。"
)


class DialogueEngine(Protocol):
    def handle(self, session: Session, inbound: Inbound) -> list[Outbound]: ...


class LoadingIndicator(Protocol):
    def start_loading(self, chat_id: str, seconds: int = 20) -> None: ...


@dataclass
class EventContext:
    engine: DialogueEngine
    signal: outbound.OutboxSignal | None = None


def before_step(event: dict[str, Any], loading: LoadingIndicator) -> None:
    """Outside the transaction: show the typing dots in a 1:1 chat before a text goes to the NLP."""
    source_type, chat_id = source_id(event)
    message = _dict(event.get("message"))
    if (
        source_type == "user"
        and chat_id
        and event.get("mode") != "standby"
        and event.get("type") == "message"
        and message.get("type") == "text"
    ):
        loading.start_loading(chat_id)


def _dict(value: Any) -> dict[str, Any]:
    """A JSON object from the event, or {} — a signed body can still hold any JSON shape."""
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def source_id(event: dict[str, Any]) -> tuple[str, str | None]:
    """(source type, the id that identifies the chat: userId, groupId or roomId)."""
    source = _dict(event.get("source"))
    kind = _str(source.get("type")) or "unknown"
    if kind == "group":
        return kind, _str(source.get("groupId"))
    if kind == "room":
        return kind, _str(source.get("roomId"))
    return kind, _str(source.get("userId"))


def event_time(event: dict[str, Any]) -> datetime:
    ts = event.get("timestamp")
    if isinstance(ts, int | float) and not isinstance(ts, bool) and ts > 0:
        try:
            return datetime.fromtimestamp(ts / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            pass  # not a real LINE timestamp (signed, but garbage): use the time it arrived
    return utcnow()


def redact_for_storage(event: dict[str, Any]) -> dict[str, Any]:
    """What we keep of a group/room event: enough to answer once and leave; no one's words or ids."""
    source_type, chat_id = source_id(event)
    return {
        "type": event.get("type"),
        "mode": event.get("mode"),
        "timestamp": event.get("timestamp"),
        "webhookEventId": event.get("webhookEventId"),
        "replyToken": event.get("replyToken"),
        "source": {"type": source_type, f"{source_type}Id": chat_id},
    }


def handle_event(session: Session, event: dict[str, Any], ctx: EventContext) -> None:
    etype = event.get("type")
    if not isinstance(etype, str):
        log.info("event without a type ignored")  # signed, but not a LINE event
        return
    if event.get("mode") == "standby":
        # Another channel (e.g. LINE chat) is active for this user: the bot must not speak.
        log.debug("standby event %s ignored", etype)
        return
    source_type, chat_id = source_id(event)
    if source_type in ("group", "room"):
        _handle_group(session, event, source_type, chat_id, ctx)
        return
    if source_type != "user" or not chat_id:
        log.info("event %s from source %s ignored", etype, source_type)
        return
    if etype in QUIET_TYPES:
        log.debug("event %s: nothing to do", etype)
        return

    inbound_kind, extra = _classify(event)
    if inbound_kind is None:
        log.info("unknown event type %r ignored", etype)
        return

    resident = conversations.resident_for_line_user(session, line_user_id=chat_id)
    resident.last_seen_at = utcnow()
    at = event_time(event)

    if inbound_kind == "unfollow":
        resident.blocked = True
        outbound.cancel_pending_for_resident(session, resident_id=resident.id, reason="resident blocked")
        # The dialogue may want to close the conversation; whatever it says cannot be delivered.
        ctx.engine.handle(session, Inbound(resident_id=resident.id, kind="unfollow", at=at))
        session.flush()
        return

    # Anyone who follows or writes to us is not blocking us (an unfollow/follow may have been lost).
    resident.blocked = False
    session.flush()

    inbound = Inbound(resident_id=resident.id, kind=inbound_kind, at=at, **extra)
    replies = ctx.engine.handle(session, inbound)
    outbound.enqueue(
        session,
        to=chat_id,
        outbounds=replies,
        resident_id=resident.id,
        reply_token=_str(event.get("replyToken")),
        event_time=at,
        signal=ctx.signal,
    )


def _classify(event: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    etype = event.get("type")
    if etype == "follow":
        return "follow", {"unblocked": _dict(event.get("follow")).get("isUnblocked") is True}
    if etype == "unfollow":
        return "unfollow", {}
    if etype == "postback":
        return "postback", {"data": _str(_dict(event.get("postback")).get("data"))}
    if etype == "message":
        message = _dict(event.get("message"))
        mtype = message.get("type")
        if mtype == "text":
            return "text", {"text": _str(message.get("text")) or ""}
        if mtype == "location":
            # The address is personal and not needed for the dialogue: only the fact is passed on.
            return "location", {}
        # Stickers, images, video, audio, files — and any new media kind: never downloaded.
        return "media", {"media_type": mtype if isinstance(mtype, str) and mtype in MEDIA_TYPES else "other"}
    return None, {}


def _handle_group(
    session: Session, event: dict[str, Any], source_type: str, chat_id: str | None, ctx: EventContext
) -> None:
    """Consultations are one-to-one: say so once, then leave. Nothing about members is stored."""
    if not chat_id or event.get("type") in ("leave", "memberLeft", "unsend"):
        return
    already = session.scalars(
        select(OutboxMessage.id).where(
            OutboxMessage.recipient_key.in_(crypto.lookup_hashes(chat_id)),
            OutboxMessage.action.in_(("leave_group", "leave_room")),
        )
    ).first()
    if already is not None:
        return
    outbound.enqueue(
        session,
        to=chat_id,
        outbounds=[Outbound(text=GROUP_NOTICE)],
        reply_token=_str(event.get("replyToken")),
        event_time=event_time(event),
        signal=ctx.signal,
    )
    outbound.enqueue(session, to=chat_id, action=f"leave_{source_type}", signal=ctx.signal)
