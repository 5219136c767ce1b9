"""Build and sign LINE webhook events for tests (shared by every part's tests).

from tests.support.events import text_event, post_webhook
post_webhook(client, [text_event(user, "こんにちは", reply_token=fake_line.issue_reply_token())])
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import secrets
import time
from pathlib import Path
from typing import Any

TEST_CHANNEL_SECRET = "5f1c0a9e8d7b6c5a4f3e2d1c0b9a8f7e"
TEST_ACCESS_TOKEN = "test-channel-access-token-1234567890"
SDK_FIXTURE = Path("/work/shared/fixtures/line-bot-sdk-python_tests_v3_text_webhook.json")
_SDK_FIXTURE_COPY = Path(__file__).resolve().parent / "line_sdk_webhook_fixture.json"
_ULID = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def sign(body: bytes, secret: str = TEST_CHANNEL_SECRET) -> str:
    """X-Line-Signature: Base64(HMAC-SHA256(channel secret, raw body))."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def new_user_id() -> str:
    return "U" + secrets.token_hex(16)


def new_event_id() -> str:
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    return "".join(_ULID[(value >> (5 * i)) & 31] for i in reversed(range(26)))


def now_ms() -> int:
    return int(time.time() * 1000)


def _options(kw: dict[str, Any]) -> dict[str, Any]:
    """The event fields a test may override through a builder's **kw (timestamp, mode, id)."""
    return {k: kw[k] for k in ("timestamp_ms", "mode", "event_id") if k in kw}


def _base(
    etype: str,
    source: dict[str, Any],
    *,
    reply_token: str | None = None,
    timestamp_ms: int | None = None,
    mode: str = "active",
    redelivery: bool = False,
    event_id: str | None = None,
) -> dict[str, Any]:
    ev: dict[str, Any] = {
        "type": etype,
        "mode": mode,
        "timestamp": timestamp_ms if timestamp_ms is not None else now_ms(),
        "source": source,
        "webhookEventId": event_id or new_event_id(),
        "deliveryContext": {"isRedelivery": redelivery},
    }
    if reply_token is not None:
        ev["replyToken"] = reply_token
    return ev


def user_source(user_id: str) -> dict[str, Any]:
    return {"type": "user", "userId": user_id}


def text_event(
    user_id: str,
    text: str,
    *,
    reply_token: str | None = None,
    timestamp_ms: int | None = None,
    mode: str = "active",
    redelivery: bool = False,
    event_id: str | None = None,
) -> dict[str, Any]:
    ev = _base(
        "message",
        user_source(user_id),
        reply_token=reply_token,
        timestamp_ms=timestamp_ms,
        mode=mode,
        redelivery=redelivery,
        event_id=event_id,
    )
    ev["message"] = {
        "id": str(secrets.randbits(60)),
        "type": "text",
        "text": text,
        "quoteToken": secrets.token_hex(8),
    }
    return ev


def postback_event(user_id: str, data: str, *, reply_token: str | None = None, **kw) -> dict[str, Any]:
    ev = _base(
        "postback",
        user_source(user_id),
        reply_token=reply_token,
        **_options(kw),
    )
    ev["postback"] = {"data": data}
    return ev


def follow_event(
    user_id: str, *, reply_token: str | None = None, unblocked: bool = False, **kw
) -> dict[str, Any]:
    ev = _base(
        "follow",
        user_source(user_id),
        reply_token=reply_token,
        **_options(kw),
    )
    ev["follow"] = {"isUnblocked": unblocked}
    return ev


def unfollow_event(user_id: str, **kw) -> dict[str, Any]:
    return _base(
        "unfollow",
        user_source(user_id),
        reply_token=None,
        **_options(kw),
    )


def media_event(
    user_id: str, media_type: str = "sticker", *, reply_token: str | None = None
) -> dict[str, Any]:
    ev = _base(
        "message",
        user_source(user_id),
        reply_token=reply_token,
    )
    ev["message"] = {"id": str(secrets.randbits(60)), "type": media_type}
    return ev


def group_text_event(
    group_id: str, user_id: str, text: str, *, reply_token: str | None = None
) -> dict[str, Any]:
    ev = _base(
        "message",
        {"type": "group", "groupId": group_id, "userId": user_id},
        reply_token=reply_token,
    )
    ev["message"] = {"id": str(secrets.randbits(60)), "type": "text", "text": text}
    return ev


def join_event(group_id: str, *, reply_token: str | None = None, room: bool = False) -> dict[str, Any]:
    source = {"type": "room", "roomId": group_id} if room else {"type": "group", "groupId": group_id}
    return _base(
        "join",
        source,
        reply_token=reply_token,
    )


def webhook_body(events: list[dict[str, Any]], destination: str = "U" + "f" * 32) -> bytes:
    return json.dumps({"destination": destination, "events": events}, ensure_ascii=False).encode()


def post_webhook(
    client,
    events: list[dict[str, Any]],
    *,
    secret: str = TEST_CHANNEL_SECRET,
    signature: str | None = None,
    body: bytes | None = None,
):
    """POST /callback with a correct signature (or the given one). `client`: TestClient or httpx.Client."""
    raw = body if body is not None else webhook_body(events)
    sig = signature if signature is not None else sign(raw, secret)
    return client.post(
        "/callback", content=raw, headers={"Content-Type": "application/json", "X-Line-Signature": sig}
    )


def sdk_fixture_events() -> list[dict[str, Any]]:
    """The 28 events of line-bot-sdk-python's v3 webhook fixture, each with its own webhookEventId."""
    path = SDK_FIXTURE if SDK_FIXTURE.exists() else _SDK_FIXTURE_COPY
    doc = json.loads(path.read_text())
    events = copy.deepcopy(doc["events"])
    for ev in events:
        ev["webhookEventId"] = new_event_id()
        ev["timestamp"] = now_ms()
    return events
