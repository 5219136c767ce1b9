"""The staff web UI on the real app (both databases): login, CSRF, lockout, queue, case actions,
exports (print, PDF, CSV with BOM), statistics, directory and accounts; pushes go to a fake LINE."""

from __future__ import annotations

import re
import time
import zlib

import pytest
from handoff_support import CONSENT_TEXT, PASSWORD, make_sheet
from sqlalchemy import func, select

from bot.conversations import service as conversations
from handoff import accounts, service
from handoff.models import AuditEvent, Case, ReferralSheet
from handoff.web.pages import queue_signature

LINE_USER = "U" + "b2" * 16


@pytest.fixture
def db(line_app):
    with line_app.state.session_factory() as s:
        yield s


@pytest.fixture
def users(db):
    made = {}
    for name, role in [
        ("staff1", "staff"),
        ("staff2", "staff"),
        ("super", "supervisor"),
        ("admin1", "admin"),
    ]:
        made[name] = accounts.create_staff(
            db, username=name, password=PASSWORD, role=role, display_name=f"{name}相談員"
        )
    db.commit()
    return made


@pytest.fixture
def new_case(db, city, directory):
    counter = {"n": 0}

    def _make(*, urgent=False, line_user=None, analysis=None):
        counter["n"] += 1
        resident = conversations.resident_for_line_user(db, line_user_id=line_user or f"U{counter['n']:032x}")
        conv = conversations.start_conversation(db, resident_id=resident.id, state="handed_off")
        conversations.append_event(
            db, conversation_id=conv.id, author="resident", kind="text", text="息子が家から出られません"
        )
        case = service.request_handoff(
            db,
            resident_id=resident.id,
            conversation_id=conv.id,
            sheet=make_sheet(city, directory, analysis=analysis),
            consent_text_version="v1",
            consent_text=CONSENT_TEXT,
            urgent=urgent,
        )
        db.commit()
        return case

    return _make


def login(client, username, password=PASSWORD):
    client.cookies.clear()
    page = client.get("/staff/login")
    token = re.search(r'name="login_csrf" value="([^"]+)"', page.text).group(1)
    return client.post(
        "/staff/login",
        data={"username": username, "password": password, "login_csrf": token},
        follow_redirects=False,
    )


