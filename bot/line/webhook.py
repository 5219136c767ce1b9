"""POST /callback: verify the signature → store the events durably → 200. Nothing slow on this path.

LINE counts a webhook as failed after 2 s or on a non-2xx answer and redelivers failed events, so
the answer comes as soon as the events are committed to the inbox; the worker does the rest. If the
database is down we answer 503 so LINE redelivers, never 200-and-lose.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from anyio import to_thread
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from linebot.v3.webhook import SignatureValidator
from sqlalchemy import Engine
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from bot import crypto
from bot.db import utcnow
from bot.line.gate import WriteGate
from bot.line.inbound import redact_for_storage, source_id
from bot.line.models import InboxEvent
from bot.notify import INBOX, notify

log = logging.getLogger(__name__)


class WebhookRejected(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def verify(channel_secret: str, body: bytes, signature: str | None) -> None:
    """Raise WebhookRejected(400) unless `signature` is LINE's HMAC of exactly these bytes."""
    if not signature:
        raise WebhookRejected(400, "missing signature")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WebhookRejected(400, "body is not UTF-8") from exc
    if not SignatureValidator(channel_secret).validate(text, signature):
        raise WebhookRejected(400, "invalid signature")


def inbox_rows(body: bytes) -> list[dict[str, Any]]:
    """Minimal parsing for storage: id, type, source, timestamp; the raw event is kept (encrypted)."""
    try:
        doc = json.loads(body)
    except ValueError as exc:
        raise WebhookRejected(400, "body is not JSON") from exc
    events = doc.get("events") if isinstance(doc, dict) else None
    if not isinstance(events, list):
        raise WebhookRejected(400, "no events list")
    now = utcnow()
    rows = []
    for ev in events:
        if not isinstance(ev, dict):
            continue
        source_type, chat_id = source_id(ev)
        event_id = ev.get("webhookEventId")
        if not isinstance(event_id, str) or not event_id:
            # Every LINE event has one; if not, a content hash still makes redelivery harmless.
            event_id = "sha256:" + hashlib.sha256(json.dumps(ev, sort_keys=True).encode()).hexdigest()[:56]
        ts = ev.get("timestamp")
        rows.append(
            {
                "webhook_event_id": event_id[:64],
                "source_key": crypto.lookup_hash(f"{source_type}:{chat_id}"),
                "event_type": ev["type"][:32]
                if isinstance(ev.get("type"), str) and ev["type"]
                else "unknown",
                # Group and room chats: keep nothing anyone wrote; we only answer once and leave.
                "payload": redact_for_storage(ev) if source_type in ("group", "room") else ev,
                "event_timestamp_ms": _timestamp_ms(ts),
                "received_at": now,
                "status": "pending",
                "attempts": 0,
            }
        )
    return rows


def _timestamp_ms(ts: Any) -> int:
    """LINE's millisecond timestamp, or 0 for anything else (a signed body can still hold garbage,
    and e.g. 1e400 or 2**70 must not turn the whole webhook into a 500 that LINE redelivers forever)."""
    if isinstance(ts, int | float) and not isinstance(ts, bool) and 0 <= ts < 2**62:
        return int(ts)
    return 0


_INSERT = {
    # One statement per dialect, built once (compiled once, cached): a webhookEventId already
    # stored is skipped, so a redelivery is never processed twice.
    name: insert(InboxEvent).on_conflict_do_nothing(index_elements=["webhook_event_id"])
    for name, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}


def store(engine: Engine, gate: WriteGate, rows: list[dict[str, Any]]) -> None:
    """Insert the rows in one transaction (all of a webhook's events, or none)."""
    if not rows:
        return
    with gate(urgent=True), engine.begin() as conn:
        conn.execute(_INSERT[engine.dialect.name], rows)
        notify(conn, INBOX)  # delivered on commit: every process's inbox workers wake


def accept(app: FastAPI, body: bytes, signature: str | None) -> int:
    """The whole webhook minus HTTP: verify, store, wake the worker. Returns how many events came.

    The simulator calls this too, with a body it signed itself, so both paths are the same code.
    """
    settings = app.state.settings
    verify(settings.channel_secret, body, signature)
    rows = inbox_rows(body)
    store(app.state.engine, app.state.line_write_gate, rows)
    if rows:
        app.state.line_signals.inbox.set()
    return len(rows)


def install(app: FastAPI) -> None:
    max_body = app.state.settings.max_body_bytes
    priority = app.state.line_ack_priority

    async def callback(request: Request) -> Response:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_body:
            return JSONResponse({"message": "body too large"}, status_code=413)
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > max_body:
                return JSONResponse({"message": "body too large"}, status_code=413)
        signature = request.headers.get("x-line-signature")
        try:
            with priority.acking():
                await to_thread.run_sync(accept, app, bytes(body), signature)
        except WebhookRejected as exc:
            log.warning("webhook rejected: %s", exc.reason)
            return JSONResponse({"message": exc.reason}, status_code=exc.status)
        except SQLAlchemyError as exc:
            log.error("webhook could not be stored (LINE will redeliver): %s", type(exc).__name__)
            return JSONResponse({"message": "temporarily unavailable"}, status_code=503)
        return Response(b"{}", media_type="application/json")

    # A plain Starlette route: the hottest path skips FastAPI's dependency and validation layers.
    app.router.add_route("/callback", callback, methods=["POST"], include_in_schema=False)
