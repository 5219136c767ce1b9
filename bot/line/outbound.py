"""Outbound: `Outbound` → LINE message JSON, the outbox (stored before sending), and the one sender.

Reply first (free, single use, only while the token is fresh); push when the token is stale or
rejected. A push carries the row's stable X-Line-Retry-Key, so retrying after a 5xx or a timeout
can never deliver twice (LINE answers 409 + x-line-accepted-request-id for an accepted key).
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import event, update
from sqlalchemy.orm import Session

from bot import crypto
from bot.conversations.models import Resident
from bot.db import utcnow
from bot.line.models import OutboxMessage
from bot.messages import Outbound
from bot.notify import OUTBOX, notify

log = logging.getLogger(__name__)

MAX_MESSAGES_PER_REQUEST = 5
MAX_TEXT_UTF16 = 5000
MAX_ALT_TEXT = 1500
MAX_SENDER_NAME = 20
# LINE accepts a reply token for about a minute after the event; leave room for the request itself.
REPLY_TOKEN_LIFETIME = timedelta(seconds=50)


# ---------------------------------------------------------------- Outbound → LINE message JSON


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


_BREAKS = ("\n", "。", "！", "？", "!", "?", ". ", "、", " ")


def split_text(text: str, limit: int = MAX_TEXT_UTF16) -> list[str]:
    """Split text into pieces of ≤ limit UTF-16 units, preferring line, then sentence boundaries."""
    pieces: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        # The longest prefix (in code points) that fits in `limit` UTF-16 units.
        units, cut = 0, 0
        for i, ch in enumerate(rest):
            units += 2 if ord(ch) > 0xFFFF else 1
            if units > limit:
                cut = i
                break
        window = rest[:cut]
        best = -1
        for mark in _BREAKS:
            pos = window.rfind(mark)
            # Only accept a boundary in the second half, so pieces don't become tiny.
            if pos >= cut // 2:
                best = pos + len(mark)
                break
        if best <= 0:
            best = cut
        pieces.append(rest[:best])
        rest = rest[best:]
    if rest:
        pieces.append(rest)
    return pieces


def _quick_reply_item(label: str, text: str | None, data: str | None) -> dict[str, Any]:
    if data is not None:
        action = {"type": "postback", "label": label, "data": data, "displayText": text or label}
    else:
        action = {"type": "message", "label": label, "text": text or label}
    return {"type": "action", "action": action}


def to_line_messages(out: Outbound) -> list[dict[str, Any]]:
    """One `Outbound` → one or more LINE message objects (long text is split; quick replies go last)."""
    if out.flex is not None:
        messages: list[dict[str, Any]] = [
            {"type": "flex", "altText": (out.alt_text or "")[:MAX_ALT_TEXT], "contents": out.flex}
        ]
    else:
        messages = [{"type": "text", "text": part} for part in split_text(out.text or "") if part.strip()]
    if not messages:
        return []
    if out.quick_replies:
        messages[-1]["quickReply"] = {
            "items": [_quick_reply_item(q.label, q.text, q.data) for q in out.quick_replies]
        }
    if out.sender is not None:
        sender: dict[str, Any] = {"name": out.sender.name[:MAX_SENDER_NAME]}
        if out.sender.icon_url:
            sender["iconUrl"] = out.sender.icon_url
        for m in messages:
            m["sender"] = sender
    return messages


def chunk_messages(messages: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [
        messages[i : i + MAX_MESSAGES_PER_REQUEST] for i in range(0, len(messages), MAX_MESSAGES_PER_REQUEST)
    ]


# ---------------------------------------------------------------- the outbox (writes, flush only)


class OutboxSignal:
    """Wakes the sender right after a commit that added outbox rows (instead of waiting to poll)."""

    def __init__(self) -> None:
        import threading

        self.event = threading.Event()

    def wake(self) -> None:
        self.event.set()

    def wake_after_commit(self, session: Session) -> None:
        event.listen(session, "after_commit", lambda _s: self.event.set(), once=True)


def enqueue(
    session: Session,
    *,
    to: str,
    outbounds: list[Outbound] | None = None,
    raw_messages: list[dict[str, Any]] | None = None,
    resident_id: int | None = None,
    reply_token: str | None = None,
    event_time: datetime | None = None,
    action: str = "message",
    signal: OutboxSignal | None = None,
) -> list[OutboxMessage]:
    """Store messages for `to` as outbox rows (≤ 5 messages each). Flushes; the caller commits.

    Only the first row may use the reply token (LINE accepts it once); later rows are pushed.
    Rows for a blocked resident are stored as cancelled: nothing is ever sent to them.
    """
    messages = list(raw_messages or [])
    for out in outbounds or []:
        messages.extend(to_line_messages(out))
    chunks = chunk_messages(messages) if action == "message" else [[]]
    if action == "message" and not chunks:
        return []
    blocked = False
    if resident_id is not None:
        resident = session.get(Resident, resident_id)
        blocked = bool(resident and resident.blocked)
    expires = (event_time or utcnow()) + REPLY_TOKEN_LIFETIME if reply_token else None
    rows = []
    for i, chunk in enumerate(chunks):
        row = OutboxMessage(
            resident_id=resident_id,
            recipient_key=crypto.lookup_hash(to),
            to=to,
            action=action,
            messages=chunk,
            reply_token=reply_token if i == 0 else None,
            reply_token_expires_at=expires if i == 0 else None,
            retry_key=str(uuid.uuid4()),
            status="cancelled" if blocked else "pending",
            last_error="resident blocked the account" if blocked else None,
            attempts=0,
            created_at=utcnow(),
        )
        session.add(row)
        rows.append(row)
    session.flush()
    if not blocked:
        notify(session, OUTBOX)  # other processes' senders wake on commit (PostgreSQL)
        if signal is not None:
            signal.wake_after_commit(session)
    return rows


def cancel_pending_for_resident(session: Session, *, resident_id: int, reason: str) -> int:
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.resident_id == resident_id, OutboxMessage.status == "pending")
        .values(status="cancelled", last_error=reason, locked_until=None, claim_token=None)
    )
    session.flush()
    return result.rowcount or 0


class LineNotifier:
    """Staff → resident messages (handoff.notifier.ResidentNotifier): push rows in the outbox.

    Flush only; the staff request commits, and the sender wakes right after that commit.
    """

    def __init__(self, signal: OutboxSignal | None = None) -> None:
        self.signal = signal

    def pending_count(self, session: Session, *, resident_id: int) -> int:
        """How many of this resident's messages LINE has not accepted yet (outage, back-off)."""
        from sqlalchemy import func, select

        return (
            session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.resident_id == resident_id, OutboxMessage.status == "pending")
            )
            or 0
        )

    def send(self, session: Session, *, resident_id: int, messages: list[Outbound]) -> None:
        resident = session.get(Resident, resident_id)
        if resident is None:
            raise LookupError(f"no resident {resident_id}")
        enqueue(
            session,
            to=resident.line_user_id,
            outbounds=messages,
            resident_id=resident_id,
            signal=self.signal,
        )


