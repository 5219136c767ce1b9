"""The simulator page in a real Chromium: greeting on first visit, a quick-reply tap, a typed message."""

from __future__ import annotations

import shutil

import pytest

from tests.support.fixtures import AppProcess, process_env

pytestmark = pytest.mark.browser


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def page(sqlite_url, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    executable = _chromium()
    app = AppProcess(process_env(sqlite_url, tmp_path / "var", None), log_path=tmp_path / "sim.log")
    try:
        app.wait_ready()
        with playwright.sync_playwright() as p:
            try:
                browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
            except Exception as exc:  # no browser on this machine
                pytest.skip(f"no Chromium available: {exc}")
            pg = browser.new_page(viewport={"width": 400, "height": 800})
            pg.goto(app.base_url + "/simulator")
            yield pg
            browser.close()
    finally:
        app.kill()


def test_a_person_can_chat_in_the_simulator(page):
    bot_bubbles = page.locator(".row:not(.me) .bubble")
    bot_bubbles.first.wait_for(timeout=20_000)  # the greeting after the automatic follow
    assert page.locator("#menu").is_hidden() and page.locator("#typing").is_hidden()

    chips = page.locator("#quick button")
    if chips.count():
        before = bot_bubbles.count()
        label = chips.first.inner_text()
        chips.first.click()
        page.wait_for_function(f"document.querySelectorAll('.row:not(.me) .bubble').length > {before}")
        assert label in page.locator(".row.me .bubble").last.inner_text()

    before = bot_bubbles.count()
    page.fill("#text", "こんにちは。相談したいことがあります。")
    page.press("#text", "Enter")
    page.wait_for_function(
        f"document.querySelectorAll('.row:not(.me) .bubble').length > {before}", timeout=20_000
    )
    assert page.locator(".row.me .bubble").last.inner_text() == "こんにちは。相談したいことがあります。"
