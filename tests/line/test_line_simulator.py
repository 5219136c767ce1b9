"""Simulator mode over real HTTP: the page loads; a message typed there goes through the signed
webhook, the dialogue, the outbox and the sender to the in-app fake LINE API, and comes back."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.support import events as ev
from tests.support.fixtures import AppProcess, process_env


@pytest.fixture
def simulator(db_url, tmp_path):
    app = AppProcess(process_env(db_url, tmp_path / "var", None), log_path=tmp_path / "sim.log")
    try:
        app.wait_ready()
        yield app
    finally:
        app.kill()


def _wait_messages(client: httpx.Client, user: str, after: int, timeout: float = 20.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = client.get("/simulator/api/messages", params={"userId": user, "after": after}).json()[
            "messages"
        ]
        if got:
            time.sleep(0.3)  # let the rest of a multi-request answer land
            return client.get("/simulator/api/messages", params={"userId": user, "after": after}).json()[
                "messages"
            ]
        time.sleep(0.05)
    raise AssertionError("no answer from the bot")


def test_simulator_round_trip(simulator, tmp_path):
    with httpx.Client(base_url=simulator.base_url, timeout=10) as client:
        page = client.get("/simulator")
        assert page.status_code == 200 and "シミュレーター" in page.text
        for asset in ("simulator.js", "simulator.css"):
            assert client.get(f"/simulator/static/{asset}").status_code == 200

        user = ev.new_user_id()
        assert (
            client.post("/simulator/api/events", json={"userId": user, "kind": "follow"}).status_code == 200
        )
        greeting = _wait_messages(client, user, 0)
        assert greeting and all(m["via"] == "reply" for m in greeting)
        last = max(m["seq"] for m in greeting)

        r = client.post("/simulator/api/events", json={"userId": user, "kind": "text", "text": "こんにちは"})
        assert r.status_code == 200
        answer = _wait_messages(client, user, last)
        assert answer, "the bot answered the typed message"
        last = max(m["seq"] for m in answer)

        # Tapping a quick reply the bot offered goes back as a postback (or a message) event.
        items = [
            i for m in greeting + answer for i in (m["message"].get("quickReply") or {}).get("items", [])
        ]
        if items:
            action = items[-1]["action"]
            payload = (
                {"kind": "postback", "data": action["data"]}
                if action["type"] == "postback"
                else {"kind": "text", "text": action["text"]}
            )
            assert client.post("/simulator/api/events", json={"userId": user, **payload}).status_code == 200
            assert _wait_messages(client, user, last)

        # A different simulated person sees only their own conversation.
        other = ev.new_user_id()
        assert client.get("/simulator/api/messages", params={"userId": other}).json()["messages"] == []

        bad = client.post("/simulator/api/events", json={"userId": "Unot-an-id", "kind": "text", "text": "x"})
        assert bad.status_code == 400


def test_in_app_fake_line_api_enforces_lines_rules(simulator, tmp_path):
    token = (tmp_path / "var" / "simulator_access_token").read_text().strip()
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=simulator.base_url + "/simulator/line-api", timeout=10) as api:
        msg = {"type": "text", "text": "こんにちは"}
        user = ev.new_user_id()
        r = api.post(
            "/v2/bot/message/push",
            json={"to": user, "messages": [msg]},
            headers={"Authorization": "Bearer wrong"},
        )
        assert r.status_code == 401
        # The real token is the simulator's own, in var/: without it, nothing gets through.
        r = api.post("/v2/bot/message/reply", json={"replyToken": "x", "messages": [msg]})
        assert r.status_code == 401

        assert (
            api.post(
                "/v2/bot/message/push", json={"to": user, "messages": [msg] * 6}, headers=auth
            ).status_code
            == 400
        )
        long = {"type": "text", "text": "😀" * 2501}  # 5,002 UTF-16 units
        assert (
            api.post("/v2/bot/message/push", json={"to": user, "messages": [long]}, headers=auth).status_code
            == 400
        )
        r = api.post("/v2/bot/message/reply", json={"replyToken": "unknown", "messages": [msg]}, headers=auth)
        assert r.status_code == 400  # a reply token the platform never issued
        key = "3f1b6c1e-8a53-4a57-9a0e-2f2f0c1d9b11"
        first = api.post(
            "/v2/bot/message/push",
            json={"to": user, "messages": [msg]},
            headers={**auth, "X-Line-Retry-Key": key},
        )
        again = api.post(
            "/v2/bot/message/push",
            json={"to": user, "messages": [msg]},
            headers={**auth, "X-Line-Retry-Key": key},
        )
        assert first.status_code == 200
        assert again.status_code == 409
        assert again.headers["x-line-accepted-request-id"] == first.headers["x-line-request-id"]


def test_callback_still_requires_the_signature_in_simulator_mode(simulator):
    body = ev.webhook_body([ev.text_event(ev.new_user_id(), "こんにちは")])
    r = httpx.post(
        simulator.base_url + "/callback",
        content=body,
        headers={"X-Line-Signature": ev.sign(body, secret="f" * 32)},
    )
    assert r.status_code == 400
