"""Staff and residents at the same time: two staff claim one case at once, a resident deletes
their data while staff have the case open, and staff see which messages still wait for LINE."""

from __future__ import annotations

import re
import threading

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.line.models import OutboxMessage
from handoff import accounts
from handoff import service as handoff
from handoff.models import Case
from tests.hardening.hardening_support import consult_until_consent, tap, texts
from tests.support import events as ev
from tests.support.staff_web import form_value, sign_in

PASSWORD = "correct horse battery 9"
WORDS = "仕事が見つからず、家賃が払えません。ラベンダー"


def _case_from_dialogue(line, user: str) -> int:
    got = consult_until_consent(line, user, WORDS)
    got = tap(line, user, got, "同意する")
    tap(line, user, got, "このままLINEで")
    with line.client.app.state.session_factory() as s:
        return s.scalars(select(Case.id)).one()


def _login(client, username: str) -> str:
    return sign_in(client, username, PASSWORD)


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


# --- real concurrent requests against the app (each staff member is their own HTTP client) -----


def _client_for(app, username: str) -> tuple[TestClient, str]:
    """A separate browser: own cookies, requests from its own thread, the app shared."""
    client = TestClient(app)
    return client, _login(client, username)


def _race(*calls):
    """Start the calls at the same moment in threads; return their results (or exceptions)."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        try:
            results[i] = call()
        except Exception as exc:  # a 5xx surfaces here (TestClient raises server errors)
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for r in results:
        assert not isinstance(r, Exception), repr(r)
        assert r.status_code < 500, r.text[:300]
    return results


def _with_staff(line, *, roles: dict[str, str]) -> tuple[str, int]:
    user = ev.new_user_id()
    case_id = _case_from_dialogue(line, user)
    with line.client.app.state.session_factory() as s:
        for name, role in roles.items():
            accounts.create_staff(s, username=name, password=PASSWORD, role=role, display_name=name)
        s.commit()
    return user, case_id


def _delivered_texts(fake_line, user: str) -> list[str]:
    return [m.get("text", "") for m in fake_line.delivered(user)]


def _audits(app, case_id: int) -> list[tuple[int, str, int | None]]:
    with app.state.session_factory() as s:
        return [
            (a.id, a.action, a.staff_id)
            for a in s.scalars(select(handoff.AuditEvent).where(handoff.AuditEvent.case_id == case_id))
        ]


def test_double_click_on_reply_sends_once(line, app_client, fake_line):
    app = app_client.app
    user, case_id = _with_staff(line, roles={"kimura": "staff"})
    browser, csrf = _client_for(app, "kimura")
    browser.post(f"/staff/cases/{case_id}/claim", data={"csrf_token": csrf})
    for n in range(3):
        page = browser.get(f"/staff/cases/{case_id}").text
        form = {"csrf_token": csrf, "form_key": form_value(page, "form_key"), "text": f"お返事です（{n}）"}
        tab = TestClient(app, cookies=dict(browser.cookies))  # the same form, posted twice
        first, second = _race(
            lambda f=form: browser.post(f"/staff/cases/{case_id}/reply", data=f),
            lambda f=form, t=tab: t.post(f"/staff/cases/{case_id}/reply", data=f),
        )
        notices = sorted(r.text.count("二重送信を防ぎました") > 0 for r in (first, second))
        assert notices == [False, True], "one was sent, the other told it was a duplicate"
    line.settle()
    delivered = _delivered_texts(fake_line, user)
    for n in range(3):
        assert delivered.count(f"お返事です（{n}）") == 1, delivered
    # The same words in a *new* form are a new message, not a duplicate.
    page = browser.get(f"/staff/cases/{case_id}").text
    browser.post(
        f"/staff/cases/{case_id}/reply",
        data={"csrf_token": csrf, "form_key": form_value(page, "form_key"), "text": "お返事です（0）"},
    )
    line.settle()
    assert _delivered_texts(fake_line, user).count("お返事です（0）") == 2


def test_owner_replies_while_a_supervisor_transfers(line, app_client, fake_line):
    app = app_client.app
    user, case_id = _with_staff(line, roles={"owner": "staff", "other": "staff", "boss": "supervisor"})
    owner, owner_csrf = _client_for(app, "owner")
    boss, boss_csrf = _client_for(app, "boss")
    with app.state.session_factory() as s:
        ids = {u.username: u.id for u in s.scalars(select(accounts.StaffUser))}
    owner.post(f"/staff/cases/{case_id}/claim", data={"csrf_token": owner_csrf})
    for n in range(3):
        page = owner.get(f"/staff/cases/{case_id}").text
        text = f"担当より（{n}）"
        reply = {"csrf_token": owner_csrf, "form_key": form_value(page, "form_key"), "text": text}
        before = {i for i, *_ in _audits(app, case_id)}
        answer, _ = _race(
            lambda r=reply: owner.post(f"/staff/cases/{case_id}/reply", data=r),
            lambda: boss.post(
                f"/staff/cases/{case_id}/transfer",
                data={"csrf_token": boss_csrf, "to_staff_id": ids["other"]},
            ),
        )
        with app.state.session_factory() as s:
            assert s.get(Case, case_id).owner_id == ids["other"]
        audits = [a for a in _audits(app, case_id) if a[0] not in before]
        (transfer_at,) = [i for i, action, _ in audits if action == "transfer"]
        sent = [i for i, action, _ in audits if action == "message"]
        # A reply goes out only while the owner still owns the case, never after the transfer;
        # a refused one says why.
        assert all(i < transfer_at for i in sent)
        if not sent:
            assert "他の相談員が担当しています" in answer.text
        line.settle()
        assert _delivered_texts(fake_line, user).count(text) == len(sent)
        boss.post(
            f"/staff/cases/{case_id}/transfer", data={"csrf_token": boss_csrf, "to_staff_id": ids["owner"]}
        )


def test_two_staff_save_the_sheet_at_once(line, app_client):
    app = app_client.app
    _, case_id = _with_staff(line, roles={"owner": "staff", "boss": "supervisor"})
    owner, owner_csrf = _client_for(app, "owner")
    boss, boss_csrf = _client_for(app, "boss")
    owner.post(f"/staff/cases/{case_id}/claim", data={"csrf_token": owner_csrf})
    for n in range(3):
        base = form_value(owner.get(f"/staff/cases/{case_id}").text, "base_revision")
        assert form_value(boss.get(f"/staff/cases/{case_id}").text, "base_revision") == base
        forms = [
            {"csrf_token": owner_csrf, "base_revision": base, "summary": f"相談員のまとめ{n}"},
            {"csrf_token": boss_csrf, "base_revision": base, "summary": f"SVのまとめ{n}"},
        ]
        answers = _race(
            lambda f=forms[0]: owner.post(f"/staff/cases/{case_id}/sheet", data=f),
            lambda f=forms[1]: boss.post(f"/staff/cases/{case_id}/sheet", data=f),
        )
        saved = ["つなぐシートを保存しました" in a.text for a in answers]
        assert sorted(saved) == [False, True], "one saved, the other was stopped"
        loser = answers[saved.index(False)]
        assert f"開いたのは第{base}版、いまは第{int(base) + 1}版" in loser.text
        assert "あなたの変更は保存していません" in loser.text
        with app.state.session_factory() as s:
            latest = handoff.latest_sheet_row(s, case_id=case_id)
            assert latest.revision == int(base) + 1
            assert latest.content["summary"] == forms[saved.index(True)]["summary"]


def test_close_and_reply_at_once(line, app_client, fake_line):
    app = app_client.app
    user, case_id = _with_staff(line, roles={"owner": "staff"})
    owner, csrf = _client_for(app, "owner")
    owner.post(f"/staff/cases/{case_id}/claim", data={"csrf_token": csrf})
    other_tab = TestClient(app, cookies=dict(owner.cookies))
    page = owner.get(f"/staff/cases/{case_id}").text
    text = "最後にひとこと、お伝えします。"
    reply = {"csrf_token": csrf, "form_key": form_value(page, "form_key"), "text": text}
    answer, _ = _race(
        lambda: owner.post(f"/staff/cases/{case_id}/reply", data=reply),
        lambda: other_tab.post(
            f"/staff/cases/{case_id}/close", data={"csrf_token": csrf, "outcome": "info_only"}
        ),
    )
    with app.state.session_factory() as s:
        assert s.get(Case, case_id).status == "closed"
    sent = [a for a in _audits(app, case_id) if a[1] == "message"]
    line.settle()
    delivered = _delivered_texts(fake_line, user)
    closing = next(i for i, t in enumerate(delivered) if t == handoff.CLOSE_MESSAGE)
    if sent:  # the reply came first: the resident reads it before the goodbye
        assert delivered.index(text) < closing
    else:  # the close came first: refused, with a reason
        assert text not in delivered and "この状態では" in answer.text
    assert delivered.count(text) == len(sent) and delivered.count(handoff.CLOSE_MESSAGE) == 1


def test_resident_deletes_while_staff_post_a_reply(line, app_client, fake_line):
    app = app_client.app
    user, case_id = _with_staff(line, roles={"owner": "staff"})
    owner, csrf = _client_for(app, "owner")
    owner.post(f"/staff/cases/{case_id}/claim", data={"csrf_token": csrf})
    page = owner.get(f"/staff/cases/{case_id}").text
    text = "お返事を書きました。ライラック"
    reply = {"csrf_token": csrf, "form_key": form_value(page, "form_key"), "text": text}
    confirm = line.say(user, "削除")
    (data,) = [
        item["action"]["data"]
        for m in confirm
        for item in (m.get("quickReply") or {}).get("items", [])
        if item["action"]["label"] == "削除する"
    ]
    answer, _ = _race(
        lambda: owner.post(f"/staff/cases/{case_id}/reply", data=reply),
        lambda: ev.post_webhook(
            app_client, [ev.postback_event(user, data, reply_token=fake_line.issue_reply_token(user_id=user))]
        ),
    )
    line.settle()
    with app.state.session_factory() as s:
        case = s.get(Case, case_id)
        assert case.status == "withdrawn" and case.resident_id is None
        assert (
            s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending"))
            == 0
        )
    sent = [a for a in _audits(app, case_id) if a[1] == "message"]
    delivered = _delivered_texts(fake_line, user)
    assert any("削除しました" in t for t in delivered)
    if not sent:
        assert "相談者が取り下げたケースです" in answer.text or answer.status_code in (403, 404)
    # Nothing reaches a resident who has gone: at most the reply written before the deletion.
    assert delivered.count(text) <= len(sent)
    from tests.hardening.hardening_support import decrypted_text

    stored = decrypted_text(app.state.engine)
    assert text not in stored and "ラベンダー" not in stored


def test_api_retry_with_the_same_idempotency_key_sends_once(line, app_client, fake_line):
    app = app_client.app
    user, case_id = _with_staff(line, roles={"script": "staff"})
    token = app_client.post("/api/auth/token", data={"username": "script", "password": PASSWORD}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}", "Idempotency-Key": "reply-0001"}
    url, body = f"/api/cases/{case_id}/messages", {"text": "APIからのお返事です。"}
    first, second = _race(
        lambda: TestClient(app).post(url, json=body, headers=headers),
        lambda: TestClient(app).post(url, json=body, headers=headers),
    )
    assert first.status_code == second.status_code == 200
    assert first.json()["status"] == second.json()["status"] == "in_progress"
    again = app_client.post(url, json=body, headers=headers | {"Idempotency-Key": "reply-0002"})
    assert again.status_code == 200
    line.settle()
    assert _delivered_texts(fake_line, user).count(body["text"]) == 2
    assert len([a for a in _audits(app, case_id) if a[1] == "message"]) == 2
