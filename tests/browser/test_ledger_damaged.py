"""Chromium: the app on a ledger it must not use says what is wrong and what to do in one
sentence instead of the pages, and the file stays as it was (screenshot ledger-foreign.png)."""
from __future__ import annotations

from playwright.sync_api import sync_playwright

from core import paths
from tests.browser.conftest import CHROMIUM, ARTIFACTS, UiServer, _need_chromium, wait_app


def test_app_on_a_foreign_ledger(home):
    _need_chromium()
    path = paths.ledger_path()
    path.write_text("date,amount\n2026-01-01,12.50\n")
    server = UiServer(home)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                        args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1400, "height": 700})
            page.goto(server.url + "/")
            wait_app(page)
            alert = page.get_by_text("The job ledger cannot be used")
            alert.wait_for(timeout=30000)
            text = alert.inner_text()
            assert "not a SQLite database" in text and "move it aside" in text, text
            assert page.locator("[data-testid='stException']").count() == 0
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "ledger-foreign.png"))
            browser.close()
    finally:
        server.stop()
    assert path.read_text() == "date,amount\n2026-01-01,12.50\n"
    assert not path.with_name("ledger.db-wal").exists()
