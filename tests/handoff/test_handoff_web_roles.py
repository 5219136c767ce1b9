"""Every /staff route × every role (anonymous, staff, supervisor, admin), both databases.

The routes are enumerated from the app itself: a new route fails this test until it has a row.
The case used is owned by *another* staff member, so the staff column shows what someone may do
with a colleague's case: nothing, not even read it. Supervisors may read and steer it, but only
its owner speaks to the resident.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from handoff_support import PASSWORD

from handoff import accounts, service
from handoff.web import pages
from tests.support.staff_web import sign_in

ROLES = ("anonymous", "staff", "supervisor", "admin")

# Outcomes: ok (GET 200 / POST redirected back without an error), login (sent to the login page),
# 403, refused (redirected back with the rule's error message), 401 (event streams), gone (the
# stream says at once there is nothing for you), stream (an endless stream: decided by the same
# check as `gone`, asserted through it; TestClient cannot read an endless body).
M = {
    ("GET", "/staff/"): ("login", "ok", "ok", "ok"),
    ("GET", "/staff/queue/rows"): ("login", "ok", "ok", "ok"),
    ("GET", "/staff/events"): ("401", "stream", "stream", "stream"),
    ("GET", "/staff/cases/{case_id}"): ("login", "403", "ok", "ok"),
    ("GET", "/staff/cases/{case_id}/chat"): ("login", "403", "ok", "ok"),
    ("GET", "/staff/cases/{case_id}/events"): ("401", "gone", "stream", "stream"),
    ("POST", "/staff/cases/{case_id}/claim"): ("login", "refused", "refused", "refused"),
    ("POST", "/staff/cases/{case_id}/release"): ("login", "refused", "ok", "ok"),
    ("POST", "/staff/cases/{case_id}/close"): ("login", "refused", "ok", "ok"),
    ("POST", "/staff/cases/{case_id}/transfer"): ("login", "refused", "ok", "ok"),
    # Only the owner speaks to the resident, whatever the role.
    ("POST", "/staff/cases/{case_id}/reply"): ("login", "403", "refused", "refused"),
    ("POST", "/staff/cases/{case_id}/notes"): ("login", "refused", "ok", "ok"),
    ("POST", "/staff/cases/{case_id}/sheet"): ("login", "refused", "ok", "ok"),
    ("GET", "/staff/cases/{case_id}/print"): ("login", "403", "ok", "ok"),
    ("GET", "/staff/cases/{case_id}/sheet.pdf"): ("login", "403", "ok", "ok"),
    ("GET", "/staff/export/cases.csv"): ("login", "ok", "ok", "ok"),
    ("GET", "/staff/stats"): ("login", "403", "ok", "ok"),
    ("GET", "/staff/canned"): ("login", "403", "ok", "ok"),
    ("POST", "/staff/canned"): ("login", "403", "ok", "ok"),
    ("GET", "/staff/admin/agencies"): ("login", "403", "403", "ok"),
    ("POST", "/staff/admin/agencies/upload"): ("login", "403", "403", "ok"),
    ("POST", "/staff/admin/agencies/save"): ("login", "403", "403", "ok"),
    ("GET", "/staff/admin/agencies.csv"): ("login", "403", "403", "ok"),
    ("GET", "/staff/admin/staff"): ("login", "403", "403", "ok"),
    ("POST", "/staff/admin/staff"): ("login", "403", "403", "ok"),
    # Last: it ends the session.
    ("POST", "/staff/logout"): ("login", "ok", "ok", "ok"),
}
# The login form is public and has its own tests (CSRF, lockout, rate limit).
PUBLIC = {("GET", "/staff/login"), ("POST", "/staff/login")}


def _staff_routes(app) -> set[tuple[str, str]]:
    found = set()
    stack = list(app.routes)
    while stack:
        route = stack.pop()
        inner = getattr(route, "original_router", None)
        if inner is not None:
            stack.extend(inner.routes)
            continue
        path = getattr(route, "path", "") or ""
        for method in getattr(route, "methods", None) or ():
            if path.startswith("/staff") and method in ("GET", "POST"):
                found.add((method, path))
    return found


@pytest.fixture
def world(line_app, city):
    """owner1 owns an in-progress case; staff, supervisor and admin are someone else."""
    app = line_app
    with app.state.session_factory() as s:
        users = {
            role: accounts.create_staff(s, username=f"u_{role}", password=PASSWORD, role=role)
            for role in ("staff", "supervisor", "admin")
        }
        owner = accounts.create_staff(s, username="owner1", password=PASSWORD, role="staff")
        s.commit()
        ids = {role: u.id for role, u in users.items()} | {"owner": owner.id}
    return ids


def _form(csrf: str, ids: dict[str, int], path: str, city) -> tuple[dict, dict | None]:
    data = {
        "csrf_token": csrf,
        "text": "確認しました",
        "outcome": "info_only",
        "to_staff_id": str(ids["owner"]),
        "summary": "役割テストで書き換えたまとめ",
        "title": "役割テスト",
        "name": "役割テスト機関",
        "username": f"new_{csrf[:6].lower()}",
        "password": "a-long-enough-passphrase-42",
        "role": "staff",
    }
    if path.endswith("/upload"):
        return data, {"file": ("agencies.csv", city.agency_directory.read_bytes(), "text/csv")}
    return data, None


def test_every_staff_route_is_in_the_matrix(line_app):
    assert _staff_routes(line_app) == set(M) | PUBLIC


@pytest.mark.parametrize("role", ROLES)
def test_staff_route_role_matrix(line_app, world, city, make_case, session, role):
    app = line_app
    ids = world
    client = TestClient(app)
    csrf = "" if role == "anonymous" else sign_in(client, f"u_{role}", PASSWORD)
    got, want = {}, {}
    for (method, path), outcomes in M.items():
        expected = outcomes[ROLES.index(role)]
        # A fresh colleague's case for every route: one route's effect must not decide the next.
        case_id = make_case().id
        service.claim(session, case_id=case_id, staff=session.get(accounts.StaffUser, ids["owner"]))
        session.commit()
        url = path.replace("{case_id}", str(case_id))
        want[(method, path)] = expected
        if expected == "stream":
            # The stream's own access check (what `gone` comes from) lets this role in.
            sig = (
                pages.case_signature(app.state.session_factory, case_id, ids[role])
                if "{case_id}" in path
                else pages.queue_signature(app.state.session_factory, ids[role])
            )
            got[(method, path)] = "gone" if sig.get("gone") else "stream"
            continue
        if method == "GET":
            r = client.get(url, follow_redirects=False)
        else:
            data, files = _form(csrf, ids, path, city)
            r = client.post(url, data=data, files=files, follow_redirects=False)
        got[(method, path)] = _outcome(r, url, role)
    assert got == want
    # Logging out really ended the session.
    assert client.get("/staff/", follow_redirects=False).headers.get("location") == "/staff/login"


def _outcome(r, url: str, role: str) -> str:
    if r.status_code == 303:
        location = r.headers["location"]
        if location == "/staff/login" and (role == "anonymous" or not url.endswith("/logout")):
            return "login"
        return "refused" if "err=" in location else "ok"
    if r.status_code == 200 and "event: gone" in r.text:
        return "gone"
    return "ok" if r.status_code == 200 else str(r.status_code)
