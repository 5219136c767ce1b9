"""End to end in a real headless Chromium: log in, a new case appears live, claim, reply (the push
reaches the fake LINE Messaging API over HTTP), the resident's answer appears live, print view.

Screenshots go to test-artifacts/ (git-ignored) for a human to look at.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from handoff_support import ANALYSIS_8050, CONSENT_TEXT, PASSWORD, make_sheet

from bot.conversations import service as conversations
from handoff import accounts, service
from tests.support.fake_line import FakeLine
from tests.support.fixtures import make_app, make_settings

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
RESIDENT = "U" + "c3" * 16


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(tmp_path):
    fake = FakeLine().start()
    settings = make_settings(f"sqlite:///{tmp_path / 'e2e.db'}", fake, tmp_path / "var")
    app = make_app(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield app, f"http://127.0.0.1:{port}", fake
    finally:
        server.should_exit = True
        thread.join(10)
        fake.stop()


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield b
        finally:
            b.close()


def wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_staff_takes_over_a_case_live(served, browser, city, directory):
    app, base, fake = served
    ARTIFACTS.mkdir(exist_ok=True)
    factory = app.state.session_factory
    with factory() as s:
        accounts.create_staff(
            s, username="sato", password=PASSWORD, role="supervisor", display_name="相談員 佐藤"
        )
        s.commit()

    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="ja-JP")
    page.goto(f"{base}/staff/login")
    page.fill("input[name=username]", "sato")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/staff/")
    page.wait_for_selector("#live-status")
    page.wait_for_timeout(1500)  # let the SSE stream send its first snapshot
    page.screenshot(path=str(ARTIFACTS / "handoff-1-queue-empty.png"), full_page=True)

    # A resident consents in LINE while the page is open: the case is created by the service, elsewhere.
    with factory() as s:
        resident = conversations.resident_for_line_user(s, line_user_id=RESIDENT)
        conv = conversations.start_conversation(s, resident_id=resident.id, state="handed_off")
        conversations.append_event(
            s,
            conversation_id=conv.id,
            author="resident",
            kind="text",
            text="80代の母と、10年ひきこもっている50代の息子のことで相談したいです。",
        )
        conversations.append_event(
            s,
            conversation_id=conv.id,
            author="bot",
            kind="text",
            text="話してくださって、ありがとうございます。相談員におつなぎしますね。",
        )
        case = service.request_handoff(
            s,
            resident_id=resident.id,
            conversation_id=conv.id,
            sheet=make_sheet(city, directory, analysis=ANALYSIS_8050),
            consent_text_version="v1",
            consent_text=CONSENT_TEXT,
            urgent=False,
        )
        s.commit()
        case_id, conv_id = case.id, conv.id

    alert = page.locator("#live-alert")
    alert.wait_for(state="visible", timeout=15000)
    assert "新しい相談が届きました" in alert.inner_text()
    assert "ひきこもり" not in alert.inner_text()  # the alert carries no content
    page.wait_for_selector(f'tr[data-case-id="{case_id}"]', timeout=15000)
    page.screenshot(path=str(ARTIFACTS / "handoff-2-queue-new-case.png"), full_page=True)

    page.click(f'tr[data-case-id="{case_id}"] a')
    page.wait_for_selector("#claim-button")
    page.click("#claim-button")
    page.wait_for_selector("#reply-text")
    page.select_option("#canned-select", index=1)
    assert "相談員 佐藤" in page.input_value("#reply-text")
    page.fill("#reply-text", "はじめまして。福祉まるごと相談窓口の佐藤です。お話を読みました。")
    page.click("#send-button")
    page.wait_for_selector("text=送信しました。")

    assert wait_for(lambda: fake.delivered(RESIDENT)), "the push never reached the fake LINE API"
    pushed = fake.delivered(RESIDENT)[0]
    assert pushed["text"].startswith("はじめまして。") and pushed["sender"]["name"] == "相談員 佐藤"
    assert fake.requests_to("push")

    # The resident answers in LINE: it appears in the open page without a reload.
    with factory() as s:
        conversations.append_event(
            s,
            conversation_id=conv_id,
            author="resident",
            kind="text",
            text="ありがとうございます。少し安心しました。",
        )
        s.commit()
    page.wait_for_selector("text=少し安心しました", timeout=15000)
    page.screenshot(path=str(ARTIFACTS / "handoff-3-case-page.png"), full_page=True)

    # Double-click safety on the reply button: one more message, not two.
    page.fill("#reply-text", "ゆっくりで大丈夫です。")
    page.dblclick("#send-button")
    page.wait_for_selector("text=ゆっくりで大丈夫です。")
    time.sleep(1.5)
    assert [m["text"] for m in fake.delivered(RESIDENT)].count("ゆっくりで大丈夫です。") == 1

    printed = browser.new_page(viewport={"width": 900, "height": 1200}, locale="ja-JP")
    printed.context.add_cookies(page.context.cookies())
    printed.goto(f"{base}/staff/cases/{case_id}/print")
    printed.wait_for_selector("text=支援関係機関 紹介状（つなぐシート）")
    printed.screenshot(path=str(ARTIFACTS / "handoff-4-print-view.png"), full_page=True)

    page.goto(f"{base}/staff/stats")
    page.wait_for_selector("text=相談対応実績")
    page.screenshot(path=str(ARTIFACTS / "handoff-5-stats.png"), full_page=True)


def test_admin_pages_and_sheet_editing(served, browser, city, directory):
    app, base, _fake = served
    factory = app.state.session_factory
    with factory() as s:
        accounts.create_staff(
            s, username="kanri", password=PASSWORD, role="admin", display_name="管理者 山田"
        )
        resident = conversations.resident_for_line_user(s, line_user_id="U" + "d4" * 16)
        conv = conversations.start_conversation(s, resident_id=resident.id, state="handed_off")
        case = service.request_handoff(
            s,
            resident_id=resident.id,
            conversation_id=conv.id,
            sheet=make_sheet(city, directory),
            consent_text_version="v1",
            consent_text=CONSENT_TEXT,
            urgent=True,
        )
        s.commit()
        case_id = case.id

    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="ja-JP")
    page.goto(f"{base}/staff/login")
    page.screenshot(path=str(ARTIFACTS / "handoff-0-login.png"))
    page.fill("input[name=username]", "kanri")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/staff/")

    page.goto(f"{base}/staff/cases/{case_id}")
    page.click("#claim-button")
    page.wait_for_selector("text=このケースの担当になりました。")
    page.click("summary:has-text('シートを編集する')")
    page.fill("textarea[name=summary]", "相談員が整理：母の介護と息子のひきこもり。まず家族学習会を案内。")
    page.click("button:has-text('保存（新しい版として）')")
    page.wait_for_selector("text=つなぐシートを保存しました")
    assert "第2版" in page.inner_text(".sheet-panel h2")
    with page.expect_download() as download:
        page.click("a:has-text('PDF')")
    assert download.value.suggested_filename == f"tsunagu-sheet-{case_id}.pdf"
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")

    page.goto(f"{base}/staff/admin/agencies")
    page.wait_for_selector("text=相談機関一覧")
    page.screenshot(path=str(ARTIFACTS / "handoff-6-agencies.png"))
    page.goto(f"{base}/staff/admin/staff")
    page.fill(".new-account input[name=username]", "tanaka")
    page.fill(".new-account input[name=display_name]", "相談員 田中")
    page.fill(".new-account input[name=password]", "sakura-no-hana-2026")
    page.click(".new-account button[type=submit]")
    page.wait_for_selector("text=アカウントを作成しました。")
    page.screenshot(path=str(ARTIFACTS / "handoff-7-accounts.png"), full_page=True)
