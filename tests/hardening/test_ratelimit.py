"""Login rate limiting per client address, on the staff form and the API token route, both
databases: the window is in the database, so two app instances (two processes) share it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.db import utcnow
from handoff import accounts, ratelimit
from handoff.models import AuditEvent, LoginFailure
from tests.hardening.hardening_support import raw_text
from tests.support.fixtures import make_app, make_settings
from tests.support.staff_web import post_login

PASSWORD = "correct horse battery 9"
LIMIT = 5
WINDOW = 600
ATTACKER = "203.0.113.77"
NEIGHBOUR = "198.51.100.9"


@pytest.fixture
def line_settings(db_url, fake_line, tmp_path):
    return make_settings(
        db_url,
        fake_line,
        tmp_path / "var",
        CONSULT_LOGIN_IP_MAX_FAILURES=LIMIT,
        CONSULT_LOGIN_IP_WINDOW_SECONDS=WINDOW,
    )


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self):
        return self.now


def _client(app, ip: str) -> TestClient:
    return TestClient(app, client=(ip, 40000))


def api_login(client: TestClient, username: str, password: str):
    return client.post("/api/auth/token", data={"username": username, "password": password})


def ok(route: str, r) -> bool:
    if route == "ui":
        return r.status_code == 303 and r.headers["location"] == "/staff/"
    return r.status_code == 200 and "access_token" in r.json()


def refused_as_wrong(route: str, r) -> bool:
    if route == "ui":
        return r.status_code == 303 and "err=" in r.headers["location"]
    return r.status_code == 401


LOGIN = {"ui": post_login, "api": api_login}


def _admin(app) -> None:
    with app.state.session_factory() as s:
        accounts.create_staff(s, username="boss", password=PASSWORD, role="admin")
        s.commit()


def _count(app, what, *where) -> int:
    with app.state.session_factory() as s:
        return s.scalar(select(func.count()).select_from(what).where(*where)) or 0


@pytest.mark.parametrize("route", ["ui", "api"])
def test_one_address_is_slowed_down_across_usernames(line_app, route):
    app = line_app
    _admin(app)
    clock = Clock()
    ratelimit.limiter_for(app).clock = clock
    attacker, neighbour = _client(app, ATTACKER), _client(app, NEIGHBOUR)
    login = LOGIN[route]

    # Guessing across usernames: the per-account lockout never triggers, the address limit does.
    for i in range(LIMIT):
        assert refused_as_wrong(route, login(attacker, f"user{i}", "wrong-password"))
    for other_route, other_login in LOGIN.items():  # the window is shared by both routes
        r = other_login(attacker, f"user{LIMIT}", "wrong-password")
        assert r.status_code == 429, (other_route, r.status_code)
        assert 0 < int(r.headers["Retry-After"]) <= WINDOW
        if other_route == "ui":
            assert "もう一度お試しください" in r.text and 'name="login_csrf"' in r.text
        else:
            assert "try again" in r.json()["detail"]

    # The right password from the blocked address is refused too; another address is not affected.
    assert login(attacker, "boss", PASSWORD).status_code == 429
    assert ok(route, login(neighbour, "boss", PASSWORD))

    # Refused attempts were not counted: the window frees when the failures age out.
    clock.now += timedelta(seconds=WINDOW - 1)
    assert login(attacker, "boss", PASSWORD).status_code == 429
    clock.now += timedelta(seconds=2)
    assert ok(route, login(attacker, "boss", PASSWORD))

    assert _count(app, AuditEvent, AuditEvent.action == "login_rate_limited") == 1
    assert _count(app, AuditEvent, AuditEvent.action == "login_failed") == LIMIT
    # Successes are not failures; expired rows went with the next login.
    assert _count(app, LoginFailure) == 0
    login(attacker, "nobody", "wrong-password")
    assert _count(app, LoginFailure) == 1
    # The address is personal data: only its keyed hash is stored.
    assert ATTACKER not in raw_text(app.state.engine)


def test_the_window_holds_across_processes(line_app, line_settings):
    """Two app instances (as two server processes) on one database share one window."""
    first, second = line_app, make_app(line_settings)
    _admin(first)
    clients = [_client(first, ATTACKER), _client(second, ATTACKER)]
    for i in range(LIMIT):
        assert refused_as_wrong("api", api_login(clients[i % 2], f"user{i}", "nope-nope-nope"))
    for client in clients:
        assert api_login(client, "boss", PASSWORD).status_code == 429
        assert post_login(client, "boss", PASSWORD).status_code == 429
    assert ok("api", api_login(_client(second, NEIGHBOUR), "boss", PASSWORD))


def test_retry_after_counts_from_the_oldest_failure_that_must_expire(session):
    clock = Clock()
    limiter = ratelimit.LoginRateLimiter(max_failures=3, window=timedelta(minutes=10), clock=clock)
    for _ in range(3):
        limiter.record_failure(session, client_ip=ATTACKER)
        clock.now += timedelta(minutes=1)
    session.commit()
    # Failures at t=0,1,2 min; now t=3: the first leaves the window at t=10.
    assert limiter.retry_after(session, client_ip=ATTACKER) == 7 * 60
    assert limiter.retry_after(session, client_ip=NEIGHBOUR) is None
    clock.now += timedelta(minutes=7)
    assert limiter.retry_after(session, client_ip=ATTACKER) is None