# ---------------------------------------------------------------- the Messaging API client


class LineApi:
    """Exactly LINE's Messaging API requests, over one pooled HTTP client."""

    def __init__(self, base_url: str, access_token: str, timeout: float = 10.0) -> None:
        self.client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=timeout,
        )

    def close(self) -> None:
        self.client.close()

    def reply(self, reply_token: str, messages: list[dict[str, Any]]) -> httpx.Response:
        return self.client.post(
            "/v2/bot/message/reply", json={"replyToken": reply_token, "messages": messages}
        )

    def push(self, to: str, messages: list[dict[str, Any]], retry_key: str) -> httpx.Response:
        return self.client.post(
            "/v2/bot/message/push",
            json={"to": to, "messages": messages},
            headers={"X-Line-Retry-Key": retry_key},
        )

    def leave(self, chat_type: str, chat_id: str) -> httpx.Response:
        return self.client.post(f"/v2/bot/{chat_type}/{chat_id}/leave")

    def start_loading(self, chat_id: str, seconds: int = 20) -> None:
        """Best effort: the typing dots while the NLP works. Failure changes nothing else."""
        try:
            self.client.post(
                "/v2/bot/chat/loading/start", json={"chatId": chat_id, "loadingSeconds": seconds}, timeout=2.0
            )
        except httpx.HTTPError as exc:
            log.info("loading animation not shown: %s", type(exc).__name__)


