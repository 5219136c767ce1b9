"""The JSON API (contracts.md) on the real app, both databases; pushes reach a fake LINE over HTTP."""

from __future__ import annotations

import time

import pytest
from handoff_support import CONSENT_TEXT, PASSWORD, make_sheet
from sqlalchemy import select

from bot.conversations import service as conversations
from handoff import accounts, service
from handoff.models import AuditEvent, Case

LINE_USER = "U" + "a1" * 16


@pytest.fixture
def app(line_app):
    return line_app


@pytest.fixture
def db(app):
    with app.state.session_factory() as s:
        yield s


@pytest.fixture
def staff_users(db):
    users = {}
    for name, role in [
        ("staff1", "staff"),
        ("staff2", "staff"),
        ("super", "supervisor"),
        ("admin1", "admin"),
    ]:
        users[name] = accounts.create_staff(
            db, username=name, password=PASSWORD, role=role, display_name=f"{name} 相談員"
        )
    db.commit()
    return users


@pytest.fixture
def new_case(db, city, directory):
    counter = {"n": 0}

    def _make(*, urgent=False, line_user=None):
        counter["n"] += 1
        resident = conversations.resident_for_line_user(db, line_user_id=line_user or f"U{counter['n']:032x}")
        conv = conversations.start_conversation(db, resident_id=resident.id, state="handed_off")
        conversations.append_event(
            db, conversation_id=conv.id, author="resident", kind="text", text="母の介護がつらいです"
        )
        conversations.append_event(
            db,
            conversation_id=conv.id,
            author="bot",
            kind="text",
            text="お話ししてくださってありがとうございます",
        )
        case = service.request_handoff(
            db,
            resident_id=resident.id,
            conversation_id=conv.id,
            sheet=make_sheet(city, directory),
            consent_text_version="v1",
            consent_text=CONSENT_TEXT,
            urgent=urgent,
        )
        db.commit()
        return case

    return _make


