"""Cross-process wake-ups (bot/notify.py): on PostgreSQL a commit in one process wakes the workers
and the staff SSE streams of another through LISTEN/NOTIFY — the tests turn the polls off (an hour)
so only a notification can deliver in time; the listener comes back after its connection is
killed; SQLite (and a listener that is down) still works by polling."""

from __future__ import annotations

import json
import re
import sys

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot import notify
from bot.line.models import InboxEvent
from handoff import accounts
from handoff.models import Case
from tests.conftest import PG_DSN
from tests.hardening.test_scaleout_serve import Console, inherited_env, wait_healthy
from tests.support import events as ev
from tests.support.fixtures import REPO_ROOT, ensure_schema, free_port, make_app, make_settings, process_env

HOUR = 3600.0


def _app_without_polls(settings):
    """An app whose workers only wake on a notification (or their own in-process signal)."""
    app = make_app(settings)
    app.state.line_worker_options["safety_poll_seconds"] = HOUR
    return app


@pytest.mark.postgres
def test_webhook_in_one_process_wakes_the_workers_of_another(postgres_url, fake_line, tmp_path):
    receiver = _app_without_polls(make_settings(postgres_url, fake_line, tmp_path / "var"))
    webhook_only = make_app(make_settings(postgres_url, fake_line, tmp_path / "var", run_worker=False))
    user = ev.new_user_id()
    with TestClient(receiver), TestClient(webhook_only) as web:
        listener = receiver.state.notify_listener
        assert listener.wait_connected(30)
        # Settle: the first wake-up after connecting has been handled; from now on the inbox
        # worker waits an hour unless notified.
        assert receiver.state.line_worker.wait_idle(30)
        token = fake_line.issue_reply_token(user_id=user)
        assert ev.post_webhook(web, [ev.text_event(user, "こんにちは", reply_token=token)]).status_code == 200
        assert fake_line.wait_for(lambda: fake_line.delivered(user), timeout=30), "not woken by NOTIFY"
    with receiver.state.session_factory() as s:
        assert s.scalar(select(InboxEvent.status)) == "done"


@pytest.mark.postgres
def test_listener_reconnects_after_its_connection_is_killed(postgres_url, fake_line, tmp_path):
    app = _app_without_polls(make_settings(postgres_url, fake_line, tmp_path / "var"))
    webhook_only = make_app(make_settings(postgres_url, fake_line, tmp_path / "var", run_worker=False))
    user = ev.new_user_id()
    with TestClient(app) as client, TestClient(webhook_only) as web:
        listener = app.state.notify_listener
        assert listener.wait_connected(30)
        first_pid = listener.backend_pid
        with psycopg.connect(PG_DSN, autocommit=True) as admin:
            assert admin.execute("SELECT pg_terminate_backend(%s)", (first_pid,)).fetchone()[0]
        assert fake_line.wait_for(lambda: listener.connected and listener.backend_pid != first_pid, 60), (
            "listener did not come back"
        )
        assert listener.connects == 2
        assert "consult_notify_listener_up 1" in client.get("/metrics").text.splitlines()
        # Notifications flow again: the worker (polls off) answers an event another process stored.
        assert app.state.line_worker.wait_idle(30)
        token = fake_line.issue_reply_token(user_id=user)
        assert ev.post_webhook(web, [ev.text_event(user, "もしもし", reply_token=token)]).status_code == 200
        assert fake_line.wait_for(lambda: fake_line.delivered(user), timeout=30)


def test_broadcast_wakes_each_subscriber_once_per_burst():
    import asyncio

    async def scenario() -> tuple[bool, bool, int]:
        hub = notify.Broadcast()
        with hub.subscribe() as a, hub.subscribe() as b:
            for _ in range(100):
                hub.publish()  # a burst of notifications from the listener thread
            await asyncio.sleep(0)
            return a.is_set(), b.is_set(), len(hub)

    a_set, b_set, subscribers = asyncio.run(scenario())
    assert a_set and b_set and subscribers == 2


# ---------------------------------------------------------------- staff SSE across processes


def _login(client: httpx.Client, username: str, password: str) -> None:
    page = client.get("/staff/login")
    token = re.search(r'name="login_csrf" value="([^"]+)"', page.text).group(1)
    r = client.post("/staff/login", data={"username": username, "password": password, "login_csrf": token})
    assert r.status_code == 200 and "/staff/" in str(r.url)


def _queue_updates(base_url: str, on_first) -> list[dict]:
    """Read the queue stream; after the first snapshot call `on_first()`; return the first two."""
    seen: list[dict] = []
    with (
        httpx.Client(base_url=base_url, timeout=10, follow_redirects=True) as client,
    ):
        _login(client, "live", "correct horse battery 9")
        with client.stream("GET", "/staff/events", timeout=httpx.Timeout(10, read=60)) as stream:
            event = None
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event == "queue":
                    seen.append(json.loads(line.split(":", 1)[1]))
                    if len(seen) == 1:
                        on_first()
                    else:
                        break
    return seen


def test_staff_stream_of_one_process_sees_a_case_committed_in_another(db_url, fake_line, tmp_path):
    """Process B serves the stream, the test (process A) commits a case. On PostgreSQL B's SSE polls
    are turned off, so only NOTIFY can bring the update; on SQLite B polls as always."""
    ensure_schema(db_url)
    a = make_app(make_settings(db_url, fake_line, tmp_path / "var", run_worker=False))
    with a.state.session_factory() as s:
        accounts.create_staff(s, username="live", password="correct horse battery 9", role="staff")
        s.commit()
    port = free_port()
    polls_off = "pages.SSE_POLL_SECONDS = pages.SSE_SAFETY_SECONDS = 3600; " if "postgres" in db_url else ""
    code = (
        f"import sys; import handoff.web.pages as pages; {polls_off}"
        f"sys.argv = ['serve_app', '--port', '{port}']; "
        "from tests.support.serve_app import main; main()"
    )
    env = {**process_env(db_url, tmp_path / "var", fake_line), "PYTHONPATH": str(REPO_ROOT)}
    env["CONSULT_PUBLIC_BASE_URL"] = f"http://127.0.0.1:{port}"
    b = Console([sys.executable, "-c", code], {**inherited_env(), **env}, tmp_path / "b.log")
    try:
        wait_healthy(f"http://127.0.0.1:{port}", b, timeout=60)

        def hand_off_a_case() -> None:
            with a.state.session_factory() as s:
                s.add(Case(status="waiting", priority="urgent", categories=["poverty"]))
                s.commit()

        seen = _queue_updates(f"http://127.0.0.1:{port}", hand_off_a_case)
    finally:
        b.stop()
    assert len(seen) == 2 and seen[1]["waiting"] == seen[0]["waiting"] + 1, seen
