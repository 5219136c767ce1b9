"""Fuzz the webhook with correctly signed but random or mutated LINE payloads: never a 5xx, the
worker never gives up on a row (no crash), and nothing raw is left stored after processing."""

from __future__ import annotations

import json
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.line.models import InboxEvent
from tests.support import events as ev

USERS = [ev.new_user_id() for _ in range(3)]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False)
    | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


@st.composite
def valid_events(draw):
    user = draw(st.sampled_from(USERS))
    kind = draw(st.sampled_from(["text", "postback", "follow", "unfollow", "media", "group", "join"]))
    if kind == "text":
        return ev.text_event(user, draw(st.text(max_size=200)))
    if kind == "postback":
        return ev.postback_event(user, draw(st.text(max_size=60)))
    if kind == "follow":
        return ev.follow_event(user)
    if kind == "unfollow":
        return ev.unfollow_event(user)
    if kind == "media":
        return ev.media_event(
            user, draw(st.sampled_from(["sticker", "image", "video", "audio", "file", "x"]))
        )
    if kind == "group":
        return ev.group_text_event("C" + "1" * 32, user, draw(st.text(max_size=50)))
    return ev.join_event("R" + "2" * 32, room=True)


KEYS = [
    "type",
    "mode",
    "timestamp",
    "source",
    "webhookEventId",
    "replyToken",
    "message",
    "postback",
    "follow",
]


@st.composite
def mutated_events(draw):
    event = draw(valid_events())
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from(KEYS))
        action = draw(st.sampled_from(["replace", "delete", "nested"]))
        if action == "delete":
            event.pop(key, None)
        elif action == "replace":
            event[key] = draw(json_values)
        elif isinstance(event.get(key), dict) and event[key]:
            inner = draw(st.sampled_from(sorted(event[key])))
            event[key][inner] = draw(json_values)
    return event


bodies = st.one_of(
    st.lists(mutated_events(), min_size=1, max_size=3).map(
        lambda e: {"destination": "U" + "f" * 32, "events": e}
    ),
    st.lists(valid_events() | json_values, max_size=3).map(lambda e: {"destination": "x", "events": e}),
    json_values.map(lambda v: {"events": v}),
    json_values,
)


def test_signed_garbage_never_breaks_the_service(line, app_client):
    seen_ok = []

    @settings(
        # Bounded for the suite; HARDENING_FUZZ_EXAMPLES=2000 for a longer, random hunt.
        max_examples=int(os.environ.get("HARDENING_FUZZ_EXAMPLES", "120")),
        deadline=None,
        derandomize="HARDENING_FUZZ_EXAMPLES" not in os.environ,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(doc=bodies)
    def post(doc):
        raw = json.dumps(doc, ensure_ascii=False).encode()
        r = ev.post_webhook(app_client, [], body=raw)
        assert r.status_code in (200, 400), (r.status_code, r.text, doc)
        if r.status_code == 200:
            seen_ok.append(doc)

    post()
    # Also bytes that are not JSON or not UTF-8, signed correctly.
    for raw in (b"", b"{", b"\xff\xfe", b"[]", b"null", b'{"events": null}'):
        assert ev.post_webhook(app_client, [], body=raw).status_code == 400
    assert seen_ok, "some fuzzed bodies were accepted and reached the worker"

    line.settle(60)
    worker = app_client.app.state.line_worker
    assert worker.inbox._thread.is_alive() and worker.outbox._thread.is_alive()
    with app_client.app.state.session_factory() as s:
        rows = s.scalars(select(InboxEvent)).all()
        assert rows
        failed = [(r.event_type, r.last_error) for r in rows if r.status != "done"]
        assert failed == [], failed
        for r in rows:  # raw events are not kept once processed
            assert set(r.payload) == {"type", "webhookEventId"}, r.payload

    # The service still answers a real resident normally afterwards.
    got = line.say(ev.new_user_id(), "こんにちは")
    assert got and got[0]["type"] in ("text", "flex")