# ---------------------------------------------------------------- sending one row


@dataclass
class SendResult:
    status: str  # sent | retry | failed
    via: str | None = None
    request_id: str | None = None
    error: str | None = None
    # After a 429/5xx on a reply: try the reply again (while fresh) rather than pushing.
    keep_reply_token: bool = True


def _error_text(resp: httpx.Response) -> str:
    return f"HTTP {resp.status_code}: {resp.text[:300]}"


def _transient(resp: httpx.Response) -> bool:
    return resp.status_code == 429 or resp.status_code >= 500


def send_row(api: LineApi, row: OutboxMessage, now: datetime) -> SendResult:
    """One attempt at delivering one outbox row. Pure decision + HTTP; the caller records the result."""
    if row.action in ("leave_group", "leave_room"):
        try:
            resp = api.leave(row.action.removeprefix("leave_"), row.to)
        except httpx.HTTPError as exc:
            return SendResult("retry", error=type(exc).__name__)
        if resp.status_code == 200 or resp.status_code in (400, 404):  # already gone is fine
            return SendResult("sent", via="leave", request_id=resp.headers.get("x-line-request-id"))
        return SendResult("retry" if _transient(resp) else "failed", error=_error_text(resp))

    token_fresh = (
        row.reply_token is not None
        and row.reply_token_expires_at is not None
        and now < row.reply_token_expires_at
    )
    if token_fresh:
        try:
            resp = api.reply(row.reply_token, row.messages)
        except httpx.HTTPError as exc:
            return SendResult("retry", error=f"reply: {type(exc).__name__}")
        if resp.status_code == 200:
            return SendResult("sent", via="reply", request_id=resp.headers.get("x-line-request-id"))
        if _transient(resp):
            return SendResult("retry", error="reply: " + _error_text(resp))
        if resp.status_code != 400:
            return SendResult("failed", error="reply: " + _error_text(resp))
        # 400: the token was rejected (used or expired) → push instead, in this same attempt.
        log.info("reply token rejected for outbox %s; pushing", row.id)

    try:
        resp = api.push(row.to, row.messages, row.retry_key)
    except httpx.HTTPError as exc:
        return SendResult("retry", error=f"push: {type(exc).__name__}", keep_reply_token=False)
    if resp.status_code == 200:
        return SendResult("sent", via="push", request_id=resp.headers.get("x-line-request-id"))
    if resp.status_code == 409 and resp.headers.get("x-line-accepted-request-id"):
        # LINE already accepted this retry key on an earlier attempt: delivered once, done.
        return SendResult("sent", via="push", request_id=resp.headers["x-line-accepted-request-id"])
    if _transient(resp):
        return SendResult("retry", error="push: " + _error_text(resp), keep_reply_token=False)
    return SendResult("failed", error="push: " + _error_text(resp))


def backoff_seconds(
    attempt: int, *, base: float, cap: float, rand: Callable[[], float] = random.random
) -> float:
    """Exponential back-off with full jitter (attempt 1 → up to base, doubling, capped)."""
    ceiling = min(cap, base * (2 ** max(0, attempt - 1)))
    return ceiling * (0.5 + 0.5 * rand())
