"""Simulator mode: a phone-like chat page plus an in-app fake of LINE's Messaging API.

Nothing is short-circuited: the page's message becomes a real LINE webhook event, signed with the
channel secret and accepted by the same code as POST /callback; the bot's answer goes through the
outbox and the sender, which (in simulator mode) talk HTTP to the fake API mounted here. The fake
keeps what was sent per simulated user in memory and enforces LINE's limits.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anyio import to_thread
from fastapi import FastAPI, Header, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from bot.line import webhook
from bot.line.outbound import MAX_MESSAGES_PER_REQUEST, MAX_TEXT_UTF16, utf16_len

STATIC_DIR = Path(__file__).resolve().parent / "static"
USER_ID = re.compile(r"^U[0-9a-f]{32}$")
REPLY_TOKEN_SECONDS = 60
_ULID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_webhook_event_id() -> str:
    """A ULID, like LINE's webhookEventId: 48-bit milliseconds + 80 random bits, Crockford base32."""
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    return "".join(_ULID_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(26)))


def sign(channel_secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(channel_secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass
class Delivered:
    seq: int
    via: str  # reply | push
    message: dict[str, Any]
    at: float


@dataclass
class FakeLineState:
    """What the in-app fake Messaging API has accepted, per simulated user."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    seq: itertools.count = field(default_factory=lambda: itertools.count(1))
    inbox: dict[str, list[Delivered]] = field(default_factory=dict)
    reply_tokens: dict[str, tuple[str, float]] = field(default_factory=dict)  # token → (user, issued)
    retry_keys: dict[str, str] = field(default_factory=dict)  # accepted key → request id
    loading_until: dict[str, float] = field(default_factory=dict)

    def issue_reply_token(self, user_id: str) -> str:
        token = secrets.token_hex(16)
        with self.lock:
            self.reply_tokens[token] = (user_id, time.time())
        return token

    def deliver(self, user_id: str, via: str, messages: list[dict[str, Any]]) -> None:
        now = time.time()
        with self.lock:
            box = self.inbox.setdefault(user_id, [])
            for m in messages:
                box.append(Delivered(next(self.seq), via, m, now))
            self.loading_until.pop(user_id, None)  # LINE hides the dots when a message arrives


class SimulatedEvent(BaseModel):
    user_id: str = Field(alias="userId")
    kind: str = "text"  # text | postback | follow | unfollow | sticker | image | location
    text: str | None = None
    data: str | None = None


def _line_error(status: int, message: str, details: list[dict] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"message": message}
    if details:
        body["details"] = details
    return JSONResponse(body, status_code=status, headers={"x-line-request-id": str(uuid.uuid4())})


def _check_messages(messages: Any) -> JSONResponse | None:
    if not isinstance(messages, list) or not 1 <= len(messages) <= MAX_MESSAGES_PER_REQUEST:
        return _line_error(
            400, "The request body has 1 error(s)", [{"message": "Size must be between 1 and 5"}]
        )
    for m in messages:
        if m.get("type") == "text" and utf16_len(m.get("text") or "") > MAX_TEXT_UTF16:
            return _line_error(
                400, "The request body has 1 error(s)", [{"message": "Length must be <= 5000"}]
            )
        if m.get("type") == "flex" and not m.get("altText"):
            return _line_error(400, "The request body has 1 error(s)", [{"message": "altText required"}])
    return None


def build_event(ev: SimulatedEvent, reply_token: str | None) -> dict[str, Any]:
    now_ms = int(time.time() * 1000)
    event: dict[str, Any] = {
        "mode": "active",
        "timestamp": now_ms,
        "source": {"type": "user", "userId": ev.user_id},
        "webhookEventId": new_webhook_event_id(),
        "deliveryContext": {"isRedelivery": False},
    }
    if reply_token:
        event["replyToken"] = reply_token
    message_id = str(now_ms)
    if ev.kind == "text":
        event.update(
            type="message",
            message={
                "id": message_id,
                "type": "text",
                "text": ev.text or "",
                "quoteToken": secrets.token_hex(8),
            },
        )
    elif ev.kind == "postback":
        event.update(type="postback", postback={"data": ev.data or ""})
    elif ev.kind == "follow":
        event.update(type="follow", follow={"isUnblocked": False})
    elif ev.kind == "unfollow":
        event.update(type="unfollow")
        event.pop("replyToken", None)
    elif ev.kind == "sticker":
        event.update(
            type="message",
            message={"id": message_id, "type": "sticker", "packageId": "446", "stickerId": "1988"},
        )
    elif ev.kind == "image":
        event.update(
            type="message",
            message={"id": message_id, "type": "image", "contentProvider": {"type": "line"}},
        )
    elif ev.kind == "location":
        event.update(
            type="message",
            message={"id": message_id, "type": "location", "latitude": 35.0, "longitude": 135.0},
        )
    else:
        raise ValueError(f"unknown simulated event kind {ev.kind!r}")
    return event


def install(app: FastAPI) -> None:
    state = FakeLineState()
    app.state.fake_line = state
    settings = app.state.settings

    app.mount("/simulator/static", StaticFiles(directory=STATIC_DIR), name="simulator-static")

    @app.get("/simulator", include_in_schema=False)
    def simulator_page():
        return FileResponse(STATIC_DIR / "simulator.html", media_type="text/html; charset=utf-8")

    # ---------------------------------------------------------------- the page's API

    @app.post("/simulator/api/events", include_in_schema=False)
    async def simulator_event(ev: SimulatedEvent):
        if not USER_ID.match(ev.user_id):
            return JSONResponse({"message": "userId must be U + 32 hex"}, status_code=400)
        if ev.kind == "text" and not (ev.text or "").strip():
            return JSONResponse({"message": "empty text"}, status_code=400)
        token = state.issue_reply_token(ev.user_id) if ev.kind != "unfollow" else None
        body = json.dumps(
            {"destination": "U" + "0" * 32, "events": [build_event(ev, token)]}, ensure_ascii=False
        ).encode()
        # Exactly what LINE would send: signed bytes through the same acceptance code as /callback.
        try:
            await to_thread.run_sync(webhook.accept, app, body, sign(settings.channel_secret, body))
        except webhook.WebhookRejected as exc:
            return JSONResponse({"message": exc.reason}, status_code=exc.status)
        return {"ok": True}

    @app.get("/simulator/api/messages", include_in_schema=False)
    def simulator_messages(userId: str, after: int = 0):
        with state.lock:
            items = [d for d in state.inbox.get(userId, []) if d.seq > after]
            loading = state.loading_until.get(userId, 0) > time.time()
        return {
            "messages": [{"seq": d.seq, "via": d.via, "message": d.message} for d in items],
            "loading": loading,
        }

    # ---------------------------------------------------------------- the fake Messaging API

    def authorized(authorization: str | None) -> bool:
        return authorization == f"Bearer {settings.channel_access_token}"

    @app.post("/simulator/line-api/v2/bot/message/reply", include_in_schema=False)
    async def fake_reply(
        request: Request,
        authorization: str | None = Header(default=None),
        x_line_retry_key: str | None = Header(default=None),
    ):
        if not authorized(authorization):
            return _line_error(401, "Authentication failed due to the following reason: invalid token.")
        if x_line_retry_key is not None:
            return _line_error(400, "X-Line-Retry-Key is not supported for this endpoint")
        body = await request.json()
        problem = _check_messages(body.get("messages"))
        if problem:
            return problem
        with state.lock:
            entry = state.reply_tokens.pop(body.get("replyToken") or "", None)
        if entry is None or time.time() - entry[1] > REPLY_TOKEN_SECONDS:
            return _line_error(400, "Invalid reply token")
        state.deliver(entry[0], "reply", body["messages"])
        return JSONResponse({"sentMessages": []}, headers={"x-line-request-id": str(uuid.uuid4())})

    @app.post("/simulator/line-api/v2/bot/message/push", include_in_schema=False)
    async def fake_push(
        request: Request,
        authorization: str | None = Header(default=None),
        x_line_retry_key: str | None = Header(default=None),
    ):
        if not authorized(authorization):
            return _line_error(401, "Authentication failed due to the following reason: invalid token.")
        body = await request.json()
        problem = _check_messages(body.get("messages"))
        if problem:
            return problem
        to = body.get("to") or ""
        if not USER_ID.match(to):
            return _line_error(400, "The property, 'to', in the request body is invalid")
        request_id = str(uuid.uuid4())
        with state.lock:
            if x_line_retry_key and x_line_retry_key in state.retry_keys:
                return JSONResponse(
                    {"message": "The retry key is already accepted"},
                    status_code=409,
                    headers={"x-line-accepted-request-id": state.retry_keys[x_line_retry_key]},
                )
            if x_line_retry_key:
                state.retry_keys[x_line_retry_key] = request_id
        state.deliver(to, "push", body["messages"])
        return JSONResponse({"sentMessages": []}, headers={"x-line-request-id": request_id})

    @app.post("/simulator/line-api/v2/bot/chat/loading/start", include_in_schema=False)
    async def fake_loading(request: Request, authorization: str | None = Header(default=None)):
        if not authorized(authorization):
            return _line_error(401, "Authentication failed")
        body = await request.json()
        seconds = body.get("loadingSeconds", 20)
        if not isinstance(seconds, int) or seconds % 5 or not 5 <= seconds <= 60:
            return _line_error(400, "loadingSeconds must be a multiple of 5 between 5 and 60")
        with state.lock:
            state.loading_until[body.get("chatId") or ""] = time.time() + seconds
        return JSONResponse({}, status_code=202)

    @app.post("/simulator/line-api/v2/bot/{chat_type}/{chat_id}/leave", include_in_schema=False)
    async def fake_leave(chat_type: str, chat_id: str, authorization: str | None = Header(default=None)):
        if not authorized(authorization):
            return _line_error(401, "Authentication failed")
        return JSONResponse({})
