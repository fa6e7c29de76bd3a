"""The Config page's Ace editor in a real browser: dark YAML editor, an edit is validated
as it is typed (line and field, gutter mark) and kept; save asks before overwriting."""
from __future__ import annotations

from core import config_store, configs
from tests.browser.conftest import no_exception, screenshot, wait_app


def test_edit_validate_and_save_in_the_ace_editor(ui, page):
    page.goto(f"{ui.url}/config")
    wait_app(page)
    frame = page.frame_locator("iframe[title='streamlit_ace.streamlit_ace']")
    editor = frame.locator(".ace_editor").first  # (Ace's completion popup is one too)
    editor.wait_for(timeout=30000)
    assert "ace-tomorrow-night" in editor.get_attribute("class")
    page.get_by_text("Valid sft config.").wait_for(timeout=15000)
    no_exception(page)
    screenshot(page, "config-template")

    lines = configs.template("sft").count("\n")
    frame.locator(".ace_content").click()
    page.keyboard.press("Control+End")
    page.keyboard.type("bogus: 1")
    page.keyboard.press("Escape")  # close Ace's autocompletion popup
    # no Apply: the editor hands its text back as it changes (auto_update)
    assert frame.get_by_role("button", name="Apply (Ctrl+Enter)").count() == 0
    error = page.get_by_text("unknown key 'bogus'")
    error.wait_for(timeout=15000)
    wait_app(page)
    assert f"line {lines + 1}" in page.locator("[data-testid='stAlert']", has_text="bogus").inner_text()
    # The editor keeps the applied text across the rerun and marks the line in its gutter.
    assert "bogus: 1" in editor.inner_text()
    frame.locator(".ace_gutter-cell.ace_error").first.wait_for(timeout=15000)
    assert page.locator(".st-key-cfg_launch button").is_disabled()
    screenshot(page, "config-error")

    config_store.save("taken", "kind: sft\n")
    name = page.locator(".st-key-cfg_save_name input")
    name.fill("taken")
    name.press("Enter")
    wait_app(page)
    page.locator(".st-key-cfg_save button").click()
    page.get_by_text("taken.yaml already exists. Overwrite it?").wait_for(timeout=15000)
    wait_app(page)
    assert page.locator(".st-key-cfg_cancel button").is_visible()
    screenshot(page, "config-overwrite")
    assert config_store.load("taken") == "kind: sft\n"
    page.locator(".st-key-cfg_confirm button").click()
    page.get_by_text("Saved to").wait_for(timeout=15000)
    assert "bogus: 1" in config_store.load("taken")
    no_exception(page)
    assert not page.js_errors, page.js_errors