def csrf(client, url="/staff/"):
    page = client.get(url)
    assert page.status_code == 200, page.text[:500]
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def audits(db, action):
    db.expire_all()
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def embedded_fonts_include(pdf: bytes, name: bytes) -> bool:
    """WeasyPrint compresses object streams; look for the font name inside them."""
    for m in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        try:
            if name in zlib.decompress(m.group(1)):
                return True
        except zlib.error:
            continue
    return name in pdf


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_pages_need_login(app_client):
    r = app_client.get("/staff/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/staff/login"
    assert app_client.get("/staff/events").status_code == 401


def test_login_sets_a_safe_cookie_and_is_audited(app_client, users, db):
    r = login(app_client, "staff1")
    assert r.status_code == 303 and r.headers["location"] == "/staff/"
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("consult_staff="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/staff" in cookie
    assert "Secure" not in cookie  # plain-HTTP settings in tests
    page = app_client.get("/staff/")
    assert page.status_code == 200 and "相談キュー" in page.text and "staff1相談員" in page.text
    assert audits(db, "login")


def test_secure_cookie_when_configured(line_settings, users):
    from fastapi.testclient import TestClient

    from tests.support.fixtures import make_app

    settings = line_settings.model_copy(update={"secure_cookies": True})
    with TestClient(make_app(settings), base_url="https://testserver") as client:
        r = login(client, "staff1")
        cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("consult_staff="))
        assert "Secure" in cookie


def test_login_without_csrf_or_with_bad_password_fails(app_client, users, db):
    r = app_client.post(
        "/staff/login", data={"username": "staff1", "password": PASSWORD}, follow_redirects=False
    )
    assert "consult_staff=" not in r.headers.get("set-cookie", "")
    r = login(app_client, "staff1", "wrong-password!")
    assert r.status_code == 303 and "err=" in r.headers["location"]
    assert audits(db, "login_failed")


def test_lockout_after_repeated_failures(app_client, users):
    for _ in range(accounts.MAX_FAILED_LOGINS):
        login(app_client, "staff2", "wrong-password!")
    r = login(app_client, "staff2")  # right password, but locked now
    assert "consult_staff=" not in r.headers.get("set-cookie", "")
    page = app_client.get(r.headers["location"])
    assert "ロック" in page.text


def test_post_without_csrf_is_refused(app_client, users, new_case):
    case = new_case()
    login(app_client, "staff1")
    r = app_client.post(f"/staff/cases/{case.id}/claim", data={}, follow_redirects=False)
    assert r.status_code == 403
    r = app_client.post(
        f"/staff/cases/{case.id}/claim", data={"csrf_token": "forged"}, follow_redirects=False
    )
    assert r.status_code == 403


def test_queue_lists_urgent_first_with_counts_and_filters(app_client, users, new_case):
    normal = new_case()
    urgent = new_case(urgent=True)
    housing = new_case(analysis={"categories": ["housing"], "primary": "housing", "subcategories": ["rent"]})
    login(app_client, "staff1")
    page = app_client.get("/staff/").text
    ids = [int(x) for x in re.findall(r'data-case-id="(\d+)"', page)]
    assert ids == [urgent.id, normal.id, housing.id]
    assert re.search(r'data-count="unassigned">3<', page)
    filtered = app_client.get("/staff/?category=housing").text
    assert [int(x) for x in re.findall(r'data-case-id="(\d+)"', filtered)] == [housing.id]
    rows = app_client.get("/staff/queue/rows?tab=all").text
    assert "<table" in rows and "<html" not in rows


def test_queue_signature_changes_when_a_case_arrives(line_app, users, new_case):
    factory = line_app.state.session_factory
    before = queue_signature(factory, users["staff1"].id)
    case = new_case()
    after = queue_signature(factory, users["staff1"].id)
    assert after["sig"] != before["sig"] and after["latest_id"] == case.id and after["waiting"] == 1
    assert after["urgent_waiting"] == 0
    new_case(urgent=True)
    assert queue_signature(factory, users["staff1"].id)["urgent_waiting"] == 1


def test_queue_signature_counts_my_withdrawn_cases(line_app, users, new_case, db):
    factory = line_app.state.session_factory
    case = new_case()
    service.claim(db, case_id=case.id, staff=users["staff1"])
    db.commit()
    assert queue_signature(factory, users["staff1"].id)["withdrawn_mine"] == 0
    service.withdraw_for_resident(db, resident_id=case.resident_id)
    db.commit()
    assert queue_signature(factory, users["staff1"].id)["withdrawn_mine"] == 1
    assert queue_signature(factory, users["staff2"].id)["withdrawn_mine"] == 0


def test_case_page_claim_reply_note_close_flow(app_client, users, new_case, fake_line, db):
    case = new_case(line_user=LINE_USER)
    login(app_client, "staff1")
    page = app_client.get(f"/staff/cases/{case.id}")
    assert page.status_code == 200 and "つなぐシート" in page.text and "息子が家から出られません" in page.text
    assert [a.case_id for a in audits(db, "view")] == [case.id]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)

    r = app_client.post(f"/staff/cases/{case.id}/claim", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and "ok=claimed" in r.headers["location"]
    again = app_client.post(
        f"/staff/cases/{case.id}/claim", data={"csrf_token": token}, follow_redirects=False
    )
    assert "ok=claimed" in again.headers["location"]  # a double click is harmless

    for _ in range(2):  # the second submit is a double click: the resident gets one message
        app_client.post(
            f"/staff/cases/{case.id}/reply",
            data={"csrf_token": token, "text": "はじめまして。"},
            follow_redirects=False,
        )
    assert wait_for(lambda: fake_line.delivered(LINE_USER))
    time.sleep(0.5)
    delivered = fake_line.delivered(LINE_USER)
    assert [m["text"] for m in delivered] == ["はじめまして。"]
    assert delivered[0]["sender"]["name"] == "staff1相談員"

    app_client.post(f"/staff/cases/{case.id}/notes", data={"csrf_token": token, "text": "電話を希望"})
    assert "電話を希望" in app_client.get(f"/staff/cases/{case.id}").text
    chat = app_client.get(f"/staff/cases/{case.id}/chat").text
    assert "はじめまして。" in chat and "staff1相談員" in chat

    r = app_client.post(
        f"/staff/cases/{case.id}/close",
        data={"csrf_token": token, "outcome": "connected"},
        follow_redirects=False,
    )
    assert "ok=closed" in r.headers["location"]
    assert wait_for(lambda: len(fake_line.delivered(LINE_USER)) == 2)
    assert fake_line.delivered(LINE_USER)[-1]["text"] == service.CLOSE_MESSAGE
    db.expire_all()
    assert db.get(Case, case.id).status == "referred"


def test_other_staff_cannot_open_a_claimed_case(app_client, users, new_case, db):
    case = new_case()
    service.claim(db, case_id=case.id, staff=users["staff1"])
    db.commit()
    login(app_client, "staff2")
    assert app_client.get(f"/staff/cases/{case.id}").status_code == 403
    assert app_client.get("/staff/cases/9999").status_code == 404
    token = csrf(app_client)
    r = app_client.post(f"/staff/cases/{case.id}/claim", data={"csrf_token": token}, follow_redirects=False)
    assert "err=" in r.headers["location"]


def test_release_sends_closing_note(app_client, users, new_case, fake_line, db):
    case = new_case(line_user=LINE_USER)
    login(app_client, "staff1")
    token = csrf(app_client, f"/staff/cases/{case.id}")
    app_client.post(f"/staff/cases/{case.id}/claim", data={"csrf_token": token})
    app_client.post(f"/staff/cases/{case.id}/release", data={"csrf_token": token})
    assert wait_for(lambda: fake_line.delivered(LINE_USER))
    assert fake_line.delivered(LINE_USER)[0]["text"] == service.RELEASE_MESSAGE
    db.expire_all()
    assert db.get(Case, case.id).status == "waiting"


def test_sheet_edit_makes_a_new_revision(app_client, users, new_case, db):
    case = new_case()
    login(app_client, "staff1")
    token = csrf(app_client, f"/staff/cases/{case.id}")
    app_client.post(f"/staff/cases/{case.id}/claim", data={"csrf_token": token})
    form = {
        "csrf_token": token,
        "base_revision": "1",
        "primary": "income",
        "categories": ["income", "family"],
        "subcategories": ["debt", "hikikomori"],
        "summary": "相談員が整理した内容",
        "writer_type": "family",
        "referral_agencies": "さくら見本市 消費生活センター（見本）｜市民生活課｜0000",
        "multi_agency": "on",
        "referral_reason": "複数の分野",
        "screening_date": "2026-11-30",
    }
    r = app_client.post(f"/staff/cases/{case.id}/sheet", data=form, follow_redirects=False)
    assert "ok=sheet_saved" in r.headers["location"], r.headers["location"]
    db.expire_all()
    revs = list(
        db.scalars(
            select(ReferralSheet).where(ReferralSheet.case_id == case.id).order_by(ReferralSheet.revision)
        )
    )
    assert [(r.revision, r.author) for r in revs] == [(1, "bot"), (2, "staff")]
    assert revs[1].content["primary"] == "income" and revs[1].content["categories"] == ["income", "family"]
    assert revs[1].content["consent"]["given"] is True
    assert revs[1].content["screening_date"].startswith("2026-11-30")
    assert "令和8年11月30日" in app_client.get(f"/staff/cases/{case.id}/print").text
    same = app_client.post(f"/staff/cases/{case.id}/sheet", data=form, follow_redirects=False)
    assert "ok=sheet_saved" in same.headers["location"]  # the same form twice: no new revision
    stale = app_client.post(
        f"/staff/cases/{case.id}/sheet", data=form | {"summary": "古い画面から"}, follow_redirects=False
    )
    assert "err=" in stale.headers["location"]  # based on revision 1, but 2 exists
    db.expire_all()
    assert (
        db.scalar(select(func.count()).select_from(ReferralSheet).where(ReferralSheet.case_id == case.id))
        == 2
    )
    assert audits(db, "edit_sheet")


def test_print_view_pdf_and_csv_are_audited(app_client, users, new_case, db):
    case = new_case(urgent=True)
    login(app_client, "staff1")
    page = app_client.get(f"/staff/cases/{case.id}/print")
    assert page.status_code == 200
    assert (
        "支援関係機関 紹介状（つなぐシート）" in page.text
        and "◎" in page.text
        and "多機関協働事業" in page.text
    )
    pdf = app_client.get(f"/staff/cases/{case.id}/sheet.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert embedded_fonts_include(pdf.content, b"NotoSansCJK"), "Japanese needs the Noto CJK font in the PDF"
    csv = app_client.get("/staff/export/cases.csv")
    assert csv.content.startswith(b"\xef\xbb\xbf")
    text = csv.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("ケース番号,状態") and "家庭の相談" in text
    assert "息子" not in text  # no free text leaves in the CSV
    assert audits(db, "export_print") and audits(db, "export_pdf") and audits(db, "export_csv")


def test_statistics_need_a_supervisor(app_client, users, new_case):
    new_case()
    new_case(urgent=True)
    login(app_client, "staff1")
    assert app_client.get("/staff/stats").status_code == 403
    login(app_client, "super")
    page = app_client.get("/staff/stats")
    assert page.status_code == 200
    for row in ["ア ひきこもり", "イ 病気、介護、精神", "エ 借金、生活苦", "ク その他", "【新規相談】"]:
        assert row in page.text
    assert re.search(r'<td class="total">2</td>', page.text)  # both 8050 cases under ひきこもり


def test_admin_pages_are_admin_only(app_client, users, db):
    login(app_client, "super")
    assert app_client.get("/staff/admin/agencies").status_code == 403
    assert app_client.get("/staff/admin/staff").status_code == 403
    login(app_client, "admin1")
    page = app_client.get("/staff/admin/agencies")
    assert page.status_code == 200 and "さくら見本市" in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    csv_text = "\ufefftopic,agency,categories,subcategories\n住まい,テスト住宅相談（見本）,housing,rent\n"
    r = app_client.post(
        "/staff/admin/agencies/upload",
        data={"csrf_token": token},
        files={"file": ("a.csv", csv_text.encode("utf-8"), "text/csv")},
        follow_redirects=False,
    )
    assert "ok=loaded" in r.headers["location"]
    assert "テスト住宅相談" in app_client.get("/staff/admin/agencies").text
    bad = app_client.post(
        "/staff/admin/agencies/upload",
        data={"csrf_token": token},
        files={"file": ("b.csv", b"topic,agency,categories\nx,y,nope\n", "text/csv")},
        follow_redirects=False,
    )
    assert "err=" in bad.headers["location"]
    r = app_client.post(
        "/staff/admin/staff",
        data={"csrf_token": token, "username": "newbie", "password": "short", "role": "staff"},
        follow_redirects=False,
    )
    assert "err=" in r.headers["location"]
    r = app_client.post(
        "/staff/admin/staff",
        data={"csrf_token": token, "username": "newbie", "password": "a-long-passphrase", "role": "staff"},
        follow_redirects=False,
    )
    assert "ok=created" in r.headers["location"]
    assert login(app_client, "newbie", "a-long-passphrase").headers["location"] == "/staff/"


def test_withdrawn_case_shows_a_content_free_notice(app_client, users, new_case, db):
    case = new_case()
    service.withdraw_for_resident(db, resident_id=case.resident_id)
    db.commit()
    login(app_client, "super")
    page = app_client.get(f"/staff/cases/{case.id}").text
    assert "取り下げられました" in page and "息子" not in page


def test_staff_pages_send_security_headers_and_html_errors(app_client, users, new_case):
    login(app_client, "staff1")
    page = app_client.get("/staff/")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
    assert "onchange=" not in page.text and "onclick=" not in page.text  # CSP allows no inline script
    denied = app_client.get("/staff/stats")
    assert denied.status_code == 403 and "権限がありません" in denied.text
    assert "text/html" in denied.headers["content-type"]
    # The API keeps JSON errors.
    assert app_client.get("/api/cases").json()["detail"]


def test_queue_marks_cases_whose_resident_wrote_last(app_client, line_app, users, new_case, db):
    case = new_case()
    service.claim(db, case_id=case.id, staff=users["staff1"])
    db.commit()
    factory = line_app.state.session_factory
    before = queue_signature(factory, users["staff1"].id)
    login(app_client, "staff1")
    assert "新着" in app_client.get("/staff/?tab=mine").text  # the resident's words came last
    service.staff_reply(
        db, case_id=case.id, staff=users["staff1"], text="お返事します", notifier=line_app.state.notifier
    )
    db.commit()
    assert "新着" not in app_client.get("/staff/?tab=mine").text
    conversations.append_event(
        db, conversation_id=case.conversation_id, author="resident", kind="text", text="はい"
    )
    db.commit()
    after = queue_signature(factory, users["staff1"].id)
    assert after["mine_last_resident"] > before["mine_last_resident"] and after["sig"] != before["sig"]
    assert "新着" in app_client.get("/staff/?tab=mine").text
