"""Staff side: every state-changing form refuses a missing or forged CSRF token (enumerated from
the app's own routes, so a new form cannot be forgotten), oversized webhooks are refused before
parsing, and sessions/tokens signed too long ago are refused."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from handoff import accounts
from handoff.models import AuditEvent, Case, Note
from tests.support import events as ev
from tests.support.staff_web import sign_in

PASSWORD = "correct horse battery 9"
# Plausible values for every form field any staff form takes, so that only the CSRF token is wrong.
FORM = {
    "text": "テスト",
    "title": "テスト",
    "to_staff_id": "1",
    "outcome": "referred",
    "result": "referred",
    "username": "newuser",
    "password": PASSWORD,
    "role": "staff",
    "display_name": "新人",
    "summary": "x",
    "base_revision": "1",
    "position": "1",
}


def _login(client, username: str) -> None:
    sign_in(client, username, PASSWORD)


def _all_routes(routes):
    for route in routes:
        inner = getattr(route, "original_router", None)  # FastAPI's included routers
        if inner is not None:
            yield from _all_routes(inner.routes)
        else:
            yield route


def _staff_post_routes(app) -> list[str]:
    paths = []
    for route in _all_routes(app.routes):
        path = getattr(route, "path", "") or ""
        if "POST" in (getattr(route, "methods", None) or set()) and path.startswith("/staff"):
            paths.append(path)
    return sorted(set(paths))


@pytest.fixture
def admin_and_case(line_app):
    with line_app.state.session_factory() as s:
        admin = accounts.create_staff(s, username="boss", password=PASSWORD, role="admin")
        case = Case(status="waiting", categories=["poverty"])
        s.add(case)
        s.commit()
        return admin.id, case.id


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_every_staff_post_route_refuses_a_bad_csrf_token(app_client, admin_and_case, token):
    app = app_client.app
    _, case_id = admin_and_case
    routes = _staff_post_routes(app)
    assert "/staff/cases/{case_id}/claim" in routes and len(routes) >= 10, routes
    _login(app_client, "boss")
    with app.state.session_factory() as s:
        audits_before = s.scalar(select(func.count()).select_from(AuditEvent))
    refused = {}
    for path in routes:
        if path == "/staff/login":
            continue  # guarded by its own double-submit cookie; tested below
        url = path.replace("{case_id}", str(case_id))
        data = dict(FORM)
        if token is not None:
            data["csrf_token"] = token
        files = {"file": ("a.csv", b"no,name\n", "text/csv")} if "upload" in path else None
        r = app_client.post(url, data=data, files=files, follow_redirects=False)
        refused[path] = r.status_code
    assert all(code == 403 for code in refused.values()), refused
    with app.state.session_factory() as s:
        assert s.get(Case, case_id).status == "waiting" and s.get(Case, case_id).owner_id is None
        assert s.scalar(select(func.count()).select_from(Note)) == 0
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == audits_before
    # Still logged in: the refusals were about the token, not the session.
    assert app_client.get("/staff/", follow_redirects=False).status_code == 200


def test_login_form_needs_its_own_token(app_client, admin_and_case):
    app_client.cookies.clear()
    r = app_client.post(
        "/staff/login", data={"username": "boss", "password": PASSWORD}, follow_redirects=False
    )
    assert "consult_staff" not in r.cookies
    assert app_client.get("/staff/", follow_redirects=False).status_code in (302, 303, 307)


def test_oversized_webhook_refused_before_parsing(app_client, line_app):
    limit = line_app.state.settings.max_body_bytes
    big = ev.webhook_body([ev.text_event(ev.new_user_id(), "あ" * (limit // 2))])
    assert len(big) > limit
    r = ev.post_webhook(app_client, [], body=big)
    assert r.status_code == 413

    # Without a Content-Length (chunked), the stream is cut off at the limit too.
    def chunks():
        for i in range(0, len(big), 65536):
            yield big[i : i + 65536]

    r = app_client.post(
        "/callback",
        content=chunks(),
        headers={"X-Line-Signature": ev.sign(big), "Content-Type": "application/json"},
    )
    assert r.status_code == 413
    from bot.line.models import InboxEvent

    with line_app.state.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(InboxEvent)) == 0


def test_old_api_token_and_session_are_refused(app_client, admin_and_case):
    from itsdangerous import URLSafeTimedSerializer

    from handoff import auth

    app = app_client.app
    admin_id, _ = admin_and_case

    class Backdated(URLSafeTimedSerializer):
        def __init__(self, *a, seconds: int, **kw):
            super().__init__(*a, **kw)
            self.seconds = seconds

        def make_signer(self, salt=None):
            signer = super().make_signer(salt)
            now = signer.get_timestamp()
            signer.get_timestamp = lambda: now - self.seconds
            return signer

    key = auth._auth_key(app)
    with app.state.session_factory() as s:
        version = s.get(auth.StaffUser, admin_id).auth_version
    payload = {"sid": admin_id, "v": version}

    fresh = Backdated(key, salt="consult-bot api token", seconds=60).dumps(payload)
    stale = Backdated(key, salt="consult-bot api token", seconds=auth.API_TOKEN_TTL_SECONDS + 60).dumps(
        payload
    )
    assert app_client.get("/api/cases", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200
    assert app_client.get("/api/cases", headers={"Authorization": f"Bearer {stale}"}).status_code == 401

    session_payload = {**payload, "n": "nonce"}
    old_cookie = Backdated(key, salt="consult-bot web session", seconds=auth.SESSION_TTL_SECONDS + 60).dumps(
        session_payload
    )
    app_client.cookies.clear()
    app_client.cookies.set(auth.SESSION_COOKIE, old_cookie, path="/staff")
    assert app_client.get("/staff/", follow_redirects=False).status_code in (302, 303, 307)
