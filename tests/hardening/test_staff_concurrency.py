"""Staff and residents at the same time: two staff claim one case at once, a resident deletes
their data while staff have the case open, and staff see which messages still wait for LINE."""

from __future__ import annotations

import re
import threading

from sqlalchemy import func, select

from bot.line.models import OutboxMessage
from handoff import accounts
from handoff import service as handoff
from handoff.models import Case
from tests.hardening.hardening_support import consult_until_consent, tap, texts
from tests.support import events as ev

PASSWORD = "correct horse battery 9"
WORDS = "仕事が見つからず、家賃が払えません。ラベンダー"


def _case_from_dialogue(line, user: str) -> int:
    got = consult_until_consent(line, user, WORDS)
    got = tap(line, user, got, "同意する")
    tap(line, user, got, "このままLINEで")
    with line.client.app.state.session_factory() as s:
        return s.scalars(select(Case.id)).one()


def _login(client, username: str) -> str:
    client.cookies.clear()
    page = client.get("/staff/login")
    token = re.search(r'name="login_csrf" value="([^"]+)"', page.text).group(1)
    r = client.post(
        "/staff/login",
        data={"username": username, "password": PASSWORD, "login_csrf": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get("/staff/")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def _staff(app, *names: str) -> list[int]:
    with app.state.session_factory() as s:
        ids = [accounts.create_staff(s, username=n, password=PASSWORD, role="staff").id for n in names]
        s.commit()
    return ids


def test_two_staff_claim_at_once_one_wins(line, app_client):
    app = app_client.app
    case_id = _case_from_dialogue(line, ev.new_user_id())
    staff_ids = _staff(app, "sato", "suzuki", "takahashi", "tanaka")
    barrier = threading.Barrier(len(staff_ids))
    outcomes: dict[int, str] = {}

    def claim(staff_id: int) -> None:
        with app.state.session_factory() as s:
            staff = s.get(accounts.StaffUser, staff_id)
            barrier.wait()
            try:
                handoff.claim(s, case_id=case_id, staff=staff)
                s.commit()
                outcomes[staff_id] = "won"
            except handoff.CaseConflict:
                s.rollback()
                outcomes[staff_id] = "conflict"

    threads = [threading.Thread(target=claim, args=(i,)) for i in staff_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes.values()) == ["conflict"] * (len(staff_ids) - 1) + ["won"]
    winner = next(i for i, o in outcomes.items() if o == "won")
    with app.state.session_factory() as s:
        assert s.get(Case, case_id).owner_id == winner
        claims = [a for a in s.scalars(select(handoff.AuditEvent)) if a.action == "claim"]
        assert [a.staff_id for a in claims] == [winner]


def test_resident_deletes_while_staff_have_the_case_open(line, app_client, fake_line):
    app = app_client.app
    user = ev.new_user_id()
    case_id = _case_from_dialogue(line, user)
    _staff(app, "kato")
    csrf = _login(app_client, "kato")
    assert app_client.post(f"/staff/cases/{case_id}/claim", data={"csrf_token": csrf}).status_code == 200
    page = app_client.get(f"/staff/cases/{case_id}")
    assert page.status_code == 200 and "ラベンダー" in page.text

    got = line.say(user, "削除")
    got = tap(line, user, got, "削除する")
    assert "削除しました" in texts(got)

    # The open page reloads to a content-free 取り下げ; replying is refused, nothing is queued.
    page = app_client.get(f"/staff/cases/{case_id}")
    assert page.status_code == 200 and "ラベンダー" not in page.text and "取り下げ" in page.text
    with app.state.session_factory() as s:
        before = s.scalar(select(func.count()).select_from(OutboxMessage))
    r = app_client.post(
        f"/staff/cases/{case_id}/reply", data={"csrf_token": csrf, "text": "まだいらっしゃいますか"}
    )
    assert r.status_code == 200 and "まだいらっしゃいますか" not in r.text
    chat = app_client.get(f"/staff/cases/{case_id}/chat")
    assert chat.status_code in (200, 403, 404) and "ラベンダー" not in chat.text
    line.settle()
    with app.state.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == before
    assert not any("まだいらっしゃいますか" in m.get("text", "") for m in fake_line.delivered(user))


def test_staff_see_messages_still_waiting_for_line(line, app_client, fake_line):
    app = app_client.app
    user = ev.new_user_id()
    case_id = _case_from_dialogue(line, user)
    _staff(app, "ito")
    csrf = _login(app_client, "ito")
    app_client.post(f"/staff/cases/{case_id}/claim", data={"csrf_token": csrf})
    assert "送信待ち" not in app_client.get(f"/staff/cases/{case_id}").text

    fake_line.fail_next(10_000, status=503, endpoint="push")
    app_client.post(f"/staff/cases/{case_id}/reply", data={"csrf_token": csrf, "text": "担当の伊藤です。"})
    page = app_client.get(f"/staff/cases/{case_id}")
    assert re.search(r"送信待ち：1件", page.text), "staff see the message has not reached LINE"
    assert "担当の伊藤です。" in page.text  # it is in the chat, marked as waiting only by the count

    with fake_line.state.lock:
        fake_line.state.failures.clear()
    line.settle(30)
    assert "送信待ち" not in app_client.get(f"/staff/cases/{case_id}").text
    assert any("担当の伊藤です。" in m.get("text", "") for m in fake_line.delivered(user))