def token(client, username, password=PASSWORD):
    r = client.post("/api/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer"
    return {"Authorization": f"Bearer {body['access_token']}"}


def test_token_bad_credentials_401(app_client, staff_users):
    r = app_client.post("/api/auth/token", data={"username": "staff1", "password": "wrong-password"})
    assert r.status_code == 401
    r = app_client.post("/api/auth/token", data={"username": "ghost", "password": PASSWORD})
    assert r.status_code == 401


@pytest.mark.parametrize("route", ["/api/cases", "/api/cases/1"])
def test_routes_need_a_valid_token(app_client, route):
    assert app_client.get(route).status_code == 401
    assert app_client.get(route, headers={"Authorization": "Bearer forged.token"}).status_code == 401
    assert app_client.post("/api/cases/1/claim").status_code == 401
    assert app_client.post("/api/cases/1/messages", json={"text": "x"}).status_code == 401


def test_token_expires(app_client, staff_users, monkeypatch):
    from handoff import auth

    headers = token(app_client, "staff1")
    assert app_client.get("/api/cases", headers=headers).status_code == 200
    monkeypatch.setattr(auth, "API_TOKEN_TTL_SECONDS", -1)
    r = app_client.get("/api/cases", headers=headers)
    assert r.status_code == 401 and "expired" in r.json()["detail"]


def test_deactivated_account_token_stops_working(app_client, staff_users, db):
    headers = token(app_client, "staff1")
    user = db.get(type(staff_users["staff1"]), staff_users["staff1"].id)
    user.active = False
    db.commit()
    assert app_client.get("/api/cases", headers=headers).status_code == 401


def test_list_and_detail(app_client, staff_users, new_case):
    older = new_case()
    newer = new_case(urgent=True)
    headers = token(app_client, "staff1")
    r = app_client.get("/api/cases", headers=headers)
    assert r.status_code == 200
    items = r.json()
    assert [c["id"] for c in items] == [newer.id, older.id]  # newest first
    assert {"id", "status", "created_at", "categories", "primary", "risk"} <= set(items[0])
    assert items[0]["status"] == "waiting" and items[0]["primary"] == "family"

    d = app_client.get(f"/api/cases/{older.id}", headers=headers).json()
    sheet = d["sheet"]
    assert sheet["categories"][0] == "family" and sheet["primary"] == "family"
    assert "hikikomori" in sheet["subcategories"] and sheet["summary"]
    assert sheet["consent"]["given"] is True and sheet["consent"]["at"]
    texts = [(m["author"], m["text"]) for m in d["messages"] if m["kind"] == "text"]
    assert texts == [
        ("resident", "母の介護がつらいです"),
        ("bot", "お話ししてくださってありがとうございます"),
    ]
    assert app_client.get("/api/cases/9999", headers=headers).status_code == 404


def test_views_and_logins_are_audited(app_client, staff_users, new_case, db):
    case = new_case()
    headers = token(app_client, "staff1")
    app_client.get(f"/api/cases/{case.id}", headers=headers)
    app_client.post("/api/auth/token", data={"username": "staff1", "password": "nope-nope-nope"})
    actions = [(a.action, a.case_id) for a in db.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert ("login", None) in actions and ("login_failed", None) in actions
    assert ("view", case.id) in actions


def test_claim_409_and_role_visibility(app_client, staff_users, new_case):
    case = new_case()
    h1, h2, hs = token(app_client, "staff1"), token(app_client, "staff2"), token(app_client, "super")
    r = app_client.post(f"/api/cases/{case.id}/claim", headers=h1)
    assert r.status_code == 200 and r.json()["status"] == "in_progress"
    assert app_client.post(f"/api/cases/{case.id}/claim", headers=h1).status_code == 200  # own: no-op
    assert app_client.post(f"/api/cases/{case.id}/claim", headers=h2).status_code == 409
    assert app_client.post(f"/api/cases/{case.id}/claim", headers=hs).status_code == 409
    assert app_client.post("/api/cases/9999/claim", headers=h1).status_code == 404
    # staff2 no longer sees staff1's case; supervisors and admins do.
    assert case.id not in [c["id"] for c in app_client.get("/api/cases", headers=h2).json()]
    assert app_client.get(f"/api/cases/{case.id}", headers=h2).status_code == 403
    assert app_client.get(f"/api/cases/{case.id}", headers=hs).status_code == 200
    assert app_client.get(f"/api/cases/{case.id}", headers=token(app_client, "admin1")).status_code == 200


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_message_is_pushed_to_line_with_staff_sender_and_recorded(
    app_client, staff_users, new_case, fake_line, db
):
    case = new_case(line_user=LINE_USER)
    h1 = token(app_client, "staff1")
    app_client.post(f"/api/cases/{case.id}/claim", headers=h1)
    r = app_client.post(
        f"/api/cases/{case.id}/messages", headers=h1, json={"text": "はじめまして。相談員です。"}
    )
    assert r.status_code == 200, r.text
    assert wait_for(lambda: fake_line.delivered(LINE_USER)), "the push never reached LINE"
    (message,) = fake_line.delivered(LINE_USER)
    assert message["text"] == "はじめまして。相談員です。"
    assert message["sender"]["name"] == "staff1 相談員"
    assert fake_line.requests_to("push")
    d = app_client.get(f"/api/cases/{case.id}", headers=h1).json()
    assert (
        d["messages"][-1]["author"] == "staff" and d["messages"][-1]["text"] == "はじめまして。相談員です。"
    )
    assert db.scalars(select(AuditEvent).where(AuditEvent.action == "message")).one().case_id == case.id


def test_message_rules(app_client, staff_users, new_case, db):
    case = new_case()
    h1, h2 = token(app_client, "staff1"), token(app_client, "staff2")
    # Writing to a waiting case takes it (the bot must fall silent).
    assert (
        app_client.post(f"/api/cases/{case.id}/messages", headers=h1, json={"text": "こんにちは"}).status_code
        == 200
    )
    db.expire_all()
    assert db.get(Case, case.id).owner_id == staff_users["staff1"].id
    assert (
        app_client.post(f"/api/cases/{case.id}/messages", headers=h2, json={"text": "x"}).status_code == 403
    )
    assert app_client.post(f"/api/cases/{case.id}/messages", headers=h1, json={"text": ""}).status_code == 422
    assert app_client.post("/api/cases/9999/messages", headers=h1, json={"text": "x"}).status_code == 404


def test_withdrawn_case_leaves_the_list_and_shows_no_content(app_client, staff_users, new_case, db):
    case = new_case()
    service.withdraw_for_resident(db, resident_id=case.resident_id)
    db.commit()
    hs = token(app_client, "super")
    assert case.id not in [c["id"] for c in app_client.get("/api/cases", headers=hs).json()]
    d = app_client.get(f"/api/cases/{case.id}", headers=hs).json()
    assert d["status"] == "withdrawn" and d["sheet"] is None and d["messages"] == []
    h1 = token(app_client, "staff1")
    assert app_client.post(f"/api/cases/{case.id}/claim", headers=h1).status_code == 409


def test_openapi_documents_the_routes(app_client):
    paths = app_client.get("/openapi.json").json()["paths"]
    for p in [
        "/api/auth/token",
        "/api/cases",
        "/api/cases/{case_id}",
        "/api/cases/{case_id}/claim",
        "/api/cases/{case_id}/messages",
    ]:
        assert p in paths


# Every route × role on a case owned by staff1: what others may see and do.
@pytest.mark.parametrize(
    ("who", "listed", "detail", "claim", "message"),
    [
        ("staff1", True, 200, 200, 200),  # the owner
        ("staff2", False, 403, 409, 403),  # another staff member
        ("super", True, 200, 409, 403),  # supervisors read all, but reply only on cases they own
        ("admin1", True, 200, 409, 403),
    ],
)
def test_route_role_matrix(app_client, staff_users, new_case, db, who, listed, detail, claim, message):
    case = new_case()
    service.claim(db, case_id=case.id, staff=staff_users["staff1"])
    db.commit()
    h = token(app_client, who)
    assert (case.id in [c["id"] for c in app_client.get("/api/cases", headers=h).json()]) is listed
    assert app_client.get(f"/api/cases/{case.id}", headers=h).status_code == detail
    assert app_client.post(f"/api/cases/{case.id}/claim", headers=h).status_code == claim
    r = app_client.post(f"/api/cases/{case.id}/messages", headers=h, json={"text": "こんにちは"})
    assert r.status_code == message
